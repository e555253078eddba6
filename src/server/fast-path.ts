import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'fast-querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WireError } from '../errors.js';
import { type PreparedResponse, preparedWireError, writeEmpty, writePrepared } from './reply.js';

/** Query parameters as every listener parses them: repeated names are arrays. */
export type Query = Record<string, string | string[] | undefined>;

/**
 * The query-string parser of every listener: fastify's router is given this function and the fast
 * path calls it, so both paths see the same parameters (fast-querystring, find-my-way's own default).
 * `search` is the part after `?` (may be empty). The result is frozen: routes read it, never change it.
 */
export function parseQuery(search: string): Query {
  if (search.length === 0) return {};
  // A client repeating a request (the common case under load) gets the parse of its last one: frozen,
  // so no route can change what another request reads.
  if (search === lastSearch) return lastQuery;
  lastQuery = Object.freeze(parse(search) as Query);
  lastSearch = search;
  return lastQuery;
}

let lastSearch = '';
let lastQuery: Query = Object.freeze({});

/**
 * One request as a route served on the fast path sees it, whichever way it arrived: from a socket
 * straight to the route (the listener's dispatcher), or through fastify's router (`inject()`, other
 * verbs, requests some general concern acts on: see `FastPath`). The route answers with `send()`/`fail()`; both write
 * pre-serialized bytes on the raw response.
 */
export class Exchange {
  /** Client id of the managed identity a token route selected (request log). */
  identity: string | undefined = undefined;

  constructor(
    readonly method: string,
    /** Path and query as received (not decoded). */
    readonly url: string,
    readonly query: Query,
    readonly headers: IncomingHttpHeaders,
    /** Client address (the socket's: azimds never trusts proxy headers). */
    readonly ip: string,
    readonly res: ServerResponse,
    /** Fastify's request when the exchange came through fastify's router. */
    readonly request?: FastifyRequest,
  ) {}

  /** The request as Node received it (fastify's `request.raw`): which VM it is addressed to (request-vm.ts). */
  get raw(): IncomingMessage {
    return this.request?.raw ?? this.res.req;
  }

  /** The request body as the listener's parser left it (a Buffer); undefined on the fast path (GET). */
  get body(): unknown {
    return this.request?.body;
  }

  /** Records which managed identity served the request, for the request log (both paths). */
  setIdentity(clientId: string): void {
    this.identity = clientId;
    if (this.request) this.request.azimdsIdentity = clientId;
  }

  /** Writes the response (returns undefined, so a route can `return exchange.send(...)`). */
  send(response: PreparedResponse): undefined {
    writePrepared(this.res, response);
    return undefined;
  }

  /** Writes a response without a body (a 200 without content, 304): `sendEmpty` in server/reply.ts. */
  sendEmpty(status: number, headers?: Readonly<Record<string, string>>): undefined {
    writeEmpty(this.res, status, headers);
    return undefined;
  }

  /** Sends an entry of the error table with the surface's headers. */
  fail(error: WireError, headers?: Readonly<Record<string, string>>): undefined {
    writePrepared(this.res, preparedWireError(error, headers));
    return undefined;
  }
}

/**
 * A route of the fast path: answers `exchange` (synchronously, or by the promise's end). `rest` is the
 * path after a wildcard route's prefix (`compute/vmId` for `/metadata/instance/*`), else `''`.
 * It must answer every request it is given (an error included): exceptions become the surface's 500.
 */
export type FastHandler = (exchange: Exchange, rest: string) => undefined | Promise<undefined>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The listener's fast path (see server/fast-path.ts); routes register with `fastRoute()`. */
    azimdsFastPath: FastPath;
  }
}

/**
 * The routes a listener serves ahead of fastify's router, and how it does so. Every concern of a
 * request has one home:
 * - a check every request of the listener passes (a Host allow-list: one Set lookup) is a `gate`: it
 *   runs first on both paths (fastify's `onRequest` hook, and here before the route); a request it
 *   rejects takes fastify's path, which answers with the gate's error;
 * - concerns that act on SOME requests with more than an answer (fault rules: latency, resets) live
 *   in fastify's hooks and tell the fast path cheaply whether they would act (`divert`): such a
 *   request takes fastify's path, where the one copy of the rule applies;
 * - Azure's checks and rate limits are the route's own code (`FastHandler`), run on both paths;
 * - the request log records each request once: the listener's log controller on fastify's path,
 *   `FastPath` on its own.
 */
export class FastPath {
  /**
   * `internal` answers a request whose route threw (the surface's 500 when nothing was sent yet) and
   * logs the error.
   */
  constructor(readonly internal: (error: unknown, res: ServerResponse) => void) {}

