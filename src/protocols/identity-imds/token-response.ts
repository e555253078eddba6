import type { AccessToken, TokenFailure } from '../../core/tokens/provider.js';
import { invalidResource, tokenSourceFailed, type WireError } from '../../errors.js';

// Per token: the body around `expires_in`, the only field that changes between requests for a cached
// token. (The finished body and its response are kept per token and second by the route:
// protocols/shared/prepared-token.ts.)
const templates = new WeakMap<AccessToken, readonly [string, string]>();

/**
 * The IMDS token response body (protocols.md §6.3): every value a string, `expires_in` the seconds
 * left at `nowSeconds`, `ext_expires_in` the lifetime as issued, `refresh_token` empty, keys in Azure's
 * (alphabetical) order. Also the body Arc's HIMDS and Cloud Shell send.
 */
export function imdsTokenBody(token: AccessToken, nowSeconds: number): Buffer {
  let parts = templates.get(token);
  if (parts === undefined) {
    parts = [
      `{"access_token":${JSON.stringify(token.accessToken)},"client_id":${JSON.stringify(token.clientId)},"expires_in":"`,
      `","expires_on":"${token.expiresOn}","ext_expires_in":"${token.lifetimeSeconds}","not_before":"${token.notBefore}","refresh_token":"","resource":${JSON.stringify(token.resource)},"token_type":${JSON.stringify(token.tokenType)}}`,
    ];
    templates.set(token, parts);
  }
  return Buffer.from(`${parts[0]}${Math.max(0, token.expiresOn - nowSeconds)}${parts[1]}`);
}

/** The IMDS error for a token source's failure. */
export function tokenFailureError(failure: TokenFailure): WireError {
  return failure.code === 'invalid-resource'
    ? invalidResource(failure.description)
    : tokenSourceFailed(failure.description);
}
