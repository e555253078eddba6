import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { AccessToken, TokenProvider, TokenRequest, TokenResult } from './provider.js';

export interface TokenCacheOptions {
  clock: Clock;
  /** Re-fetch when fewer than this many seconds remain (capped at half the token's lifetime). */
  refreshBeforeSeconds: number;
  /** Entries kept at most; the oldest go first. Requests name arbitrary resources, so the cache is bounded. */
  maxEntries?: number;
  /**
   * Bytes the cached tokens may hold at most (estimated, see `entryBytes`); the oldest go first. A
   * resource is the client's choice (12 KB ones make 100 KB entries), so entries alone do not bound memory.
   * Default 4 MiB: some 700 ordinary tokens (identity and resource pairs), far more than any test suite uses.
   */
  maxBytes?: number;
}

/** Default of `TokenCacheOptions.maxBytes`. */
export const DEFAULT_TOKEN_CACHE_BYTES = 4 * 1024 * 1024;

/**
 * Memory an entry costs, estimated: the key (identity + resource), the token and its resource, and the
 * response bodies endpoints serialize once per token (each holds the token and the resource again),
 * plus a fixed overhead for the objects and maps.
 */
export function entryBytes(key: string, token: AccessToken | undefined): number {
  const tokenBytes = token ? 3 * (token.accessToken.length + token.resource.length) : 0;
  return 2 * key.length + tokenBytes + 1024;
}

/** MSAL and the Azure SDKs treat a token with less than this many seconds left as expired. */
const USABLE_SECONDS = 300;

interface Entry {
  token?: AccessToken;
  pending?: Promise<TokenResult>;
  /** What `entryBytes` estimated when the token was stored. */
  bytes: number;
}

/**
 * Caches tokens per (identity, resource) in front of any `TokenProvider`, as IMDS does: every caller
 * gets the same token until it nears expiry, then the next request fetches a new one. Concurrent
 * requests for the same pair share one call to the source; failures are not cached; `bypassCache`
 * fetches a fresh token and caches it. When a refresh ahead of expiry fails upstream, the cached token
 * is served while it stays usable (see `#usable`).
 */
export class CachingTokenProvider implements TokenProvider {
  readonly name: string;
  readonly #inner: TokenProvider;
  readonly #options: TokenCacheOptions;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  // The entry `peek` found last and its key's parts (see `peek`).
  #last: Entry | undefined = undefined;
  #lastPrincipal = '';
  #lastResource = '';

  constructor(inner: TokenProvider, options: TokenCacheOptions) {
    this.name = inner.name;
    this.#inner = inner;
    this.#options = options;
  }

  getToken(request: TokenRequest): Promise<TokenResult> {
    const key = `${request.identity.principalId}\n${request.resource}`;
    let entry = this.#entries.get(key);
    // MSAL's revocation signal refreshes only the token it names (a stale or foreign hash changes nothing).
    const bypass =
      request.bypassCache === true ||
      (request.refreshIfSha256 !== undefined &&
        entry?.token !== undefined &&
        sha256Hex(entry.token.accessToken) === request.refreshIfSha256.toLowerCase());
    if (!bypass && entry?.token && this.#fresh(entry.token)) {
      return Promise.resolve({ ok: true, token: entry.token });
    }
    if (!bypass && entry?.pending) return entry.pending;
    if (!entry) {
      if (this.#entries.size >= (this.#options.maxEntries ?? 10_000)) this.#evict();
      entry = { bytes: entryBytes(key, undefined) };
      this.#entries.set(key, entry);
      this.#bytes += entry.bytes;
    }
    const target = entry;
    const previous = entry.token;
    const pending = this.#fetch(request).then((result): TokenResult => {
      if (target.pending === pending) delete target.pending;
      if (result.ok) this.#store(key, target, result.token);
      // A refresh ahead of expiry failed (Entra down, az slow): the cached token is still good for a
      // while, so clients keep working; the next request tries the source again.
      else if (result.failure.code === 'upstream' && !bypass && previous && this.#usable(previous)) {
        return { ok: true, token: previous };
      }
      return result;
    });
    target.pending = pending;
    return pending;
  }

  /** The cached token for the request if it is still good (synchronous; undefined on `bypassCache`). */
  peek(request: TokenRequest): AccessToken | undefined {
    if (request.bypassCache) return undefined;
    const principalId = request.identity.principalId;
    const resource = request.resource;
    // A client repeating its request (the common case under load) hits the last entry looked up
    // without building and hashing the key string; `#delete` and `clear` forget it.
    let entry = this.#last;
    if (entry === undefined || principalId !== this.#lastPrincipal || resource !== this.#lastResource) {
      entry = this.#entries.get(`${principalId}\n${resource}`);
      if (entry === undefined) return undefined;
      this.#last = entry;
      this.#lastPrincipal = principalId;
      this.#lastResource = resource;
    }
    const token = entry.token;
    return token && this.#fresh(token) ? token : undefined;
  }

  /** Forgets every cached token (e.g. after the identities changed). */
  clear(): void {
    this.#entries.clear();
    this.#last = undefined;
    this.#bytes = 0;
  }

  /** Estimated bytes held (see `entryBytes`), for tests and diagnostics. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Stores `token` in `entry` (still in the map unless evicted meanwhile) and keeps the byte bound. */
  #store(key: string, entry: Entry, token: AccessToken): void {
    entry.token = token;
    if (this.#entries.get(key) !== entry) return;
    const bytes = entryBytes(key, token);
    this.#bytes += bytes - entry.bytes;
    entry.bytes = bytes;
    const max = this.#options.maxBytes ?? DEFAULT_TOKEN_CACHE_BYTES;
    if (this.#bytes <= max) return;
    // Oldest first; the entry just stored goes last, and only if it alone is over the bound.
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= max) break;
      if (e === entry && this.#entries.size > 1) continue;
      this.#delete(k, e);
    }
  }

  #delete(key: string, entry: Entry): void {
    this.#entries.delete(key);
    if (this.#last === entry) this.#last = undefined;
    this.#bytes -= entry.bytes;
  }

  /** Still worth handing out: more than 5 minutes left (MSAL discards tokens with less), or a quarter of a short lifetime. */
  #usable(token: AccessToken): boolean {
    const remaining = token.expiresOn - this.#options.clock.now() / 1000;
    return remaining > Math.min(USABLE_SECONDS, token.lifetimeSeconds / 4);
  }

  #fresh(token: AccessToken): boolean {
    const remaining = token.expiresOn - this.#options.clock.now() / 1000;
    return remaining > Math.min(this.#options.refreshBeforeSeconds, token.lifetimeSeconds / 2);
  }

  async #fetch(request: TokenRequest): Promise<TokenResult> {
    try {
      return await this.#inner.getToken(request);
    } catch (error) {
      return {
        ok: false,
        failure: { code: 'upstream', description: `${this.#inner.name}: ${(error as Error).message}` },
      };
    }
  }

  /** Drops expired entries; if none were, the oldest tenth. */
  #evict(): void {
    const now = this.#options.clock.now() / 1000;
    for (const [key, entry] of this.#entries) {
      if (!entry.pending && (!entry.token || entry.token.expiresOn <= now)) this.#delete(key, entry);
    }
    if (this.#entries.size < (this.#options.maxEntries ?? 10_000)) return;
    let drop = Math.ceil(this.#entries.size / 10);
    for (const key of this.#entries.keys()) {
      if (drop-- <= 0) break;
      this.#delete(key, this.#entries.get(key) as Entry);
    }
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
