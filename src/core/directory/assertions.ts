import type { KeyObject } from 'node:crypto';
import {
  compactVerify,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import { type EntraFailure, entraErrors } from '../../errors.js';
import type { FederatedCredential, ServicePrincipal } from './service-principal.js';

/** The `client_assertion_type` of both certificate and federated assertions (RFC 7523). */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Signature algorithms Entra accepts on client assertions: RS256 (`x5t`) and PS256 (`x5t#S256`). */
const ASSERTION_ALGORITHMS = ['RS256', 'PS256'];

/** Entra tolerates this much clock skew on an assertion's `nbf`, in seconds. */
const NBF_SKEW_SECONDS = 300;

export type AssertionResult =
  | { readonly ok: true; readonly kind: 'certificate' | 'federated'; readonly credential: string }
  | { readonly ok: false; readonly failure: EntraFailure };

export interface AssertionContext {
  /** Epoch ms, from the emulator clock. */
  now: number;
  /** Whether `aud` names this tenant's token endpoint (the protocol layer knows the hosts it serves). */
  isTokenEndpoint(audience: string): boolean;
  /** The URL of azimds's own workload-identity issuer, and the public keys that sign its tokens. */
  workloadIssuer: { url: string; keys: () => Promise<readonly JWK[]> };
  /** The JWKS of a configured external issuer, or undefined. */
  issuerKeys(issuer: string): readonly JWK[] | undefined;
}

/**
 * Verifies a `client_assertion` for `principal`, as Entra does:
 *
 * - a **certificate assertion** (`iss` = `sub` = the client id): the header's `x5t#S256` (PS256, what
 *   msal-node sends) or `x5t` (RS256, msal-python and older libraries) names a registered certificate,
 *   whose public key must verify the signature; `aud` is the token endpoint; `exp`/`nbf` hold now.
 * - a **federated assertion** (any other `iss`): the issuer must be one the app's federated credentials
 *   trust, the signature must verify against that issuer's keys (azimds's workload issuer: the key store;
 *   others: `entra.federatedIssuers[].jwks`), the token must be current, and one credential must match
 *   issuer, subject (case-sensitive) and one audience.
 *
 * Failures carry Entra's AADSTS codes (errors.ts `entraErrors`).
 */
export async function verifyClientAssertion(
  assertion: string,
  principal: ServicePrincipal,
  context: AssertionContext,
): Promise<AssertionResult> {
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    return fail(entraErrors.malformedAssertion);
  }
  if (claims.iss !== undefined && claims.iss.toLowerCase() === principal.clientId) {
    return certificateAssertion(assertion, header, claims, principal, context);
  }
  return federatedAssertion(assertion, claims, principal, context);
}

async function certificateAssertion(
  assertion: string,
  header: ProtectedHeaderParameters,
  claims: JWTPayload,
  principal: ServicePrincipal,
  context: AssertionContext,
): Promise<AssertionResult> {
  const s256 = header['x5t#S256'];
  const sha1 = header.x5t;
  const certificate = principal.certificates.find(
    (c) => (typeof s256 === 'string' && c.x5tS256 === s256) || (typeof sha1 === 'string' && c.x5t === sha1),
  );
  if (!certificate) {
    const presented =
      typeof sha1 === 'string'
        ? Buffer.from(sha1, 'base64url').toString('hex').toUpperCase()
        : typeof s256 === 'string'
          ? Buffer.from(s256, 'base64url').toString('hex').toUpperCase()
          : '';
    return fail(entraErrors.certificateNotRegistered(presented, principal.clientId));
  }
  if (!(await signatureVerifies(assertion, certificate.publicKey))) return fail(entraErrors.badSignature);
  if (claims.sub !== undefined && claims.sub.toLowerCase() !== principal.clientId)
    return fail(entraErrors.assertionClientMismatch);
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
  if (!audiences.some((a) => context.isTokenEndpoint(a))) return fail(entraErrors.assertionAudience);
  const time = timeRange(claims, context.now);
  if (time) return fail(time);
  return { ok: true, kind: 'certificate', credential: certificate.thumbprint };
}

async function federatedAssertion(
  assertion: string,
  claims: JWTPayload,
  principal: ServicePrincipal,
  context: AssertionContext,
): Promise<AssertionResult> {
  const issuer = claims.iss ?? '';
  const subject = claims.sub ?? '';
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
  const own = context.workloadIssuer.url;
  const trusts = (f: FederatedCredential) => (f.issuer ?? own) === issuer;
  if (principal.federatedCredentials.length === 0) {
    return fail(entraErrors.noFederatedRecord(issuer, subject, audiences.join(',')));
  }
  const candidates = principal.federatedCredentials.filter(trusts);
  if (candidates.length === 0) return fail(entraErrors.federatedMismatch('issuer', issuer));
  const keys = issuer === own ? await context.workloadIssuer.keys() : context.issuerKeys(issuer);
  if (!keys || !(await signatureVerifies(assertion, keys))) return fail(entraErrors.badSignature);
  const time = timeRange(claims, context.now);
  if (time) return fail(time);
  const forAudience = candidates.filter((f) => f.audiences.some((a) => audiences.includes(a)));
  if (forAudience.length === 0) return fail(entraErrors.federatedMismatch('audience', audiences.join(',')));
  const match = forAudience.find((f) => f.subject === subject);
  if (!match) return fail(entraErrors.federatedMismatch('subject', subject));
  return { ok: true, kind: 'federated', credential: match.name };
}

/** Whether the JWS verifies with `key` (a certificate's public key) or one of `keys` (a JWKS). */
async function signatureVerifies(assertion: string, key: KeyObject | readonly JWK[]): Promise<boolean> {
  try {
    if (Array.isArray(key)) {
      await compactVerify(assertion, createLocalJWKSet({ keys: [...(key as JWK[])] }), {
        algorithms: ASSERTION_ALGORITHMS,
      });
    } else {
      await compactVerify(assertion, key as KeyObject, { algorithms: ASSERTION_ALGORITHMS });
    }
    return true;
  } catch {
    return false;
  }
}

/** AADSTS700024 when `exp` is absent or past, or `nbf` is in the future (beyond the skew). */
function timeRange(claims: JWTPayload, nowMs: number): EntraFailure | undefined {
  const now = nowMs / 1000;
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  const nbf = typeof claims.nbf === 'number' ? claims.nbf : 0;
  if (exp !== undefined && exp > now && nbf <= now + NBF_SKEW_SECONDS) return undefined;
  return entraErrors.assertionTimeRange(entraTime(now), entraTime(nbf), entraTime(exp ?? 0));
}

/** Entra's time format in AADSTS700024: `2024-10-02T22:05:03.6755165Z` (seven fractional digits). */
function entraTime(epochSeconds: number): string {
  const iso = new Date(epochSeconds * 1000).toISOString();
  return `${iso.slice(0, 23)}0000Z`;
}

function fail(failure: EntraFailure): AssertionResult {
  return { ok: false, failure };
}
