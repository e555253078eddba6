/**
 * The request log's details (src/server/request-details.ts): headers, bodies and answers kept by
 * reference when the request log records a request, redacted and decoded when read, with every secret
 * redacted and every JWT kept only decoded, also when the same prepared response bytes are sent again
 * (their cleaned form is reused); bounded in entries and in bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { EmulatorClock } from '../../src/core/clock.js';
import { FaultSet } from '../../src/core/faults/fault-set.js';
import { MemoryKeyStore } from '../../src/core/tokens/key-store.js';
import { buildListenerApp } from '../../src/server/listener.js';
import { createLogger } from '../../src/server/logger.js';
import { prepareResponse, sendPrepared } from '../../src/server/reply.js';
import { RequestDetails } from '../../src/server/request-details.js';
import { RequestLog } from '../../src/server/request-log.js';

describe('request details', () => {
  const clock = new EmulatorClock();
  const log = new RequestLog(100, clock);
  const keys = new MemoryKeyStore(clock, 3600);
  const details = new RequestDetails(2, () => keys.publicKeys());
  log.details = details;
  let app: FastifyInstance;
  // A Key Vault-like answer, prepared once and sent as the same bytes every time.
  const secretAnswer = prepareResponse(
    200,
    'application/json; charset=utf-8',
    Buffer.from(
      '{"value":"hunter2","id":"https://kv.vault.azure.net/secrets/db/v1","attributes":{"enabled":true}}',
    ),
  );
  const plainAnswer = prepareResponse(
    200,
    'application/json; charset=utf-8',
    Buffer.from('{"name":"vm-01"}'),
  );

  before(async () => {
    app = await buildListenerApp(
      {
        name: 'test',
        host: '127.0.0.1',
        port: 0,
        instrument: { faults: new FaultSet({ clock }), requestLog: log },
        errors: {
          notFound: () => {
            throw new Error('no route');
          },
          internal: () => {
            throw new Error('failed');
          },
        },
        plugins: [
          {
            plugin: (async (a: FastifyInstance) => {
              a.get('/secret', async (_request, reply) => sendPrepared(reply, secretAnswer));
              a.get('/plain', async (_request, reply) => sendPrepared(reply, plainAnswer));
              a.post('/token', async (_request, reply) => sendPrepared(reply, plainAnswer));
            }) as never,
          },
        ],
      },
      createLogger('silent'),
    );
    await app.ready();
  });
  after(() => app.close());

  test('a secret value in a JSON answer is redacted, also when the same bytes are sent again', async () => {
    for (let i = 0; i < 2; i++) {
      await app.inject({ url: '/secret' });
      const detail = details.get(log.last);
      assert.ok(detail);
      assert.equal(JSON.parse(detail.response.body as string).value, '[redacted]');
      assert.equal(JSON.parse(detail.response.body as string).attributes.enabled, true);
      assert.equal(detail.response.headers['content-type'], 'application/json; charset=utf-8');
    }
  });

  test('an answer without secrets is kept as sent', async () => {
    await app.inject({ url: '/plain', headers: { 'x-trace': 'abc' } });
    const detail = details.get(log.last);
    assert.equal(detail?.response.body, '{"name":"vm-01"}');
    assert.equal(detail?.request.headers['x-trace'], 'abc');
  });

  test('form secrets are redacted and a client assertion is kept only decoded', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const assertion = `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ sub: 'app', exp: 2 })}.c2ln`;
    await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&client_secret=shh&client_assertion=${assertion}`,
    });
    const detail = details.get(log.last);
    assert.ok(detail);
    assert.doesNotMatch(JSON.stringify(detail), /shh|c2ln/);
    assert.match(detail.request.body as string, /client_secret=\[redacted\]/);
    assert.equal(detail.tokens[0]?.where, 'request client_assertion');
    assert.equal(detail.tokens[0]?.claims.sub, 'app');
    assert.equal(detail.tokens[0]?.verified, false);
  });

  test('malformed percent-encoding in a form body, its names or a header is shown as sent, never an error', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const assertion = `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ sub: 'app' })}.c2ln`;
    for (const payload of [
      'client_secret=%ZZ&resource=%',
      `a%=1&client_assertion=${assertion}%E0%A4%A`,
      'grant_type=%uD800&client_secret=%ED%A0%80',
    ]) {
      await app.inject({
        method: 'POST',
        url: '/token?client_secret=%ZZ&x=%',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-odd': '%E0%A4%A' },
        payload,
      });
      const detail = details.get(log.last);
      assert.ok(detail, payload);
      assert.doesNotMatch(JSON.stringify(detail), /client_secret=%ZZ|%ED%A0%80/, payload);
      assert.equal(detail.request.headers['x-odd'], '%E0%A4%A');
      assert.equal(details.all().length > 0, true);
    }
  });

  test('keeps only the newest `size` requests', async () => {
    await app.inject({ url: '/plain' });
    await app.inject({ url: '/plain' });
    await app.inject({ url: '/plain' });
    assert.equal(details.all().length, 2);
    assert.equal(details.get(log.last - 2), undefined);
  });

  test('is built when first read, then the same detail is returned', async () => {
    await app.inject({ url: '/secret' });
    const first = details.get(log.last);
    assert.ok(first);
    assert.equal(details.get(log.last), first);
  });
});

describe('request details: memory', () => {
  const clock = new EmulatorClock();
  const keys = new MemoryKeyStore(clock, 3600);
  // What `keep()` reads of a response: the prepared response written on it.
  const sent = (bytes: number) =>
    ({
      azimdsSent: prepareResponse(200, 'text/plain', Buffer.alloc(bytes, 'a')),
      headersSent: true,
    }) as never;

  test('holds at most maxBytes, dropping the oldest requests first (never the newest)', () => {
    const details = new RequestDetails(100, () => keys.publicKeys(), 10_000);
    for (let seq = 1; seq <= 20; seq++) details.keep(seq, { host: 'x' }, undefined, sent(1000));
    assert.ok(details.bytes <= 10_000, `${details.bytes} bytes`);
    assert.ok(details.get(20), 'the newest is kept');
    assert.equal(details.get(1), undefined, 'the oldest went first');
    const kept = details.all();
    assert.ok(kept.length > 1 && kept.length < 20, `${kept.length} kept`);
    assert.deepEqual(
      kept.map((d) => d.seq),
      Array.from({ length: kept.length }, (_, i) => 21 - kept.length + i),
    );
    // One answer larger than the bound is still kept, alone.
    details.keep(21, {}, undefined, sent(50_000));
    assert.deepEqual(
      details.all().map((d) => d.seq),
      [21],
    );
    assert.match(details.get(21)?.response.body ?? '', /… \[cut\]$/);
  });

  test('size 0 keeps nothing', () => {
    const details = new RequestDetails(0, () => keys.publicKeys());
    details.keep(1, {}, undefined, sent(10));
    assert.equal(details.get(1), undefined);
    assert.equal(details.bytes, 0);
  });
});
