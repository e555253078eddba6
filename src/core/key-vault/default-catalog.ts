import { DEFAULTS } from '../../config/defaults.js';
import type { IdentityDirectory } from '../identities/directory.js';
import type { Machine } from '../machines/machine.js';
import {
  type DataActionChecker,
  SECRETS_USER_DATA_ACTIONS,
  type VaultCatalog,
  type VaultRecord,
} from './vault.js';

/**
 * Name of the default vault for a subscription: `kv-azimds-` + the subscription id's first 8 hex
 * digits (the seed lab's `az account show --query id | cut -f1 -d-`); 18 characters, within Key Vault's
 * 3-24.
 */
export function defaultVaultName(subscriptionId: string): string {
  return `${DEFAULTS.keyVault.defaultVaultPrefix}${subscriptionId.split('-')[0]?.toLowerCase() ?? ''}`;
}

/**
 * The vault catalog until the world holds vaults (team/seams.md §3): one RBAC vault in the VM's
 * subscription, resource group and region, in the identities' tenant, following VM changes. Replace
 * it with `KeyVaults.useCatalog(worldCatalog)`.
 */
export class DefaultVaultCatalog implements VaultCatalog {
  readonly #machine: Machine;
  readonly #identities: IdentityDirectory;

  constructor(machine: Machine, identities: IdentityDirectory) {
    this.#machine = machine;
    this.#identities = identities;
  }

  defaultVault(): VaultRecord {
    const subscriptionId = this.#machine.compute('subscriptionId');
    const group = this.#machine.compute('resourceGroupName');
    const name = defaultVaultName(subscriptionId);
    return {
      name,
      resourceId: `/subscriptions/${subscriptionId}/resourceGroups/${group}/providers/Microsoft.KeyVault/vaults/${name}`,
      location: this.#machine.compute('location'),
      tenantId: this.#identities.tenantId,
      vaultUri: `https://${name}.vault.azure.net/`,
      enableRbacAuthorization: true,
      accessPolicies: [],
      enableSoftDelete: true,
      softDeleteRetentionInDays: DEFAULTS.keyVault.softDeleteRetentionInDays,
      enablePurgeProtection: false,
    };
  }

  lookup(name: string): VaultRecord | undefined {
    const vault = this.defaultVault();
    return vault.name === name.toLowerCase() ? vault : undefined;
  }

  list(): readonly VaultRecord[] {
    return [this.defaultVault()];
  }
}

/**
 * The role assignments until RBAC exists (team/seams.md §3 zero config): the VM's identities hold Key
 * Vault Secrets User on the default vault; nothing else is allowed. Replace it with
 * `KeyVaults.useChecker(state.rbac)`.
 */
export class DefaultSecretsUserAssignments implements DataActionChecker {
  readonly #catalog: VaultCatalog;
  readonly #identities: IdentityDirectory;

  constructor(catalog: VaultCatalog, identities: IdentityDirectory) {
    this.#catalog = catalog;
    this.#identities = identities;
  }

  check(request: { principalId: string; scope: string; dataAction: string }) {
    const vault = this.#catalog.defaultVault();
    const principal = request.principalId.toLowerCase();
    const scope = request.scope.toLowerCase();
    const vaultScope = vault?.resourceId.toLowerCase();
    const allowed =
      vaultScope !== undefined &&
      (scope === vaultScope || scope.startsWith(`${vaultScope}/`)) &&
      SECRETS_USER_DATA_ACTIONS.some((a) => a.toLowerCase() === request.dataAction.toLowerCase()) &&
      this.#identities.all().some((i) => i.principalId.toLowerCase() === principal);
    return allowed
      ? ({ allowed: true } as const)
      : ({ allowed: false, reason: 'no role assignment grants this data action' } as const);
  }
}
