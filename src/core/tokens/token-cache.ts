import type { Clock } from '../clock.js';
import type { AccessToken, TokenProvider, TokenRequest, TokenResult } from './provider.js';

export interface TokenCacheOptions {
  clock: Clock;
  /** Re-fetch when fewer than this many seconds remain (capped at half the token's lifetime). */
  refreshBeforeSeconds: number;
  /** Entries kept at most; the oldest go first. Requests name arbitrary resources, so the cache is bounded. */
  maxEntries?: number;
}

/** MSAL and the Azure SDKs treat a token with less than this many seconds left as expired. */
const USABLE_SECONDS = 300;

interface Entry {
  token?: AccessToken;
  pending?: Promise<TokenResult>;
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

  constructor(inner: TokenProvider, options: TokenCacheOptions) {
    this.name = inner.name;
    this.#inner = inner;
    this.#options = options;
  }

  getToken(request: TokenRequest): Promise<TokenResult> {
    const key = `${request.identity.principalId}\n${request.resource}`;
    let entry = this.#entries.get(key);
    if (!request.bypassCache && entry?.token && this.#fresh(entry.token)) {
      return Promise.resolve({ ok: true, token: entry.token });
    }
    if (!request.bypassCache && entry?.pending) return entry.pending;
    if (!entry) {
      if (this.#entries.size >= (this.#options.maxEntries ?? 10_000)) this.#evict();
      entry = {};
      this.#entries.set(key, entry);
    }
    const target = entry;
    const previous = entry.token;
    const pending = this.#fetch(request).then((result): TokenResult => {
      if (target.pending === pending) delete target.pending;
      if (result.ok) target.token = result.token;
      // A refresh ahead of expiry failed (Entra down, az slow): the cached token is still good for a
      // while, so clients keep working; the next request tries the source again.
      else if (
        result.failure.code === 'upstream' &&
        !request.bypassCache &&
        previous &&
        this.#usable(previous)
      ) {
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
    const token = this.#entries.get(`${request.identity.principalId}\n${request.resource}`)?.token;
    return token && this.#fresh(token) ? token : undefined;
  }

  /** Forgets every cached token (e.g. after the identities changed). */
  clear(): void {
    this.#entries.clear();
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
      if (!entry.pending && (!entry.token || entry.token.expiresOn <= now)) this.#entries.delete(key);
    }
    if (this.#entries.size < (this.#options.maxEntries ?? 10_000)) return;
    let drop = Math.ceil(this.#entries.size / 10);
    for (const key of this.#entries.keys()) {
      if (drop-- <= 0) break;
      this.#entries.delete(key);
    }
  }
}
