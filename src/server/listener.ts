import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { FaultSet } from '../core/faults/fault-set.js';
import { AzimdsError, imdsRefusal, internalServerError, type WireError } from '../errors.js';
import { acceptAnyBody } from './any-body.js';
import { CONNECTION_REFUSALS, connectionServerOptions, guardConnections } from './connection-guards.js';
import { Exchange, FastPath, parseQuery, runHandler } from './fast-path.js';
import { defaultFaultErrors, type FaultErrors, faultInjectionHook } from './faults.js';
import { hostGate } from './host-guard.js';
import { preparedWireError, sendWireError, writePrepared } from './reply.js';
import { type RequestLog, RequestLogController } from './request-log.js';
import { requestVmName } from './request-vm.js';

/** How a surface answers what no route of it handles, in its own platform's error shape. */
export interface SurfaceErrors {
  notFound(request: FastifyRequest): WireError;
  /** `request` is undefined on the fast path (server/fast-path.ts). */
  internal(request: FastifyRequest | undefined, error: unknown): WireError;
  /** The statuses fault injection sends (default: by path, see server/faults.ts). */
  fault?: FaultErrors;
  /**
   * A refusal before any route (foreign Host, cross-site, malformed or timed-out request, odd Expect,
   * CONNECT) with this status and message, in the surface's shape. Default: IMDS's `{"error": message}`.
   */
  refused?: (status: number, message: string) => WireError;
}

/** One listener: a fastify app on one host:port that serves one or more protocol plugins. */
export interface ListenerSpec {
  /** Name in logs and in the handle's `urls` (e.g. `imds`, `arc`). */
  name: string;
  host: string;
  /** Absent: a proxy-only surface, reached only through the proxy's host table (src/server/proxy/host-table.ts). */
  port?: number;
  plugins: ReadonlyArray<{ plugin: FastifyPluginAsync<never>; options?: unknown }>;
  errors: SurfaceErrors;
  /** Headers the platform puts on every response, including the listener's own 404/400/500 (IMDS: `Server`). */
  headers?: Readonly<Record<string, string>>;
  /** Extra fastify server options (e.g. `https`). */
  serverOptions?: Record<string, unknown>;
  /**
   * Checks every request passes before anything else, on fastify's path and on the fast path alike
   * (server/fast-path.ts, `FastPath.gate`): e.g. a Host allow-list. Each returns the error to answer
   * with (sent with `headers`), or undefined.
   */
  gates?: ReadonlyArray<(request: IncomingMessage) => WireError | undefined>;
  /** Fault injection and the request log for this listener (every surface but the control API's). */
  instrument?: { faults: FaultSet; requestLog: RequestLog };
  /**
   * `raw` (default, every Azure surface): bodies arrive as Buffers whatever their Content-Type, so that
   * routes answer as Azure does (405, 400) rather than with fastify's 415. `fastify`: fastify's own
   * parsers (the control API, a JSON API of azimds's own).
   */
  bodies?: 'raw' | 'fastify';
  /**
   * `false` turns off the Host/Origin guard (server/host-guard.ts) of this listener: the control
   * listener has its own. Default on, with `allowedHosts` (config) as extra host names.
   */
  hostGuard?: boolean;
  allowedHosts?: readonly string[];
}

export interface RunningListener {
  name: string;
  app: FastifyInstance;
  /** Base URL clients use, e.g. `http://127.0.0.1:8169`. */
  url: string;
  port: number;
}

/** `log` with a `child()` that returns the same logger (bindings of children are dropped). */
function selfChildLogger(log: Logger): FastifyBaseLogger {
  const self: FastifyBaseLogger = Object.create(log, { child: { value: () => self } });
  return self;
}

/** Schema compilers for `schemaController`: a route that declares a schema fails at registration. */
function noSchemas() {
  return () => {
    throw new Error('azimds routes validate requests in code: route schemas are not supported');
  };
}

