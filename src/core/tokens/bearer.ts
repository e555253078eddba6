import { createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { EmulatorState } from '../state.js';
import type { SigningKey } from './keys.js';

/** Why a bearer token was refused. */
export type BearerFailure =
  | 'missing'
  | 'malformed'
  | 'invalid-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'wrong-issuer';

/** What a verified token says about its caller. */
export interface VerifiedBearer {
  /** `oid`, lower-case. */
  readonly principalId: string;
  /** `tid`, lower-case. */
  readonly tenantId: string;
  /** `appid` (v1) or `azp` (v2). */
  readonly appId?: string;
  /** `aud` as in the token. */
  readonly audience: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

export type BearerResult =
  | { readonly ok: true; readonly bearer: VerifiedBearer }
  | { readonly ok: false; readonly failure: BearerFailure; readonly detail: string };

/**
 * Clock skew tolerated on `exp` and `nbf`, in seconds: five minutes, the default of Microsoft's token
 * validation (Microsoft.IdentityModel `TokenValidationParameters.DefaultClockSkew`), which ARM and
 * Key Vault use.
 */
export const CLOCK_SKEW_SECONDS = 300;

const publicKeys = new WeakMap<SigningKey, KeyObject>();
function publicKeyOf(key: SigningKey): KeyObject {
  let k = publicKeys.get(key);
  if (!k) {
    k = createPublicKey(key.privateKey);
    publicKeys.set(key, k);
  }
  return k;
}

/** `value` without one trailing slash, lower-case (audiences compare so). */
function audienceKey(value: string): string {
  return (value.endsWith('/') ? value.slice(0, -1) : value).toLowerCase();
}

/**
 * Verifies an `Authorization: Bearer <jwt>` header against azimds's own token issuing, in this order:
 * the header's shape (`missing`, `malformed`); the RS256 signature by a key of the key store, the
 * signing key or a retired one still published (`invalid-signature`); `exp` and `nbf` on the emulator
 * clock with five minutes' skew (`expired`, `not-yet-valid`); `aud` among `audiences`, each compared
 * ignoring one trailing slash and case (`wrong-audience`); `iss` one of the local issuer's v1 or v2
 * issuers for the token's tenant, and that tenant the world's (`wrong-issuer`). `detail` is a sentence
 * for logs and error messages (never the token). A signature verified once is remembered for that exact
 * token (the last 256 per key store) while its key stays published: clients send the same token until it
 * nears expiry, and an RSA verification through WebCrypto costs more than the rest of a request.
 */
export async function verifyBearer(
  state: EmulatorState,
  authorization: string | undefined,
  audiences: readonly string[],
): Promise<BearerResult> {
  if (authorization === undefined || authorization.trim() === '') {
    return { ok: false, failure: 'missing', detail: "the 'Authorization' header is missing" };
  }
  const token = bearerToken(authorization);
  if (token === undefined) {
    return { ok: false, failure: 'malformed', detail: "the 'Authorization' header is not 'Bearer <JWT>'" };
  }
  const verified = verifiedSignatures(state.tokens.keys);
  const seen = verified.get(token);
  // A token seen before (an SDK sends the same one until it nears expiry) skips the signature while the
  // key that verified it is still published; the time, audience and issuer checks below run every time.
  if (seen !== undefined && state.tokens.keys.publicKeys().includes(seen.key)) {
    return checkClaims(state, seen.claims, audiences);
  }
  const signed = await verifiedClaims(state, token, verified);
  return signed.ok ? checkClaims(state, signed.claims, audiences) : signed;
}

/**
 * The JWT of `Bearer <header>.<payload>.<signature>` (scheme in any case, blanks around), or undefined.
 * Written without a regular expression over the whole value: the token is 1-2 KB and this runs on
 * every ARM and Key Vault request.
 */
function bearerToken(authorization: string): string | undefined {
  const value = authorization.trim();
  if (value.length < 8 || value.slice(0, 6).toLowerCase() !== 'bearer' || !/\s/.test(value.charAt(6))) {
    return undefined;
  }
  const token = value.slice(7).trimStart();
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0 || /\s/.test(token)) return undefined;
  return token;
}

/** Signatures verified so far, per key store: token → the key that verified it and the token's claims. */
const verifiedByStore = new WeakMap<
  object,
  Map<string, { key: SigningKey; claims: Readonly<Record<string, unknown>> }>
>();

/** Tokens `verifiedByStore` keeps per store, oldest dropped first (about 3 KB each). */
const MAX_VERIFIED = 256;

function verifiedSignatures(store: object) {
  let map = verifiedByStore.get(store);
  if (map === undefined) {
    map = new Map();
    verifiedByStore.set(store, map);
  }
  return map;
}

/**
 * Verifies `token`'s signature by a published key and returns its claims (frozen), remembered in
 * `verified`; or the refusal.
 */
async function verifiedClaims(
  state: EmulatorState,
  token: string,
  verified: Map<string, { key: SigningKey; claims: Readonly<Record<string, unknown>> }>,
): Promise<{ ok: true; claims: Readonly<Record<string, unknown>> } | Extract<BearerResult, { ok: false }>> {
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== 'RS256')
      return { ok: false, failure: 'invalid-signature', detail: `unsupported alg ${String(header.alg)}` };
    kid =
      typeof header.kid === 'string' ? header.kid : typeof header.x5t === 'string' ? header.x5t : undefined;
  } catch {
    return { ok: false, failure: 'malformed', detail: 'the token is not a JWT' };
  }
  await state.tokens.keys.ready();
  const keys = state.tokens.keys.publicKeys();
  const candidates = kid ? keys.filter((k) => k.kid === kid) : keys;
  let payload: Uint8Array | undefined;
  let verifiedBy: SigningKey | undefined;
  for (const key of candidates) {
    try {
      payload = (await compactVerify(token, publicKeyOf(key), { algorithms: ['RS256'] })).payload;
      verifiedBy = key;
      break;
    } catch {
      // try the next published key
    }
  }
  if (!payload) {
    return {
      ok: false,
      failure: 'invalid-signature',
      detail: 'the token is not signed by a key this emulator publishes',
    };
  }
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    return { ok: false, failure: 'malformed', detail: 'the token payload is not JSON' };
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
    return { ok: false, failure: 'malformed', detail: 'the token payload is not a JSON object' };
  }
  Object.freeze(claims);
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value as string);
  verified.set(token, { key: verifiedBy as SigningKey, claims });
  return { ok: true, claims };
}

