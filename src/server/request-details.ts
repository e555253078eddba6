import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { KeyStore } from '../core/tokens/key-store.js';
import { summarizeToken, type TokenSummary } from '../core/tokens/token-summary.js';
import { redactUrl } from './request-log.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Files this request's detail (request-details.ts) under the request log's seq; the request log's
     * controller calls it right after recording the request.
     */
    azimdsDetail: ((seq: number) => void) | undefined;
  }
}

/** A JWT seen in a request or its answer, as the log keeps it: decoded, never the token. */
export interface LoggedToken extends TokenSummary {
  /** Where it was: `request Authorization`, `response access_token`, ... */
  readonly where: string;
}

/**
 * What the dashboard shows when a request of the log is opened: headers, body and answer, with every
 * secret replaced by `[redacted]` and every JWT replaced by `[token]` and decoded into `tokens`.
 */
export interface RequestDetail {
  readonly seq: number;
  readonly request: {
    readonly headers: Readonly<Record<string, string>>;
    /** The body as text (at most `BODY_LIMIT` characters), secrets redacted; absent when empty. */
    readonly body?: string;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: string;
  };
  readonly tokens: readonly LoggedToken[];
}

/** Longest body kept, in characters; the rest is cut and marked. */
const BODY_LIMIT = 8192;
/** Header names whose values are secrets (bearer tokens are decoded first). */
const SECRET_HEADER = /authorization|secret|cookie|identity-header|token|api-key|signature/i;
/** JSON member names whose values are secrets: tokens, secrets, Key Vault secret values. */
const SECRET_MEMBER = /(?:^|_)token$|secret|password|assertion|signature|^value$|^key$|^code$/i;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/;
// A cheap pre-check on JSON text: the parse and rewrite run only when a member may hold a secret.
const MAY_HOLD_SECRET = /token"|secret|password|assertion|signature|"value"|"key"|"code"/i;

/**
 * What is kept per request until read: header objects and response bytes without secrets are kept by
 * reference (the surfaces' prepared responses are shared constants, so this costs nothing); anything
 * that held a secret or a token is already a cleaned copy.
 */
interface Captured {
  readonly seq: number;
  readonly requestHeaders: Readonly<Record<string, unknown>>;
  readonly requestBody: string | undefined;
  readonly status: number;
  readonly responseHeaders: Readonly<Record<string, unknown>>;
  readonly responseBody: string | Buffer | undefined;
  readonly tokens: readonly LoggedToken[];
}

/**
 * The detail of the last `size` requests, by request log seq (a bounded map: the oldest go first).
 * Captured by `requestDetailsPlugin` when a response is written; read by `GET /logs/:seq`.
 */
export class RequestDetails {
  readonly #size: number;
  readonly #bySeq = new Map<number, Captured>();

  constructor(size: number) {
    this.#size = size;
  }

  /** Capacity; 0: no detail is captured. */
  get size(): number {
    return this.#size;
  }

