/**
 * The fast path (server/fast-path.ts): IMDS's instance document, versions and the managed-identity
 * token are answered ahead of fastify's router, over real sockets. Every rule still applies to those
 * requests: Azure's checks (Metadata header, X-Forwarded-For, api-version, duplicate parameters), the
 * rate limit, fault injection (a request a rule acts on takes fastify's path, where the rule lives),
 * and the request log with its redaction and its details (the dashboard's). Each test also shows
 * which path served the request.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { EmulatorState } from '../../src/core/state.js';
import { imdsErrors } from '../../src/errors.js';
import { controlListenerSpec } from '../../src/protocols/control/listener.js';
import { createState, libraryConfig, listenerSpecs } from '../../src/server/emulator.js';
import { type ListenerSpec, type RunningListener, startListener } from '../../src/server/listener.js';
import type { RequestDetail } from '../../src/server/request-details.js';

const V = '2025-04-07';
const INSTANCE = `/metadata/instance?api-version=${V}`;
const TOKEN = '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net';
const METADATA = { Metadata: 'true' };

interface Imds {
  state: EmulatorState;
  listener: RunningListener;
  /** Requests the fast path has served so far. */
  served(): number;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
}

async function openImds(
  options: Record<string, unknown> = {},
  gates?: NonNullable<ListenerSpec['gates']>,
): Promise<Imds> {
  const config = libraryConfig(options);
  const log = pino({ level: 'silent' });
  const state = createState(config, log);
  const spec = listenerSpecs(state).find((s) => s.name === 'imds');
  assert.ok(spec);
  const listener = await startListener(gates ? { ...spec, gates } : spec, log);
  return {
    state,
    listener,
    served: () => listener.app.azimdsFastPath.served,
    async get(path, headers = METADATA) {
      const res = await fetch(`${listener.url}${path}`, { headers });
      return { status: res.status, body: await res.text() };
    },
  };
}

/** Runs `send` and returns its result and how many requests the fast path served meanwhile. */
async function counted<T>(imds: Imds, send: () => Promise<T>): Promise<[T, number]> {
  const before = imds.served();
  const result = await send();
  return [result, imds.served() - before];
}