/** The checks of a verified token's claims, on every request: `exp`/`nbf`, `aud`, `iss`/`tid`, `oid`. */
function checkClaims(
  state: EmulatorState,
  claims: Readonly<Record<string, unknown>>,
  audiences: readonly string[],
): BearerResult {
  const now = Math.floor(state.clock.now() / 1000);
  const exp = claims.exp;
  const nbf = claims.nbf;
  if (typeof exp !== 'number' || now >= exp + CLOCK_SKEW_SECONDS) {
    return {
      ok: false,
      failure: 'expired',
      detail: typeof exp === 'number' ? `expired at ${exp}` : 'no exp claim',
    };
  }
  if (typeof nbf === 'number' && now + CLOCK_SKEW_SECONDS < nbf) {
    return { ok: false, failure: 'not-yet-valid', detail: `not valid before ${nbf}` };
  }
  const aud = typeof claims.aud === 'string' ? claims.aud : '';
  const audKey = audienceKey(aud);
  if (!audiences.some((a) => audienceKey(a) === audKey)) {
    return {
      ok: false,
      failure: 'wrong-audience',
      detail: `audience '${aud}' is not one of ${audiences.join(', ')}`,
    };
  }
  const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '';
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  const issuers = state.tokens.issuers(tid);
  if (tid !== state.identities.tenantId.toLowerCase() || (iss !== issuers.v1 && iss !== issuers.v2)) {
    return {
      ok: false,
      failure: 'wrong-issuer',
      detail: `issuer '${iss}' is not this emulator's for its tenant`,
    };
  }
  const oid = typeof claims.oid === 'string' ? claims.oid.toLowerCase() : '';
  if (oid === '') return { ok: false, failure: 'malformed', detail: 'the token has no oid claim' };
  const appId =
    typeof claims.appid === 'string' ? claims.appid : typeof claims.azp === 'string' ? claims.azp : undefined;
  return {
    ok: true,
    bearer: { principalId: oid, tenantId: tid, ...(appId ? { appId } : {}), audience: aud, claims },
  };
}
