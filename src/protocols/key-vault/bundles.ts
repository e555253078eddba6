import type { DeletedSecretView, SecretAttributes, SecretVersionView } from '../../core/key-vault/secrets.js';

/**
 * The JSON shapes of the secrets data plane (azure-rest-api-specs
 * specification/keyvault/data-plane/Microsoft.KeyVault/stable/7.5/secrets.json: SecretBundle, SecretItem,
 * DeletedSecretBundle, DeletedSecretItem), in the field order of its examples. `origin` is the vault's
 * base URL as the client reaches it (ids and nextLinks point there).
 */

function attributes(a: SecretAttributes) {
  return {
    enabled: a.enabled,
    ...(a.nbf === undefined ? {} : { nbf: a.nbf }),
    ...(a.exp === undefined ? {} : { exp: a.exp }),
    created: a.created,
    updated: a.updated,
    recoveryLevel: a.recoveryLevel,
    ...(a.recoverableDays === undefined ? {} : { recoverableDays: a.recoverableDays }),
  };
}

const versionId = (origin: string, s: SecretVersionView) => `${origin}/secrets/${s.name}/${s.version}`;

/** SecretBundle: with the value (get, set). */
export function secretBundle(origin: string, s: SecretVersionView) {
  return {
    value: s.value,
    ...(s.contentType === undefined ? {} : { contentType: s.contentType }),
    id: versionId(origin, s),
    attributes: attributes(s.attributes),
    ...(s.tags === undefined ? {} : { tags: s.tags }),
  };
}

/** SecretBundle without the value (update, recover: the service returns no value there). */
export function secretProperties(origin: string, s: SecretVersionView) {
  return {
    ...(s.contentType === undefined ? {} : { contentType: s.contentType }),
    id: versionId(origin, s),
    attributes: attributes(s.attributes),
    ...(s.tags === undefined ? {} : { tags: s.tags }),
  };
}

/** SecretItem: `versioned` false for the list of secrets (base id), true for the list of versions. */
export function secretItem(origin: string, s: SecretVersionView, versioned: boolean) {
  return {
    id: versioned ? versionId(origin, s) : `${origin}/secrets/${s.name}`,
    attributes: attributes(s.attributes),
    ...(s.tags === undefined ? {} : { tags: s.tags }),
    ...(s.contentType === undefined ? {} : { contentType: s.contentType }),
  };
}

/** DeletedSecretBundle (delete, get deleted): no value. */
export function deletedSecretBundle(origin: string, s: DeletedSecretView) {
  return {
    recoveryId: `${origin}/deletedsecrets/${s.name}`,
    deletedDate: s.deletedDate,
    scheduledPurgeDate: s.scheduledPurgeDate,
    ...secretProperties(origin, s),
  };
}

/** DeletedSecretItem (list deleted). */
export function deletedSecretItem(origin: string, s: DeletedSecretView) {
  return {
    recoveryId: `${origin}/deletedsecrets/${s.name}`,
    deletedDate: s.deletedDate,
    scheduledPurgeDate: s.scheduledPurgeDate,
    ...secretItem(origin, s, false),
  };
}
