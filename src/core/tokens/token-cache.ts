import type { Clock } from '../clock.js';
import type { AccessToken, TokenProvider, TokenRequest, TokenResult } from './provider.js';

export interface TokenCacheOptions {
  clock: Clock;
  /** Re-fetch when fewer than this many seconds remain (capped at half the token's lifetime). */
  refreshBeforeSeconds: number;
  /** Entries kept at most; the oldest go first. Requests name arbitrary resources, so the cache is bounded. */
  maxEntries?: number;
}

interface Entry {
  token?: AccessToken;
  pending?: Promise<TokenResult>;
}

/**
 * Caches tokens per (identity, resource) in front of any `TokenProvider`, as IMDS does: every caller
 * gets the same token until it nears expiry, then the next request fetches a new one. Concurrent
 * requests for the same pair share one call to the source; failures are not cached; `bypassCache`
 * fetches a fresh token and caches it.
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
    const pending = this.#fetch(request).then((result) => {
      if (target.pending === pending) delete target.pending;
      if (result.ok) target.token = result.token;
      return result;
    });
    target.pending = pending;
    return pending;
  }

  /** Forgets every cached token (e.g. after the identities changed). */
  clear(): void {
    this.#entries.clear();
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
