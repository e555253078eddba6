import { type JWTPayload, SignJWT } from 'jose';
import type { SigningKey } from './keys.js';

/**
 * Signs `payload` as a compact RS256 JWT (jose) with Entra's header shape
 * (`{"typ":"JWT","alg":"RS256","x5t":kid,"kid":kid}`).
 */
export function signJwt(key: SigningKey, payload: Readonly<Record<string, unknown>>): Promise<string> {
  return new SignJWT(payload as JWTPayload)
    .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: key.kid, kid: key.kid })
    .sign(key.privateKey);
}
