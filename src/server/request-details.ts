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

/**
 * The detail of the last `size` requests, by request log seq (a bounded map: the oldest go first).
 * Built by `captureRequestDetail` when a response is sent; read by `GET /logs/:seq` on the control API.
 */
export class RequestDetails {
  readonly #size: number;
  readonly #bySeq = new Map<number, RequestDetail>();

  constructor(size: number) {
    this.#size = size;
  }

  /** Capacity; 0: no detail is captured. */
  get size(): number {
    return this.#size;
  }

  /** Keeps `detail` (its seq is the request log's). */
  keep(detail: RequestDetail): void {
    if (this.#size === 0) return;
    this.#bySeq.set(detail.seq, detail);
    if (this.#bySeq.size > this.#size) this.#bySeq.delete(this.#bySeq.keys().next().value as number);
  }

  get(seq: number): RequestDetail | undefined {
    return this.#bySeq.get(seq);
  }

  /** Details kept, oldest first. */
  all(): RequestDetail[] {
    return [...this.#bySeq.values()];
  }

  clear(): void {
    this.#bySeq.clear();
  }
}

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
  headers: Record<string, unknown>,
  where: string,
  found: (where: string, token: string) => void,
): Record<string, string> {
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
        request.azimdsDetail = capture(
          request,
          res.statusCode,
          {
            ...res.getHeaders(),
            ...(Array.isArray(headed) ? {} : (headed as Record<string, unknown> | undefined)),
          },
          typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : undefined,
        );
        return (end as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.end;
      done();
    });
  };

  const capture = (
    request: FastifyRequest,
    status: number,
    headers: Record<string, unknown>,
    payload: string | Buffer | undefined,
  ): ((seq: number) => void) => {
    const tokens: LoggedToken[] = [];
    const found = (where: string, token: string) => {
      const summary = summarizeToken(token, keys.publicKeys());
      if (summary) tokens.push({ where, ...summary });
    };
    const requestHeaders = cleanHeaders(request.headers, 'request', found);
    const requestBody = cleanBody(bodyText(request.body), 'request', found);
    const responseHeaders = cleanHeaders(headers, 'response', found);
    const responseBody = cleanBody(bodyText(payload), 'response', found);
    return (seq) =>
      details.keep({
        seq,
        request: { headers: requestHeaders, ...(requestBody === undefined ? {} : { body: requestBody }) },
        response: {
          status,
          headers: responseHeaders,
          ...(responseBody === undefined ? {} : { body: responseBody }),
        },
        tokens,
      });
  };
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}
