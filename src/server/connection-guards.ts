import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { DEFAULTS } from '../config/defaults.js';
import type { WireError } from '../errors.js';
import { http } from './node-http.js';
import { prepareResponse } from './reply.js';

/** A surface's refusal in its own error shape (`SurfaceErrors.refused`). */
export type Refuse = (status: number, message: string) => WireError;

/**
 * Refusals below the routes, where node's HTTP parser or server answers before fastify sees a request
 * (status, message). Node's own answers are empty bodies (400, 408, 417, 431) and CONNECT is dropped;
 * fastify's are its own JSON: azimds answers each in the surface's shape and headers.
 */
export const CONNECTION_REFUSALS = {
  /** The request line, a header or a chunked body does not parse (llhttp's errors). */
  malformed: [400, 'Bad request. Malformed request.'],
  /** A request body over the listener's limit (fastify's `bodyLimit`, 1 MiB). */
  bodyTooLarge: [413, 'Request body too large. The limit is 1 MiB.'],
  /** Headers bigger than node's limit (16 KiB). */
  headersTooLarge: [431, 'Request header fields too large.'],
  /** The request (headers and body) did not arrive within `DEFAULTS.server.requestTimeoutMs`. */
  timeout: [
    408,
    'Request timeout. The whole request must arrive within the server timeout; the connection is closed.',
  ],
  /** `Expect` other than `100-continue`. */
  expectation: [417, 'Expectation failed. Only "Expect: 100-continue" is supported.'],
  /** CONNECT to a surface: it is not a proxy. */
  connect: [405, 'Method not allowed. CONNECT is not served here: this endpoint is not a proxy.'],
} as const satisfies Record<string, readonly [number, string]>;

/**
 * Fastify server options of a listener: `serverOptions` (the spec's own, which win) plus what bounds
 * how long a client may hold a connection (docs/hardening.md): the whole request within
 * `requestTimeoutMs`, its headers within `headersTimeoutMs`, checked every second; node's parser errors
 * and timeouts answered in the surface's shape (`clientErrorHandler`); and a request without Host let
 * through to the Host guard (which answers in the surface's shape) instead of node's empty 400. An
 * https listener's server takes these http options in its TLS options object.
 *
 * `emptyRequestsEnded`: Node's `optimizeEmptyRequests` (Node ≥ 24.12; older versions ignore it): a
 * request without `Content-Length` and `Transfer-Encoding`, which has no body, comes with its body
 * stream already ended, so Node skips the stream's life cycle (`resume`, `end`, `close` on the
 * request; about a fifth of the per-request cost of a GET in a bare server, docs/performance.md).
 * Only for listeners whose body reader knows such a request (`acceptAnyBody`): fastify's own readers
 * wait for an `end` that never comes.
 */
export function connectionServerOptions(
  serverOptions: Readonly<Record<string, unknown>> | undefined,
  refuse: Refuse,
  headers?: Readonly<Record<string, string>>,
  emptyRequestsEnded = false,
): Record<string, unknown> {
  const http = {
    headersTimeout: DEFAULTS.server.headersTimeoutMs,
    requestTimeout: DEFAULTS.server.requestTimeoutMs,
    connectionsCheckingInterval: 1000,
    requireHostHeader: false,
    optimizeEmptyRequests: emptyRequestsEnded,
  };
  return {
    requestTimeout: DEFAULTS.server.requestTimeoutMs,
    clientErrorHandler: clientErrorHandler(refuse, headers),
    ...serverOptions,
    http: { ...http, ...(serverOptions?.http as object | undefined) },
    ...(serverOptions?.https ? { https: { ...http, ...(serverOptions.https as object) } } : {}),
  };
}

/** The bytes of a complete HTTP/1.1 response that also closes the connection. */
function rawResponse(error: WireError, headers: Readonly<Record<string, string>> | undefined): string {
  const prepared = prepareResponse(error.status, error.contentType, error.body, error.headers, headers, {
    connection: 'close',
  });
  let head = `HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status] ?? 'Error'}\r\n`;
  head += `date: ${new Date().toUTCString()}\r\n`;
  for (const [name, value] of Object.entries(prepared.headers)) head += `${name}: ${value}\r\n`;
  return `${head}\r\n${error.body.toString('utf8')}`;
}

/**
 * Fastify's `clientErrorHandler`: node's parser failed (malformed request, headers too large) or the
 * request timed out. Answers in the surface's shape when nothing was sent on the socket yet, then
 * closes it; every connection ends answered or closed.
 */
export function clientErrorHandler(refuse: Refuse, headers?: Readonly<Record<string, string>>) {
  return (error: NodeJS.ErrnoException, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, message] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? CONNECTION_REFUSALS.timeout
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? CONNECTION_REFUSALS.headersTooLarge
          : CONNECTION_REFUSALS.malformed;
    // A response already under way on this socket cannot be followed by another one.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) socket.end(rawResponse(refuse(status, message), headers));
    // Never wait for a client that stopped reading: the socket goes after a short grace period.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}

/**
 * Handles what node's HTTP server answers itself: `Expect` other than `100-continue` (node: an empty
 * 417) and `CONNECT` (node: the socket is closed without a word). Each gets the surface's error. A
 * `connect` listener already present (a proxy surface) is left to answer. (`Upgrade` requests with a
 * body, which node never finishes reading, are refused by the host guard: see `hostGuardHook`.)
 */
export function guardConnections(
  server: Server,
  refuse: Refuse,
  headers?: Readonly<Record<string, string>>,
): void {
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const [status, message] = CONNECTION_REFUSALS.expectation;
    const error = refuse(status, message);
    const prepared = prepareResponse(status, error.contentType, error.body, error.headers, headers, {
      connection: 'close',
    });
    response.writeHead(status, prepared.headers);
    response.end(error.body);
  });
  if (server.listenerCount('connect') > 0) return;
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    const [status, message] = CONNECTION_REFUSALS.connect;
    if (socket.writable) socket.end(rawResponse(refuse(status, message), headers));
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}
