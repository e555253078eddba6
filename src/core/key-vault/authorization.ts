import {
  type DataActionChecker,
  OPERATION_REQUIREMENTS,
  type SecretOperation,
  type VaultRecord,
} from './vault.js';

/** Who calls: from the verified bearer token. */
export interface VaultCaller {
  /** `oid`. */
  readonly principalId: string;
  /** `tid`. */
  readonly tenantId: string;
  readonly appId?: string;
  /** `iss` of the token (quoted in Azure's 403 messages). */
  readonly issuer: string;
}

/** The outcome of the per-vault rule; a denial says which model refused, for Azure's wording. */
export type VaultDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly model: 'rbac';
      /** The data action asked for. */
      readonly dataAction: string;
      /** The scope checked: the vault's resource id, plus `/secrets/<name>` for one secret. */
      readonly scope: string;
    }
  | { readonly allowed: false; readonly model: 'policy'; readonly permission: string };

/**
 * The authorization rule of one vault: RBAC vaults ask `checker` for the operation's data action on the
 * secret's scope (or the vault's, for lists); access-policy vaults look for a policy of the caller's
 * object id in the caller's tenant granting the operation's secret permission (or `all`).
 */
export function authorizeSecretOperation(
  vault: VaultRecord,
  caller: VaultCaller,
  operation: SecretOperation,
  checker: DataActionChecker,
  secretName?: string,
): VaultDecision {
  const { dataAction, permission } = OPERATION_REQUIREMENTS[operation];
  if (vault.enableRbacAuthorization) {
    const scope = secretName === undefined ? vault.resourceId : `${vault.resourceId}/secrets/${secretName}`;
    const result = checker.check({ principalId: caller.principalId, scope, dataAction });
    return result.allowed ? { allowed: true } : { allowed: false, model: 'rbac', dataAction, scope };
  }
  const granted = vault.accessPolicies.some(
    (p) =>
      p.objectId.toLowerCase() === caller.principalId.toLowerCase() &&
      p.tenantId.toLowerCase() === caller.tenantId.toLowerCase() &&
      (p.permissions.secrets ?? []).some((s) => {
        const name = s.toLowerCase();
        return name === permission || name === 'all';
      }),
  );
  return granted ? { allowed: true } : { allowed: false, model: 'policy', permission };
}
