import { DEFAULTS } from '../../config/defaults.js';
import type { ArcConfig } from '../../config/platforms.js';
import { documentForVersion } from '../../core/machines/field-versions.js';
import type { JsonObject, JsonValue } from '../../core/machines/json.js';
import { Machine } from '../../core/machines/machine.js';

/**
 * The machine as Azure Arc's HIMDS describes it at `/metadata/instance`: the emulated VM's name,
 * location, subscription, resource group, tags and vmId, as an Arc-enabled server
 * (`Microsoft.HybridCompute/machines`) with HIMDS's document shape — Azure-only fields empty,
 * `osType` lower-case, `sku`/`version` the operating system's, an empty `storageProfile` and
 * `network` (shape of a documented HIMDS response, Azure Arc Jumpstart's managed identity scenario).
 *
 * It is a `Machine`, so the IMDS plugin serves it unchanged on the Arc listener (route filtering,
 * `format=text`, api-version checks); it follows the VM, whose changes it picks up at once.
 */
export class ArcMachine extends Machine {
  readonly #vm: Machine;
  readonly #arc: ArcConfig;
  #document: JsonObject | undefined;
  #builtAt = -1;
  readonly #byVersion = new Map<string, JsonObject>();

  constructor(vm: Machine, arc: ArcConfig) {
    super(vm.config);
    this.#vm = vm;
    this.#arc = arc;
  }

  override get revision(): number {
    return this.#vm.revision;
  }

  override get document(): JsonObject {
    if (!this.#document || this.#builtAt !== this.#vm.revision) {
      this.#document = arcDocument(this.#vm, this.#arc);
      this.#builtAt = this.#vm.revision;
      this.#byVersion.clear();
    }
    return this.#document;
  }

  override compute(key: string): string {
    const v = (this.document.compute as JsonObject)[key];
    return typeof v === 'string' ? v : '';
  }

  override documentFor(version: string): JsonObject {
    const document = this.document;
    let doc = this.#byVersion.get(version);
    if (!doc) {
      doc = documentForVersion(document, version);
      this.#byVersion.set(version, doc);
    }
    return doc;
  }
}

function arcDocument(vm: Machine, arc: ArcConfig): JsonObject {
  const v = vm.document.compute as JsonObject;
  const text = (key: string) => (typeof v[key] === 'string' ? (v[key] as string) : '');
  const osType = text('osType') === 'Windows' ? 'Windows' : 'Linux';
  const subscriptionId = text('subscriptionId');
  const resourceGroupName = text('resourceGroupName');
  const name = text('name');
  const compute: Record<string, JsonValue> = {
    azEnvironment: text('azEnvironment'),
    isHostCompatibilityLayerVm: '',
    location: text('location'),
    name,
    offer: '',
    osType: osType.toLowerCase(),
    placementGroupId: '',
    plan: { name: '', product: '', publisher: '' },
    platformFaultDomain: '',
    platformUpdateDomain: '',
    provider: '',
    publicKeys: null,
    publisher: '',
    resourceGroupName,
    customData: '',
    resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.HybridCompute/machines/${name}`,
    securityProfile: { secureBootEnabled: '', virtualTpmEnabled: '' },
    sku: arc.osSku ?? DEFAULTS.platforms.arc.osSku[osType],
    storageProfile: {},
    subscriptionId,
    tags: text('tags'),
    tagsList: v.tagsList ?? [],
    version: arc.osVersion ?? DEFAULTS.platforms.arc.osVersion[osType],
    vmId: text('vmId'),
    vmScaleSetName: '',
    vmSize: '',
    zone: '',
  };
  return { compute, network: {} };
}
