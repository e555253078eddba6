/**
 * What IMDS answers to requests it refuses (protocols.md §1.2, §1.5, §1.6): the Metadata header,
 * proxies, duplicate parameters, unknown paths and verbs, malformed URLs and the rate limit. Bodies
 * are compared byte for byte: clients and scripts match on them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildSurface } from '../../src/server/emulator.js';
import { METADATA, openTransport, TRANSPORTS, type Transport } from '../support/imds.js';

const V = '2021-02-01';
const INSTANCE = `/metadata/instance?api-version=${V}`;
const JSON_TYPE = 'application/json; charset=utf-8';
const HEADER_MISSING = '{"error":"Bad request. Required metadata header not specified"}';
const FORWARDED = '{"error":"Bad request. X-Forwarded-For header is not allowed"}';
const DUPLICATE = '{"error":"Bad request. Duplicate query parameters are not allowed"}';
const MALFORMED = '{"error":"Bad request. Malformed request."}';
const TOO_MANY = '{"error":"Too many requests"}';

function notFound(path: string, method: string): string {
  return JSON.stringify({ error: `API is not found: Path = "${path}", Method = "${method}"` });
}

function notAllowed(path: string, method: string): string {
  return JSON.stringify({ error: `Http method is not allowed: Path = "${path}", Method = "${method}"` });
}

/** Asserts an IMDS JSON error: status, exact body, Content-Type with charset and the Server header. */
function assertWireError(
  res: { status: number; headers: Record<string, string>; body: string },
  status: number,
  body: string,
) {
  assert.equal(res.status, status, res.body);
  assert.equal(res.body, body);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  assert.match(res.headers.server ?? '', /^IMDS\//, 'Server header');
}

for (const kind of TRANSPORTS) {
  describe(`IMDS request checks and errors (${kind})`, () => {
    let imds: Transport;
    before(async () => {
      imds = await openTransport(kind);
    });
    after(() => imds.close());

    describe('Metadata header', () => {
      for (const path of [
        INSTANCE,
        `/metadata/instance/compute/vmId?api-version=${V}&format=text`,
        '/metadata/versions',
      ]) {
        test(`rejects ${path.split('?')[0]} without the Metadata header: 400 with Azure's exact body`, async () => {
          assertWireError(await imds.request('GET', path), 400, HEADER_MISSING);
        });
      }

      test('checks the Metadata header before the api-version', async () => {
        assertWireError(await imds.request('GET', '/metadata/instance'), 400, HEADER_MISSING);
      });

      for (const value of ['false', 'yes', '1', '', 'true ,true']) {
        test(`rejects Metadata: "${value}" with 400`, async () => {
          assertWireError(await imds.request('GET', INSTANCE, { Metadata: value }), 400, HEADER_MISSING);
        });
      }

      for (const value of ['true', 'True', 'TRUE']) {
        test(`accepts Metadata: ${value} (lenient by default, as Microsoft's own samples send True)`, async () => {
          const res = await imds.request('GET', INSTANCE, { Metadata: value });
          assert.equal(res.status, 200);
        });
      }

      test('accepts the header name in any case (HTTP header names are case-insensitive)', async () => {
        assert.equal((await imds.request('GET', INSTANCE, { METADATA: 'true' })).status, 200);
      });
    });

    test('rejects a request that carries X-Forwarded-For with 400', async () => {
      const res = await imds.request('GET', INSTANCE, { ...METADATA, 'X-Forwarded-For': '203.0.113.7' });
      assertWireError(res, 400, FORWARDED);
    });

    test('rejects X-Forwarded-For even when it is empty', async () => {
      assertWireError(
        await imds.request('GET', INSTANCE, { ...METADATA, 'X-Forwarded-For': '' }),
        400,
        FORWARDED,
      );
    });

    for (const query of [
      `api-version=${V}&api-version=${V}`,
      `api-version=${V}&api-version=2021-01-01`,
      `api-version=${V}&format=json&format=json`,
    ]) {
      test(`rejects a duplicate query parameter (${query}) with 400`, async () => {
        assertWireError(await imds.get(`/metadata/instance?${query}`), 400, DUPLICATE);
      });
    }

    test('rejects a duplicate query parameter on /metadata/versions too', async () => {
      assertWireError(await imds.get('/metadata/versions?x=1&x=2'), 400, DUPLICATE);
    });

    for (const path of ['/metadata/foo', '/metadata', '/', '/metadata/instancex', '/latest/meta-data/']) {
      test(`answers the unknown path ${path} with 404 "API is not found"`, async () => {
        assertWireError(await imds.get(`${path}?api-version=${V}`), 404, notFound(path, 'GET'));
      });
    }

    test('names the verb of the request in "API is not found"', async () => {
      assertWireError(
        await imds.request('POST', '/metadata/foo', METADATA),
        404,
        notFound('/metadata/foo', 'POST'),
      );
    });

    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      test(`answers ${method} on /metadata/instance with 405 and Allow: GET`, async () => {
        const res = await imds.request(method, INSTANCE, METADATA);
        assertWireError(res, 405, notAllowed('/metadata/instance', method));
        assert.equal(res.headers.allow, 'GET');
      });
    }

    test('answers HEAD on /metadata/instance with 405 and Allow: GET, without a body', async () => {
      const res = await imds.request('HEAD', INSTANCE, METADATA);
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'GET');
      assert.equal(res.body, '');
    });

    test('answers a wrong verb on a filtered path with 405 naming that path', async () => {
      const res = await imds.request('DELETE', `/metadata/instance/compute/vmId?api-version=${V}`, METADATA);
      assertWireError(res, 405, notAllowed('/metadata/instance/compute/vmId', 'DELETE'));
    });

    test('answers POST on /metadata/versions with 405 and Allow: GET', async () => {
      const res = await imds.request('POST', '/metadata/versions', METADATA);
      assertWireError(res, 405, notAllowed('/metadata/versions', 'POST'));
      assert.equal(res.headers.allow, 'GET');
    });

    test('checks the verb before the Metadata header', async () => {
      assertWireError(await imds.request('PUT', INSTANCE), 405, notAllowed('/metadata/instance', 'PUT'));
    });

    test('answers a URL with broken percent-encoding with an IMDS-shaped 400', async () => {
      assertWireError(await imds.get(`/metadata/instance/%ZZ?api-version=${V}`), 400, MALFORMED);
    });

    test('keeps serving after bad requests', async () => {
      await imds.request('GET', INSTANCE);
      await imds.request('GET', INSTANCE, { ...METADATA, 'X-Forwarded-For': '1.2.3.4' });
      await imds.get(`/metadata/instance/%ZZ?api-version=${V}`);
      await imds.get(`/metadata/instance/${'x/'.repeat(2000)}?api-version=${V}`);
      await imds.request('POST', INSTANCE, { ...METADATA, 'Content-Type': 'application/json' });
      await imds.get('/metadata/instance?api-version=%00');
      const res = await imds.get(`/metadata/instance/compute/osType?api-version=${V}&format=text`);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'Linux');
    });
  });

  describe(`IMDS strict Metadata header (${kind})`, () => {
    let imds: Transport;
    before(async () => {
      imds = await openTransport(kind, { imds: { strictMetadataHeader: true } });
    });
    after(() => imds.close());

    test('rejects Metadata: True with 400 when imds.strictMetadataHeader is true', async () => {
      assertWireError(await imds.request('GET', INSTANCE, { Metadata: 'True' }), 400, HEADER_MISSING);
    });

    test('accepts Metadata: true (lower case) when imds.strictMetadataHeader is true', async () => {
      assert.equal((await imds.request('GET', INSTANCE, { Metadata: 'true' })).status, 200);
    });
  });

  describe(`IMDS rate limit (${kind})`, () => {
    let imds: Transport;
    // A refill rate this slow keeps the test free of timing: only the clock moves tokens back.
    before(async () => {
      imds = await openTransport(kind, {
        imds: { rateLimit: { enabled: true, burst: 3, requestsPerSecond: 0.01 } },
      });
    });
    after(() => imds.close());

    test("answers requests beyond the burst with 429, Azure's body and Retry-After", async () => {
      for (let i = 0; i < 3; i++) assert.equal((await imds.get(INSTANCE)).status, 200, `request ${i + 1}`);
      const res = await imds.get(INSTANCE);
      assertWireError(res, 429, TOO_MANY);
      assert.equal(res.headers['retry-after'], '1');
      // Every category of the listener counts against the same source.
      assertWireError(await imds.get('/metadata/versions'), 429, TOO_MANY);
    });

    test('serves again once the bucket has refilled', async () => {
      imds.state.clock.advance(100_000); // one token at 0.01 per second
      assert.equal((await imds.get(INSTANCE)).status, 200);
      assert.equal((await imds.get(INSTANCE)).status, 429);
    });
  });
}

