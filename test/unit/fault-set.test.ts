import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EmulatorClock } from '../../src/core/clock.js';
import { FaultSet } from '../../src/core/faults/fault-set.js';
import { AzimdsError } from '../../src/errors.js';

const TOKEN = '/metadata/identity/oauth2/token';

/** A FaultSet whose random numbers come from `rolls`, in order. */
function faultSet(rolls: number[] = []) {
  const clock = new EmulatorClock();
  let i = 0;
  const faults = new FaultSet({ clock, random: () => rolls[i++] ?? 0.999 });
  return { faults, clock };
}

const hit = (faults: FaultSet, path = TOKEN, source = '10.0.0.4', surface = 'imds', method = 'GET') =>
  faults.match(surface, method, path, source);

describe('fault rules: how often', () => {
  test('a rule without times applies to every matching request', () => {
    const { faults } = faultSet();
    faults.add({ path: TOKEN, status: 500 });
    for (let n = 0; n < 5; n++) assert.equal(hit(faults)?.status, 500);
    assert.equal(faults.list()[0]?.hits, 5);
    assert.equal(faults.active, true);
  });

  test('a times: 1 rule applies once, then expires and stays listed', () => {
    const { faults } = faultSet();
    faults.add({ path: TOKEN, status: 503, times: 1 });
    assert.equal(hit(faults)?.status, 503);
    assert.equal(hit(faults), undefined);
    assert.equal(faults.active, false);
    assert.deepEqual(
      faults.list().map((r) => [r.hits, r.remaining, r.expired]),
      [[1, 0, true]],
    );
  });

  test('a times: N rule applies N times', () => {
    const { faults } = faultSet();
    faults.add({ path: TOKEN, status: 429, times: 3 });
    const statuses = Array.from({ length: 5 }, () => hit(faults)?.status);
    assert.deepEqual(statuses, [429, 429, 429, undefined, undefined]);
  });

  test('a probability rule applies when the random number falls below it', () => {
    const { faults } = faultSet([0.1, 0.9, 0.49, 0.5]);
    faults.add({ path: TOKEN, status: 500, probability: 0.5 });
    const statuses = Array.from({ length: 4 }, () => hit(faults)?.status);
    assert.deepEqual(statuses, [500, undefined, 500, undefined]);
    assert.equal(faults.list()[0]?.hits, 2);
  });

  test('a probability miss lets the next matching rule try', () => {
    const { faults } = faultSet([0.9]);
    faults.add({ path: TOKEN, status: 500, probability: 0.2 });
    faults.add({ path: TOKEN, status: 410 });
    assert.equal(hit(faults)?.status, 410);
  });

  test('probability and times combine: only applied requests count towards times', () => {
    const { faults } = faultSet([0.9, 0.1, 0.9, 0.1, 0.1]);
    faults.add({ path: TOKEN, status: 503, probability: 0.5, times: 2 });
    const statuses = Array.from({ length: 5 }, () => hit(faults)?.status);
    assert.deepEqual(statuses, [undefined, 503, undefined, 503, undefined]);
  });

  test('the first matching rule wins', () => {
    const { faults } = faultSet();
    faults.add({ path: TOKEN, status: 404, times: 1 });
    faults.add({ path: '/metadata/*', status: 500 });
    assert.equal(hit(faults)?.status, 404);
    assert.equal(hit(faults)?.status, 500);
  });
});

describe('fault rules: which requests', () => {
  test('an exact path matches only itself', () => {
    const { faults } = faultSet();
    faults.add({ path: '/metadata/instance', status: 500 });
    assert.equal(hit(faults, '/metadata/instance')?.status, 500);
    assert.equal(hit(faults, '/metadata/instance/compute'), undefined);
    assert.equal(hit(faults, '/metadata/instances'), undefined);
  });

  test('a trailing * matches every path with that prefix', () => {
    const { faults } = faultSet();
    faults.add({ path: '/metadata/instance*', status: 500 });
    assert.equal(hit(faults, '/metadata/instance')?.status, 500);
    assert.equal(hit(faults, '/metadata/instance/compute/vmId')?.status, 500);
    assert.equal(hit(faults, '/metadata/versions'), undefined);
  });

  test('a * inside a pattern matches any characters, slashes included', () => {
    const { faults } = faultSet();
    faults.add({ path: '/metadata/*/token', status: 500 });
    assert.equal(hit(faults, TOKEN)?.status, 500);
    assert.equal(hit(faults, '/metadata/identity/token')?.status, 500);
    assert.equal(hit(faults, '/metadata/identity/token/x'), undefined);
  });

  test('a trailing slash on the request path is ignored, as IMDS ignores it (msal-node sends one)', () => {
    const { faults } = faultSet();
    faults.add({ path: TOKEN, status: 500 });
    faults.add({ path: '/metadata/*/info', status: 503 });
    assert.equal(hit(faults, `${TOKEN}/`)?.status, 500);
    assert.equal(hit(faults, '/metadata/identity/info/')?.status, 503);
    assert.equal(hit(faults, `${TOKEN}//`), undefined);
  });

  test('regex characters in a path are literal', () => {
    const { faults } = faultSet();
    faults.add({ path: '/a.b/*', status: 500 });
    assert.equal(hit(faults, '/a.b/c')?.status, 500);
    assert.equal(hit(faults, '/axb/c'), undefined);
  });

  test('a rule without path matches every path', () => {
    const { faults } = faultSet();
    faults.add({ status: 503 });
    assert.equal(hit(faults, '/anything')?.status, 503);
  });

  test('surface and method narrow a rule; method is case-insensitive', () => {
    const { faults } = faultSet();
    faults.add({ surface: 'arc', path: TOKEN, status: 500 });
    faults.add({ surface: 'imds', method: 'post', path: '/metadata/scheduledevents', status: 429 });
    assert.equal(hit(faults, TOKEN, 'x', 'imds'), undefined);
    assert.equal(hit(faults, TOKEN, 'x', 'arc')?.status, 500);
    assert.equal(hit(faults, '/metadata/scheduledevents', 'x', 'imds', 'GET'), undefined);
    assert.equal(hit(faults, '/metadata/scheduledevents', 'x', 'imds', 'POST')?.status, 429);
  });
});

