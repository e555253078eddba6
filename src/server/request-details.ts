import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { decodePercentOrKeep } from '../core/percent-decoding.js';
import type { SigningKey } from '../core/tokens/keys.js';
import { summarizeToken, type TokenSummary } from '../core/tokens/token-summary.js';
import { redactUrl } from './request-log.js';
import { shedOldest } from './ring-shedding.js';

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
    /** Status sent; `null` when no answer was sent. */
    readonly status: number | null;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: string;
  };
  readonly tokens: readonly LoggedToken[];
}

/** What a detail shows in place of content azimds could not read for display. */
const UNREADABLE = '[not shown: azimds could not read this request for display]';

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
 * Bytes a kept request counts besides its bodies and request headers (the slot, the answer's header
 * object, which azimds builds and mostly shares): an estimate for the byte bound.
 */
export const DETAIL_OVERHEAD_BYTES = 200;

// One record per slot, created once and then overwritten in place: keeping a request allocates
// nothing. It holds references only (the request's header object and body, the prepared response
// sent); the redacted detail is built from them when first read, then cached here.
class Slot {
  seq = 0;
  requestHeaders: IncomingHttpHeaders | undefined = undefined;
  requestBody: unknown = undefined;
  status: number | null = null;
  responseHeaders: Readonly<Record<string, unknown>> | undefined = undefined;
  responseBody: Buffer | undefined = undefined;
  bytes = 0;
  detail: RequestDetail | undefined = undefined;
}

/**
 * The detail of the newest `size` requests, by request log seq, holding at most `maxBytes` (the oldest
 * go first). Both paths of every listener call `keep()` right after `RequestLog.record()` (the request
 * log's controller on fastify's path, the listener's dispatcher on the fast path): it stores references
 * in a ring of reused records, a few field writes. The redaction and token decoding run when the dashboard
 * reads a request (`get()`, `GET /logs/:seq`), once: the detail is cached in its slot. Tokens are
 * verified against `keys()` (the key store's published keys) at that first read.
 *
 * @example
 * ```ts
 * const detail = state.requestDetails.get(state.requestLog.last);
 * detail?.tokens[0]?.claims.aud; // 'https://vault.azure.net'; the token itself is never in `detail`
 * ```
 */
export class RequestDetails {
  readonly #size: number;
  readonly #slots: Slot[];
  readonly #keys: () => readonly SigningKey[];
  readonly #maxBytes: number;
  #bytes = 0;
  // The newest seq kept; seqs at or below #oldest were dropped (byte bound) or cleared.
  #last = 0;
  #oldest = 0;
  // Cleaned forms of shared response bytes and header objects (prepared responses are constants, and
  // the token cache sends the same bytes until the token nears expiry): cleaned once, not per read.
  readonly #cleanedBodies = new WeakMap<
    Buffer,
    { body: string | undefined; tokens: readonly LoggedToken[] }
  >();
  readonly #cleanedHeaders = new WeakMap<
    object,
    { headers: Readonly<Record<string, string>>; tokens: readonly LoggedToken[] }
  >();

  /**
   * `size`: requests kept (0: none, `keep()` returns at once). `keys`: the published signing keys
   * tokens are verified against. `maxBytes`: memory the kept requests may hold, in bytes.
   */
  constructor(size: number, keys: () => readonly SigningKey[], maxBytes = Number.POSITIVE_INFINITY) {
    this.#size = size;
    this.#slots = new Array<Slot>(size);
    this.#keys = keys;
    this.#maxBytes = maxBytes;
  }

  /** Capacity; 0: no detail is kept. */
  get size(): number {
    return this.#size;
  }

  /** Memory the kept requests hold, in bytes (as bounded by `maxBytes`). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps references to what request `seq` (the request log's) carried and what was sent: `sent` is the
   * prepared response written (`ServerResponse.azimdsSent`), else the response's status and `headers`
   * (default: those set on `res`; no body kept). Called once per request, right after
   * `RequestLog.record()`.
   */
  keep(
    seq: number,
    requestHeaders: IncomingHttpHeaders,
    requestBody: unknown,
    res: ServerResponse,
    headers?: Readonly<Record<string, unknown>>,
  ): void {
    if (this.#size === 0) return;
    const index = seq % this.#size;
    let slot = this.#slots[index];
    if (slot === undefined) {
      slot = new Slot();
      this.#slots[index] = slot;
    } else this.#bytes -= slot.bytes; // 0 once dropped
    const sent = res.azimdsSent;
    slot.seq = seq;
    slot.requestHeaders = requestHeaders;
    slot.requestBody = requestBody;
    slot.detail = undefined;
    let bytes =
      DETAIL_OVERHEAD_BYTES + headerBytes(requestHeaders, res.req?.rawHeaders) + bodyBytes(requestBody);
    if (sent !== undefined) {
      slot.status = sent.status;
      slot.responseHeaders = sent.headers;
      slot.responseBody = sent.body;
      bytes += sent.body.length;
    } else {
      slot.status = res.headersSent ? res.statusCode : null;
      slot.responseHeaders = res.headersSent ? (headers ?? res.getHeaders()) : NO_HEADERS;
      slot.responseBody = undefined;
    }
    slot.bytes = bytes;
    this.#bytes += bytes;
    this.#last = seq;
    if (this.#bytes > this.#maxBytes) this.#shed(seq);
  }

  // Drops the oldest requests (never the newest, `seq`) until the kept ones fit in maxBytes.
  #shed(seq: number): void {
    this.#oldest = shedOldest(
      this.#slots,
      this.#oldest,
      seq,
      () => this.#bytes > this.#maxBytes,
      (slot) => this.#drop(slot),
    );
  }