  /** Keeps a captured request (its seq is the request log's). */
  keep(captured: Captured): void {
    if (this.#size === 0) return;
    this.#bySeq.set(captured.seq, captured);
    if (this.#bySeq.size > this.#size) this.#bySeq.delete(this.#bySeq.keys().next().value as number);
  }

  get(seq: number): RequestDetail | undefined {
    const captured = this.#bySeq.get(seq);
    return captured && detailOf(captured);
  }

  /** Details kept, oldest first. */
  all(): RequestDetail[] {
    return [...this.#bySeq.values()].map(detailOf);
  }

  clear(): void {
    this.#bySeq.clear();
  }
}

function headerStrings(headers: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function detailOf(c: Captured): RequestDetail {
  const requestBody = bodyText(c.requestBody);
  const responseBody = bodyText(c.responseBody);
  return {
    seq: c.seq,
    request: {
      headers: headerStrings(c.requestHeaders),
      ...(requestBody === undefined ? {} : { body: requestBody }),
    },
    response: {
      status: c.status,
      headers: headerStrings(c.responseHeaders),
      ...(responseBody === undefined ? {} : { body: responseBody }),
    },
    tokens: c.tokens,
  };
}

const NO_TOKENS: readonly LoggedToken[] = [];

function bodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  const text = Buffer.isBuffer(body)
    ? body.toString('utf8', 0, Math.min(body.length, BODY_LIMIT + 1))
    : typeof body === 'string'
      ? body
      : JSON.stringify(body);
  if (text === '') return undefined;
  return text.length > BODY_LIMIT ? `${text.slice(0, BODY_LIMIT)}… [cut]` : text;
}

/** Redacts and decodes: JSON bodies member by member, form bodies parameter by parameter. */
function cleanBody(text: string | undefined, where: string, found: (where: string, token: string) => void) {
  if (text === undefined) return undefined;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    if (!MAY_HOLD_SECRET.test(text)) return text;
    try {
      const walk = (value: unknown, path: string): unknown => {
        if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
        if (value === null || typeof value !== 'object') return value;
        const out: Record<string, unknown> = {};
        for (const [name, member] of Object.entries(value)) {
          if (SECRET_MEMBER.test(name) && typeof member === 'string') {
            const isJwt = JWT.test(member);
            if (isJwt) found(`${where} ${path}${name}`, member);
            out[name] = isJwt ? '[token]' : '[redacted]';
          } else out[name] = walk(member, `${path}${name}.`);
        }
        return out;
      };
      return JSON.stringify(walk(JSON.parse(text), ''));
    } catch {
      // Not JSON after all (or cut): fall through to the form rules.
    }
  }
  if (/^[\w.%+-]+=/.test(trimmed)) {
    for (const pair of trimmed.split('&')) {
      const [name = '', value = ''] = pair.split('=');
      const decoded = decodeURIComponent(value.replace(/\+/g, ' '));
      if (JWT.test(decoded) && SECRET_MEMBER.test(name)) found(`${where} ${name}`, decoded);
    }
    return redactUrl(`?${trimmed}`).slice(1);
  }
  return text;
}

function cleanHeaders(
  headers: Readonly<Record<string, unknown>>,
  where: string,
  found: (where: string, token: string) => void,
): Readonly<Record<string, unknown>> {
  let secret = false;
  for (const name in headers) {
    if (SECRET_HEADER.test(name)) {
      secret = true;
      break;
    }
  }
  if (!secret) return headers;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : String(value);
    if (!SECRET_HEADER.test(name)) {
      out[name] = text;
      continue;
    }
    const bearer = /^bearer\s+(\S+)$/i.exec(text)?.[1];
    if (bearer !== undefined && JWT.test(bearer)) {
      found(`${where} ${name}`, bearer);
      out[name] = 'Bearer [token]';
    } else out[name] = '[redacted]';
  }
  return out;
}

/**
 * A root-level plugin for every Azure surface's listener: it watches the response being written (the
 * surfaces write prepared bytes straight to the socket, server/reply.ts, so no onSend hook sees them),
 * builds the request's detail (redacted, tokens decoded against `keys`) and hands the request log's
 * controller a callback that keeps it under the entry's seq. Registered only when `details.size > 0`.
 * A request a fault rule answers in its own onRequest hook (before this one) keeps no detail.
 */
export function requestDetailsPlugin(details: RequestDetails, keys: KeyStore): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    app.decorateRequest('azimdsDetail', undefined);
    app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const res = reply.raw;
      const writeHead = res.writeHead;
      const end = res.end;
      let headed: unknown;
      res.writeHead = function (this: typeof res, ...args: unknown[]) {
        headed = args.find((a) => a !== null && typeof a === 'object');
        return (writeHead as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.writeHead;
      res.end = function (this: typeof res, ...args: unknown[]) {
        const chunk = args[0];
        // Prepared responses (server/reply.ts) pass every header to writeHead: keep that object as is.
        const set = res.getHeaders();
        const given =
          headed !== undefined && !Array.isArray(headed) ? (headed as Record<string, unknown>) : undefined;
        request.azimdsDetail = capture(
          request,
          res.statusCode,
          given && Object.keys(set).length === 0 ? given : { ...set, ...given },
          typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : undefined,
        );
        return (end as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.end;
      done();
    });
  };

  // Cleaned forms of shared response bytes and header objects (prepared responses are constants).
  const cleanedBodies = new WeakMap<Buffer, { body: string | Buffer; tokens: readonly LoggedToken[] }>();
  const cleanedHeaders = new WeakMap<
    object,
    { headers: Readonly<Record<string, unknown>>; tokens: readonly LoggedToken[] }
  >();

  const capture = (
    request: FastifyRequest,
    status: number,
    headers: Readonly<Record<string, unknown>>,
    payload: string | Buffer | undefined,
  ): ((seq: number) => void) => {
    const tokens: LoggedToken[] = [];
    const found = (where: string, token: string) => {
      const summary = summarizeToken(token, keys.publicKeys());
      if (summary) tokens.push({ where, ...summary });
    };
    const requestHeaders = cleanHeaders(request.headers, 'request', found);
    const requestBody =
      request.body === undefined ? undefined : cleanBody(bodyText(request.body), 'request', found);
    let responseHeaders = cleanedHeaders.get(headers);
    if (responseHeaders === undefined) {
      const before = tokens.length;
      responseHeaders = {
        headers: cleanHeaders(headers, 'response', found),
        tokens: tokens.slice(before),
      };
      cleanedHeaders.set(headers, responseHeaders);
    } else if (responseHeaders.tokens.length > 0) tokens.push(...responseHeaders.tokens);
    let responseBody: string | Buffer | undefined;
    if (Buffer.isBuffer(payload)) {
      let cleaned = cleanedBodies.get(payload);
      if (cleaned === undefined) {
        const before = tokens.length;
        const text = bodyText(payload);
        const clean = cleanBody(text, 'response', found);
        // Unchanged text: keep the bytes (decoded when read); else the cleaned copy.
        cleaned = {
          body: clean === text ? payload : (clean ?? payload),
          tokens: tokens.slice(before),
        };
        cleanedBodies.set(payload, cleaned);
      } else if (cleaned.tokens.length > 0) tokens.push(...cleaned.tokens);
      responseBody = cleaned.body;
    } else responseBody = cleanBody(bodyText(payload), 'response', found);
    const kept = tokens.length > 0 ? tokens : NO_TOKENS;
    return (seq) =>
      details.keep({
        seq,
        requestHeaders,
        requestBody,
        status,
        responseHeaders: responseHeaders.headers,
        responseBody,
        tokens: kept,
      });
  };
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}
