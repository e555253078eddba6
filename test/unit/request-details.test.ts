/**
 * The request log's details (src/server/request-details.ts): headers, bodies and answers kept for the
 * dashboard with every secret redacted and every JWT kept only decoded, also when the same prepared
 * response bytes are sent again (their cleaned form is reused).
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
import { RequestDetails, requestDetailsPlugin } from '../../src/server/request-details.js';
import { RequestLog } from '../../src/server/request-log.js';

describe('request details', () => {
  const clock = new EmulatorClock();
  const log = new RequestLog(100, clock);
  const details = new RequestDetails(2);
  const keys = new MemoryKeyStore(clock, 3600);
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
          { plugin: requestDetailsPlugin(details, keys) as never },
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

  test('keeps only the newest `size` requests', async () => {
    await app.inject({ url: '/plain' });
    await app.inject({ url: '/plain' });
    await app.inject({ url: '/plain' });
    assert.equal(details.all().length, 2);
    assert.equal(details.get(log.last - 2), undefined);
  });
});
