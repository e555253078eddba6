import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { WireError } from '../errors.js';
import type { ListenerSpec } from './listener.js';

/**
 * Host names every Azure surface answers to whatever its bind address: loopback names, IMDS's
 * link-local address, and the Azure host names the proxy (docs/proxy: `src/server/proxy/host-table.ts`)
 * forwards to a surface unchanged (`Host: management.azure.com`, ...). Lower case, no port.
 */
export const ALWAYS_ALLOWED_HOSTS: readonly string[] = [
  'localhost',
  '127.0.0.1',
  '[::1]',
  '169.254.169.254',
  // Entra (login), ARM and their older names: the proxy's host table (seams.md §1).
  'login.microsoftonline.com',
  'login.windows.net',
  'sts.windows.net',
  'management.azure.com',
  'management.core.windows.net',
];

/** Suffixes of host names allowed as a family: every Key Vault (`<vault>.vault.azure.net`) and RFC 6761's `*.localhost`. */
const ALLOWED_SUFFIXES: readonly string[] = ['.vault.azure.net', '.localhost'];

/** Bind addresses that mean "every interface": any IP literal of this machine may then be in `Host`. */
const WILDCARD_BINDS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * Decides whether a `Host` header (or an `Origin`'s host) names this listener, against DNS rebinding:
 * a web page whose own name was re-pointed at 127.0.0.1 sends `Host: attacker.example`, never one of
 * these. Allowed: `ALWAYS_ALLOWED_HOSTS`, the listener's bind address, `extra` (config `allowedHosts`:
 * names such as a compose service name; `*.example.com` allows a family), `*.vault.azure.net`,
 * `*.localhost`, any `127.x.y.z`, and, when bound to every interface (`0.0.0.0`, `::`), any IP literal.
 * The port is not compared: a rebinding attack is in the name, and a proxy may forward with or without
 * one. The common case costs one `Set` lookup.
 * @param bindHost the listener's bind address as configured (`127.0.0.1`, `0.0.0.0`, `::1`, a name).
 * @returns `(host) => boolean` where `host` is the raw header value (`127.0.0.1:8169`, `[::1]:80`, ...).
 */
export function hostChecker(
  bindHost: string,
  extra: readonly string[] = [],
): (host: string | undefined) => boolean {
  const exact = new Set(ALWAYS_ALLOWED_HOSTS);
  const suffixes = [...ALLOWED_SUFFIXES];
  const bind = bindHost.toLowerCase();
  const anyIp = WILDCARD_BINDS.has(bind);
  if (!anyIp) exact.add(isIP(bind) === 6 ? `[${bind}]` : bind);
  for (const name of extra) {
    const lower = name.toLowerCase();
    if (lower.startsWith('*.')) suffixes.push(lower.slice(1));
    else exact.add(isIP(lower) === 6 ? `[${lower}]` : lower);
  }
  // Exact header values seen and accepted, so that the usual `Host: 127.0.0.1:8169` is one lookup.
  const accepted = new Set<string>();
  return (host) => {
    if (host === undefined) return false;
    if (accepted.has(host)) return true;
    const name = hostName(host);
    if (name === undefined) return false;
    const ok =
      exact.has(name) ||
      (anyIp && isIP(name.startsWith('[') ? name.slice(1, -1) : name) !== 0) ||
      (name.startsWith('127.') && isIP(name) === 4) ||
      suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
    // Bounded: a flood of distinct accepted values (ports, 127.x addresses) stops being memoised.
    if (ok && accepted.size < 256) accepted.add(host);
    return ok;
  };
}

/**
 * The host name of a `Host` value, lower case, without port or trailing dot; IPv6 keeps its brackets.
 * Undefined when the value is not `name[:port]` or `[v6][:port]`.
 */
export function hostName(host: string): string | undefined {
  let name: string;
  let rest: string;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return undefined;
    name = host.slice(0, end + 1);
    rest = host.slice(end + 1);
  } else {
    const colon = host.indexOf(':');
    name = colon < 0 ? host : host.slice(0, colon);
    rest = colon < 0 ? '' : host.slice(colon);
  }
  if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? undefined : name.toLowerCase();
}

/**
 * The host of an `Origin` header (`http://127.0.0.1:8169` -> `127.0.0.1:8169`), or undefined for
 * `null`, an opaque or unparsable origin: those are always foreign.
 */
export function originHost(origin: string): string | undefined {
  const scheme = origin.indexOf('://');
  if (scheme < 0) return undefined;
  const host = origin.slice(scheme + 3);
  return host === '' || host.includes('/') ? undefined : host;
}

/** What the guard refuses with: status and message, worded for the surface by `SurfaceErrors.refused`. */
export const HOST_REFUSALS = {
  /** 400, as Azure's front ends answer an unknown host name ("The request hostname is invalid"). */
  foreignHost: [
    400,
    'Bad request. The request hostname is invalid: Host must name this endpoint (localhost, 127.0.0.1, 169.254.169.254, its bind address or a name in allowedHosts)',
  ],
  /** 400: HTTP/1.1 requires Host (RFC 9112 §3.2). */
  missingHost: [400, 'Bad request. The request has no Host header'],
  /** 403: a browser page of another site (Origin, Sec-Fetch-Site) may not use this endpoint. */
  crossSite: [403, 'Forbidden. Cross-site requests are not allowed: the Origin names another site'],
  /**
   * 400: `Upgrade` (WebSocket, h2c) on a request with a body. Node stops parsing after such headers, so
   * the body would never arrive; no Azure endpoint switches protocols. A GET upgrade (curl --http2) is
   * served as HTTP/1.1.
   */
  upgradeWithBody: [400, 'Bad request. Protocol upgrades are not supported on requests with a body.'],
} as const satisfies Record<string, readonly [number, string]>;

/**
 * The gate (src/server/fast-path.ts: every request of the listener passes it, on the fast path and on
 * fastify's) that refuses a foreign `Host` (DNS rebinding) and cross-site browser requests (an `Origin`
 * naming another host, `Sec-Fetch-Site: cross-site`) on a surface, in its error shape. No CORS header is
 * ever sent, so a page of another site cannot read any answer either. Requests of SDKs and curl carry no
 * Origin: for them the gate is one Set lookup and two header reads.
 * @returns `(request) => WireError | undefined`: the refusal, or undefined to let the request on.
 */
export function hostGate(
  spec: Pick<ListenerSpec, 'host' | 'allowedHosts'>,
  refused: (status: number, message: string) => WireError,
): (request: IncomingMessage) => WireError | undefined {
  const check = hostChecker(spec.host, spec.allowedHosts);
  const refuse = ([status, message]: readonly [number, string], close = false): WireError => {
    const error = refused(status, message);
    return close ? { ...error, headers: { ...error.headers, connection: 'close' } } : error;
  };
  return function hostGuard(request) {
    const headers = request.headers;
    const host = headers.host;
    if (!check(host)) return refuse(host ? HOST_REFUSALS.foreignHost : HOST_REFUSALS.missingHost);
    const origin = headers.origin;
    if ((origin !== undefined && !check(originHost(origin))) || headers['sec-fetch-site'] === 'cross-site') {
      return refuse(HOST_REFUSALS.crossSite);
    }
    if (
      headers.upgrade !== undefined &&
      ((request.method !== 'GET' && request.method !== 'HEAD') ||
        headers['transfer-encoding'] !== undefined ||
        (headers['content-length'] ?? '0') !== '0')
    ) {
      return refuse(HOST_REFUSALS.upgradeWithBody, true);
    }
    return undefined;
  };
}
