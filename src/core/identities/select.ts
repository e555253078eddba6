import type { IdentitySelector, ManagedIdentity, Selection } from './identity.js';

/**
 * Picks the identity a token request is for, as IMDS does (protocols.md §6.2):
 * 1. more than one selector → `several-selectors`;
 * 2. a selector → the assigned identity it names, else `identity-not-found`;
 * 3. no selector → the system-assigned identity if enabled; else the only user-assigned one; else
 *    `multiple-user-assigned` when there are several, `identity-not-found` when there are none.
 *
 * Ids compare case-insensitively (GUIDs and ARM resource ids are). The system-assigned identity is
 * selectable by its client or principal id; `resourceId` selects user-assigned identities only, since
 * `msi_res_id` names an identity resource and the system-assigned identity is not one.
 */
export function selectIdentity(
  systemAssigned: ManagedIdentity | undefined,
  userAssigned: readonly ManagedIdentity[],
  selectors: readonly IdentitySelector[],
): Selection {
  if (selectors.length > 1) return { ok: false, error: 'several-selectors' };
  const selector = selectors[0];
  if (selector) {
    const wanted = selector.value.toLowerCase();
    const candidates =
      selector.by === 'resourceId' || !systemAssigned ? userAssigned : [systemAssigned, ...userAssigned];
    const identity = candidates.find((i) => i[selector.by].toLowerCase() === wanted);
    return identity ? { ok: true, identity } : { ok: false, error: 'identity-not-found' };
  }
  if (systemAssigned) return { ok: true, identity: systemAssigned };
  const only = userAssigned[0];
  if (only && userAssigned.length === 1) return { ok: true, identity: only };
  return { ok: false, error: userAssigned.length > 1 ? 'multiple-user-assigned' : 'identity-not-found' };
}
