import type { Clock } from './clock.js';

/**
 * Per-source token buckets, like Azure's per-VM IMDS limits: each source may send `burst` requests at
 * once and then `ratePerSecond` on average. Buckets of sources that went quiet are dropped, so the map
 * stays small whatever the number of clients.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;

  constructor(ratePerSecond: number, burst: number, clock: Clock) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#clock = clock;
  }

  /** Takes one token for `source`; false when the source is over its limit. */
  take(source: string): boolean {
    const now = this.#clock.now();
    let bucket = this.#buckets.get(source);
    if (!bucket) {
      if (this.#buckets.size > 10_000) this.#sweep(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(source, bucket);
    } else {
      // A clock moved backwards (tests, control API) must not drain the bucket: elapsed time is never negative.
      const elapsed = Math.max(0, now - bucket.at);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (elapsed / 1000) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #sweep(now: number): void {
    const full = (this.#burst / this.#rate) * 1000;
    for (const [source, b] of this.#buckets) if (now - b.at > full) this.#buckets.delete(source);
  }
}
