import type { AssertionContext } from '../../core/directory/assertions.js';
import { JWT_BEARER, verifyClientAssertion } from '../../core/directory/assertions.js';
import { appTokenClaims, type ClientAuthentication } from '../../core/directory/claims.js';
import type { EmulatorState } from '../../core/state.js';
import { isIssuableResource } from '../../core/tokens/claims.js';
import { signJwt } from '../../core/tokens/jwt.js';
import { type EntraFailure, entraErrors } from '../../errors.js';

/** The token endpoint's version: v1 (`/oauth2/token`, `resource=`) or v2.0 (`/oauth2/v2.0/token`, `scope=`). */
export type EndpointVersion = 'v1' | 'v2';

/** A token request as it arrived: the tenant segment, the form fields, the Authorization header. */
export interface EntraTokenRequest {
  version: EndpointVersion;
  tenant: string;
  form: URLSearchParams;
  authorization: string | undefined;
  /** Whether an assertion `aud` names this token endpoint (hosts the protocol layer serves). */
  isTokenEndpoint(audience: string): boolean;
}

export type EntraTokenResult =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly failure: EntraFailure };

/** OpenID scopes MSAL may add to any request; not resources. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

/**
 * Entra's client-credentials grant (RFC 6749 §4.4) for the emulated tenant, in Entra's order of checks:
 * tenant (AADSTS90002), `grant_type` (900144, 70003), `client_id` (900144), the resource (`scope`
 * with `/.default` on v2: 900144, 1002012; `resource` on v1: 900144), the application (700016), its
 * credential (a secret in the form or HTTP Basic: 7000215/7000222; a certificate or federated
 * `client_assertion`: 7000218, 700027, 700024, 70021, 70021x), then the resource's existence (500011).
 *
 * Success: v2 `{token_type, expires_in, ext_expires_in, access_token}` (numbers); v1 adds `expires_on`,
 * `not_before`, `resource`, all as strings (Entra's v1 endpoint serialises them as strings).
 */
export async function clientCredentialsToken(
  state: EmulatorState,
  request: EntraTokenRequest,
): Promise<EntraTokenResult> {
  const { directory } = state;
  const tenantId = directory.resolveTenant(request.tenant);
  if (!tenantId) return fail(entraErrors.tenantNotFound(request.tenant));
  const { form } = request;
  const basic = basicCredentials(request.authorization);
  const grant = form.get('grant_type');
  if (!grant) return fail(entraErrors.missingParameter('grant_type'));
  if (grant !== 'client_credentials') return fail(entraErrors.unsupportedGrantType(grant));
  const clientId = form.get('client_id') ?? basic?.clientId;
  if (!clientId) return fail(entraErrors.missingParameter('client_id'));
  const resource = requestedResource(request);
  if (!resource.ok) return resource;
  const principal = directory.byClientId(clientId);
  if (!principal) return fail(entraErrors.unknownApplication(clientId, tenantId));

  let authentication: ClientAuthentication;
  const secret = form.get('client_secret') ?? basic?.secret;
  const assertion = form.get('client_assertion');
  if (secret !== null && secret !== undefined) {
    const check = directory.checkSecret(principal, secret);
    if (check === 'expired') return fail(entraErrors.expiredSecret(principal.clientId));
    if (check !== 'ok') return fail(entraErrors.invalidSecret(principal.clientId));
    authentication = '1';
  } else if (assertion) {
    const type = form.get('client_assertion_type');
    if (!type) return fail(entraErrors.missingParameter('client_assertion_type'));
    if (type !== JWT_BEARER) return fail(entraErrors.assertionType(type));
    const context: AssertionContext = {
      now: state.clock.now(),
      isTokenEndpoint: request.isTokenEndpoint,
      workloadIssuer: { url: directory.workloadIssuer.url, keys: () => directory.ownKeys() },
      issuerKeys: (issuer) => directory.issuerKeys(issuer),
    };
    const verified = await verifyClientAssertion(assertion, principal, context);
    if (!verified.ok) return verified;
    authentication = '2';
  } else {
    return fail(entraErrors.credentialMissing);
  }
  if (!isIssuableResource(resource.value))
    return fail(entraErrors.resourceNotFound(resource.value, tenantId));

  await state.tokens.keys.ready();
  const now = Math.floor(state.clock.now() / 1000);
  const lifetimeSeconds = directory.tokenLifetimeSeconds;
  const version = directory.wantsV2(resource.value) ? '2.0' : '1.0';
  const issuers = state.tokens.issuers(tenantId);
  const claims = appTokenClaims({
    principal,
    resource: resource.value,
    version,
    issuer: version === '1.0' ? issuers.v1 : issuers.v2,
    authentication,
    now,
    lifetimeSeconds,
  });
  const accessToken = await signJwt(state.tokens.keys.signingKey(), claims);
  const body: Record<string, unknown> =
    request.version === 'v2'
      ? {
          token_type: 'Bearer',
          expires_in: lifetimeSeconds,
          ext_expires_in: lifetimeSeconds,
          access_token: accessToken,
        }
      : {
          token_type: 'Bearer',
          expires_in: String(lifetimeSeconds),
          ext_expires_in: String(lifetimeSeconds),
          expires_on: String(claims.exp),
          not_before: String(claims.nbf),
          resource: resource.value,
          access_token: accessToken,
        };
  return { ok: true, body };
}

/** The resource of the request: v1 `resource`; v2 the one `…/.default` scope, without the suffix. */
function requestedResource(
  request: EntraTokenRequest,
): { ok: true; value: string } | { ok: false; failure: EntraFailure } {
  if (request.version === 'v1') {
    const resource = request.form.get('resource');
    return resource ? { ok: true, value: resource } : fail(entraErrors.missingParameter('resource'));
  }
  const scope = request.form.get('scope');
  if (!scope) return fail(entraErrors.missingParameter('scope'));
  const scopes = scope.split(/\s+/).filter((s) => s !== '' && !OIDC_SCOPES.has(s.toLowerCase()));
  const resourceScope = scopes.find((s) => s.endsWith('/.default'));
  if (!resourceScope || scopes.length !== 1) return fail(entraErrors.invalidScope(scopes.join(' ') || scope));
  return { ok: true, value: resourceScope.slice(0, -'/.default'.length) };
}

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
 */
function basicCredentials(
  authorization: string | undefined,
): { clientId: string; secret: string } | undefined {
  const m = authorization ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' ')),
      secret: decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' ')),
    };
  } catch {
    return undefined;
  }
}

function fail(failure: EntraFailure): { ok: false; failure: EntraFailure } {
  return { ok: false, failure };
}