  readonly #exact = new Map<string, FastRoute>();
  readonly #prefixes: FastRoute[] = [];
  readonly #diverts: Array<(request: IncomingMessage) => boolean> = [];
  readonly #gates: Array<(request: IncomingMessage) => WireError | undefined> = [];
  /** Requests served on the fast path so far (tests show a request took it). */
  served = 0;

  /** Serves `path` exactly (or, with `wildcard`, every path under `path/`). */
  add(path: string, handler: FastHandler, wildcard = false): void {
    this.#exact.set(path, { prefix: path, handler });
    if (wildcard) this.#prefixes.push({ prefix: `${path}/`, handler });
  }

  /**
   * Adds a concern that acts on some requests (true: it would act on this one). Must be cheap: it runs
   * on every request the fast path could serve (a boolean read, a Set lookup).
   */
  divert(predicate: (request: IncomingMessage) => boolean): void {
    this.#diverts.push(predicate);
  }

  /**
   * Adds a check every request of the listener passes, in the order added (e.g. the Host allow-list:
   * `gate((r) => (hosts.has(r.headers.host ?? '') ? undefined : hostNotAllowed))`). It returns the
   * error to answer with, or undefined to let the request on. Runs on every request: keep it cheap.
   */
  gate(check: (request: IncomingMessage) => WireError | undefined): void {
    this.#gates.push(check);
  }

  /** The first gate's error for `request`, or undefined when every gate lets it on. */
  checkGates(request: IncomingMessage): WireError | undefined {
    for (const check of this.#gates) {
      const error = check(request);
      if (error !== undefined) return error;
    }
    return undefined;
  }

  get empty(): boolean {
    return this.#exact.size === 0 && this.#prefixes.length === 0;
  }

  /**
   * The route for a request the fast path serves, or undefined for fastify's path: a route of the
   * table, GET without a body, a path the router would not decode (no `%`, `;`, `#` after a wildcard
   * route's prefix), no concern that acts on it (`divert`) and no gate that rejects it. The route's
   * `rest` is `path.slice(route.prefix.length)` (`''` for an exact match). Allocates nothing: this
   * runs on every request of the listener.
   */
  match(request: IncomingMessage, path: string): FastRoute | undefined {
    if (request.method !== 'GET') return undefined;
    const headers = request.headers;
    if (headers['transfer-encoding'] !== undefined) return undefined;
    const length = headers['content-length'];
    if (length !== undefined && length !== '0') return undefined;
    let found = this.#exact.get(path);
    if (found === undefined) {
      for (const route of this.#prefixes) {
        if (!path.startsWith(route.prefix)) continue;
        if (UNDECODED.test(path)) return undefined;
        found = route;
        break;
      }
      if (found === undefined) return undefined;
    }
    for (const divert of this.#diverts) if (divert(request)) return undefined;
    for (const check of this.#gates) if (check(request) !== undefined) return undefined;
    this.served++;
    return found;
  }
}

/** Characters the router decodes or cuts at: a path holding one takes fastify's path. */
const UNDECODED = /[%;#]/;

/** A route of the fast path's table: `prefix` is its path (exact) or its path plus `/` (wildcard). */
export interface FastRoute {
  readonly prefix: string;
  readonly handler: FastHandler;
}

/**
 * Runs a route on an exchange, turning an exception (sync or async) into `internal(error)` when
 * nothing was sent yet. The one place both paths call a `FastHandler`.
 */
export function runHandler(
  handler: FastHandler,
  exchange: Exchange,
  rest: string,
  internal: (error: unknown) => void,
): undefined | Promise<undefined> {
  try {
    const result = handler(exchange, rest);
    if (result === undefined) return undefined;
    return result.catch((error: unknown) => {
      internal(error);
      return undefined;
    });
  } catch (error) {
    internal(error);
    return undefined;
  }
}

/**
 * Registers a route on both paths: fastify's router (every method, so wrong verbs get the route's
 * 405) and the listener's fast path. `wildcard` also serves `path/*`.
 */
export function fastRoute(app: FastifyInstance, path: string, handler: FastHandler, wildcard = false): void {
  const viaFastify = (request: FastifyRequest, reply: FastifyReply): undefined | Promise<undefined> => {
    reply.hijack();
    const exchange = new Exchange(
      request.method,
      request.url,
      request.query as Query,
      request.headers,
      request.ip,
      reply.raw,
      request,
    );
    const rest = wildcard ? ((request.params as { '*'?: string })['*'] ?? '') : '';
    return runHandler(handler, exchange, rest, (error) => app.azimdsFastPath.internal(error, reply.raw));
  };
  app.all(path, viaFastify);
  if (wildcard) app.all(`${path}/*`, viaFastify);
  app.azimdsFastPath.add(path, handler, wildcard);
}
