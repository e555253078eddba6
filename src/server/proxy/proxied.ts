import type { IncomingMessage } from 'node:http';

/**
 * Which requests reached a surface through azimds's proxy. The proxy adds no header (nothing may tell
 * a client it went through a proxy, and IMDS refuses X-Forwarded-For), so it marks the objects instead:
 * absolute-form requests themselves, and the sockets of CONNECT tunnels.
 *
 * Host checks on Azure listeners use `isProxiedRequest(request.raw)`: a proxied request legitimately
 * carries `Host: 169.254.169.254`, `login.microsoftonline.com`, `<vault>.vault.azure.net`, ...
 */
const requests = new WeakSet<object>();
const sockets = new WeakSet<object>();

/** Marks one request (absolute-form, forwarded by the proxy). */
export function markProxiedRequest(request: IncomingMessage): void {
  requests.add(request);
}

/** Marks a tunnel socket: every request on it came through the proxy. */
export function markProxiedSocket(socket: object): void {
  sockets.add(socket);
}

/** True when `request` (fastify's `request.raw`) came through azimds's proxy. */
export function isProxiedRequest(request: IncomingMessage): boolean {
  return requests.has(request) || sockets.has(request.socket);
}