describe('IMDS rate limit defaults (inject)', () => {
  test('is off by default: a burst of 50 requests is served in full', async () => {
    const app = await buildSurface('imds');
    try {
      for (let i = 0; i < 50; i++) {
        const res = await app.inject({ url: INSTANCE, headers: METADATA });
        assert.equal(res.statusCode, 200, `request ${i + 1}`);
      }
    } finally {
      await app.close();
    }
  });

  test('counts each source address separately', async () => {
    const app = await buildSurface('imds', {
      imds: { rateLimit: { enabled: true, burst: 1, requestsPerSecond: 0.01 } },
    });
    try {
      const from = (remoteAddress: string) => app.inject({ url: INSTANCE, headers: METADATA, remoteAddress });
      assert.equal((await from('10.0.0.1')).statusCode, 200);
      assert.equal((await from('10.0.0.1')).statusCode, 429);
      assert.equal((await from('10.0.0.2')).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});

describe('IMDS rate limit across categories (inject)', () => {
  test('metadata categories share the VM limit while the identity category keeps its own', async () => {
    const app = await buildSurface('imds', {
      imds: { rateLimit: { enabled: true, burst: 1, requestsPerSecond: 0.01 } },
    });
    try {
      const get = (url: string) => app.inject({ url, headers: METADATA, remoteAddress: '10.0.0.9' });
      assert.equal((await get(INSTANCE)).statusCode, 200);
      assert.equal((await get('/metadata/scheduledevents?api-version=2020-07-01')).statusCode, 429);
      const token = await get(
        '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net',
      );
      assert.equal(token.statusCode, 200);
    } finally {
      await app.close();
    }
  });
});

describe('IMDS verbs with a request body (inject)', () => {
  test('answers a POST with any Content-Type on a GET-only category with 405, never 415', async () => {
    const app = await buildSurface('imds');
    try {
      for (const contentType of ['application/xml', 'application/x-www-form-urlencoded', 'text/plain']) {
        const res = await app.inject({
          method: 'POST',
          url: INSTANCE,
          headers: { ...METADATA, 'content-type': contentType },
          payload: 'a=b',
        });
        assert.equal(res.statusCode, 405, contentType);
        assert.equal(res.headers.allow, 'GET');
      }
    } finally {
      await app.close();
    }
  });
});
