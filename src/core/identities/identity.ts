/** A managed identity assigned to the emulated VM, with every id Azure knows it by. */
export interface ManagedIdentity {
  /** `system-assigned`: the VM's own identity; `user-assigned`: a standalone identity attached to the VM. */
  readonly kind: 'system-assigned' | 'user-assigned';
  /** The VM's name (system-assigned) or the identity's name (user-assigned). */
  readonly name: string;
  /** Application (client) id of the identity's service principal: `appid`/`azp` in tokens, `client_id` on the wire. */
  readonly clientId: string;
  /** Object (principal) id of the service principal: `oid` and `sub` in tokens, `object_id` on the wire. */
  readonly principalId: string;
  /**
   * ARM resource id of what the identity belongs to, as Entra writes it in `xms_mirid`: the VM for the
   * system-assigned identity, the identity resource itself for a user-assigned one (`msi_res_id`).
   */
  readonly resourceId: string;
  /** Entra tenant of the service principal (`tid`). */
  readonly tenantId: string;
}

/** How a request names the identity it wants (IMDS: `client_id`, `object_id`, `msi_res_id`/`mi_res_id`). */
export interface IdentitySelector {
  readonly by: 'clientId' | 'principalId' | 'resourceId';
  readonly value: string;
}

/**
 * Why no identity was selected, per Azure's rules (protocols.md §6.2); each platform words it its own way.
 * - `identity-not-found`: the selector matches no assigned identity, or the VM has no identity at all;
 * - `multiple-user-assigned`: no selector, no system-assigned identity, several user-assigned ones;
 * - `several-selectors`: more than one selector in one request.
 */
export type SelectionError = 'identity-not-found' | 'multiple-user-assigned' | 'several-selectors';

export type Selection =
  | { readonly ok: true; readonly identity: ManagedIdentity }
  | { readonly ok: false; readonly error: SelectionError };
