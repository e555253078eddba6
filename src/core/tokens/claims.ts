import { randomBytes } from 'node:crypto';
import type { ManagedIdentity } from '../identities/identity.js';
import { isFirstPartyResource } from './first-party.js';

/**
 * Entra back-dates `iat` and `nbf` of the tokens it issues by five minutes to tolerate clock skew; real
 * IMDS responses show it (`expires_on - not_before` = lifetime + 300).
 */
export const BACKDATE_SECONDS = 300;

export interface ClaimsInput {
  identity: ManagedIdentity;
  /** The resource as requested; becomes `aud` verbatim. */
  resource: string;
  /** `iss` (and `idp`), e.g. `https://sts.windows.net/<tenant>/`. */
  issuer: string;
  /** Issue time, epoch seconds. */
  now: number;
  lifetimeSeconds: number;
}

/**
 * The claims of a managed-identity access token as Entra issues them (v1.0 access token of an app):
 *
 * - `aud`: the resource exactly as requested. Entra's v1 endpoint echoes the requested form: a request
 *   for `https://management.azure.com/` yields that `aud`, one for `https://vault.azure.net` yields no
 *   trailing slash, and `https://vault.azure.net/` yields a token Key Vault rejects for its slash. An
 *   application id (GUID) as resource yields the GUID.
 * - `iss`/`idp`, `tid`: the tenant; `appid` and `azp`: the client id (`azp` is the v2 name; both are
 *   present so v1 and v2 validators find it); `appidacr` `2` (certificate credential, as MI uses);
 * - `oid` = `sub` = the principal id;
 * - for a Microsoft first-party resource only (first-party.ts): `idtyp` `app` (an optional claim a
 *   customer's app must request) and `xms_mirid`, the resource id of the VM or the user-assigned
 *   identity — Entra does not add them for an `api://...` or app-id audience;
 * - `iat` = `nbf` = now − 5 min, `exp` = now + lifetime; `uti` a unique token id; `aio`, `rh` opaque.
 */
export function accessTokenClaims(input: ClaimsInput): Record<string, unknown> {
  const { identity, resource, issuer, now, lifetimeSeconds } = input;
  const firstParty = isFirstPartyResource(resource);
  return {
    ...leadingClaims(resource, issuer, now, lifetimeSeconds),
    appid: identity.clientId,
    appidacr: '2',
    azp: identity.clientId,
    idp: issuer,
    ...(firstParty ? { idtyp: 'app' } : {}),
    oid: identity.principalId,
    rh: `0.A${opaque(57)}.`,
    sub: identity.principalId,
    tid: identity.tenantId,
    uti: opaque(16),
    ver: '1.0',
    ...(firstParty ? { xms_mirid: identity.resourceId } : {}),
  };
}

/**
 * The claims every Entra access token starts with, in Entra's order: `aud` (the resource as requested),
 * `iss`, `iat` = `nbf` = `now` − 5 min, `exp` = `now` + lifetime (epoch seconds), `aio` (opaque).
 * Shared by managed-identity tokens (above) and app-only tokens (core/directory/claims.ts).
 */
export function leadingClaims(resource: string, issuer: string, now: number, lifetimeSeconds: number) {
  const issuedAt = now - BACKDATE_SECONDS;
  return {
    aud: resource,
    iss: issuer,
    iat: issuedAt,
    nbf: issuedAt,
    exp: now + lifetimeSeconds,
    aio: opaque(42),
  };
}

/** base64url of `bytes` random bytes: Entra's opaque claims look like this. */
export function opaque(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Whether Entra could issue a token for `resource`: an absolute URI (App ID URI) or an application id
 * (GUID), without whitespace and not a v2 scope (`…/.default`, which SDKs strip before calling).
 * Anything else is what Entra reports as AADSTS500011 (resource principal not found).
 */
export function isIssuableResource(resource: string): boolean {
  if (/\s/.test(resource) || resource.endsWith('/.default')) return false;
  return (
    /^[A-Za-z][A-Za-z0-9+.-]*:[^:]/.test(resource) ||
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(resource)
  );
}