describe('fast path: Azure checks', () => {
  let imds: Imds;
  before(async () => {
    imds = await openImds();
  });
  after(() => imds.listener.app.close());

  test('serves the instance document and a cached token on the fast path', async () => {
    const [doc, n] = await counted(imds, () => imds.get(INSTANCE));
    assert.equal(doc.status, 200);
    assert.equal(JSON.parse(doc.body).compute.name, imds.state.machine.compute('name'));
    assert.equal(n, 1);
    await imds.get(TOKEN); // mints and caches
    const [token, m] = await counted(imds, () => imds.get(TOKEN));
    assert.equal(token.status, 200);
    assert.equal(JSON.parse(token.body).resource, 'https://vault.azure.net');
    assert.equal(m, 1);
  });

  test('serves scheduled events on the fast path: the document, its ETag and 304; a POST takes fastify', async () => {
    const path = '/metadata/scheduledevents?api-version=2020-07-01';
    const [doc, n] = await counted(imds, () => fetch(`${imds.listener.url}${path}`, { headers: METADATA }));
    assert.equal(doc.status, 200);
    const etag = doc.headers.get('etag');
    assert.equal(etag, `"${((await doc.json()) as { DocumentIncarnation: number }).DocumentIncarnation}"`);
    assert.equal(n, 1);
    const [notModified, m] = await counted(imds, () =>
      fetch(`${imds.listener.url}${path}`, { headers: { ...METADATA, 'If-None-Match': etag as string } }),
    );
    assert.equal(notModified.status, 304);
    assert.equal(m, 1);
    const [noHeader, k] = await counted(imds, () => imds.get(path, {}));
    assert.equal(noHeader.status, 400);
    assert.equal(k, 1);
    const [posted, p] = await counted(imds, () =>
      fetch(`${imds.listener.url}${path}`, {
        method: 'POST',
        headers: METADATA,
        body: JSON.stringify({ StartRequests: [{ EventId: 'no-such-event' }] }),
      }),
    );
    assert.equal(posted.status, 400);
    assert.equal(p, 0, 'a POST is answered through fastify');
  });

  test('rejects a request without the Metadata header with 400 on the fast path', async () => {
    const [res, n] = await counted(imds, () => imds.get(INSTANCE, {}));
    assert.equal(res.status, 400);
    assert.match(res.body, /Required metadata header not specified/);
    assert.equal(n, 1);
    const [probe, m] = await counted(imds, () => imds.get(TOKEN, {}));
    assert.equal(probe.status, 400);
    assert.equal(JSON.parse(probe.body).error, 'invalid_request');
    assert.equal(m, 1);
  });

  test('rejects X-Forwarded-For with 400 on the fast path', async () => {
    const [res, n] = await counted(imds, () =>
      imds.get(INSTANCE, { ...METADATA, 'X-Forwarded-For': '10.0.0.1' }),
    );
    assert.equal(res.status, 400);
    assert.equal(n, 1);
    const [token, m] = await counted(imds, () =>
      imds.get(TOKEN, { ...METADATA, 'X-Forwarded-For': '10.0.0.1' }),
    );
    assert.equal(token.status, 400);
    assert.equal(m, 1);
  });

  test('rejects a missing or unknown api-version with 400 on the fast path', async () => {
    for (const path of ['/metadata/instance', '/metadata/instance?api-version=2001-01-01']) {
      const [res, n] = await counted(imds, () => imds.get(path));
      assert.equal(res.status, 400, path);
      assert.ok(JSON.parse(res.body)['newest-versions'], path);
      assert.equal(n, 1, path);
    }
  });

  test('rejects duplicate query parameters with 400 on the fast path', async () => {
    const [res, n] = await counted(imds, () => imds.get(`${INSTANCE}&api-version=${V}`));
    assert.equal(res.status, 400);
    assert.equal(n, 1);
    const [token, m] = await counted(imds, () => imds.get(`${TOKEN}&resource=https%3A%2F%2Fvault.azure.net`));
    assert.equal(token.status, 400);
    assert.equal(m, 1);
  });

  test('answers route filtering and format=text on the fast path', async () => {
    const [res, n] = await counted(imds, () =>
      imds.get(`/metadata/instance/compute/vmId?api-version=${V}&format=text`),
    );
    assert.equal(res.status, 200);
    assert.equal(res.body, imds.state.machine.compute('vmId'));
    assert.equal(n, 1);
  });

  test('leaves other verbs, bodies and encoded paths to fastify, with the same answers', async () => {
    const post = await counted(imds, async () => {
      const res = await fetch(`${imds.listener.url}${INSTANCE}`, {
        method: 'POST',
        headers: METADATA,
        body: 'x',
      });
      return res.status;
    });
    assert.deepEqual(post, [405, 0]);
    const encoded = await counted(
      imds,
      async () => (await imds.get(`/metadata/instance/%63ompute/vmId?api-version=${V}&format=text`)).body,
    );
    assert.deepEqual(encoded, [imds.state.machine.compute('vmId'), 0]);
  });
});

