import { formatEnvironment, sdkEnvironment } from '../../cli/sdk-environment.js';
import type { EmulatorState } from '../../core/state.js';
import type { EmulatorUrls } from '../../server/emulator.js';

// The listeners' URLs are known only once they are bound (port 0 picks one): startWithConfig files them here.
const listenerUrls = new WeakMap<EmulatorState, Readonly<Record<string, string>>>();

/** Records the bound listeners' base URLs of the emulator that owns `state` (for the overview). */
export function setListenerUrls(state: EmulatorState, urls: Readonly<Record<string, string>>): void {
  listenerUrls.set(state, urls);
}

/** What the dashboard's overview shows (`GET /dashboard/overview`). */
export interface DashboardOverview {
  /** The VMs (one today; a fleet later), with the fields a user matches against their code. */
  vms: Array<Record<string, unknown>>;
  tenantId: string;
  identities: Array<{
    kind: string;
    name: string;
    clientId: string;
    principalId: string;
    resourceId: string;
  }>;
  /** Listener name → base URL. */
  listeners: Record<string, string>;
  /** `export NAME=value` lines that point the Azure SDKs at this emulator (as the start banner prints). */
  env: string;
}

export function overview(state: EmulatorState): DashboardOverview {
  const { machine, identities } = state;
  const urls = { ...(listenerUrls.get(state) ?? {}) };
  const fields = [
    'name',
    'vmSize',
    'location',
    'zone',
    'resourceGroupName',
    'subscriptionId',
    'vmId',
    'resourceId',
  ];
  const vm: Record<string, unknown> = {};
  for (const field of fields) vm[field] = machine.compute(field as never);
  // Seam for the fleet: when `state.fleet` exists, list its VMs here (one row each), not only `state.machine`.
  return {
    vms: [vm],
    tenantId: identities.tenantId,
    identities: identities.all().map(({ kind, name, clientId, principalId, resourceId }) => ({
      kind,
      name,
      clientId,
      principalId,
      resourceId,
    })),
    listeners: urls,
    env: formatEnvironment(sdkEnvironment(urls as EmulatorUrls), 'bash'),
  };
}
