import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EmulatorClock } from '../../src/core/clock.js';
import { ENTRY_OVERHEAD_BYTES, RequestLog, redactUrl } from '../../src/server/request-log.js';

function record(log: RequestLog, url: string, extra: { surface?: string; status?: number | null } = {}) {
  log.record(
    extra.surface ?? 'imds',
    'GET',
    url,
    '127.0.0.1',
    extra.status ?? 200,
    1.234,
    undefined,
    undefined,
  );
}

describe('request log: bounds', () => {
  test('holds at most `maxBytes`: long URLs push the oldest entries out, the newest always stays', () => {
    const maxBytes = 20_000;
    const log = new RequestLog(100, new EmulatorClock(), maxBytes);
    const long = (n: number) =>
      `/metadata/instance?api-version=2025-04-07&x=${String(n).padStart(2000, '0')}`;
    for (let n = 1; n <= 50; n++) record(log, long(n));
    assert.ok(log.bytes <= maxBytes, `${log.bytes} > ${maxBytes}`);
    const { entries, last } = log.entries();
    assert.equal(last, 50);
    const perEntry = ENTRY_OVERHEAD_BYTES + long(1).length + '127.0.0.1'.length;
    assert.equal(entries.length, Math.floor(maxBytes / perEntry));
    assert.deepEqual(
      entries.map((e) => e.seq),
      Array.from({ length: entries.length }, (_, i) => 51 - entries.length + i),
    );
    // Short URLs fit again by the entry count, and the byte total follows what is kept.
    for (let n = 1; n <= 100; n++) record(log, `/r/${n}`);
    assert.equal(log.entries().entries.length, 100);
    let expected = 0;
    for (let n = 1; n <= 100; n++) expected += ENTRY_OVERHEAD_BYTES + `/r/${n}`.length + '127.0.0.1'.length;
    assert.equal(log.bytes, expected);
  });

  test('a single entry larger than `maxBytes` is still kept (the newest one)', () => {
    const log = new RequestLog(10, new EmulatorClock(), 1024);
    record(log, `/r?x=${'a'.repeat(4000)}`);
    record(log, `/r?x=${'b'.repeat(4000)}`);
    assert.deepEqual(
      log.entries().entries.map((e) => e.seq),
      [2],
    );
  });

  test('keeps only the newest `size` entries, oldest first, with increasing seqs', () => {
    const log = new RequestLog(3, new EmulatorClock());
    for (let n = 1; n <= 7; n++) record(log, `/r/${n}`);
    const page = log.entries();
    assert.deepEqual(
      page.entries.map((e) => [e.seq, e.path]),
      [
        [5, '/r/5'],
        [6, '/r/6'],
        [7, '/r/7'],
      ],
    );
    assert.equal(page.last, 7);
  });

  test('a log of size 1 keeps exactly the last request', () => {
    const log = new RequestLog(1, new EmulatorClock());
    record(log, '/a');
    record(log, '/b');
    assert.deepEqual(
      log.entries().entries.map((e) => e.path),
      ['/b'],
    );
  });

  test('size 0 records nothing', () => {
    const log = new RequestLog(0, new EmulatorClock());
    record(log, '/a');
    assert.deepEqual(log.entries(), { entries: [], last: 0 });
  });

  test('after, limit and surface select entries', () => {
    const log = new RequestLog(10, new EmulatorClock());
    for (let n = 1; n <= 5; n++) record(log, `/r/${n}`, { surface: n % 2 ? 'imds' : 'arc' });
    assert.deepEqual(
      log.entries({ after: 3 }).entries.map((e) => e.seq),
      [4, 5],
    );
    assert.deepEqual(
      log.entries({ limit: 2 }).entries.map((e) => e.seq),
      [4, 5],
    );
    assert.deepEqual(
      log.entries({ surface: 'arc' }).entries.map((e) => e.seq),
      [2, 4],
    );
  });

  test('clear forgets the entries but seqs keep increasing', () => {
    const log = new RequestLog(10, new EmulatorClock());
    record(log, '/a');
    log.clear();
    assert.deepEqual(log.entries().entries, []);
    record(log, '/b');
    assert.deepEqual(
      log.entries().entries.map((e) => [e.seq, e.path]),
      [[2, '/b']],
    );
  });

  test('an entry has the request fields, its time on the emulator clock', () => {
    const clock = new EmulatorClock();
    clock.set(Date.parse('2030-01-01T12:00:00Z'));
    const log = new RequestLog(5, clock);
    log.record(
      'imds',
      'GET',
      '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=abc&x=1&x=2',
      '10.1.2.3',
      200,
      2.345,
      'abc',
      'f1',
    );
    const [entry] = log.entries().entries;
    assert.ok(entry);
    assert.equal(entry.time.slice(0, 10), '2030-01-01');
    assert.deepEqual(
      { ...entry, time: undefined },
      {
        seq: 1,
        time: undefined,
        surface: 'imds',
        method: 'GET',
        path: '/metadata/identity/oauth2/token',
        query: {
          'api-version': '2018-02-01',
          resource: 'https://vault.azure.net',
          client_id: 'abc',
          x: ['1', '2'],
        },
        identity: 'abc',
        status: 200,
        latencyMs: 2.35,
        client: '10.1.2.3',
        fault: 'f1',
      },
    );
  });
});

