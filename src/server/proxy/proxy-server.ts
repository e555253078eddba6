import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { FleetMember } from '../../core/fleet/members.js';
import type { EmulatorState } from '../../core/state.js';
import type { LocalCa } from '../../core/tls/local-ca.js';
import {
  internalServerError,
  notAProxyRequest,
  proxyRefused,
  proxyUnknownVm,
  surfaceNotEnabled,
  type WireError,
} from '../../errors.js';
import { buildListenerApp, type ListenerSpec } from '../listener.js';
import { http } from '../node-http.js';
import { copyRequestVm, markRequestVm, proxyAuthorizationMember } from '../request-vm.js';
import { proxyAddress } from './address.js';
import { HOST_TABLE, type HostRow, matchHost, type ProxySurface, tableHosts } from './host-table.js';
import { proxyFor, type Upstream, upstreamFrom, withoutSelf } from './upstream.js';

/** What the proxy needs: the surfaces' specs, the CA, the passthrough policy and the upstream. */
export interface ProxyOptions {
  /** The ListenerSpec serving a surface (by its name), or undefined when that surface is not served. */
  readonly surface: (name: ProxySurface) => ListenerSpec | undefined;
  readonly ca: LocalCa;
  readonly passthrough: boolean;
  /** Where passthrough traffic goes (upstream.ts); a proxy that is this one is dropped at start. */
  readonly upstream: Upstream;
  readonly table?: readonly HostRow[];
  /** The VM a `Proxy-Authorization` header names (request-vm.ts); absent: every request is the default VM's. */
  readonly vm?: (authorization: string | undefined) => FleetMember | string | undefined;
}

/** Hop-by-hop headers meant for the proxy itself: never passed to a surface or upstream. */
const PROXY_HEADERS = ['proxy-connection', 'proxy-authorization'];

/**
 * The proxy's request handling, behind a `ListenerSpec` named `proxy` (so it binds, warns and
 * reports its URL like every listener). Three kinds of traffic:
 *
 * - absolute-form `GET http://169.254.169.254/...` (plain HTTP through a proxy): a host of the table
 *   goes to its surface's fastify app in-process (path rewritten to origin-form, proxy headers dropped,
 *   no X-Forwarded-For); any other host is forwarded (or refused, passthrough off).
 * - `CONNECT host:port`: a host of the table gets `200`, then the tunnel is served by the surface's app,
 *   TLS terminated with the host's leaf (port 443, or an https host on any port but 80), plain HTTP
 *   otherwise. Any other host is tunnelled unchanged (or refused with 502, passthrough off).
 * - origin-form requests whose `Host` is in the table (a client redirected to the proxy's port without
 *   knowing it): served like absolute-form ones; other origin-form requests get a 400 saying what this is.
 *
 * The surface apps are the same ListenerSpecs as their own listeners (every route, fault rule and the
 * request log apply), built on first use. Requests through the proxy are marked (proxied.ts).
 */
export class ProxyCore {
  readonly #options: ProxyOptions;
  readonly #apps = new Map<ProxySurface, Promise<FastifyInstance>>();
  /** The apps already built: requests reach them without waiting on a promise (the hot path). */
  readonly #built = new Map<ProxySurface, FastifyInstance>();
  readonly #tunnels = new Set<Socket>();
  #upstream: Upstream;
  #log: Logger | undefined;

  constructor(options: ProxyOptions) {
    this.#options = options;
    this.#upstream = options.upstream;
  }

  /** Called once the proxy listens: its logger, and its own address (an upstream that is itself is dropped). */
  attach(log: Logger, server: Server): void {
    this.#log = log;
    const address = server.address();
    if (address && typeof address === 'object') {
      const self = (port: number, host: string) =>
        port === address.port && ['127.0.0.1', 'localhost', '::1', address.address].includes(host);
      this.#upstream = withoutSelf(this.#upstream, self);
    }
  }

