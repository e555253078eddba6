/**
 * What the Key Vault core needs from the rest of azimds, as narrow interfaces (team/seams.md §4): a
 * vault catalog (the world's `Microsoft.KeyVault/vaults` resources) and a data-action check (RBAC). The
 * world (`vaultCatalogOf` in src/core/world/key-vault.ts) and RBAC (`state.rbac`) implement them.
 */

/** One access policy entry of a vault (ARM `properties.accessPolicies[]`, azure-mgmt-keyvault AccessPolicyEntry). */
export interface AccessPolicyEntry {
  readonly tenantId: string;
  readonly objectId: string;
  readonly applicationId?: string;
  /** Only `secrets` is read here: get, list, set, delete, recover, purge, backup, restore, all (any case). */
  readonly permissions: { readonly secrets?: readonly string[] };
}

/**
 * A vault as the data plane sees it: the ARM resource's name, id and `properties` (azure-mgmt-keyvault
 * VaultProperties), plus its region (`location`, quoted in Azure's 403 messages).
 */
export interface VaultRecord {
  /** e.g. `kv-azimds-1a2b3c4d`; vault names are case-insensitive. */
  readonly name: string;
  /** `/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>`. */
  readonly resourceId: string;
  readonly location: string;
  readonly tenantId: string;
  /** `https://<name>.vault.azure.net/`. */
  readonly vaultUri: string;
  /** true: role assignments decide (data actions); false: access policies decide. */
  readonly enableRbacAuthorization: boolean;
  readonly accessPolicies: readonly AccessPolicyEntry[];
  /** Soft delete (Azure: always on for new vaults); off: delete purges at once. */
  readonly enableSoftDelete: boolean;
  /** 7-90 days. */
  readonly softDeleteRetentionInDays: number;
  /** Purge of deleted secrets refused until the retention period ends. */
  readonly enablePurgeProtection: boolean;
}

/** The vaults that exist. The world implements this after the merge (`Microsoft.KeyVault/vaults`). */
export interface VaultCatalog {
  /** The vault named `name` (case-insensitive), or undefined. */
  lookup(name: string): VaultRecord | undefined;
  /** Every vault. */
  list(): readonly VaultRecord[];
  /**
   * The vault the direct endpoint serves on an address without a vault name (`127.0.0.1:<port>`), and
   * the one zero-config seeds the sample secret into: the VM's resource group's vault.
   */
  defaultVault(): VaultRecord | undefined;
}

/** A data-action check on a scope, as RBAC answers it (team/seams.md §3: `state.rbac.check`). */
export interface DataActionChecker {
  check(request: {
    principalId: string;
    scope: string;
    dataAction: string;
  }): { allowed: true } | { allowed: false; reason?: string };
}

/**
 * Secret data actions of Key Vault's RBAC (Microsoft's "Azure built-in roles for Security": Key Vault
 * Secrets User = getSecret + readMetadata; Secrets Officer = `secrets/*`).
 */
export const SECRET_DATA_ACTIONS = {
  getSecret: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  readMetadata: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  setSecret: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
  update: 'Microsoft.KeyVault/vaults/secrets/update/action',
  delete: 'Microsoft.KeyVault/vaults/secrets/delete',
  recover: 'Microsoft.KeyVault/vaults/secrets/recover/action',
  purge: 'Microsoft.KeyVault/vaults/secrets/purge/action',
  backup: 'Microsoft.KeyVault/vaults/secrets/backup/action',
  restore: 'Microsoft.KeyVault/vaults/secrets/restore/action',
} as const;

/** Key Vault Secrets User's data actions (role 4633458b-17de-408a-b874-0445c86b69e6). */
export const SECRETS_USER_DATA_ACTIONS: readonly string[] = [
  SECRET_DATA_ACTIONS.getSecret,
  SECRET_DATA_ACTIONS.readMetadata,
];

/** The operations of the secrets data plane. */
export type SecretOperation =
  | 'get'
  | 'list'
  | 'set'
  | 'update'
  | 'delete'
  | 'getDeleted'
  | 'listDeleted'
  | 'recover'
  | 'purge';

/**
 * What each operation needs: the RBAC data action and the access-policy secret permission (the REST
 * reference's "This operation requires the secrets/<permission> permission" per operation; update needs
 * `set`, reading deleted secrets needs `list`).
 */
export const OPERATION_REQUIREMENTS: Readonly<
  Record<SecretOperation, { readonly dataAction: string; readonly permission: string }>
> = {
  get: { dataAction: SECRET_DATA_ACTIONS.getSecret, permission: 'get' },
  list: { dataAction: SECRET_DATA_ACTIONS.readMetadata, permission: 'list' },
  set: { dataAction: SECRET_DATA_ACTIONS.setSecret, permission: 'set' },
  update: { dataAction: SECRET_DATA_ACTIONS.update, permission: 'set' },
  delete: { dataAction: SECRET_DATA_ACTIONS.delete, permission: 'delete' },
  getDeleted: { dataAction: SECRET_DATA_ACTIONS.readMetadata, permission: 'list' },
  listDeleted: { dataAction: SECRET_DATA_ACTIONS.readMetadata, permission: 'list' },
  recover: { dataAction: SECRET_DATA_ACTIONS.recover, permission: 'recover' },
  purge: { dataAction: SECRET_DATA_ACTIONS.purge, permission: 'purge' },
};