describe('fast path: rate limit, faults and the request log', () => {
  let imds: Imds;
  before(async () => {
    imds = await openImds({ imds: { rateLimit: { enabled: true, requestsPerSecond: 1, burst: 2 } } });
  });
  after(() => imds.listener.app.close());

  test('throttles with 429 on the fast path once the burst is used', async () => {
    const [statuses, n] = await counted(imds, async () => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await imds.get(`/metadata/versions`)).status);
      return out;
    });
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(n, 3);
  });

  test('applies an active fault rule: the request takes fastify path, where the rule lives', async () => {
    imds.state.clock.advance(10_000); // refill the rate-limit bucket
    const rule = imds.state.faults.add({ path: '/metadata/versions', status: 503, times: 1 });
    const [faulted, n] = await counted(imds, () => imds.get('/metadata/versions'));
    assert.equal(faulted.status, 503);
    assert.equal(n, 0);
    // Its detail is kept as on the fast path: the fault rule's answer.
    assert.equal(imds.state.requestDetails.get(imds.state.requestLog.last)?.response.status, 503);
    // The rule is used up: the next request is the fast path's again.
    const [next, m] = await counted(imds, () => imds.get('/metadata/versions'));
    assert.equal(next.status, 200);
    assert.equal(m, 1);
    assert.ok(imds.state.faults.list().some((r) => r.id === rule.id && r.hits === 1));
  });

  test('records fast-path requests in the request log, secrets redacted, with the identity', async () => {
    imds.state.clock.advance(10_000);
    const from = imds.state.requestLog.last;
    const [res, n] = await counted(imds, () => imds.get(`${TOKEN}&client_secret=hunter2`));
    assert.equal(res.status, 200);
    assert.equal(n, 1);
    const { entries } = imds.state.requestLog.entries({ after: from });
    assert.equal(entries.length, 1);
    const entry = entries[0];
    assert.equal(entry?.surface, 'imds');
    assert.equal(entry?.path, '/metadata/identity/oauth2/token');
    assert.equal(entry?.status, 200);
    assert.equal(entry?.query.client_secret, '[redacted]');
    assert.equal(entry?.identity, imds.state.identities.current.systemAssigned?.clientId);
    assert.ok(!JSON.stringify(entries).includes('hunter2'));
  });

  test("keeps a fast-path token request's detail: the token decoded and verified, never whole", async () => {
    imds.state.clock.advance(10_000);
    const [res, n] = await counted(imds, () => imds.get(TOKEN, { ...METADATA, 'X-Trace': 'fast' }));
    assert.equal(res.status, 200);
    assert.equal(n, 1, 'served on the fast path');
    const token = (JSON.parse(res.body) as { access_token: string }).access_token;
    // As the dashboard reads it: GET /logs/:seq on the control API.
    const control = await startListener(
      controlListenerSpec(imds.state, { host: '127.0.0.1', port: 0 }),
      pino({ level: 'silent' }),
    );
    let text: string;
    try {
      const got = await fetch(`${control.url}/logs/${imds.state.requestLog.last}`);
      assert.equal(got.status, 200);
      text = await got.text();
    } finally {
      await control.app.close();
    }
    assert.ok(!text.includes(token), 'the token is not in the log');
    const { entry, detail } = JSON.parse(text) as { entry: { path: string }; detail: RequestDetail };
    assert.equal(entry.path, '/metadata/identity/oauth2/token');
    assert.ok(detail, 'the fast path kept the detail');
    assert.equal(detail.request.headers['x-trace'], 'fast');
    assert.equal(detail.response.status, 200);
    assert.equal(JSON.parse(detail.response.body as string).access_token, '[token]');
    assert.equal(detail.tokens.length, 1);
    assert.equal(detail.tokens[0]?.where, 'response access_token');
    assert.equal(detail.tokens[0]?.verified, true);
    assert.equal(detail.tokens[0]?.claims.aud, 'https://vault.azure.net');
    assert.ok(!text.includes(token.split('.')[2] as string), 'nor its signature');
  });
});

describe('fast path: gates', () => {
  let imds: Imds;
  // A Host allow-list as a gate: one Set lookup per request, on both paths.
  const hosts = new Set<string>();
  before(async () => {
    imds = await openImds({}, [(r) => (hosts.has(r.headers.host ?? '') ? undefined : imdsErrors.notFound)]);
    hosts.add(new URL(imds.listener.url).host);
  });
  after(() => imds.listener.app.close());

  const getWithHost = (path: string, host: string) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL(imds.listener.url);
      httpRequest(
        { host: url.hostname, port: url.port, path, headers: { ...METADATA, Host: host } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      )
        .on('error', reject)
        .end();
    });

  test('a request the gate lets on is served on the fast path', async () => {
    const [status, n] = await counted(imds, () => getWithHost(INSTANCE, new URL(imds.listener.url).host));
    assert.deepEqual([status, n], [200, 1]);
  });

  test("a request the gate rejects gets the gate's answer on every route, the fast path's included", async () => {
    for (const path of [INSTANCE, TOKEN, '/metadata/nothing-here']) {
      // A Host the listener's own host guard lets on (loopback), but this gate's allow-list does not.
      const [status, n] = await counted(imds, () => getWithHost(path, 'localhost:1'));
      assert.deepEqual([status, n], [404, 0], path);
    }
  });
});
