import { type IdentityConfig, identitySchema, type UserAssignedConfig } from '../../config/identities.js';
import { issuesText } from '../../config/issues.js';
import type { Config } from '../../config/schema.js';
import { AzimdsError } from '../../errors.js';
import { stableUuid } from '../ids.js';
import type { Machine } from '../machines/machine.js';
import type { IdentitySelector, ManagedIdentity, Selection } from './identity.js';
import { selectIdentity } from './select.js';

/** The identities of one emulated VM, resolved from config with generated defaults. */
export interface ResolvedIdentities {
  readonly tenantId: string;
  /** Absent when the VM has no system-assigned identity. */
  readonly systemAssigned: ManagedIdentity | undefined;
  readonly userAssigned: readonly ManagedIdentity[];
}

/**
 * The managed identities of the emulated VM, shared by every token endpoint (IMDS, and the other
 * platforms' plugins). Resolved lazily and again whenever the VM changes (its subscription, group and
 * name feed the generated resource ids).
 */
export class IdentityDirectory {
  readonly #config: IdentityConfig;
  readonly #goTenantId: string | undefined;
  readonly #machine: Machine;
  #resolved: ResolvedIdentities | undefined;
  #revision = -1;
  /** User-assigned identities as attached now: the configured ones, changed by the control API. */
  #userAssigned: UserAssignedConfig[];

  constructor(config: Pick<Config, 'identity' | 'goSimulator'>, machine: Machine) {
    this.#config = config.identity;
    this.#userAssigned = [...config.identity.userAssigned];
    this.#goTenantId = config.goSimulator?.tenantId;
    this.#machine = machine;
  }

  /** Current identities (re-resolved after a change of the VM). */
  get current(): ResolvedIdentities {
    if (!this.#resolved || this.#revision !== this.#machine.revision) {
      this.#resolved = resolveIdentities(
        { ...this.#config, userAssigned: this.#userAssigned },
        this.#machine,
        this.#goTenantId,
      );
      this.#revision = this.#machine.revision;
    }
    return this.#resolved;
  }

  get tenantId(): string {
    return this.current.tenantId;
  }

  /** Every assigned identity, system-assigned first. */
  all(): ManagedIdentity[] {
    const { systemAssigned, userAssigned } = this.current;
    return systemAssigned ? [systemAssigned, ...userAssigned] : [...userAssigned];
  }

  /**
   * Attaches a user-assigned identity (control API, library), in the config's shape
   * (`{ name, clientId?, principalId?, resourceId? }`); token endpoints serve it at once.
   * @throws AzimdsError `INVALID_INPUT` when it is not valid or an id of it is taken.
   */
  addUserAssigned(input: unknown): ManagedIdentity {
    const parsed = identitySchema.safeParse({
      ...this.#config,
      userAssigned: [...this.#userAssigned, input],
    });
    if (!parsed.success) {
      throw new AzimdsError('INVALID_INPUT', `invalid user-assigned identity: ${issuesText(parsed.error)}`);
    }
    this.#userAssigned = parsed.data.userAssigned;
    this.#resolved = undefined;
    return this.current.userAssigned[this.#userAssigned.length - 1] as ManagedIdentity;
  }

  /**
   * Detaches the user-assigned identity whose name, client id, principal id or resource id is `key`
   * (any case). Returns it, or `undefined` when none matches.
   */
  removeUserAssigned(key: string): ManagedIdentity | undefined {
    const k = key.toLowerCase();
    const index = this.current.userAssigned.findIndex((u) =>
      [u.name, u.clientId, u.principalId, u.resourceId].some((v) => v.toLowerCase() === k),
    );
    if (index < 0) return undefined;
    const removed = this.current.userAssigned[index];
    this.#userAssigned = this.#userAssigned.filter((_, i) => i !== index);
    this.#resolved = undefined;
    return removed;
  }

  /** Back to the configured identities. */
  reset(): void {
    this.#userAssigned = [...this.#config.userAssigned];
    this.#resolved = undefined;
  }

  /** Azure's selection rules (see `selectIdentity`). */
  select(selectors: readonly IdentitySelector[]): Selection {
    const { systemAssigned, userAssigned } = this.current;
    return selectIdentity(systemAssigned, userAssigned, selectors);
  }
}

/**
 * Resolves the identity config against the VM: the tenant (config, else the Go simulator's `tenantID`,
 * else a stable generated one), the system-assigned identity with the VM's resource id, and each
 * user-assigned identity with its resource id in the VM's subscription and resource group.
 */
export function resolveIdentities(
  config: IdentityConfig,
  machine: Machine,
  goTenantId?: string,
): ResolvedIdentities {
  const tenantId = (config.tenantId ?? goTenantId ?? stableUuid('tenant')).toLowerCase();
  const subscription = machine.compute('subscriptionId');
  const group = machine.compute('resourceGroupName');
  // Entra writes resource ids in xms_mirid with a lower-case `resourcegroups` segment.
  const groupId = `/subscriptions/${subscription}/resourcegroups/${group}`;
  const sa = config.systemAssigned;
  const vmResourceId = `${groupId}/providers/Microsoft.Compute/virtualMachines/${machine.compute('name')}`;
  const vmSeed = `identity/system${vmResourceId.toLowerCase()}`;
  const systemAssigned: ManagedIdentity | undefined = sa.enabled
    ? {
        kind: 'system-assigned',
        name: machine.compute('name'),
        clientId: (('clientId' in sa && sa.clientId) || stableUuid(`${vmSeed}/client`)).toLowerCase(),
        principalId: (
          ('principalId' in sa && sa.principalId) ||
          stableUuid(`${vmSeed}/principal`)
        ).toLowerCase(),
        resourceId: vmResourceId,
        tenantId,
      }
    : undefined;
  const userAssigned = config.userAssigned.map((u) => userAssignedIdentity(u, groupId, tenantId));
  return { tenantId, systemAssigned, userAssigned };
}

function userAssignedIdentity(u: UserAssignedConfig, groupId: string, tenantId: string): ManagedIdentity {
  const resourceId =
    u.resourceId ?? `${groupId}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${u.name}`;
  const seed = `identity/user${resourceId.toLowerCase()}`;
  return {
    kind: 'user-assigned',
    name: u.name ?? resourceId.slice(resourceId.lastIndexOf('/') + 1),
    clientId: (u.clientId ?? stableUuid(`${seed}/client`)).toLowerCase(),
    principalId: (u.principalId ?? u.objectId ?? stableUuid(`${seed}/principal`)).toLowerCase(),
    resourceId,
    tenantId,
  };
}

/**
 * The identity config with every generated id written out (`azimds start --print-config`): loading it
 * gives the same identities, and it shows the client ids to put in code or in selectors.
 */
export function generatedIdentityConfig(
  config: Pick<Config, 'identity' | 'goSimulator'>,
  machine: Machine,
): IdentityConfig {
  const { tenantId, systemAssigned, userAssigned } = resolveIdentities(
    config.identity,
    machine,
    config.goSimulator?.tenantId,
  );
  return {
    tenantId,
    systemAssigned: systemAssigned
      ? { enabled: true, clientId: systemAssigned.clientId, principalId: systemAssigned.principalId }
      : { enabled: false },
    userAssigned: userAssigned.map(({ name, clientId, principalId, resourceId }) => ({
      name,
      clientId,
      principalId,
      resourceId,
    })),
  };
}
