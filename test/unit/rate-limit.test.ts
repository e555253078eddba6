import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EmulatorClock } from '../../src/core/clock.js';
import { RateLimiter } from '../../src/core/rate-limit.js';

describe('per-source rate limiter', () => {
  test('allows a burst, refuses the next request, and refills at the configured rate', () => {
    const clock = new EmulatorClock();
    const limiter = new RateLimiter(5, 5, clock);
    for (let i = 0; i < 5; i++) assert.equal(limiter.take('10.0.0.4'), true);
    assert.equal(limiter.take('10.0.0.4'), false);
    clock.advance(200);
    assert.equal(limiter.take('10.0.0.4'), true);
    assert.equal(limiter.take('10.0.0.4'), false);
  });

  test('keeps separate buckets per source', () => {
    const limiter = new RateLimiter(1, 1, new EmulatorClock());
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), false);
    assert.equal(limiter.take('b'), true);
  });

  test('a clock moved backwards does not leave a source throttled', () => {
    const clock = new EmulatorClock();
    const limiter = new RateLimiter(5, 1, clock);
    assert.equal(limiter.take('a'), true);
    clock.advance(-60_000);
    assert.equal(limiter.take('a'), false);
    clock.advance(200);
    assert.equal(limiter.take('a'), true);
  });
});
