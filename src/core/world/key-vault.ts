import { DEFAULTS } from '../../config/defaults.js';
import type { VaultCatalog } from '../key-vault/vault.js';
/**
 * `Microsoft.KeyVault/vaults` resources of the world: the properties ARM serves (VaultProperties in
 * the KeyVault REST spec / azure-mgmt-keyvault) and what the Key Vault data plane needs to authorize
 * a request (seams.md §4).
 */

export const VAULT_TYPE = 'Microsoft.KeyVault/vaults';

/** Secret permissions an access policy may grant (Key Vault's `SecretPermissions`). */
export const SECRET_PERMISSIONS = [
  'all',
  'get',
  'list',
  'set',
  'delete',
  'backup',
  'restore',
  'recover',
  'purge',
];

/** One access policy entry (`AccessPolicyEntry`). */
export interface AccessPolicy {
  readonly tenantId: string;
  readonly objectId: string;
  readonly applicationId?: string;
  readonly permissions: {
    readonly keys?: readonly string[];
    readonly secrets?: readonly string[];
    readonly certificates?: readonly string[];
    readonly storage?: readonly string[];
  };
}

/** What the Key Vault data plane needs of a vault (seams.md §4). */
export interface VaultView {
  readonly name: string;
  readonly resourceId: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly tenantId: string;
  /** `https://<name>.vault.azure.net/` */
  readonly vaultUri: string;
  readonly enableRbacAuthorization: boolean;
  readonly accessPolicies: readonly AccessPolicy[];
  readonly enableSoftDelete: boolean;
  readonly softDeleteRetentionInDays: number;
  readonly enablePurgeProtection: boolean;
}

/** The data-plane host of a vault name (public cloud). */
export function vaultUri(name: string): string {
  return `https://${name.toLowerCase()}.vault.azure.net/`;
}

/**
 * A vault's `properties` as ARM stores them after a PUT: Azure's defaults for what the request left
 * out (sku standard, soft delete on for 90 days, access policies empty, RBAC authorization off as for
 * api-versions before 2026-02-01), the given values, and `vaultUri`/`provisioningState` set by the
 * service.
 */
export function vaultProperties(
  name: string,
  tenantId: string,
  given: Record<string, unknown>,
): Record<string, unknown> {
  const { vaultUri: _ignored, provisioningState: _p, ...rest } = given;
  return {
    sku: { family: 'A', name: 'standard' },
    tenantId,
    accessPolicies: [],
    enabledForDeployment: false,
    enabledForDiskEncryption: false,
    enabledForTemplateDeployment: false,
    enableSoftDelete: true,
    softDeleteRetentionInDays: 90,
    enableRbacAuthorization: false,
    publicNetworkAccess: 'Enabled',
    ...rest,
    vaultUri: vaultUri(name),
    provisioningState: 'Succeeded',
  };
}

/** A vault resource's view for the data plane. */
export function vaultView(resource: {
  id: string;
  name: string;
  location?: string;
  properties: Readonly<Record<string, unknown>>;
}): VaultView {
  const p = resource.properties;
  const parts = resource.id.split('/');
  return {
    name: resource.name,
    resourceId: resource.id,
    subscriptionId: parts[2] ?? '',
    resourceGroup: parts[4] ?? '',
    location: resource.location ?? '',
    tenantId: String(p.tenantId ?? ''),
    vaultUri: String(p.vaultUri ?? vaultUri(resource.name)),
    enableRbacAuthorization: p.enableRbacAuthorization === true,
    accessPolicies: Array.isArray(p.accessPolicies) ? (p.accessPolicies as AccessPolicy[]) : [],
    enableSoftDelete: p.enableSoftDelete !== false,
    softDeleteRetentionInDays:
      typeof p.softDeleteRetentionInDays === 'number' ? p.softDeleteRetentionInDays : 90,
    enablePurgeProtection: p.enablePurgeProtection === true,
  };
}

type PermissionKind = 'keys' | 'secrets' | 'certificates' | 'storage';
const KINDS: PermissionKind[] = ['keys', 'secrets', 'certificates', 'storage'];

const sameEntry = (a: AccessPolicy, b: AccessPolicy) =>
  a.tenantId.toLowerCase() === b.tenantId.toLowerCase() &&
  a.objectId.toLowerCase() === b.objectId.toLowerCase() &&
  (a.applicationId ?? '').toLowerCase() === (b.applicationId ?? '').toLowerCase();

/**
 * Applies `PUT …/vaults/{v}/accessPolicies/{add|replace|remove}` (Vaults_UpdateAccessPolicy) to a list:
 * `add` merges the given permissions into the entry of the same tenant/object/application (or appends
 * it); `replace` sets that entry's permissions; `remove` takes the given permissions away and drops the
 * entry when none is left (or when the request lists none).
 */
export function applyAccessPolicies(
  current: readonly AccessPolicy[],
  operation: 'add' | 'replace' | 'remove',
  changes: readonly AccessPolicy[],
): AccessPolicy[] {
  let list = [...current];
  for (const change of changes) {
    const index = list.findIndex((e) => sameEntry(e, change));
    const entry = index >= 0 ? list[index] : undefined;
    if (operation === 'replace' || (operation === 'add' && !entry)) {
      if (entry) list[index] = { ...entry, permissions: change.permissions };
      else list.push(change);
    } else if (operation === 'add' && entry) {
      const permissions: Record<string, string[]> = {};
      for (const k of KINDS) {
        const merged = [...(entry.permissions[k] ?? [])];
        for (const p of change.permissions[k] ?? [])
          if (!merged.some((m) => m.toLowerCase() === p.toLowerCase())) merged.push(p);
        if (merged.length || entry.permissions[k]) permissions[k] = merged;
      }
      list[index] = { ...entry, permissions };
    } else if (operation === 'remove' && entry) {
      const listed = KINDS.some((k) => (change.permissions[k] ?? []).length > 0);
      const permissions: Record<string, string[]> = {};
      for (const k of KINDS) {
        const drop = new Set((change.permissions[k] ?? []).map((p) => p.toLowerCase()));
        permissions[k] = (entry.permissions[k] ?? []).filter((p) => !drop.has(p.toLowerCase()));
      }
      const empty = KINDS.every((k) => (permissions[k] ?? []).length === 0);
      list =
        !listed || empty
          ? list.filter((_, i) => i !== index)
          : list.map((e, i) => (i === index ? { ...e, permissions } : e));
    }
  }
  return list;
}

/**
 * Name of the zero-config vault of a subscription: `kv-azimds-` + the subscription id's first 8 hex
 * digits (seed 002's `az account show --query id | cut -f1 -d-`); 18 characters, within Key Vault's 3-24.
 */
export function defaultVaultName(subscriptionId: string): string {
  return `${DEFAULTS.keyVault.defaultVaultPrefix}${subscriptionId.split('-')[0]?.toLowerCase() ?? ''}`;
}

/** The world's `Microsoft.KeyVault/vaults` as the Key Vault data plane's catalog (src/core/key-vault/vault.ts). */
export function vaultCatalogOf(world: {
  vaults(): VaultView[];
  vaultByName(name: string): VaultView | undefined;
  defaultVaultName(): string;
}): VaultCatalog {
  return {
    lookup: (name) => world.vaultByName(name),
    list: () => world.vaults(),
    defaultVault: () => world.vaultByName(world.defaultVaultName()),
  };
}
