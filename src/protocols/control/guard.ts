import type { FastifyReply, FastifyRequest } from 'fastify';
import { controlError } from '../../errors.js';
import { sendWireError } from '../../server/reply.js';
import { isLoopback } from './address.js';

/**
 * The header a client of the control API sends on every change that has no JSON body (`POST /reset`,
 * `DELETE /faults`, ...). A web page on another site cannot send it (nor a JSON body) without a CORS
 * preflight, which the control API never answers, so a change carrying either comes from a program
 * or from the dashboard itself. The CLI (src/cli/control-client.ts) and the dashboard send it always.
 */
export const CONTROL_HEADER = 'x-azimds-control';

/** Media types that count as a JSON body (a cross-site HTML form can send none of them). */
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Methods that read; every other method changes the emulator. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `host[:port]` of a Host header or an origin's authority, lower-cased; `undefined` when unparseable. */
function splitAuthority(authority: string): { name: string; port: string } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(authority.trim());
  if (!match?.[1]) return undefined;
  return { name: match[1].toLowerCase().replace(/^\[|\]$/g, ''), port: match[2] ?? '' };
}

/** True when the listener bound to `bound` serves `name`: its own address, or loopback names for a loopback or any-address bind. */
function servesName(name: string, bound: string, localAddress: string | undefined): boolean {
  const host = bound.toLowerCase().replace(/^\[|\]$/g, '');
  if (name === host) return true;
  const wildcard = host === '0.0.0.0' || host === '::';
  if ((isLoopback(host) || wildcard) && isLoopback(name)) return true;
  // Bound to every address: the address the client reached is the listener's own too.
  const local = localAddress?.replace(/^::ffff:/, '').toLowerCase();
  return wildcard && local !== undefined && name === local;
}

/**
 * The control listener's `onRequest` guard (docs/dashboard.md#safety), against two attacks from web
 * pages the user visits:
 * - DNS rebinding: a page whose host name resolves to 127.0.0.1 reads or changes the emulator. Every
 *   request must name the listener itself in `Host` (its bind address, or a loopback name when bound
 *   to loopback, on the listener's port); any other gets 403 `ForeignHost`.
 * - Cross-site changes (CSRF): every request that is not GET/HEAD/OPTIONS is refused with 403
 *   `CrossSiteRequest` when `Origin` is another origin or `Sec-Fetch-Site` says `cross-site` or
 *   `same-site`, and with 403 `ControlHeaderRequired` unless it carries a JSON content type or the
 *   `X-Azimds-Control` header. No CORS headers are ever sent.
 *
 * @param bound the listener's bind address (`control.host`).
 */
export function controlGuard(bound: string, allowedHosts: readonly string[] = []) {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const headers = request.headers;
    const host = splitAuthority(headers.host ?? '');
    const socket = request.raw.socket as { localPort?: number; localAddress?: string } | undefined;
    // inject() has no socket port: the name is still checked.
    const ownPort = socket?.localPort === undefined ? undefined : String(socket.localPort);
    const hostOk =
      host !== undefined &&
      (allowed.has(host.name) || servesName(host.name, bound, socket?.localAddress)) &&
      (ownPort === undefined || host.port === ownPort);
    if (!hostOk) {
      await sendWireError(
        reply,
        controlError(
          403,
          'ForeignHost',
          `the control API answers only requests addressed to itself (Host "${headers.host ?? ''}" is not this listener; see docs/dashboard.md#safety)`,
        ),
      );
      return reply;
    }
    if (SAFE_METHODS.has(request.method)) return;
    const origin = headers.origin;
    const site = headers['sec-fetch-site'];
    const crossOrigin = origin !== undefined && origin !== 'null' && !sameOrigin(origin, headers.host ?? '');
    if (crossOrigin || origin === 'null' || site === 'cross-site' || site === 'same-site') {
      await sendWireError(
        reply,
        controlError(403, 'CrossSiteRequest', 'the control API refuses changes sent by another web site'),
      );
      return reply;
    }
    if (headers[CONTROL_HEADER] === undefined && !JSON_TYPE.test(headers['content-type'] ?? '')) {
      await sendWireError(
        reply,
        controlError(
          403,
          'ControlHeaderRequired',
          `a change to the emulator needs a JSON body (Content-Type: application/json) or the header ${CONTROL_HEADER}: 1`,
        ),
      );
      return reply;
    }
  };
}

/** True when `origin` (`http://host:port`) is the origin of a page served with `Host: host`. */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && url.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