describe('fault rules: what they do', () => {
  test("429 and 503 carry Retry-After 1 by default, or the rule's value", () => {
    const { faults } = faultSet();
    faults.add({ path: '/a', status: 429 });
    faults.add({ path: '/b', status: 503, retryAfter: 0 });
    faults.add({ path: '/c', status: 500 });
    assert.equal(hit(faults, '/a')?.retryAfter, 1);
    assert.equal(hit(faults, '/b')?.retryAfter, 0);
    assert.equal(hit(faults, '/c')?.retryAfter, undefined);
  });

  test('latency alone lets the request through after the delay', () => {
    const { faults } = faultSet();
    faults.add({ path: '/a', latencyMs: 250 });
    assert.deepEqual(hit(faults, '/a'), { id: 'f1', latencyMs: 250, kind: 'pass' });
  });

  test('reset destroys the connection, after latency when both are set', () => {
    const { faults } = faultSet();
    faults.add({ path: '/a', reset: true, latencyMs: 100 });
    assert.deepEqual(hit(faults, '/a'), { id: 'f1', latencyMs: 100, kind: 'reset' });
  });

  test('a throttle answers 429 once a client address exceeds its burst, per address', () => {
    const { faults } = faultSet();
    faults.add({ path: TOKEN, throttle: { requestsPerSecond: 1, burst: 2 } });
    assert.equal(hit(faults, TOKEN, 'a'), undefined);
    assert.equal(hit(faults, TOKEN, 'a'), undefined);
    assert.equal(hit(faults, TOKEN, 'a')?.status, 429);
    assert.equal(hit(faults, TOKEN, 'b'), undefined);
  });

  test('a throttled client gets through again once the emulator clock refills its bucket', () => {
    const { faults, clock } = faultSet();
    faults.add({ path: TOKEN, throttle: { requestsPerSecond: 5, burst: 1 } });
    assert.equal(hit(faults), undefined);
    assert.equal(hit(faults)?.status, 429);
    clock.advance(200);
    assert.equal(hit(faults), undefined);
  });

  test("a throttle defaults to Azure's 5 requests per second per source", () => {
    const { faults } = faultSet();
    const rule = faults.add({ throttle: {} });
    assert.deepEqual(rule.throttle, { requestsPerSecond: 5, burst: 5 });
    const statuses = Array.from({ length: 6 }, () => hit(faults)?.status);
    assert.deepEqual(statuses, [undefined, undefined, undefined, undefined, undefined, 429]);
  });
});

describe('fault rules: managing them', () => {
  test('ids are generated f1, f2, ... unless given', () => {
    const { faults } = faultSet();
    assert.equal(faults.add({ status: 500 }).id, 'f1');
    assert.equal(faults.add({ id: 'slow-token', latencyMs: 5 }).id, 'slow-token');
    assert.equal(faults.add({ status: 500 }).id, 'f2');
  });

  test('a taken id is rejected', () => {
    const { faults } = faultSet();
    faults.add({ id: 'x', status: 500 });
    assert.throws(() => faults.add({ id: 'x', status: 500 }), { code: 'INVALID_INPUT' });
  });

  for (const [name, rule] of [
    ['no effect', { path: '/a' }],
    ['status and reset together', { status: 500, reset: true }],
    ['a status Azure does not send for faults', { status: 418 }],
    ['retryAfter with a 500', { status: 500, retryAfter: 3 }],
    ['a probability above 1', { status: 500, probability: 2 }],
    ['a path without a leading slash', { path: 'metadata', status: 500 }],
    ['an unknown key', { status: 500, colour: 'red' }],
  ] as const) {
    test(`a rule with ${name} is rejected with INVALID_INPUT`, () => {
      const { faults } = faultSet();
      assert.throws(
        () => faults.add(rule as never),
        (error: unknown) => error instanceof AzimdsError && error.code === 'INVALID_INPUT',
      );
      assert.equal(faults.active, false);
    });
  }

  test('remove, clear and replace update the active flag', () => {
    const { faults } = faultSet();
    const a = faults.add({ status: 500 });
    assert.equal(faults.active, true);
    assert.equal(faults.remove(a.id), true);
    assert.equal(faults.remove(a.id), false);
    assert.equal(faults.active, false);
    faults.add({ status: 500 });
    faults.clear();
    assert.equal(faults.active, false);
    faults.replace([{ status: 503 }, { latencyMs: 1 }]);
    assert.deepEqual(
      faults.list().map((r) => r.id),
      ['f1', 'f2'],
    );
    assert.equal(faults.active, true);
  });

  test('removing an expired rule leaves the active count right', () => {
    const { faults } = faultSet();
    const once = faults.add({ status: 500, times: 1 });
    faults.add({ path: '/other', status: 500 });
    hit(faults, '/x');
    faults.remove(once.id);
    assert.equal(faults.active, true);
    faults.clear();
    assert.equal(faults.active, false);
  });
});
