/**
 * "The emulator never crashes and never loses state because of a request": a few thousand malformed,
 * hostile or merely odd requests (seeded, so a failure replays) against every surface of one emulator,
 * each of which must get an answer in its surface's error shape, never a 500, and leave the VM and the
 * identities as they were.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { EmulatorState } from '../../src/core/state.js';
import { createState, libraryConfig, listenerSpecs } from '../../src/server/emulator.js';
import { buildListenerApp } from '../../src/server/listener.js';
import { createLogger } from '../../src/server/logger.js';
import { CONTENT_TYPES, PARAMS, prng, SEGMENTS, VALUES } from '../fuzz/requests.js';

const REQUESTS_PER_SURFACE = 600;

/** Real routes of the surfaces, so that most requests reach a handler rather than the 404 fallback. */
const ROUTES = [
  '/metadata/instance',
  '/metadata/instance/compute/vmId',
  '/metadata/instance/network/interface/0',
  '/metadata/versions',
  '/metadata/identity/oauth2/token',
  '/metadata/identity/oauth2/token/',
  '/metadata/identity/info',
  '/metadata/scheduledevents',
  '/metadata/attested/document',
  '/metadata/loadbalancer',
  '/msi/token',
  '/MSI/auth',
  '/oauth2/token',
  '/vm',
  '/faults',
  '/faults/x',
  '/events',
  '/events/x/approve',
  '/clock/advance',
  '/clock/set',
  '/identities/user-assigned',
  '/logs',
  '/reset',
  '/attestation',
  '/common/.well-known/openid-configuration',
  '/common/discovery/keys',
];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
const BODIES = [
  undefined,
  '',
  '{',
  '{}',
  '[]',
  'null',
  '{"StartRequests":[{"EventId":"x"}]}',
  '{"StartRequests":"x"}',
  'resource=https%3A%2F%2Fvault.azure.net',
  '{"compute":{"vmId":"not-a-uuid"}}',
  '{"by":"soon"}',
  '{"__proto__":{"polluted":true}}',
  'x'.repeat(70_000),
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function randomRequest(random: () => number) {
  const path =
    random() < 0.7
      ? pick(random, ROUTES)
      : `/${Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(random, SEGMENTS)).join('/')}`;
  const query = Array.from({ length: Math.floor(random() * 4) }, () => {
    const name = pick(random, PARAMS);
    return `${name}=${pick(random, VALUES)}`;
  }).join('&');
  const headers: Record<string, string> = {};
  if (random() < 0.7) headers.metadata = pick(random, ['true', 'True', 'false', '', 'TRUE']);
  if (random() < 0.1) headers['x-forwarded-for'] = '10.0.0.1';
  if (random() < 0.2) headers['x-identity-header'] = pick(random, ['', 'wrong', 'x'.repeat(9000)]);
  if (random() < 0.2) headers.secret = pick(random, ['', 'wrong']);
  if (random() < 0.2) headers.authorization = pick(random, ['Basic', 'Basic ', 'Basic x', 'Bearer y', '']);
  const method = pick(random, METHODS);
  const body = method === 'GET' || method === 'HEAD' ? undefined : pick(random, BODIES);
  const contentType = body === undefined ? undefined : pick(random, CONTENT_TYPES);
  if (contentType) headers['content-type'] = contentType;
  return { method, url: query ? `${path}?${query}` : path, headers, body };
}

describe('robustness against odd requests', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'azimds-robust-'));
  let state: EmulatorState;
  const apps = new Map<string, FastifyInstance>();

  before(async () => {
    state = createState(
      libraryConfig({
        dataDir,
        identity: { userAssigned: [{ name: 'id-a' }, { name: 'id-b' }] },
        platforms: {
          arc: { enabled: true, tokenDir: join(dataDir, 'arc-tokens') },
          appService: { enabled: true },
          azureMl: { enabled: true },
          serviceFabric: { enabled: true },
          vmExtension: { enabled: true },
        },
      }),
    );
    const log = createLogger('silent');
    for (const spec of listenerSpecs(state)) {
      const app = await buildListenerApp(spec, log);
      await app.ready();
      apps.set(spec.name, app);
    }
  });

  after(async () => {
    await Promise.all([...apps.values()].map((app) => app.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('every surface answers every request with a status below 500 and a body in its error shape', async () => {
    const vmBefore = JSON.stringify(state.machine.document);
    const identitiesBefore = JSON.stringify(state.identities.all());
    assert.ok(apps.size >= 7, `surfaces under test: ${[...apps.keys()].join(', ')}`);
    const statuses = new Map<number, number>();
    let seed = 1;
    for (const [name, app] of apps) {
      const random = prng(seed++);
      for (let i = 0; i < REQUESTS_PER_SURFACE; i++) {
        const request = randomRequest(random);
        const res = await app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: request.headers,
          ...(request.body === undefined ? {} : { payload: request.body }),
        });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const what = `${name}: ${request.method} ${request.url.slice(0, 200)}`;
        assert.ok(
          res.statusCode >= 200 && res.statusCode < 500,
          `${what} answered ${res.statusCode}: ${res.body.slice(0, 300)}`,
        );
        // fastify's 415 is not an Azure answer: Azure's endpoints take any body and answer by verb and path.
        if (name !== 'control') assert.notEqual(res.statusCode, 415, what);
        // Azure ML refuses a missing or wrong secret in plain text, as it does on Azure.
        const azureMlSecret = name === 'azureMl' && res.body.startsWith('Invalid secret token header: ');
        if (res.statusCode >= 400 && request.method !== 'HEAD' && !azureMlSecret) {
          assert.match(String(res.headers['content-type']), /^application\/json/, what);
          assert.doesNotThrow(() => JSON.parse(res.body), what);
        }
      }
    }
    // The mix reached real handlers, not only the 404 fallback: successes and several kinds of refusal.
    const seen = [...statuses.keys()];
    assert.ok(
      seen.some((s) => s < 300),
      `some requests succeeded: ${seen.join(', ')}`,
    );
    for (const expected of [400, 404, 405])
      assert.ok(statuses.has(expected), `some ${expected}: ${seen.join(', ')}`);
    // Odd requests change nothing: only the control API's valid operations may, and a random body
    // that happens to be valid is one of the listed ones (none of which is valid for PATCH /vm).
    assert.equal(JSON.stringify(state.machine.document), vmBefore);
    assert.equal(JSON.stringify(state.identities.all()), identitiesBefore);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined, 'no prototype pollution');
  });
});