/** Builds the fastify app of a listener without binding it (for `inject()` tests and `listen`). */
export async function buildListenerApp(spec: ListenerSpec, log: Logger): Promise<FastifyInstance> {
  const listenerLog = log.child({ listener: spec.name });
  const refused = spec.errors.refused ?? imdsRefusal;
  const rawBodies = (spec.bodies ?? 'raw') === 'raw';
  const app = Fastify({
    // Every request logs through the listener's logger itself: a pino child per request (fastify's
    // default, to bind a request id) cost more than the rest of an IMDS request, and a custom
    // `childLoggerFactory` makes fastify validate the logger it returns on every request (an array
    // filter). A logger whose `child()` is itself does neither (see docs/performance.md).
    loggerInstance: selfChildLogger(listenerLog),
    // Requests are recorded by the request log; fastify's per-request lines would cost throughput.
    // With `instrument`, the controller records each finished request in the request log instead.
    logController: spec.instrument
      ? new RequestLogController(spec.name, spec.instrument.requestLog)
      : new LogController({ disableRequestLogging: true }),
    // Routes check requests themselves (Azure's error bodies), never with JSON schemas; compilers that
    // refuse spare loading ajv and fast-json-stringify, most of a cold start-up.
    schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } },
    // HEAD is not an IMDS verb: let it reach the routes' 405 handling instead of mirroring GET.
    exposeHeadRoutes: false,
    forceCloseConnections: true,
    return503OnClosing: false,
    // A URL fastify cannot decode (`/metadata/instance/%ZZ`) gets the platform's 400, not fastify's body.
    frameworkErrors: (_error, _request, reply) =>
      sendWireError(reply, refused(...CONNECTION_REFUSALS.malformed), spec.headers),
    // Timeouts, and node's parser errors in the surface's shape (server/connection-guards.ts).
    ...connectionServerOptions(spec.serverOptions, refused, spec.headers, rawBodies),
    // The fast path parses queries with the same function (server/fast-path.ts).
    routerOptions: {
      maxParamLength: 4096,
      ...(spec.serverOptions?.routerOptions as Record<string, unknown> | undefined),
      querystringParser: parseQuery,
    },
  });
  const fastPath = new FastPath((error, res) => {
    listenerLog.error({ err: error }, 'unhandled error while serving a request');
    if (res.headersSent) res.destroy();
    else writePrepared(res, preparedWireError(spec.errors.internal(undefined, error), spec.headers));
  });
  app.decorate('azimdsFastPath', fastPath);
  if (rawBodies) acceptAnyBody(app);
  app.decorateRequest('azimdsIdentity', undefined);
  app.decorateRequest('azimdsFault', undefined);
  // Foreign Host (DNS rebinding) and cross-site requests are refused before anything else
  // (server/host-guard.ts), then the spec's own gates. Gates come first on fastify's path, the 404
  // handler's requests included; the fast path runs the same functions (FastPath.gate).
  const gates = [...(spec.hostGuard === false ? [] : [hostGate(spec, refused)]), ...(spec.gates ?? [])];
  if (gates.length > 0) {
    for (const gate of gates) fastPath.gate(gate);
    app.addHook('onRequest', (request, reply, done) => {
      const rejected = fastPath.checkGates(request.raw);
      if (rejected === undefined) return done();
      sendWireError(reply, rejected, spec.headers);
    });
  }
  if (spec.instrument) {
    const { faults } = spec.instrument;
    // Fault rules act on fastify's path only: while one is active, every request takes it.
    fastPath.divert(() => faults.active);
    // First hook of every route (the 404 handler too); one boolean read while no fault rule is active.
    app.addHook(
      'onRequest',
      faultInjectionHook({
        surface: spec.name,
        faults: spec.instrument.faults,
        requestLog: spec.instrument.requestLog,
        errors: spec.errors.fault ?? defaultFaultErrors(spec.name),
        ...(spec.headers ? { headers: spec.headers } : {}),
      }),
    );
  }
  app.setNotFoundHandler((request, reply) =>
    sendWireError(reply, spec.errors.notFound(request), spec.headers),
  );
  app.setErrorHandler((error: { statusCode?: number }, request, reply: FastifyReply) => {
    // Client errors fastify raises itself (malformed body, bad content type) keep their status.
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const message = status === 413 ? CONNECTION_REFUSALS.bodyTooLarge[1] : CONNECTION_REFUSALS.malformed[1];
      return sendWireError(reply, refused(status, message), spec.headers);
    }
    request.log.error({ err: error }, 'unhandled error while serving a request');
    return sendWireError(reply, spec.errors.internal(request, error) ?? internalServerError, spec.headers);
  });
  for (const { plugin, options } of spec.plugins) await app.register(plugin, (options ?? {}) as never);
  serveFastPath(app, spec, fastPath);
  guardConnections(app.server, refused, spec.headers);
  return app;
}

