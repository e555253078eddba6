import { sign } from 'node:crypto';
import type { SigningKey } from './keys.js';

// Encoded header per key: it is the same for every token the key signs.
const headers = new WeakMap<SigningKey, string>();

/**
 * Signs `payload` as a compact RS256 JWT with Entra's header shape
 * (`{"typ":"JWT","alg":"RS256","x5t":kid,"kid":kid}`). Synchronous: one RSA signature, no I/O.
 */
export function signJwt(key: SigningKey, payload: Readonly<Record<string, unknown>>): string {
  let header = headers.get(key);
  if (header === undefined) {
    header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5t: key.kid, kid: key.kid })).toString(
      'base64url',
    );
    headers.set(key, header);
  }
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}
