import type { EmulatorState } from '../../core/state.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { JSON_CONTENT_TYPE, type PreparedResponse, prepareResponse } from '../../server/reply.js';
import { nowSeconds } from './token-request.js';

/**
 * The 200 response of a token route, prepared once per token and second: a cached token's body changes
 * once a second (`expires_in` counts down), so a client repeating its request (nearly every request a
 * token route sees) gets the bytes and header object built for the one before it. `render` builds the
 * body of `token` at `second` (seconds since the epoch on the emulator's clock); `headers` are the
 * surface's own (IMDS's `Server`). Returns `(token) => PreparedResponse`.
 * @example `const respond = preparedTokenResponse(state, imdsTokenBody, IMDS_HEADERS); exchange.send(respond(token));`
 */
export function preparedTokenResponse(
  state: EmulatorState,
  render: (token: AccessToken, second: number) => Buffer,
  headers?: Readonly<Record<string, string>>,
): (token: AccessToken) => PreparedResponse {
  let lastToken: AccessToken | undefined;
  let lastSecond = -1;
  let last: PreparedResponse | undefined;
  return (token) => {
    const second = nowSeconds(state);
    if (last === undefined || token !== lastToken || second !== lastSecond) {
      last = prepareResponse(200, JSON_CONTENT_TYPE, render(token, second), headers);
      lastToken = token;
      lastSecond = second;
    }
    return last;
  };
}
