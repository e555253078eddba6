import type { ManagedIdentity } from '../../identities/identity.js';
import type { AccessToken } from '../provider.js';

/**
 * The claims of a JWT without verifying it (azimds only reads the times and client id of tokens it was
 * handed by Entra or the az CLI). `undefined` for anything that is not a JWS with a JSON payload —
 * access tokens are opaque to clients, and some (encrypted ones) are not readable.
 */
export function unverifiedClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export interface UpstreamTokenInput {
  accessToken: string;
  /** The resource as the client asked for it (echoed back). */
  resource: string;
  identity: ManagedIdentity;
  /** Now on the emulator's clock, epoch seconds. */
  nowSeconds: number;
  /** Expiry the source reported (epoch seconds), used when the token carries no `exp`. */
  expiresOn?: number;
  /** Lifetime to assume when neither the token nor the source says when it expires. */
  fallbackLifetimeSeconds: number;
}

/**
 * Wraps a token from a real source as an `AccessToken`: `exp` and `nbf` from the token itself when it is
 * a readable JWT (the truth), else what the source reported; the lifetime as the time left now (what
 * Entra reports as `expires_in`); the client id from `appid`/`azp` (the application the token was really
 * issued to), else the identity's.
 */
export function upstreamAccessToken(input: UpstreamTokenInput): AccessToken {
  const { accessToken, resource, identity, nowSeconds } = input;
  const claims = unverifiedClaims(accessToken);
  const expiresOn = numeric(claims?.exp) ?? input.expiresOn ?? nowSeconds + input.fallbackLifetimeSeconds;
  const notBefore = numeric(claims?.nbf) ?? numeric(claims?.iat) ?? Math.min(nowSeconds, expiresOn);
  const appId = claims?.appid ?? claims?.azp;
  return {
    accessToken,
    resource,
    clientId: typeof appId === 'string' && appId !== '' ? appId : identity.clientId,
    tokenType: 'Bearer',
    notBefore,
    expiresOn,
    lifetimeSeconds: Math.max(1, expiresOn - nowSeconds),
  };
}

function numeric(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? Math.floor(value) : undefined;
}
