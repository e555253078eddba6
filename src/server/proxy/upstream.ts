/**
 * Where the proxy sends traffic for hosts azimds does not emulate: the proxy the shell had when azimds
 * started (HTTPS_PROXY / HTTP_PROXY and NO_PROXY, read once at start: `eval "$(azimds env)"` replaces
 * them afterwards), `proxy.upstream` from config, or a direct connection.
 *
 * No dependency: choosing a proxy for a URL and NO_PROXY matching are a few lines; `proxy-from-env`
 * (what axios uses) reads `process.env` at each call, which is exactly what must not happen here.
 */
import { decodePercentOrKeep } from '../../core/percent-decoding.js';

/** An upstream proxy: host, port and the `Proxy-Authorization` its URL's user info gives. */
export interface UpstreamProxy {
  readonly host: string;
  readonly port: number;
  readonly authorization?: string;
  /** The URL as configured, credentials removed (for logs). */
  readonly display: string;
}

/** The upstream proxies for plain HTTP and for CONNECT (HTTPS), and the hosts reached directly. */
export interface Upstream {
  readonly http?: UpstreamProxy;
  readonly https?: UpstreamProxy;
  /** NO_PROXY entries, lower-cased: `*`, host names, `.suffix` / `suffix` (matching subdomains too), `host:port`. */
  readonly noProxy: readonly string[];
}

/**
 * The upstream from an environment (the process's at start) or from `proxy.upstream` (`none`: direct).
 * Malformed proxy URLs are ignored (as curl and Go ignore them: a direct connection).
 */
export function upstreamFrom(env: NodeJS.ProcessEnv, configured?: string): Upstream {
  if (configured === 'none') return { noProxy: [] };
  if (configured) {
    const proxy = parseProxyUrl(configured);
    return { ...(proxy ? { http: proxy, https: proxy } : {}), noProxy: [] };
  }
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const http = parseProxyUrl(pick('http_proxy', 'HTTP_PROXY'));
  const https = parseProxyUrl(pick('https_proxy', 'HTTPS_PROXY')) ?? http;
  const noProxy = (pick('no_proxy', 'NO_PROXY') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), noProxy };
}

/** The same upstream without a proxy that is `self` (`host:port` of azimds's own proxy): no loops. */
export function withoutSelf(
  upstream: Upstream,
  selfPorts: (port: number, host: string) => boolean,
): Upstream {
  const keep = (p?: UpstreamProxy) => (p && !selfPorts(p.port, p.host) ? p : undefined);
  const http = keep(upstream.http);
  const https = keep(upstream.https);
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), noProxy: upstream.noProxy };
}

/** The proxy for a request to `host:port` (`https`: CONNECT), or undefined to connect directly. */
export function proxyFor(
  upstream: Upstream,
  kind: 'http' | 'https',
  host: string,
  port: number,
): UpstreamProxy | undefined {
  const proxy = upstream[kind];
  if (!proxy) return undefined;
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  for (const entry of upstream.noProxy) {
    if (entry === '*') return undefined;
    const [pattern = '', entryPort] = entry.startsWith('[')
      ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]]
      : entry.split(':');
    if (entryPort !== undefined && Number(entryPort) !== port) continue;
    const suffix = pattern.replace(/^\*?\./, '');
    if (name === suffix || name.endsWith(`.${suffix}`)) return undefined;
  }
  return proxy;
}

function parseProxyUrl(value: string | undefined): UpstreamProxy | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:') return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 80;
  const authorization = url.username
    ? `Basic ${Buffer.from(`${decodePercentOrKeep(url.username)}:${decodePercentOrKeep(url.password)}`).toString('base64')}`
    : undefined;
  return { host, port, ...(authorization ? { authorization } : {}), display: `http://${url.host}` };
}
