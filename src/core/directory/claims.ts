import { leadingClaims, opaque } from '../tokens/claims.js';
import type { ServicePrincipal } from './service-principal.js';

/** How the client authenticated: `1` a client secret, `2` a certificate or a federated assertion. */
export type ClientAuthentication = '1' | '2';

export interface AppTokenInput {
  principal: ServicePrincipal;
  /** The resource as requested (v1 `resource`, or the v2 scope without `/.default`); becomes `aud`. */
  resource: string;
  /** `1.0` for resources that take v1 tokens (Azure's own), `2.0` for apps with accessTokenAcceptedVersion 2. */
  version: '1.0' | '2.0';
  /** `iss` for that version (v1 `https://sts.windows.net/<tid>/`, v2 `https://login.microsoftonline.com/<tid>/v2.0`). */
  issuer: string;
  authentication: ClientAuthentication;
  /** Epoch seconds. */
  now: number;
  lifetimeSeconds: number;
}

/**
 * Claims of an app-only access token Entra issues to a service principal (client credentials):
 * v1.0 `aud, iss, iat, nbf, exp, aio, appid, appidacr, idp, idtyp, oid, rh, sub, tid, uti, ver`;
 * v2.0 the same with `azp`/`azpacr` instead of `appid`/`appidacr` and no `idp`. `oid` = `sub` = the
 * service principal's object id; `idtyp` `app`; no `roles` (no app roles are granted). Claim lists
 * from Microsoft's "Access token claims reference" (learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
 */
export function appTokenClaims(input: AppTokenInput): Record<string, unknown> {
  const { principal, resource, version, issuer, authentication, now, lifetimeSeconds } = input;
  const common = leadingClaims(resource, issuer, now, lifetimeSeconds);
  const tail = {
    idtyp: 'app',
    oid: principal.principalId,
    rh: `0.A${opaque(57)}.`,
    sub: principal.principalId,
    tid: principal.tenantId,
    uti: opaque(16),
    ver: version,
  };
  return version === '1.0'
    ? { ...common, appid: principal.clientId, appidacr: authentication, idp: issuer, ...tail }
    : { ...common, azp: principal.clientId, azpacr: authentication, ...tail };
}