describe('request log: secrets', () => {
  const SECRET = 'S3cr3t-V4lue-that-must-never-appear';
  for (const name of [
    'client_secret',
    'secret',
    'Secret',
    'access_token',
    'token',
    'refresh_token',
    'client_assertion',
    'password',
    'sig',
    'code',
    'token_sha256_to_refresh',
    'api_key',
  ]) {
    test(`the value of the query parameter ${name} is never recorded`, () => {
      const log = new RequestLog(5, new EmulatorClock());
      record(log, `/oauth2/token?resource=r&${name}=${SECRET}&client_id=c`);
      const text = JSON.stringify(log.entries());
      assert.ok(!text.includes(SECRET), text);
      const [entry] = log.entries().entries;
      assert.equal(entry?.query[name], '[redacted]');
      assert.equal(entry?.query.resource, 'r');
      assert.equal(entry?.query.client_id, 'c');
    });
  }

  test('a percent-encoded secret parameter name is redacted too', () => {
    assert.equal(redactUrl(`/t?client%5Fsecret=${SECRET}`), '/t?client%5Fsecret=[redacted]');
  });

  test('a URL without secret-bearing parameters is kept as is (the same string)', () => {
    const url = '/metadata/instance?api-version=2021-02-01&format=json';
    assert.equal(redactUrl(url), url);
  });

  test('a secret is redacted before it is stored, not only when read', () => {
    const log = new RequestLog(5, new EmulatorClock());
    record(log, `/t?client_secret=${SECRET}`);
    // The ring buffer's slots are private; what any reader gets is built from them.
    assert.ok(!JSON.stringify(log.entries({ after: 0 })).includes(SECRET));
  });
});

describe('request log: long poll', () => {
  test('waitForNewer resolves when a newer entry is recorded', async () => {
    const log = new RequestLog(5, new EmulatorClock());
    const waiting = log.waitForNewer(0, 60_000);
    setImmediate(() => record(log, '/a'));
    await waiting;
    assert.equal(log.last, 1);
  });

  test('waitForNewer resolves at once when newer entries exist', async () => {
    const log = new RequestLog(5, new EmulatorClock());
    record(log, '/a');
    await log.waitForNewer(0, 60_000);
  });

  test('waitForNewer resolves when its signal aborts', async () => {
    const log = new RequestLog(5, new EmulatorClock());
    const abort = new AbortController();
    const waiting = log.waitForNewer(0, 60_000, abort.signal);
    abort.abort();
    await waiting;
    assert.equal(log.last, 0);
  });

  test('waitForNewer resolves after its timeout without entries', async () => {
    const log = new RequestLog(5, new EmulatorClock());
    await log.waitForNewer(0, 5);
    assert.equal(log.last, 0);
  });
});
