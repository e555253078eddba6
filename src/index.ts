/**
 * azimds: Azure's Instance Metadata Service and managed-identity endpoints, emulated for laptops and CI.
 *
 * ```ts
 * import { startEmulator } from 'azimds';
 * const azimds = await startEmulator();
 * process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = azimds.urls.imds;
 * // ... run code that talks to IMDS ...
 * await azimds.close();
 * ```
 * @packageDocumentation
 */
// First: refuses an older Node.js in one sentence before any other module loads.
import './node-version.js';

export { DEFAULTS } from './config/defaults.js';
export type { FaultRuleInput, FaultStatus } from './config/faults-schema.js';
export { loadConfig, resolveConfig } from './config/load.js';
export type { LoadBalancerConfig } from './config/load-balancer.js';
export type { PlatformsConfig } from './config/platforms.js';
export type { ScheduledEventInput } from './config/scheduled-events.js';
export type { Config, ConfigInput } from './config/schema.js';
export { configJsonSchema } from './config/schema.js';
export type { AttestedDocument } from './core/attestation/attestation.js';
export type { DirectoryPrincipal, EntraDirectory } from './core/directory/directory.js';
export { entraEnvironment } from './core/directory/environment.js';
export type { ServicePrincipal } from './core/directory/service-principal.js';
export type { ApproveResult, ScheduledEvents } from './core/events/scheduled-events.js';
export type { EventSource, EventStatus, EventType, ScheduledEvent } from './core/events/types.js';
export type { FaultRuleView, FaultSet } from './core/faults/fault-set.js';
export type { FleetMember } from './core/fleet/members.js';
export type { VmState } from './core/fleet/vm-state.js';
export type { IdentityDirectory, ResolvedIdentities } from './core/identities/directory.js';
export type { IdentitySelector, ManagedIdentity, SelectionError } from './core/identities/identity.js';
export { IMDS_API_VERSIONS } from './core/machines/api-versions.js';
export {
  PLATFORM_IDS,
  PLATFORMS,
  type PlatformId,
  type PlatformInfo,
  type TokenPlatform,
} from './core/platforms/catalog.js';
export { MANAGED_IDENTITY_VARIABLES } from './core/platforms/environment.js';
export {
  BUILT_IN_ROLES,
  ROLE_IDS,
  type RoleDefinition,
  type RolePermission,
} from './core/rbac/built-in-roles.js';
export type {
  AccessDecision,
  AccessRequest,
  Rbac,
  RbacPrincipal,
  RoleAssignment,
} from './core/rbac/rbac.js';
export type { EmulatorState } from './core/state.js';
export {
  type BearerFailure,
  type BearerResult,
  type VerifiedBearer,
  verifyBearer,
} from './core/tokens/bearer.js';
export type { KeyStore } from './core/tokens/key-store.js';
export type { JwksKey, SigningKey } from './core/tokens/keys.js';
export type {
  AccessToken,
  TokenFailure,
  TokenProvider,
  TokenRequest,
  TokenResult,
} from './core/tokens/provider.js';
export type { TokenService } from './core/tokens/service.js';
export type { AccessPolicy, VaultView } from './core/world/key-vault.js';
export type { ArmResource, ResourceGroup, Subscription } from './core/world/resource.js';
export type { World } from './core/world/world.js';
export { AzimdsError, type AzimdsErrorCode } from './errors.js';
export { entraListenerSpec } from './protocols/entra/listener.js';
export type { EmulatorControls } from './server/controls.js';
export {
  buildSurface,
  type EmulatorHandle,
  type EmulatorOptions,
  type EmulatorUrls,
  startEmulator,
} from './server/emulator.js';
export type { RequestLog, RequestLogEntry, RequestLogPage } from './server/request-log.js';
export type { EmulatorVm } from './server/vm-handle.js';
