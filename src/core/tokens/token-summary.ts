import { createHash, verify } from 'node:crypto';
import type { SigningKey } from './keys.js';

/**
 * What the request log keeps of a JWT: its decoded header and claims and whether its signature
 * verifies against azimds's JWKS, never the token itself (so no log reader can replay it).
 */
export interface TokenSummary {
  /** The JOSE header (`alg`, `kid`, `typ`, `x5t`). */
  readonly header: Readonly<Record<string, unknown>>;
  /** The claims (`aud`, `iss`, `oid`, `exp` in epoch seconds, ...). */
  readonly claims: Readonly<Record<string, unknown>>;
  /**
   * `true`: RS256 over `header.payload` verifies with a key azimds publishes in its JWKS (the signing
   * key or a retired one still published); `false`: it does not (another issuer's token, a tampered
   * one, or one signed by a key azimds no longer publishes).
   */
  readonly verified: boolean;
}

// Tokens repeat (the token cache hands out the same one until it nears expiry): remember the outcome
// per token (by its SHA-256, not the token), so a burst of token requests verifies once. Bounded,
// oldest forgotten first.
const outcomes = new Map<string, boolean>();
const REMEMBERED = 256;

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Decodes a compact JWS (`a.b.c`) and checks its signature against `keys` (the key store's
 * `publicKeys()`). Returns `undefined` when `token` is not a JWT with JSON header and claims.
 * Costs one RSA verification per distinct token (about 50 µs), none for a repeat.
 */
export function summarizeToken(token: string, keys: readonly SigningKey[]): TokenSummary | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [h = '', p = '', s = ''] = parts;
  const header = decodeSegment(h);
  const claims = decodeSegment(p);
  if (!header || !claims) return undefined;
  const digest = createHash('sha256').update(token).digest('base64');
  let verified = outcomes.get(digest);
  if (verified === undefined) {
    const key = keys.find((k) => k.kid === header.kid);
    verified =
      header.alg === 'RS256' &&
      key !== undefined &&
      verify('sha256', Buffer.from(`${h}.${p}`), key.privateKey, Buffer.from(s, 'base64url'));
    if (outcomes.size >= REMEMBERED) outcomes.delete(outcomes.keys().next().value as string);
    outcomes.set(digest, verified);
  }
  return { header, claims, verified };
}
