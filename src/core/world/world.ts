import type { Config } from '../../config/schema.js';
import type { WorldResourceConfig } from '../../config/world-schema.js';
import type { ResolvedIdentities } from '../identities/directory.js';
import { stableUuid } from '../ids.js';
import type { JsonObject } from '../machines/json.js';
import type { Machine } from '../machines/machine.js';
import type { RbacPrincipal } from '../rbac/rbac.js';
import { type DerivedVm, deriveVm } from './derived.js';
import {
  type AccessPolicy,
  applyAccessPolicies,
  defaultVaultName,
  VAULT_TYPE,
  type VaultView,
  vaultProperties,
  vaultView,
} from './key-vault.js';
import {
  type ArmResource,
  idKey,
  parseResourceId,
  type ResourceGroup,
  resourceGroupId,
  type Subscription,
} from './resource.js';

/** Where the world reads the VMs and their identities (live: a change shows at once). */
export interface WorldSources {
  readonly config: Pick<Config, 'world' | 'platforms'>;
  /** Every emulated VM (one today; a fleet later). */
  machines(): readonly Machine[];
  /** The identities of a VM (its tokens' `oid`s). */
  identities(machine: Machine): ResolvedIdentities;
  /**
   * The first VM alone, without the others (a fleet creates a VM's state on first use): the world's
   * home (subscription, location, zero-config vault). Absent: `machines()[0]`.
   */
  primary?(): Machine;
  /** The resource group of every VM, without creating their state (a fleet's members); absent: from `machines()`. */
  resourceGroups?(): Iterable<string>;
  /** Now on the emulator clock, ISO 8601. */
  now(): string;
}

/** What a resource PUT body may hold (ARM's GenericResource envelope). */
export interface ResourceInput {
  readonly location?: string;
  readonly tags?: Record<string, string>;
  readonly kind?: string;
  readonly sku?: Record<string, unknown>;
  readonly identity?: Record<string, unknown>;
  readonly zones?: string[];
  readonly managedBy?: string;
  readonly properties?: Record<string, unknown>;
}

export type PutResourceResult =
  | { readonly ok: true; readonly created: boolean; readonly resource: ArmResource }
  | {
      readonly ok: false;
      readonly error:
        | 'invalid-id'
        | 'subscription-not-found'
        | 'resource-group-not-found'
        | 'read-only'
        | 'parent-not-found';
    };

const USER_ASSIGNED_TYPE = 'microsoft.managedidentity/userassignedidentities';

/** Subscription display name Azure gives a first subscription. */
const DEFAULT_SUBSCRIPTION_NAME = 'Azure subscription 1';

/**
 * The one world ARM shows (seams.md §3): the tenant, subscriptions, resource groups and resources.
 *
 * - The VMs and what hangs off them (NICs, public IPs, virtual network, disks, user-assigned
 *   identities, the Arc machine) are derived live from the VMs' config and identities (`derived.ts`):
 *   IMDS, tokens and ARM never disagree, and a control-API change of the VM shows in ARM at once.
 *   Through ARM they are read-only, except the VM's tags (`patchVmTags`, which changes IMDS too).
 * - Everything else is stored, keyed by lower-cased id: config's `world.resourceGroups` and
 *   `world.resources`, the zero-config key vault, and what ARM clients PUT. Any provider type is kept as
 *   given, with `provisioningState: Succeeded`.
 */
export class World {
  readonly #sources: WorldSources;
  readonly #createdAt: string;
  #groups = new Map<string, ResourceGroup>();
  #resources = new Map<string, ArmResource>();
  #derivedKey: unknown[] = [];
  #derived: DerivedVm[] = [];
  #derivedById = new Map<string, ArmResource>();
  #revision = 0;

  constructor(sources: WorldSources) {
    this.#sources = sources;
    this.#createdAt = sources.now();
    this.reset();
  }