  #drop(slot: Slot): void {
    this.#bytes -= slot.bytes;
    slot.bytes = 0;
    slot.seq = 0;
    slot.requestHeaders = undefined;
    slot.requestBody = undefined;
    slot.responseHeaders = undefined;
    slot.responseBody = undefined;
    slot.detail = undefined;
  }

  /**
   * The detail of request `seq` (redacted, tokens decoded and verified), built at the first read and
   * cached; undefined when it is not kept (too old, or the request ended without one).
   */
  get(seq: number): RequestDetail | undefined {
    if (this.#size === 0 || seq <= this.#oldest || seq > this.#last) return undefined;
    const slot = this.#slots[seq % this.#size];
    if (slot === undefined || slot.seq !== seq) return undefined;
    if (slot.detail !== undefined) return slot.detail;
    let detail: RequestDetail;
    try {
      detail = this.#build(slot);
    } catch {
      // A request azimds cannot take apart for display must not cost the whole panel: shown without
      // its headers and bodies (nothing of it is shown, so nothing can leak).
      detail = {
        seq: slot.seq,
        request: { headers: {}, body: UNREADABLE },
        response: { status: slot.status, headers: {}, body: UNREADABLE },
        tokens: [],
      };
    }
    // The cached detail counts too (its text is at most a few BODY_LIMITs); past the bound it is
    // returned without being cached.
    const extra = JSON.stringify(detail).length;
    if (this.#bytes + extra <= this.#maxBytes) {
      slot.detail = detail;
      slot.bytes += extra;
      this.#bytes += extra;
    }
    return detail;
  }

  /** Details kept, oldest first (each built now if it was not read yet). */
  all(): RequestDetail[] {
    const out: RequestDetail[] = [];
    for (let seq = Math.max(this.#oldest, this.#last - this.#size) + 1; seq <= this.#last; seq++) {
      const detail = this.get(seq);
      if (detail !== undefined) out.push(detail);
    }
    return out;
  }

  /** Forgets every kept request. */
  clear(): void {
    for (const slot of this.#slots) if (slot !== undefined) this.#drop(slot);
    this.#oldest = this.#last;
  }

  #build(slot: Slot): RequestDetail {
    const tokens: LoggedToken[] = [];
    const keys = this.#keys();
    const found = (where: string, token: string) => {
      const summary = summarizeToken(token, keys);
      if (summary) tokens.push({ where, ...summary });
    };
    const requestHeaders = cleanHeaders(slot.requestHeaders ?? {}, 'request', found);
    const requestBody = cleanBody(bodyText(slot.requestBody), 'request', found);
    const headers = slot.responseHeaders ?? {};
    let response = this.#cleanedHeaders.get(headers);
    if (response === undefined) {
      const own: LoggedToken[] = [];
      response = {
        headers: cleanHeaders(headers, 'response', (where, token) => {
          const summary = summarizeToken(token, keys);
          if (summary) own.push({ where, ...summary });
        }),
        tokens: own,
      };
      this.#cleanedHeaders.set(headers, response);
    }
    tokens.push(...response.tokens);
    let responseBody: string | undefined;
    const body = slot.responseBody;
    if (body !== undefined) {
      let cleaned = this.#cleanedBodies.get(body);
      if (cleaned === undefined) {
        const own: LoggedToken[] = [];
        cleaned = {
          body: cleanBody(bodyText(body), 'response', (where, token) => {
            const summary = summarizeToken(token, keys);
            if (summary) own.push({ where, ...summary });
          }),
          tokens: own,
        };
        this.#cleanedBodies.set(body, cleaned);
      }
      responseBody = cleaned.body;
      tokens.push(...cleaned.tokens);
    }
    return {
      seq: slot.seq,
      request: {
        headers: requestHeaders,
        ...(requestBody === undefined ? {} : { body: requestBody }),
      },
      response: {
        status: slot.status,
        headers: response.headers,
        ...(responseBody === undefined ? {} : { body: responseBody }),
      },
      tokens: tokens.length > 0 ? tokens : NO_TOKENS,
    };
  }
}

/** Bytes of a header object's names and values (string values; arrays counted by their items). */
/**
 * Bytes of a request's headers: summed over `raw` (Node's `rawHeaders`, names and values as received:
 * an array walk) when there is one, else over the header object (`inject()` requests).
 */
function headerBytes(headers: IncomingHttpHeaders, raw: readonly string[] | undefined): number {
  let bytes = 0;
  if (raw !== undefined && raw.length > 0) {
    for (let i = 0; i < raw.length; i++) bytes += (raw[i] as string).length;
    return bytes;
  }
  for (const name in headers) {
    const value = headers[name];
    bytes += name.length + (typeof value === 'string' ? value.length : 32);
  }
  return bytes;
}

function bodyBytes(body: unknown): number {
  if (body === undefined || body === null) return 0;
  if (Buffer.isBuffer(body)) return body.length;
  if (typeof body === 'string') return body.length;
  return 1024; // a parsed body (fastify's own parsers): counted as 1 KiB
}

const NO_TOKENS: readonly LoggedToken[] = [];
const NO_HEADERS: Readonly<Record<string, unknown>> = Object.freeze({});

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
      const decoded = decodePercentOrKeep(value, true);
      if (JWT.test(decoded) && SECRET_MEMBER.test(name)) found(`${where} ${name}`, decoded);
    }
    return redactUrl(`?${trimmed}`).slice(1);
  }
  return text;
}

/** Header names lower-cased, values as text; secret values redacted and bearer JWTs decoded (`found`). */
function cleanHeaders(
  headers: Readonly<Record<string, unknown>>,
  where: string,
  found: (where: string, token: string) => void,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [given, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name = given.toLowerCase();
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
