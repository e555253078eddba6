import type { Config } from '../config/schema.js';
import type { RequestDetails } from '../server/request-details.js';
import type { RequestLog } from '../server/request-log.js';
import type { Attestation } from './attestation/attestation.js';
import type { EmulatorClock } from './clock.js';
import type { EntraDirectory } from './directory/directory.js';
import type { ScheduledEvents } from './events/scheduled-events.js';
import type { FaultSet } from './faults/fault-set.js';
import type { Fleet } from './fleet/fleet.js';
import type { FleetMember } from './fleet/members.js';
import type { VmState } from './fleet/vm-state.js';
import type { IdentityDirectory } from './identities/directory.js';
import type { KeyVaults } from './key-vault/key-vaults.js';
import type { LoadBalancer } from './load-balancer/load-balancer.js';
import type { Machine } from './machines/machine.js';
import type { Platforms } from './platforms/platforms.js';
import type { Rbac } from './rbac/rbac.js';
import type { LocalCa } from './tls/local-ca.js';
import type { TokenService } from './tokens/service.js';
import type { World } from './world/world.js';

/**
 * Everything an emulator instance knows, shared by its protocol plugins. Protocols read and change
 * the emulator only through this object; it holds no HTTP.
 */
export interface EmulatorState {
  /** The resolved configuration the emulator started with. */
  readonly config: Config;
  readonly clock: EmulatorClock;
  /**
   * Every VM this emulator serves (docs/fleet.md): O(1) by name and private address, each VM's state
   * created on first use. `machine`, `identities`, `scheduledEvents`, `attestation` and `loadBalancer`
   * below are the default VM's (member 0); a request's own VM is `requestVm(state, raw)` (server/request-vm.ts).
   */
  readonly fleet: Fleet<VmState>;
  /** Opens a VM's own IMDS and legacy-extension listeners (`POST /vms/{name}/listeners`); set once the emulator runs. */
  vmListeners?: (member: FleetMember) => Promise<Record<string, string>>;
  /** The default VM whose metadata IMDS serves (the fleet's member 0). */
  readonly machine: Machine;
  /** Scheduled events of `/metadata/scheduledevents` (add, cancel, approve; driven by `clock`). */
  readonly scheduledEvents: ScheduledEvents;
  /** Attested data: the CA, the signing certificate, signed documents. */
  readonly attestation: Attestation;
  /** The Standard load balancer of `/metadata/loadbalancer` (none unless configured). */
  readonly loadBalancer: LoadBalancer;
  /** The VM's managed identities (system- and user-assigned) and their tenant. */
  readonly identities: IdentityDirectory;
  /** Token issuing: signing keys, the local issuer, the per-(identity, resource) cache. */
  readonly tokens: TokenService;
  /** The local Entra tenant: app registrations / service principals, the workload-identity issuer (docs/entra.md). */
  readonly directory: EntraDirectory;
  /** The other managed-identity platforms' secrets, TLS certificate and Arc directory (docs/platforms/). */
  readonly platforms: Platforms;
  /** Fault-injection rules every surface applies (docs/faults.md). */
  readonly faults: FaultSet;
  /** The last requests the surfaces served (a ring buffer; plain data, written by the listeners). */
  readonly requestLog: RequestLog;
  /**
   * The local CA (docs/proxy.md): leaf certificates per host name for the proxy, and
   * `localCa.serverOptions(host)` for any surface's direct https endpoint. Files created on first use.
   */
  readonly localCa: LocalCa;
  /** What ARM shows: tenant, subscriptions, resource groups, resources, the VMs' views (docs/arm.md). */
  readonly world: World;
  /** Role definitions, role assignments and `check()` over the world (docs/arm.md). */
  readonly rbac: Rbac;
  /** Key Vault: vaults (a catalog seam), their secrets, the per-vault authorization rule (docs/key-vault.md). */
  readonly keyVaults: KeyVaults;
  /** Headers, bodies and decoded tokens of the last requests, by request log seq (the dashboard's). */
  readonly requestDetails: RequestDetails;
}
