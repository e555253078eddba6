/**
 * The emulator's clock. Everything time-dependent (token lifetimes, scheduled events, rate limits,
 * attested timestamps) reads it, never `Date.now()`, so tests can move time.
 */
export interface Clock {
  /** Milliseconds since the epoch, as the emulated machine sees them. */
  now(): number;
}

/** Real time plus an offset that tests (or the control API) can move. */
export class EmulatorClock implements Clock {
  #offsetMs = 0;

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Moves the clock forward (or back, with a negative value) by `ms`. */
  advance(ms: number): void {
    this.#offsetMs += ms;
  }

  /** Sets the clock to `epochMs`; it keeps ticking from there. */
  set(epochMs: number): void {
    this.#offsetMs = epochMs - Date.now();
  }

  /** Back to real time. */
  reset(): void {
    this.#offsetMs = 0;
  }

  /** Current offset from real time, in milliseconds. */
  get offsetMs(): number {
    return this.#offsetMs;
  }
}
