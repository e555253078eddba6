/**
 * Fault injection on IMDS (docs/faults.md): each status with the surface's Azure body and headers,
 * once / N times / probability, latency, throttling, connection resets, config rules, and the control
 * API staying healthy. Over inject() and real HTTP, except resets (they need a socket).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NEWEST_IMDS_VERSIONS } from '../../src/core/machines/api-versions.js';
import { BOTH, METADATA, openEmulator, type TestEmulator } from '../support/control.js';

const V = NEWEST_IMDS_VERSIONS[0];
const INSTANCE = `/metadata/instance?api-version=${V}`;
const TOKEN_PATH = '/metadata/identity/oauth2/token';
const TOKEN = `${TOKEN_PATH}?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net`;
const JSON_TYPE = 'application/json; charset=utf-8';

const METADATA_BODIES: Record<number, unknown> = {
  404: { error: 'Not found' },
  410: { error: 'Gone. IMDS is being updated; retry the request' },
  429: { error: 'Too many requests' },
  500: { error: 'Internal server error' },
  503: { error: 'Service unavailable' },
};
const IDENTITY_ERRORS: Record<number, string | undefined> = {
  404: 'not_found',
  410: undefined,
  429: 'too_many_requests',
  500: 'unknown',
  503: 'service_unavailable',
};

for (const transport of BOTH) {
  describe(`fault injection on IMDS over ${transport}`, () => {
    let emu: TestEmulator;
    before(async () => {
      emu = await openEmulator(transport);
    });
    after(() => emu.close());
    const addFault = async (rule: Record<string, unknown>) => {
      const res = await emu.control('/faults', { method: 'POST', body: rule });
      assert.equal(res.status, 201, res.body);
      return res.json as { id: string };
    };
    const clear = () => emu.control('/faults', { method: 'DELETE' });

    for (const status of [404, 410, 429, 500, 503]) {
      test(`a ${status} on the instance endpoint has IMDS's metadata body and headers`, async () => {
        await clear();
        await addFault({ path: '/metadata/instance', status });
        const res = await emu.imds(INSTANCE, { headers: METADATA });
        assert.equal(res.status, status);
        assert.equal(res.headers['content-type'], JSON_TYPE);
        assert.deepEqual(res.json, METADATA_BODIES[status]);
        assert.equal(res.headers.server, 'IMDS/150.870.65.1544');
        assert.equal(res.headers['retry-after'], status === 429 || status === 503 ? '1' : undefined);
      });

      test(`a ${status} on the token endpoint has the identity endpoint's {error, error_description} shape`, async () => {
        await clear();
        await addFault({ path: TOKEN_PATH, status });
        const res = await emu.imds(TOKEN, { headers: METADATA });
        assert.equal(res.status, status);
        const code = IDENTITY_ERRORS[status];
        if (code === undefined) {
          assert.equal(res.body, '');
        } else {
          assert.equal(res.json.error, code);
          assert.equal(typeof res.json.error_description, 'string');
          assert.deepEqual(Object.keys(res.json), ['error', 'error_description']);
        }
        assert.equal(res.headers['retry-after'], status === 429 || status === 503 ? '1' : undefined);
      });
    }

    test('retryAfter sets the Retry-After header of a 429', async () => {
      await clear();
      await addFault({ path: TOKEN_PATH, status: 429, retryAfter: 7 });
      assert.equal((await emu.imds(TOKEN, { headers: METADATA })).headers['retry-after'], '7');
    });

    test('a fault applies before IMDS checks the request (even without the Metadata header)', async () => {
      await clear();
      await addFault({ path: '/metadata/instance', status: 500 });
      assert.equal((await emu.imds(INSTANCE)).status, 500);
    });

    test('a once rule fails one request; the next one is served', async () => {
      await clear();
      await addFault({ path: TOKEN_PATH, status: 503, times: 1 });
      assert.equal((await emu.imds(TOKEN, { headers: METADATA })).status, 503);
      assert.equal((await emu.imds(TOKEN, { headers: METADATA })).status, 200);
    });

    test('a times: N rule fails N requests', async () => {
      await clear();
      await addFault({ path: '/metadata/versions', status: 500, times: 3 });
      const statuses = [];
      for (let n = 0; n < 4; n++)
        statuses.push((await emu.imds('/metadata/versions', { headers: METADATA })).status);
      assert.deepEqual(statuses, [500, 500, 500, 200]);
    });

    test('probability 1 always applies and probability 0 never does', async () => {
      await clear();
      await addFault({ path: '/metadata/versions', status: 500, probability: 0 });
      await addFault({ path: '/metadata/instance', status: 500, probability: 1 });
      assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 200);
      assert.equal((await emu.imds(INSTANCE, { headers: METADATA })).status, 500);
    });

    test('method narrows a rule: a POST-only rule leaves GET alone', async () => {
      await clear();
      await addFault({ method: 'POST', path: '/metadata/scheduledevents', status: 500 });
      const get = await emu.imds('/metadata/scheduledevents?api-version=2020-07-01', { headers: METADATA });
      assert.equal(get.status, 200);
      const post = await emu.imds('/metadata/scheduledevents?api-version=2020-07-01', {
        method: 'POST',
        headers: METADATA,
        body: { StartRequests: [] },
      });
      assert.equal(post.status, 500);
    });

    test('a rule for another surface leaves IMDS alone', async () => {
      await clear();
      await addFault({ surface: 'arc', status: 500 });
      assert.equal((await emu.imds(INSTANCE, { headers: METADATA })).status, 200);
    });

    test('latency delays the answer and the request log shows it', async () => {
      await clear();
      const rule = await addFault({ path: '/metadata/versions', latencyMs: 120, times: 1 });
      const res = await emu.imds('/metadata/versions', { headers: METADATA });
      assert.equal(res.status, 200);
      const { entries } = (await emu.control('/logs?limit=1')).json;
      assert.equal(entries[0].fault, rule.id);
      // A lower bound only (timers never fire early by more than clock granularity): no upper bound.
      assert.ok(entries[0].latencyMs >= 118, String(entries[0].latencyMs));
    });

    test('latency with a status delays the error', async () => {
      await clear();
      await addFault({ path: TOKEN_PATH, latencyMs: 60, status: 503 });
      const res = await emu.imds(TOKEN, { headers: METADATA });
      assert.equal(res.status, 503);
      const { entries } = (await emu.control('/logs?limit=1')).json;
      assert.ok(entries[0].latencyMs >= 58);
    });

    test("a throttle answers 429 with Retry-After once a client exceeds its burst, like Azure's limit", async () => {
      await clear();
      await addFault({ path: '/metadata/instance', throttle: { requestsPerSecond: 1, burst: 2 } });
      const statuses = [];
      for (let n = 0; n < 3; n++) statuses.push((await emu.imds(INSTANCE, { headers: METADATA })).status);
      assert.deepEqual(statuses, [200, 200, 429]);
      const res = await emu.imds(INSTANCE, { headers: METADATA });
      assert.deepEqual(res.json, { error: 'Too many requests' });
      assert.equal(res.headers['retry-after'], '1');
      // The emulator clock refills the bucket.
      emu.state.clock.advance(1000);
      assert.equal((await emu.imds(INSTANCE, { headers: METADATA })).status, 200);
      emu.state.clock.reset();
    });

    test('the control API is never faulted', async () => {
      await clear();
      await addFault({ status: 503 });
      assert.equal((await emu.control('/faults')).status, 200);
      assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 503);
      await clear();
    });

    test('with every rule expired, requests are served normally', async () => {
      await clear();
      await addFault({ status: 500, times: 1 });
      await emu.imds('/metadata/versions', { headers: METADATA });
      assert.equal(emu.state.faults.active, false);
      assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 200);
    });
  });
}

describe('fault injection: connection reset (real HTTP)', () => {
  let emu: TestEmulator;
  before(async () => {
    emu = await openEmulator('http');
  });
  after(() => emu.close());

  test('a reset rule destroys the connection without an answer, and is logged with status null', async () => {
    const rule = (
      await emu.control('/faults', {
        method: 'POST',
        body: { path: '/metadata/instance', reset: true, times: 1 },
      })
    ).json;
    await assert.rejects(
      emu.imds(INSTANCE, { headers: METADATA }),
      (error: Error) => error instanceof TypeError,
    );
    const { entries } = (await emu.control('/logs')).json;
    const resets = entries.filter((e: { fault?: string }) => e.fault === rule.id);
    assert.equal(resets.length, 1);
    assert.equal(resets[0].status, null);
    assert.equal(resets[0].end, 'reset');
    assert.equal((await emu.imds(INSTANCE, { headers: METADATA })).status, 200);
  });

  test('a request the client abandons while a latency is pending is logged, ended client-closed', async () => {
    const rule = (
      await emu.control('/faults', {
        method: 'POST',
        body: { path: '/metadata/instance', latencyMs: 60_000, times: 1 },
      })
    ).json;
    // A probe with a short timeout, as the SDKs send one.
    await assert.rejects(
      fetch(`${emu.urls.imds}${INSTANCE}`, { headers: METADATA, signal: AbortSignal.timeout(200) }),
    );
    let abandoned: Array<{ status: number | null; end?: string; path: string }> = [];
    for (let i = 0; i < 50 && abandoned.length === 0; i++) {
      const { entries } = (await emu.control('/logs')).json;
      abandoned = entries.filter((e: { fault?: string }) => e.fault === rule.id);
      if (abandoned.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(abandoned.length, 1);
    assert.equal(abandoned[0]?.status, null);
    assert.equal(abandoned[0]?.end, 'client-closed');
    assert.equal(abandoned[0]?.path, '/metadata/instance');
    const { hits } = (await emu.control(`/faults/${rule.id}`)).json;
    assert.equal(hits, 1);
  });

  test('a reset after latency destroys the connection too', async () => {
    await emu.control('/faults', {
      method: 'POST',
      body: { path: TOKEN_PATH, reset: true, latencyMs: 30, times: 1 },
    });
    await assert.rejects(emu.imds(TOKEN, { headers: METADATA }));
    assert.equal((await emu.imds(TOKEN, { headers: METADATA })).status, 200);
  });
});

test('over inject(), a reset rule makes inject() reject, as a client sees a dropped connection', async () => {
  const emu = await openEmulator('inject', {
    faults: [{ path: '/metadata/versions', reset: true, times: 1 }],
  });
  try {
    await assert.rejects(emu.imds('/metadata/versions', { headers: METADATA }));
    assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 200);
  } finally {
    await emu.close();
  }
});

describe('fault injection: configuration', () => {
  test('rules from the config apply from start, and a reset restores them', async () => {
    const emu = await openEmulator('inject', {
      faults: [{ path: '/metadata/versions', status: 410, times: 1 }],
    });
    try {
      assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 410);
      assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 200);
      await emu.control('/reset', { method: 'POST' });
      assert.equal((await emu.imds('/metadata/versions', { headers: METADATA })).status, 410);
    } finally {
      await emu.close();
    }
  });

  test('an invalid rule in the config is a configuration error naming the key', async () => {
    await assert.rejects(
      openEmulator('inject', { faults: [{ path: '/x', status: 418 as never }] }),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CONFIG_INVALID');
        assert.match(error.message, /faults\[0\]\.status/);
        return true;
      },
    );
  });

  test('duplicate rule ids in the config are a configuration error', async () => {
    await assert.rejects(
      openEmulator('inject', {
        faults: [
          { id: 'a', status: 500 },
          { id: 'a', status: 503 },
        ],
      }),
      { code: 'CONFIG_INVALID' },
    );
  });
});