  /** Closes the surface apps and every open tunnel. */
  async close(): Promise<void> {
    for (const socket of this.#tunnels) socket.destroy();
    this.#built.clear();
    const apps = await Promise.allSettled(this.#apps.values());
    await Promise.all(apps.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
  }

  /** `request` of the proxy's http server; `fallback` is fastify's handler (origin-form requests). */
  onRequest(
    req: IncomingMessage,
    res: ServerResponse,
    fallback: (req: IncomingMessage, res: ServerResponse) => void,
  ): void {
    const absolute = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(req.url ?? '');
    if (!absolute) {
      const host = req.headers.host;
      const row = host ? this.#row(splitHostPort(host, 80).host) : undefined;
      if (!row) fallback(req, res);
      else if (this.#markVm(req, req, res)) void this.#toSurface(row, req, res);
      return;
    }
    const [, scheme = 'http', authority = '', rest = ''] = absolute;
    const target = splitHostPort(authority.replace(/^.*@/, ''), scheme.toLowerCase() === 'https' ? 443 : 80);
    req.url = rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
    const row = this.#row(target.host);
    if (row) {
      if (this.#markVm(req, req, res)) void this.#toSurface(row, req, res);
    } else if (this.#options.passthrough) this.#forward(req, res, target);
    else sendError(res, proxyRefused(`${target.host}:${target.port}`, passthroughOff(this.#table())));
  }

  /** `connect` of the proxy's http server. */
  onConnect(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const target = splitHostPort(req.url ?? '', 443);
    const row = this.#row(target.host);
    if (row) {
      if (this.#markVm(req, socket)) void this.#tunnelToSurface(row, target.host, target.port, socket, head);
    } else if (this.#options.passthrough) this.#tunnelOut(target, socket, head);
    else writeRefusal(socket, proxyRefused(`${target.host}:${target.port}`, passthroughOff(this.#table())));
  }

  /**
   * The VM a request to a surface is (docs/fleet.md): the one its `Proxy-Authorization` names, marked on
   * `target` (the request, or the tunnel socket whose requests the surface then serves). False: the name
   * is no VM of the fleet, and the 407 was sent.
   */
  #markVm(req: IncomingMessage, target: object, res?: ServerResponse): boolean {
    const vm = this.#options.vm?.(req.headers['proxy-authorization']);
    if (vm === undefined) return true;
    if (typeof vm === 'string') {
      if (res) sendError(res, proxyUnknownVm(vm));
      else writeRefusal(target as Socket, proxyUnknownVm(vm));
      return false;
    }
    markRequestVm(target, vm);
    return true;
  }

  #table(): readonly HostRow[] {
    return this.#options.table ?? HOST_TABLE;
  }

  #row(host: string): HostRow | undefined {
    return matchHost(host, this.#table());
  }

  /** The surface's app: its own ListenerSpec (plain HTTP: TLS ends here), or one answering 501 when it has none. */
  #app(surface: ProxySurface): Promise<FastifyInstance> {
    let app = this.#apps.get(surface);
    if (!app) {
      const spec = this.#options.surface(surface);
      const served: ListenerSpec = spec
        ? { ...spec, serverOptions: withoutTls(spec.serverOptions) }
        : {
            name: surface,
            host: '127.0.0.1',
            plugins: [],
            errors: {
              notFound: (request) => surfaceNotEnabled(surface, hostOf(request.headers.host ?? surface)),
              internal: () => internalServerError,
            },
          };
      app = buildListenerApp(served, this.#logger()).then(async (a) => {
        await a.ready();
        this.#built.set(surface, a);
        return a;
      });
      app.catch(() => this.#apps.delete(surface));
      this.#apps.set(surface, app);
    }
    return app;
  }

  async #toSurface(row: HostRow, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { headers } = req;
    for (const name of PROXY_HEADERS) if (headers[name] !== undefined) delete headers[name];
    const built = this.#built.get(row.surface);
    if (built) {
      built.server.emit('request', req, res);
      return;
    }
    try {
      const app = await this.#app(row.surface);
      app.server.emit('request', req, res);
    } catch (error) {
      this.#logger().error({ err: error, surface: row.surface }, 'proxy: cannot build the surface');
      sendError(res, internalServerError);
    }
  }

  async #tunnelToSurface(
    row: HostRow,
    host: string,
    port: number,
    socket: Socket,
    head: Buffer,
  ): Promise<void> {
    let app: FastifyInstance;
    try {
      app = await this.#app(row.surface);
    } catch (error) {
      this.#logger().error({ err: error, surface: row.surface }, 'proxy: cannot build the surface');
      return void writeRefusal(socket, internalServerError);
    }
    const tls = useTls(row, port);
    let secureContext: ReturnType<LocalCa['secureContext']> | undefined;
    try {
      if (tls) secureContext = this.#options.ca.secureContext(host);
    } catch (error) {
      this.#logger().error({ err: error, host }, 'proxy: no certificate for this host');
      return void writeRefusal(socket, internalServerError);
    }
    this.#track(socket);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // Bytes the client sent with its CONNECT (rare: clients wait for the 200).
    if (head.length > 0) socket.unshift(head);
    // TLS by port (no peeking: a TLSSocket reads the connection's handle, not bytes already read into JS).
    if (!secureContext) {
      app.server.emit('connection', socket);
      return;
    }
    const secure = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    secure.on('error', () => secure.destroy());
    copyRequestVm(socket, secure);
    this.#track(secure);
    app.server.emit('connection', secure);
  }

  /** Passthrough of a plain HTTP request: to the host itself or through the upstream HTTP proxy. */
  #forward(req: IncomingMessage, res: ServerResponse, target: { host: string; port: number }): void {
    const via = proxyFor(this.#upstream, 'http', target.host, target.port);
    const headers = { ...req.headers };
    for (const name of PROXY_HEADERS) delete headers[name];
    if (via?.authorization) headers['proxy-authorization'] = via.authorization;
    const path = via
      ? `http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${req.url}`
      : req.url;
    const out = http.request(
      { host: via?.host ?? target.host, port: via?.port ?? target.port, method: req.method, path, headers },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.rawHeaders);
        upstream.pipe(res);
      },
    );
    out.on('error', (error) => sendError(res, proxyRefused(`${target.host}:${target.port}`, error.message)));
    req.pipe(out);
  }

  /** Passthrough of a CONNECT: a TCP connection to the host, or a CONNECT through the upstream proxy. */
  #tunnelOut(target: { host: string; port: number }, socket: Socket, head: Buffer): void {
    const via = proxyFor(this.#upstream, 'https', target.host, target.port);
    const authority = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    const out = connect(via?.port ?? target.port, via?.host ?? target.host);
    this.#track(socket);
    this.#track(out);
    const fail = (reason: string) => {
      out.destroy();
      writeRefusal(socket, proxyRefused(authority, reason));
    };
    out.once('error', (error) =>
      fail(via ? `the upstream proxy ${via.display}: ${error.message}` : error.message),
    );
    const splice = (rest: Buffer) => {
      out.removeAllListeners('error');
      out.on('error', () => socket.destroy());
      socket.on('close', () => out.destroy());
      out.on('close', () => socket.destroy());
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (rest.length > 0) socket.write(rest);
      if (head.length > 0) out.write(head);
      socket.pipe(out);
      out.pipe(socket);
    };
    if (!via) {
      out.once('connect', () => splice(Buffer.alloc(0)));
      return;
    }
    out.once('connect', () => {
      out.write(
        `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${via.authorization ? `Proxy-Authorization: ${via.authorization}\r\n` : ''}\r\n`,
      );
    });
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      out.off('data', onData);
      const status = Number(buffered.toString('latin1', 9, 12));
      if (status === 200) return splice(buffered.subarray(end + 4));
      // The upstream proxy's refusal, as it sent it (its status and body say why).
      socket.end(buffered);
      out.pipe(socket);
    };
    out.on('data', onData);
  }

  #track(socket: Socket): void {
    this.#tunnels.add(socket);
    socket.once('close', () => this.#tunnels.delete(socket));
  }

  #logger(): Logger {
    if (!this.#log) throw new Error('the proxy is not listening');
    return this.#log;
  }
}

/**
 * The `proxy` ListenerSpec: its own port (proxyAddress), no routes of its own (origin-form requests for
 * other hosts get a 400 saying what it is); `serverFactory` routes absolute-form requests and CONNECT to
 * a ProxyCore. Surfaces are looked up by name in `specs` (the emulator's other listeners, and proxy-only
 * specs without a port). The upstream is read from this process's environment now, i.e. at start.
 */
export function proxyListenerSpec(state: EmulatorState, specs: readonly ListenerSpec[]): ListenerSpec {
  const { proxy } = state.config;
  const core = new ProxyCore({
    surface: (name) => specs.find((s) => s.name === name),
    ca: state.localCa,
    passthrough: proxy.passthrough,
    upstream: upstreamFrom(process.env, proxy.upstream),
    vm: (authorization) => proxyAuthorizationMember(state, authorization),
  });
  const lifecycle: FastifyPluginAsync = async (app) => {
    app.addHook('onListen', async () => core.attach(app.log as unknown as Logger, app.server));
    app.addHook('onClose', () => core.close());
  };
  const { host, port } = proxyAddress(state.config);
  return {
    name: 'proxy',
    host,
    port,
    plugins: [{ plugin: lifecycle as never }],
    errors: { notFound: () => notAProxyRequest, internal: () => internalServerError },
    serverOptions: {
      // The listener's http options (timeouts, optimizeEmptyRequests: server/connection-guards.ts)
      // apply to the proxy's own server too.
      serverFactory: (
        handler: (req: IncomingMessage, res: ServerResponse) => void,
        options: { http?: ServerOptions },
      ) => {
        const server = http.createServer(options.http ?? {}, (req, res) => core.onRequest(req, res, handler));
        server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) =>
          core.onConnect(req, socket, head),
        );
        return server;
      },
    },
  };
}

/** `host[:port]` or `[v6]:port` → host (brackets removed, lower-case) and port. */
function splitHostPort(authority: string, defaultPort: number): { host: string; port: number } {
  const v6 = /^\[([^\]]*)\](?::(\d+))?$/.exec(authority);
  if (v6) return { host: (v6[1] ?? '').toLowerCase(), port: v6[2] ? Number(v6[2]) : defaultPort };
  const colon = authority.lastIndexOf(':');
  if (colon > 0 && authority.indexOf(':') === colon) {
    return {
      host: authority.slice(0, colon).toLowerCase(),
      port: Number(authority.slice(colon + 1)) || defaultPort,
    };
  }
  return { host: authority.toLowerCase(), port: defaultPort };
}

/**
 * Whether a tunnel to a surface speaks TLS: port 443, or any port but 80 of an https host (what a
 * client asks `CONNECT login.microsoftonline.com:443` for); `169.254.169.254:80` is plain HTTP.
 */
function useTls(row: HostRow, port: number): boolean {
  return port === 443 || (row.scheme === 'https' && port !== 80);
}

function hostOf(hostHeader: string): string {
  return splitHostPort(hostHeader, 80).host;
}

function passthroughOff(table: readonly HostRow[]): string {
  return `passthrough is off (proxy.passthrough: false), so azimds answers only the hosts it emulates: ${tableHosts(table).join(', ')}`;
}

/** A surface's TLS options removed: the proxy terminates TLS itself, and hands the surface plain HTTP. */
function withoutTls(options: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!options || !('https' in options)) return options;
  const { https: _https, ...rest } = options;
  return rest;
}

function sendError(res: ServerResponse, error: WireError): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(error.status, {
    'content-type': error.contentType,
    'content-length': error.body.length,
    ...error.headers,
  });
  res.end(error.body);
}

/** An error response on a raw socket (a CONNECT refused), then the socket is closed. */
function writeRefusal(socket: Socket, error: WireError): void {
  const reason =
    error.status === 502
      ? 'Bad Gateway'
      : error.status === 407
        ? 'Proxy Authentication Required'
        : 'Internal Server Error';
  const headers = Object.entries(error.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: ${error.contentType}\r\nContent-Length: ${error.body.length}\r\n${headers}Connection: close\r\n\r\n${error.body.toString('utf8')}`,
  );
}
