import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Clock } from '../core/clock.js';
import { decodePercentOrKeep } from '../core/percent-decoding.js';
import type { RequestDetails } from './request-details.js';
import { requestVmName } from './request-vm.js';
import { shedOldest } from './ring-shedding.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The managed identity a token endpoint selected for this request (its client id), shown in the
     * request log. Token plugins set it with `setRequestIdentity()`.
     */
    azimdsIdentity: string | undefined;
    /** Id of the fault rule that applied to this request, shown in the request log. */
    azimdsFault: string | undefined;
  }
}

/**
 * Records which managed identity served `request` (use the identity's client id), for the request log.
 * Costs one property write.
 */
export function setRequestIdentity(request: FastifyRequest, identity: string): void {
  request.azimdsIdentity = identity;
}

/** One request as the control API and `azimds logs` show it. */
export interface RequestLogEntry {
  /** Position in the log, increasing by one per request; `GET /logs?after=<seq>` pages with it. */
  seq: number;
  /** When the request arrived, on the emulator's clock (ISO 8601). */
  time: string;
  /** Listener that served it (`imds`, `arc`, ...). */
  surface: string;
  method: string;
  path: string;
  /** Query parameters; values of secret-bearing ones (tokens, secrets, signatures) read `[redacted]`. */
  query: Record<string, string | string[]>;
  /** Client id of the managed identity a token endpoint selected, when it did. */
  identity?: string;
  /** The VM of a fleet the request was addressed to (docs/fleet.md); absent: the default VM. */
  vm?: string;
  /** Status sent; `null` when no answer was sent (see `end`). */
  status: number | null;
  /**
   * How a request without an answer ended (absent when one was sent): `reset`, a fault rule dropped the
   * connection; `client-closed`, the client went away first (e.g. while an injected latency was pending).
   */
  end?: RequestEnd;
  /** Time from arrival to the last byte of the response, in milliseconds. */
  latencyMs: number;
  /** Client address. */
  client: string;
  /** Id of the fault rule that applied, when one did. */
  fault?: string;
}

/** How a request that got no answer ended (RequestLogEntry.end). */
export type RequestEnd = 'reset' | 'client-closed';

/** What `entries()` returns, and how to ask for the next page. */
export interface RequestLogPage {
  entries: RequestLogEntry[];
  /** The newest seq recorded so far: pass it as `after` to get only newer entries. */
  last: number;
}