  /** Increases on every change of stored state (derived resources follow the VMs' own revisions). */
  get revision(): number {
    return this.#revision;
  }

  /** The tenant of the world (the VMs' identities' tenant). */
  get tenantId(): string {
    const first = this.#sources.primary?.() ?? this.#sources.machines()[0];
    return first ? this.#sources.identities(first).tenantId : stableUuid('tenant');
  }

  /** Back to the configured world (stored resources and groups as at start). */
  reset(): void {
    const { world } = this.#sources.config;
    this.#groups = new Map();
    this.#resources = new Map();
    const firstVm = this.homeVm();
    const home = firstVm ? parseResourceId(firstVm.vm.id) : undefined;
    const homeSub = home?.subscriptionId ?? stableUuid('subscription');
    const homeLocation = firstVm?.vm.location ?? 'westeurope';
    const groups = this.#sources.resourceGroups?.();
    if (groups) {
      for (const group of groups) this.#ensureGroup(homeSub, group, homeLocation);
    } else {
      for (const { vm } of this.vms()) {
        const p = parseResourceId(vm.id);
        if (p) this.#ensureGroup(p.subscriptionId, p.resourceGroup, vm.location ?? homeLocation);
      }
    }
    for (const g of world.resourceGroups) {
      this.#setGroup(g.subscriptionId ?? homeSub, g.name, {
        location: g.location ?? homeLocation,
        ...(g.tags ? { tags: g.tags } : {}),
        ...(g.managedBy ? { managedBy: g.managedBy } : {}),
      });
    }
    if (world.keyVault !== false && home) {
      const name = world.keyVault.name ?? this.defaultVaultName();
      this.#store(
        `${resourceGroupId(home.subscriptionId, home.resourceGroup)}/providers/${VAULT_TYPE}/${name}`,
        {
          location: homeLocation,
          tags: {},
          properties: { enableRbacAuthorization: world.keyVault.enableRbacAuthorization },
        },
      );
    }
    for (const r of world.resources) {
      const id = configResourceId(r, homeSub);
      const p = parseResourceId(id);
      if (p) this.#ensureGroup(p.subscriptionId, p.resourceGroup, r.location ?? homeLocation);
      this.#store(id, {
        location: r.location ?? homeLocation,
        ...(r.tags ? { tags: r.tags } : {}),
        ...(r.kind ? { kind: r.kind } : {}),
        ...(r.sku ? { sku: r.sku } : {}),
        ...(r.identity ? { identity: r.identity } : {}),
        ...(r.zones ? { zones: r.zones } : {}),
        properties: r.properties ?? {},
      });
    }
    this.#revision++;
  }

  /** The zero-config vault's name: `kv-azimds-` and 6 hex digits of the VM's subscription and group (globally unique names). */
  defaultVaultName(): string {
    const first = this.homeVm();
    return defaultVaultName(first?.machine.compute('subscriptionId') ?? '');
  }

  // --- VMs -------------------------------------------------------------------------------------

  /**
   * The first VM with its derived resources (the world's home), derived alone when the sources give
   * `primary()` (a fleet's other VMs are not created for it).
   */
  homeVm(): DerivedVm | undefined {
    const primary = this.#sources.primary?.();
    if (!primary) return this.vms()[0];
    const identities = this.#sources.identities(primary);
    const cached = this.#home;
    if (
      cached?.machine === primary &&
      cached.revision === primary.revision &&
      cached.identities === identities
    )
      return cached.derived;
    const arc = this.#sources.config.platforms.arc.enabled;
    const derived = deriveVm(primary, identities, { arc, createdAt: this.#createdAt });
    this.#home = { machine: primary, revision: primary.revision, identities, derived };
    return derived;
  }

  #home:
    | { machine: Machine; revision: number; identities: ResolvedIdentities; derived: DerivedVm }
    | undefined;

  /** Each emulated VM with its derived ARM resources (cached per VM revision and identities). */
  vms(): readonly DerivedVm[] {
    const machines = this.#sources.machines();
    const key: unknown[] = [this.#sources.config.platforms.arc.enabled];
    for (const m of machines) key.push(m, m.revision, this.#sources.identities(m));
    if (key.length !== this.#derivedKey.length || key.some((k, i) => k !== this.#derivedKey[i])) {
      const arc = this.#sources.config.platforms.arc.enabled;
      this.#derived = machines.map((m) =>
        deriveVm(m, this.#sources.identities(m), { arc, createdAt: this.#createdAt }),
      );
      this.#derivedById = new Map();
      for (const d of this.#derived) {
        for (const r of d.resources)
          if (!this.#derivedById.has(idKey(r.id))) this.#derivedById.set(idKey(r.id), r);
      }
      this.#derivedKey = key;
    }
    return this.#derived;
  }

  /** Every principal of the world: the VMs' identities and stored user-assigned identities. */
  principals(): RbacPrincipal[] {
    const out: RbacPrincipal[] = [];
    for (const d of this.vms()) {
      const ids = this.#sources.identities(d.machine);
      if (ids.systemAssigned)
        out.push({
          principalId: ids.systemAssigned.principalId,
          principalType: 'ServicePrincipal',
          displayName: ids.systemAssigned.name,
        });
      for (const u of ids.userAssigned)
        out.push({ principalId: u.principalId, principalType: 'ServicePrincipal', displayName: u.name });
    }
    for (const r of this.#resources.values()) {
      if (r.type.toLowerCase() === USER_ASSIGNED_TYPE && typeof r.properties.principalId === 'string') {
        out.push({
          principalId: r.properties.principalId,
          principalType: 'ServicePrincipal',
          displayName: r.name,
        });
      }
      const principalId = r.identity?.principalId;
      if (typeof principalId === 'string')
        out.push({ principalId, principalType: 'ServicePrincipal', displayName: r.name });
    }
    return out;
  }

  // --- Subscriptions and resource groups -------------------------------------------------------

  /** The VMs' subscriptions first, then `world.subscriptions`. */
  subscriptions(): Subscription[] {
    const tenantId = this.tenantId;
    const out: Subscription[] = [];
    const seen = new Set<string>();
    const add = (subscriptionId: string, displayName: string) => {
      const k = subscriptionId.toLowerCase();
      if (seen.has(k)) return;
      seen.add(k);
      out.push({ subscriptionId, displayName, tenantId });
    };
    const named = new Map(
      this.#sources.config.world.subscriptions.map((s) => [s.subscriptionId.toLowerCase(), s.displayName]),
    );
    for (const d of this.vms()) {
      const p = parseResourceId(d.vm.id);
      if (p) add(p.subscriptionId, named.get(p.subscriptionId.toLowerCase()) ?? DEFAULT_SUBSCRIPTION_NAME);
    }
    for (const s of this.#sources.config.world.subscriptions) {
      add(s.subscriptionId, s.displayName ?? `Azure subscription ${out.length + 1}`);
    }
    return out;
  }

  subscription(subscriptionId: string): Subscription | undefined {
    const k = subscriptionId.toLowerCase();
    return this.subscriptions().find((s) => s.subscriptionId.toLowerCase() === k);
  }

  /** Resource groups, of one subscription or of all. */
  resourceGroups(subscriptionId?: string): ResourceGroup[] {
    const all = [...this.#groups.values()];
    if (subscriptionId === undefined) return all;
    const prefix = `/subscriptions/${subscriptionId.toLowerCase()}/`;
    return all.filter((g) => g.id.toLowerCase().startsWith(prefix));
  }

  resourceGroup(subscriptionId: string, name: string): ResourceGroup | undefined {
    return this.#groups.get(idKey(resourceGroupId(subscriptionId, name)));
  }

  /** Creates or replaces a resource group (ARM's synchronous PUT); undefined when the subscription is unknown. */
  putResourceGroup(
    subscriptionId: string,
    name: string,
    input: { location: string; tags?: Record<string, string>; managedBy?: string },
  ): { created: boolean; group: ResourceGroup } | undefined {
    const sub = this.subscription(subscriptionId);
    if (!sub) return undefined;
    const existing = this.resourceGroup(sub.subscriptionId, name);
    const group = this.#setGroup(sub.subscriptionId, existing?.name ?? name, input);
    this.#revision++;
    return { created: !existing, group };
  }

  /** Changes a group's tags / managedBy (PATCH); undefined when it does not exist. */
  patchResourceGroup(
    subscriptionId: string,
    name: string,
    input: { tags?: Record<string, string>; managedBy?: string },
  ): ResourceGroup | undefined {
    const existing = this.resourceGroup(subscriptionId, name);
    if (!existing) return undefined;
    const group = this.#setGroup(subscriptionId, existing.name, {
      location: existing.location,
      ...((input.tags ?? existing.tags) ? { tags: input.tags ?? existing.tags } : {}),
      ...((input.managedBy ?? existing.managedBy)
        ? { managedBy: input.managedBy ?? existing.managedBy }
        : {}),
    } as { location: string });
    this.#revision++;
    return group;
  }

  /**
   * Deletes a group and the stored resources in it. `holds-vm`: an emulated VM lives there (its group
   * follows its config; change the VM instead).
   */
  deleteResourceGroup(subscriptionId: string, name: string): 'deleted' | 'not-found' | 'holds-vm' {
    const group = this.resourceGroup(subscriptionId, name);
    if (!group) return 'not-found';
    const prefix = `${idKey(group.id)}/`;
    if (this.vms().some((d) => idKey(d.vm.id).startsWith(prefix))) return 'holds-vm';
    for (const key of [...this.#resources.keys()]) if (key.startsWith(prefix)) this.#resources.delete(key);
    this.#groups.delete(idKey(group.id));
    this.#revision++;
    return 'deleted';
  }

  // --- Resources -------------------------------------------------------------------------------

  /**
   * Resources, derived then stored, filtered by subscription, resource group, type and name (each
   * case-insensitive; `type` is the full `Namespace/type`). Child resources (types with more than one
   * segment after the namespace) are listed only when `type` asks for them.
   */
  resources(
    filter: { subscriptionId?: string; resourceGroup?: string; type?: string; name?: string } = {},
  ): ArmResource[] {
    this.vms();
    const sub = filter.subscriptionId?.toLowerCase();
    const rg = filter.resourceGroup?.toLowerCase();
    const type = filter.type?.toLowerCase();
    const name = filter.name?.toLowerCase();
    const out: ArmResource[] = [];
    for (const r of [...this.#derivedById.values(), ...this.#resources.values()]) {
      const p = parseResourceId(r.id);
      if (!p) continue;
      if (sub && p.subscriptionId.toLowerCase() !== sub) continue;
      if (rg && p.resourceGroup.toLowerCase() !== rg) continue;
      if (type ? r.type.toLowerCase() !== type : r.type.split('/').length > 2) continue;
      if (name && r.name.toLowerCase() !== name) continue;
      out.push(r);
    }
    return out;
  }

  /** The resource with this id (any case). */
  resource(id: string): ArmResource | undefined {
    this.vms();
    const k = idKey(id);
    return this.#derivedById.get(k) ?? this.#resources.get(k);
  }

  /**
   * Creates or replaces a stored resource (ARM's PUT, completed at once). Vaults get Azure's defaults
   * and their `vaultUri`; user-assigned identities get a tenant, principal and client id (stable for the
   * id). Derived resources are `read-only`; the group (and a child's parent) must exist.
   */
  putResource(id: string, input: ResourceInput): PutResourceResult {
    const p = parseResourceId(id);
    if (!p) return { ok: false, error: 'invalid-id' };
    if (!this.subscription(p.subscriptionId)) return { ok: false, error: 'subscription-not-found' };
    if (!this.resourceGroup(p.subscriptionId, p.resourceGroup))
      return { ok: false, error: 'resource-group-not-found' };
    this.vms();
    if (this.#derivedById.has(idKey(id))) {
      return { ok: false, error: 'read-only' };
    }
    const segments = id.split('/');
    if (segments.length > 9 && !this.resource(segments.slice(0, -2).join('/')))
      return { ok: false, error: 'parent-not-found' };
    const existing = this.#resources.get(idKey(id));
    const resource = this.#store(existing?.id ?? id, input, existing);
    this.#revision++;
    return { ok: true, created: !existing, resource };
  }

  /** Merges tags / properties into a stored resource (PATCH); `read-only` for derived ones. */
  patchResource(id: string, input: ResourceInput): ArmResource | 'not-found' | 'read-only' {
    const current = this.resource(id);
    if (!current) return 'not-found';
    if (current.origin === 'derived') return 'read-only';
    const resource = this.#store(
      current.id,
      {
        ...(current as ResourceInput),
        ...input,
        properties: { ...current.properties, ...(input.properties ?? {}) },
      },
      current,
    );
    this.#revision++;
    return resource;
  }

  /** Deletes a stored resource and its children; `read-only` for derived ones. */
  deleteResource(id: string): 'deleted' | 'not-found' | 'read-only' {
    const current = this.resource(id);
    if (!current) return 'not-found';
    if (current.origin === 'derived') return 'read-only';
    const k = idKey(current.id);
    for (const key of [...this.#resources.keys()])
      if (key === k || key.startsWith(`${k}/`)) this.#resources.delete(key);
    this.#revision++;
    return 'deleted';
  }

  // --- Key vaults ------------------------------------------------------------------------------

  /** Every vault of the world, as the data plane sees them. */
  vaults(): VaultView[] {
    return this.resources({ type: VAULT_TYPE }).map(vaultView);
  }

  /** The vault with this name (vault names are global, any case). */
  vaultByName(name: string): VaultView | undefined {
    const n = name.toLowerCase();
    return this.vaults().find((v) => v.name.toLowerCase() === n);
  }

  /** `PUT …/vaults/{v}/accessPolicies/{operation}`; undefined when the vault does not exist. */
  updateAccessPolicies(
    vaultId: string,
    operation: 'add' | 'replace' | 'remove',
    policies: readonly AccessPolicy[],
  ): ArmResource | undefined {
    const vault = this.resource(vaultId);
    if (!vault || vault.type.toLowerCase() !== VAULT_TYPE.toLowerCase()) return undefined;
    const current = vaultView(vault).accessPolicies;
    const next = applyAccessPolicies(current, operation, policies);
    const updated = this.patchResource(vault.id, { properties: { accessPolicies: next } });
    return typeof updated === 'string' ? undefined : updated;
  }

  // --- internals ---------------------------------------------------------------------------------

  #ensureGroup(subscriptionId: string, name: string, location: string): void {
    if (!this.resourceGroup(subscriptionId, name)) this.#setGroup(subscriptionId, name, { location });
  }

  #setGroup(
    subscriptionId: string,
    name: string,
    input: { location: string; tags?: Readonly<Record<string, string>>; managedBy?: string },
  ): ResourceGroup {
    const group: ResourceGroup = {
      id: resourceGroupId(subscriptionId, name),
      name,
      type: 'Microsoft.Resources/resourceGroups',
      location: input.location,
      ...(input.managedBy ? { managedBy: input.managedBy } : {}),
      ...(input.tags ? { tags: { ...input.tags } } : {}),
      properties: { provisioningState: 'Succeeded' },
    };
    this.#groups.set(idKey(group.id), group);
    return group;
  }

  #store(id: string, input: ResourceInput, existing?: ArmResource): ArmResource {
    const p = parseResourceId(id) as NonNullable<ReturnType<typeof parseResourceId>>;
    const type = canonicalType(p.type, existing?.type);
    const typeKey = type.toLowerCase();
    const now = this.#sources.now();
    let properties: Record<string, unknown> = { ...(input.properties ?? {}) };
    if (typeKey === VAULT_TYPE.toLowerCase()) {
      properties = vaultProperties(p.name, this.tenantId, properties);
    } else if (typeKey === USER_ASSIGNED_TYPE) {
      const seed = `identity/user${idKey(id)}`;
      properties = {
        isolationScope: 'None',
        ...properties,
        tenantId: this.tenantId,
        principalId: stableUuid(`${seed}/principal`),
        clientId: stableUuid(`${seed}/client`),
      };
    } else {
      properties = { ...properties, provisioningState: 'Succeeded' };
    }
    let identity = input.identity;
    if (identity && typeof identity.type === 'string' && /systemassigned/i.test(identity.type)) {
      identity = {
        ...identity,
        principalId: stableUuid(`identity/system${idKey(id)}/principal`),
        tenantId: this.tenantId,
      };
    }
    const resource: ArmResource = {
      id,
      name: p.name,
      type,
      ...(input.location !== undefined ? { location: input.location } : {}),
      tags: { ...(input.tags ?? {}) },
      ...(input.kind !== undefined ? { kind: input.kind } : {}),
      ...(input.sku !== undefined ? { sku: input.sku } : {}),
      ...(identity !== undefined ? { identity } : {}),
      ...(input.zones !== undefined ? { zones: input.zones } : {}),
      ...(input.managedBy !== undefined ? { managedBy: input.managedBy } : {}),
      properties,
      createdTime: existing?.createdTime ?? now,
      changedTime: now,
      origin: 'stored',
    };
    this.#resources.set(idKey(id), resource);
    return resource;
  }
}

/** Well-known types in the providers' own spelling, so a lower-case PUT path still shows `Microsoft.KeyVault/vaults`. */
const KNOWN_TYPES = [
  'Microsoft.Compute/virtualMachines',
  'Microsoft.Compute/disks',
  'Microsoft.Network/networkInterfaces',
  'Microsoft.Network/publicIPAddresses',
  'Microsoft.Network/virtualNetworks',
  'Microsoft.Network/virtualNetworks/subnets',
  'Microsoft.Network/networkSecurityGroups',
  'Microsoft.KeyVault/vaults',
  'Microsoft.ManagedIdentity/userAssignedIdentities',
  'Microsoft.HybridCompute/machines',
  'Microsoft.Storage/storageAccounts',
];

function canonicalType(type: string, existing?: string): string {
  if (existing) return existing;
  const k = type.toLowerCase();
  return KNOWN_TYPES.find((t) => t.toLowerCase() === k) ?? type;
}

/** The id of a configured resource (`id`, or built from `resourceGroup`, `type` and `name`). */
export function configResourceId(r: WorldResourceConfig, homeSubscription: string): string {
  if (r.id) return r.id;
  const [namespace, ...types] = (r.type as string).split('/');
  const names = (r.name as string).split('/');
  const tail = types.map((t, i) => `${t}/${names[i] ?? names[names.length - 1]}`).join('/');
  return `${resourceGroupId(r.subscriptionId ?? homeSubscription, r.resourceGroup as string)}/providers/${namespace}/${tail}`;
}

/** The VM's tags as a merge patch for `patchMachine` (ARM's PATCH replaces the whole tag set). */
export function vmTagsPatch(machine: Machine, tags: Record<string, string>): Record<string, unknown> {
  const served =
    ((machine.document.compute as JsonObject).tagsList as Array<{ name: string }> | undefined) ?? [];
  const patch: Record<string, string | null> = {};
  for (const t of served) patch[t.name] = null;
  Object.assign(patch, tags);
  return { compute: { tags: patch } };
}