/**
 * Puts the fast path in front of fastify's request handler on the listener's server: a request the fast
 * path serves (see `FastPath.match`) goes straight to its route and is recorded in the request log;
 * every other request goes to fastify as before. `inject()` always takes fastify's path.
 */
function serveFastPath(app: FastifyInstance, spec: ListenerSpec, fastPath: FastPath): void {
  if (fastPath.empty) return;
  const server = app.server;
  const [general] = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  if (general === undefined) return;
  server.removeListener('request', general);
  const requestLog = spec.instrument?.requestLog;
  const surface = spec.name;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = fastPath.match(req, path);
    if (route === undefined) return general(req, res);
    const start = performance.now();
    const exchange = new Exchange(
      'GET',
      url,
      parseQuery(q < 0 ? '' : url.slice(q + 1)),
      req.headers,
      req.socket.remoteAddress ?? '',
      res,
    );
    const rest = path.length === route.prefix.length ? '' : path.slice(route.prefix.length);
    const done = runHandler(route.handler, exchange, rest, (error) => fastPath.internal(error, res));
    if (requestLog === undefined || requestLog.size === 0) return;
    if (done === undefined) recordFast(requestLog, surface, exchange, start);
    else void done.then(() => recordFast(requestLog, surface, exchange, start));
  });
}

/**
 * Records a request the fast path served in the request log, and its detail for the dashboard
 * (server/request-details.ts), as the log controller does on fastify's path.
 */
function recordFast(requestLog: RequestLog, surface: string, exchange: Exchange, start: number): void {
  const res = exchange.res;
  requestLog.record(
    surface,
    'GET',
    exchange.url,
    exchange.ip,
    res.headersSent ? res.statusCode : null,
    performance.now() - start,
    exchange.identity,
    undefined,
    undefined,
    requestVmName(res.req),
  );
  requestLog.details?.keep(requestLog.last, exchange.headers, undefined, res);
}

/** Builds and binds a listener; a port in use or an address that does not exist becomes `LISTEN_FAILED`. */
export async function startListener(spec: ListenerSpec, log: Logger): Promise<RunningListener> {
  const app = await buildListenerApp(spec, log);
  try {
    await app.listen({ host: spec.host, port: spec.port ?? 0 });
  } catch (cause) {
    await app.close().catch(() => {});
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? 'the port is already in use'
        : code === 'EADDRNOTAVAIL'
          ? 'the address does not exist on this machine (see docs/binding.md)'
          : code === 'EACCES'
            ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
            : String((cause as Error).message);
    throw new AzimdsError(
      'LISTEN_FAILED',
      `cannot listen for ${spec.name} on ${spec.host}:${spec.port}: ${why}`,
      {
        cause,
      },
    );
  }
  if (!staysOnThisMachine(spec.host)) {
    log.warn(
      { listener: spec.name, host: spec.host },
      `${spec.name} listens on ${spec.host}: other machines that reach this one can read its metadata and get its tokens`,
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (spec.port ?? 0);
  const scheme = spec.serverOptions?.https ? 'https' : 'http';
  const hostInUrl = spec.host.includes(':')
    ? `[${spec.host}]`
    : spec.host === '0.0.0.0'
      ? '127.0.0.1'
      : spec.host;
  return { name: spec.name, app, url: `${scheme}://${hostInUrl}:${port}`, port };
}

/**
 * True for addresses only this machine reaches: loopback, and IMDS's own link-local address (which
 * azimds serves only where it was added to a local interface, see docs/binding.md).
 */
export function staysOnThisMachine(host: string): boolean {
  return (
    host === 'localhost' ||
    host.startsWith('127.') ||
    host === '::1' ||
    host === '[::1]' ||
    host === '169.254.169.254'
  );
}
