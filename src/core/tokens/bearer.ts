import { createPublicKey } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { EmulatorState } from '../state.js';

// Seam (team/seams.md §2): the arm branch owns this file; this copy has the same signature so the
// Key Vault surface builds before the merge. The lead keeps arm's.

export type BearerFailure =
  | 'missing'
  | 'malformed'
  | 'invalid-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'wrong-issuer';

export interface VerifiedBearer {
  /** `oid`. */
  readonly principalId: string;
  /** `tid`. */
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

const trimSlash = (s: string) => s.replace(/\/$/, '');

/**
 * Verifies an `Authorization: Bearer <jwt>` header against azimds's own token issuer: the signature by a
 * key of the key store (the signing key or a retired one still published), `exp`/`nbf` on the emulator
 * clock, `aud` among `audiences` (one trailing slash ignored on either side), `iss` the local issuer's v1
 * or v2 issuer for the token's `tid`. Never throws.
 */
export async function verifyBearer(
  state: EmulatorState,
  authorization: string | undefined,
  audiences: readonly string[],
): Promise<BearerResult> {
  if (authorization === undefined || authorization.trim() === '') {
    return { ok: false, failure: 'missing', detail: 'no Authorization header' };
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match)
    return { ok: false, failure: 'missing', detail: 'the Authorization header is not a Bearer token' };
  const token = match[1] as string;
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return { ok: false, failure: 'malformed', detail: 'the bearer token is not a JWT' };
  }
  const key = state.tokens.keys.publicKeys().find((k) => k.kid === kid);
  if (!key) return { ok: false, failure: 'invalid-signature', detail: 'the token was not signed by azimds' };
  let payload: Record<string, unknown>;
  try {
    const verified = await jwtVerify(token, createPublicKey(key.privateKey), {
      algorithms: ['RS256'],
      currentDate: new Date(state.clock.now()),
    });
    payload = verified.payload as Record<string, unknown>;
  } catch (error) {
    if (error instanceof errors.JWTExpired)
      return { ok: false, failure: 'expired', detail: 'the token has expired' };
    if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') {
      return { ok: false, failure: 'not-yet-valid', detail: 'the token is not valid yet' };
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return { ok: false, failure: 'invalid-signature', detail: 'the token signature is invalid' };
    }
    return { ok: false, failure: 'malformed', detail: 'the token cannot be read' };
  }
  const aud = typeof payload.aud === 'string' ? payload.aud : undefined;
  if (aud === undefined || !audiences.some((a) => trimSlash(a) === trimSlash(aud))) {
    return {
      ok: false,
      failure: 'wrong-audience',
      detail: `audience ${aud ?? '(none)'} is not accepted here`,
    };
  }
  const tid = typeof payload.tid === 'string' ? payload.tid : '';
  const { v1, v2 } = state.tokens.issuers(tid);
  if (tid === '' || (payload.iss !== v1 && payload.iss !== v2)) {
    return { ok: false, failure: 'wrong-issuer', detail: `issuer ${String(payload.iss)} is not accepted` };
  }
  const oid =
    typeof payload.oid === 'string' ? payload.oid : typeof payload.sub === 'string' ? payload.sub : '';
  const appId =
    typeof payload.appid === 'string'
      ? payload.appid
      : typeof payload.azp === 'string'
        ? payload.azp
        : undefined;
  return {
    ok: true,
    bearer: {
      principalId: oid,
      tenantId: tid,
      ...(appId === undefined ? {} : { appId }),
      audience: aud,
      claims: payload,
    },
  };
}