/** Query parameters whose value is a secret: never kept, even in memory. */
const SECRET_PARAMETER = /(?:secret|token|password|assertion|signature|^sig$|^code$|key)/i;
// A cheap pre-check on the raw URL: the full parse and rewrite runs only when this matches.
const MAY_HOLD_SECRET = /[?&][^=&#]*(?:secret|token|password|assertion|signature|sig|code|key)[^=&#]*=/i;

/** `url` with the values of secret-bearing query parameters replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0 || !MAY_HOLD_SECRET.test(url)) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = decodePercentOrKeep(pair.slice(0, eq), true);
      return SECRET_PARAMETER.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/**
 * Memory an entry holds besides its strings, in bytes (the slot object and its fields), for the
 * log's byte bound: an estimate, measured with heap snapshots on Node 24 (docs/performance.md).
 */
export const ENTRY_OVERHEAD_BYTES = 120;

/** Bytes an entry's own strings hold (their length: URLs and addresses are one-byte strings). */
function entryBytes(url: string, client: string | undefined): number {
  // `client` is undefined when the socket closed before the response ended (fastify's `request.ip`).
  return ENTRY_OVERHEAD_BYTES + url.length + (client?.length ?? 0);
}

// One preallocated record per slot, overwritten in place: recording allocates nothing.
class Slot {
  seq = 0;
  at = 0;
  surface = '';
  method = '';
  url = '';
  identity: string | undefined = undefined;
  status: number | null = null;
  latencyMs = 0;
  client = '';
  fault: string | undefined = undefined;
  bytes = 0;
  end: RequestEnd | undefined = undefined;
  vm: string | undefined = undefined;
}

/**
 * The request log: the last `size` requests the surfaces served, in a ring buffer, holding at most
 * `maxBytes` (the oldest entries go first when long URLs would exceed it). Recording is a few field
 * writes into a preallocated slot (URLs are redacted then, so no secret is kept); entries are built
 * and serialized only when read.
 *
 * @example
 * ```ts
 * const { entries } = handle.requestLog.entries();
 * assert.ok(entries.some((e) => e.path === '/metadata/identity/oauth2/token' && e.status === 200));
 * ```
 */
export class RequestLog {
  readonly #slots: Slot[];
  readonly #size: number;
  readonly #clock: Clock;
  readonly #waiters = new Set<() => void>();
  readonly #maxBytes: number;
  #seq = 0;
  // Entries at or below this seq were cleared.
  #floor = 0;
  // Bytes held by entries above #oldest; entries at or below #oldest were dropped for the byte bound.
  #bytes = 0;
  #oldest = 0;
  // The last URL recorded and its redacted form: a client repeating a request skips the redaction.
  #lastUrl = '';
  #lastRedacted = '';
  /**
   * The dashboard's details of the newest requests (server/request-details.ts), when kept: whoever
   * calls `record()` for a served request calls `details.keep()` with the seq just recorded.
   */
  details: RequestDetails | undefined = undefined;

  /**
   * `size`: entries kept (0: the log is off). `maxBytes`: memory the entries may hold, in bytes
   * (`ENTRY_OVERHEAD_BYTES` per entry plus its URL and client address); default: unbounded.
   */
  constructor(size: number, clock: Clock, maxBytes = Number.POSITIVE_INFINITY) {
    this.#size = size;
    this.#slots = new Array<Slot>(size);
    this.#clock = clock;
    this.#maxBytes = maxBytes;
  }

  /** Memory the kept entries hold, in bytes (as bounded by `maxBytes`). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Capacity; 0 means the log is off and `record()` does nothing. */
  get size(): number {
    return this.#size;
  }

  /** The newest seq recorded so far (0: none yet). */
  get last(): number {
    return this.#seq;
  }

  /** Records one served request. `latencyMs` is measured to the end of the response. */
  record(
    surface: string,
    method: string,
    url: string,
    client: string,
    status: number | null,
    latencyMs: number,
    identity: string | undefined,
    fault: string | undefined,
    end?: RequestEnd,
    vm?: string,
  ): void {
    if (this.#size === 0) return;
    const seq = ++this.#seq;
    const index = seq % this.#size;
    let slot = this.#slots[index];
    if (slot === undefined) {
      slot = new Slot();
      this.#slots[index] = slot;
    } else {
      this.#bytes -= slot.bytes; // 0 once dropped for the byte bound
    }
    if (url !== this.#lastUrl) {
      this.#lastUrl = url;
      this.#lastRedacted = redactUrl(url);
    }
    slot.seq = seq;
    slot.at = this.#clock.now() - latencyMs;
    slot.surface = surface;
    slot.method = method;
    slot.url = this.#lastRedacted;
    slot.bytes = entryBytes(slot.url, client);
    this.#bytes += slot.bytes;
    if (this.#bytes > this.#maxBytes) this.#shed(seq);
    slot.identity = identity;
    slot.status = status;
    slot.latencyMs = latencyMs;
    slot.client = client;
    slot.fault = fault;
    slot.end = end;
    slot.vm = vm;
    if (this.#waiters.size > 0) {
      for (const wake of this.#waiters) wake();
      this.#waiters.clear();
    }
  }

  // Drops the oldest entries (never the newest, `seq`) until the kept ones fit in maxBytes.
  #shed(seq: number): void {
    this.#oldest = shedOldest(
      this.#slots,
      this.#oldest,
      seq,
      () => this.#bytes > this.#maxBytes,
      (slot) => {
        this.#bytes -= slot.bytes;
        slot.url = '';
        slot.client = '';
        slot.bytes = 0;
      },
    );
  }

  /**
   * Entries newer than `after` (default: all kept), oldest first, at most `limit` (the newest ones).
   * `surface` keeps one listener's entries.
   */
  entries(options: { after?: number; limit?: number; surface?: string } = {}): RequestLogPage {
    const last = this.#seq;
    const oldest = Math.max(this.#floor, this.#oldest, last - this.#size, options.after ?? 0) + 1;
    const out: RequestLogEntry[] = [];
    for (let seq = oldest; seq <= last; seq++) {
      const slot = this.#slots[seq % this.#size];
      if (!slot || slot.seq !== seq) continue;
      if (options.surface !== undefined && slot.surface !== options.surface) continue;
      out.push(toEntry(slot));
    }
    const limit = options.limit;
    return { entries: limit !== undefined && out.length > limit ? out.slice(out.length - limit) : out, last };
  }

  /** Forgets every entry (seqs keep increasing). */
  clear(): void {
    this.#floor = this.#seq;
  }

  /**
   * Resolves when an entry newer than `after` exists, or after `timeoutMs`, or when `signal` aborts,
   * whichever comes first (a long poll).
   */
  waitForNewer(after: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#seq > after || timeoutMs <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }
}

function toEntry(slot: Slot): RequestLogEntry {
  const q = slot.url.indexOf('?');
  const query: Record<string, string | string[]> = {};
  if (q >= 0) {
    for (const [name, value] of new URLSearchParams(slot.url.slice(q + 1))) {
      const seen = query[name];
      query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
  }
  return {
    seq: slot.seq,
    time: new Date(slot.at).toISOString(),
    surface: slot.surface,
    method: slot.method,
    path: q >= 0 ? slot.url.slice(0, q) : slot.url,
    query,
    ...(slot.identity === undefined ? {} : { identity: slot.identity }),
    ...(slot.vm === undefined ? {} : { vm: slot.vm }),
    status: slot.status,
    ...(slot.end === undefined ? {} : { end: slot.end }),
    latencyMs: Math.round(slot.latencyMs * 100) / 100,
    client: slot.client,
    ...(slot.fault === undefined ? {} : { fault: slot.fault }),
  };
}

/**
 * Fastify calls its log controller when every response ends; this one records the request in the
 * request log instead of writing a log line, so the log costs no extra hook on the hot path.
 */
export class RequestLogController extends LogController {
  readonly #surface: string;
  readonly #log: RequestLog;

  constructor(surface: string, log: RequestLog) {
    super({ disableRequestLogging: true });
    this.#surface = surface;
    this.#log = log;
  }

  override requestCompleted(
    _error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    this.#log.record(
      this.#surface,
      request.method,
      request.url,
      request.ip,
      reply.statusCode,
      reply.elapsedTime,
      request.azimdsIdentity,
      request.azimdsFault,
      undefined,
      requestVmName(request.raw),
    );
    // The request's detail for the dashboard (request-details.ts): references, redacted when read.
    const details = this.#log.details;
    if (details !== undefined && this.#log.size > 0) {
      const res = reply.raw;
      // A prepared response (server/reply.ts) is kept by reference; else fastify's headers are read.
      const headers = res.azimdsSent === undefined ? reply.getHeaders() : undefined;
      details.keep(this.#log.last, request.headers, request.body, res, headers);
    }
  }
}
