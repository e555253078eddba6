/**
 * The managed-identity token endpoint on IMDS (protocols.md §6, §8.2): every error path with Azure's
 * status and exact `{error, error_description}` body, the success body's fields and JSON types, caching,
 * `bypass_cache`, selectors, the SDK probe, the identity rate limit, and `/metadata/identity/info`.
 * Each case runs over inject() and over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EmulatorOptions } from '../../src/server/emulator.js';
import {
  IMDS_TOKEN_FIELDS,
  METADATA,
  openTransport,
  TRANSPORTS,
  type Transport,
  type WireResponse,
} from '../support/imds.js';
import { claimsOf } from '../support/token-sources.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const ARM = 'https://management.azure.com/';
const TOKEN = '/metadata/identity/oauth2/token';

/** `/metadata/identity/oauth2/token?api-version=2018-02-01&...` with URL-encoded parameters. */
function tokenPath(params: Record<string, string> = {}, version: string | null = '2018-02-01'): string {
  const query = new URLSearchParams(version === null ? params : { 'api-version': version, ...params });
  const text = query.toString();
  return text ? `${TOKEN}?${text}` : TOKEN;
}

function oauth(error: string, description: string): string {
  return JSON.stringify({ error, error_description: description });
}

const HEADER_MISSING = oauth('invalid_request', 'Required metadata header not specified');
const BAD_VERSION = oauth('invalid_request', "Invalid 'api-version' requested");
const NO_RESOURCE = oauth('invalid_request', 'Required audience parameter not specified');
const NOT_FOUND = oauth('invalid_request', 'Identity not found');
const MULTIPLE = oauth(
  'invalid_request',
  'Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request',
);
const SEVERAL = oauth(
  'invalid_request',
  'Only one of client_id, object_id and msi_res_id may be specified in the token request',
);

function assertIdentityError(res: WireResponse, status: number, body: string): void {
  assert.equal(res.status, status, res.body);
  assert.equal(res.body, body);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  assert.match(res.headers.server ?? '', /^IMDS\//, 'Server header');
}

const WITH_IDENTITIES: EmulatorOptions = {
  identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-deploy' }] },
};

for (const kind of TRANSPORTS) {
  describe(`identity token endpoint errors (${kind})`, () => {
    let t: Transport;
    before(async () => {
      t = await openTransport(kind, WITH_IDENTITIES);
    });
    after(() => t.close());

    test("answers the SDKs' probe (no query, no Metadata header) with 400 JSON at once", async () => {
      assertIdentityError(await t.request('GET', TOKEN, { Accept: 'application/json' }), 400, HEADER_MISSING);
    });

    test('rejects a token request without the Metadata header with 400', async () => {
      assertIdentityError(await t.request('GET', tokenPath({ resource: ARM })), 400, HEADER_MISSING);
    });

    test('rejects Metadata: false with 400', async () => {
      assertIdentityError(
        await t.request('GET', tokenPath({ resource: ARM }), { Metadata: 'false' }),
        400,
        HEADER_MISSING,
      );
    });

    test('rejects a request that carries X-Forwarded-For with 400', async () => {
      assertIdentityError(
        await t.request('GET', tokenPath({ resource: ARM }), { ...METADATA, 'X-Forwarded-For': '10.0.0.9' }),
        400,
        oauth('invalid_request', 'X-Forwarded-For header is not allowed'),
      );
    });

    test('rejects a duplicated query parameter with 400', async () => {
      assertIdentityError(
        await t.get(`${tokenPath({ resource: ARM })}&resource=${encodeURIComponent(ARM)}`),
        400,
        oauth('invalid_request', 'Duplicate query parameters are not allowed'),
      );
    });

    test('rejects a missing api-version with 400', async () => {
      assertIdentityError(await t.get(tokenPath({ resource: ARM }, null)), 400, BAD_VERSION);
    });

    test('rejects an unknown api-version and one older than 2018-02-01 with 400', async () => {
      assertIdentityError(await t.get(tokenPath({ resource: ARM }, '2018-02-02')), 400, BAD_VERSION);
      assertIdentityError(await t.get(tokenPath({ resource: ARM }, '2017-12-01')), 400, BAD_VERSION);
    });

    test('accepts every IMDS api-version from 2018-02-01 on', async () => {
      for (const version of ['2018-02-01', '2019-08-01', '2021-02-01', '2025-04-07']) {
        assert.equal((await t.get(tokenPath({ resource: ARM }, version))).status, 200, version);
      }
    });

    test('rejects a request without resource, or with an empty one, with 400', async () => {
      assertIdentityError(await t.get(tokenPath()), 400, NO_RESOURCE);
      assertIdentityError(await t.get(tokenPath({ resource: '' })), 400, NO_RESOURCE);
    });

    test('rejects a resource Entra would not know with 400 invalid_resource (AADSTS500011)', async () => {
      const res = await t.get(tokenPath({ resource: 'not-a-resource' }));
      assert.equal(res.status, 400);
      const body = JSON.parse(res.body);
      assert.deepEqual(Object.keys(body), ['error', 'error_description']);
      assert.equal(body.error, 'invalid_resource');
      assert.match(
        body.error_description,
        /^AADSTS500011: The resource principal named not-a-resource was not found in the tenant named [0-9a-f-]{36}\./,
      );
    });

    test('rejects a selector that names no assigned identity with 400 Identity not found', async () => {
      const unknown = '00000000-0000-4000-8000-000000000000';
      for (const name of ['client_id', 'object_id', 'msi_res_id', 'mi_res_id']) {
        const value = name.endsWith('res_id')
          ? '/subscriptions/x/resourcegroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope'
          : unknown;
        assertIdentityError(await t.get(tokenPath({ resource: ARM, [name]: value })), 400, NOT_FOUND);
      }
    });

    test('rejects a selector spelled as other platforms spell it (clientid, principal_id): never the default identity', async () => {
      const [u] = t.state.identities.current.userAssigned;
      assert.ok(u);
      for (const params of <Record<string, string>[]>[
        { clientid: u.clientId },
        { principal_id: u.principalId },
        { ClientId: u.clientId },
      ]) {
        assertIdentityError(await t.get(tokenPath({ resource: ARM, ...params })), 400, NOT_FOUND);
      }
    });

    test('rejects two selectors in one request with 400', async () => {
      const [u] = t.state.identities.current.userAssigned;
      assert.ok(u);
      assertIdentityError(
        await t.get(tokenPath({ resource: ARM, client_id: u.clientId, object_id: u.principalId })),
        400,
        SEVERAL,
      );
      assertIdentityError(
        await t.get(tokenPath({ resource: ARM, msi_res_id: u.resourceId, mi_res_id: u.resourceId })),
        400,
        SEVERAL,
      );
    });

    test('allows only GET (405 with Allow)', async () => {
      const res = await t.request('POST', tokenPath({ resource: ARM }), METADATA);
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'GET');
    });
  });

  describe(`identity selection on the wire (${kind})`, () => {
    test('answers 400 Identity not found when the VM has no identity', async () => {
      const t = await openTransport(kind, { identity: { systemAssigned: false } });
      try {
        assertIdentityError(await t.get(tokenPath({ resource: ARM })), 400, NOT_FOUND);
      } finally {
        await t.close();
      }
    });

    test('asks for a selector when there is no system-assigned identity and several user-assigned ones', async () => {
      const t = await openTransport(kind, {
        identity: { systemAssigned: false, userAssigned: [{ name: 'id-one' }, { name: 'id-two' }] },
      });
      try {
        assertIdentityError(await t.get(tokenPath({ resource: ARM })), 400, MULTIPLE);
        const [, two] = t.state.identities.current.userAssigned;
        assert.ok(two);
        const res = await t.get(tokenPath({ resource: ARM, client_id: two.clientId }));
        assert.equal(res.status, 200);
        assert.equal(JSON.parse(res.body).client_id, two.clientId);
      } finally {
        await t.close();
      }
    });

    test('gives the only user-assigned identity when there is no system-assigned one', async () => {
      const t = await openTransport(kind, {
        identity: { systemAssigned: false, userAssigned: [{ name: 'id-one' }] },
      });
      try {
        const res = await t.get(tokenPath({ resource: ARM }));
        assert.equal(res.status, 200);
        assert.equal(JSON.parse(res.body).client_id, t.state.identities.current.userAssigned[0]?.clientId);
      } finally {
        await t.close();
      }
    });
  });

  describe(`identity token success (${kind})`, () => {
    let t: Transport;
    before(async () => {
      t = await openTransport(kind, WITH_IDENTITIES);
    });
    after(() => t.close());

    test('answers 200 with every field a string, in Azure order, matching the token claims', async () => {
      const res = await t.get(tokenPath({ resource: ARM }));
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers['content-type'], JSON_TYPE);
      assert.match(res.headers.server ?? '', /^IMDS\//);
      const body = JSON.parse(res.body);
      assert.deepEqual(Object.keys(body), IMDS_TOKEN_FIELDS);
      for (const field of IMDS_TOKEN_FIELDS) assert.equal(typeof body[field], 'string', field);
      for (const field of ['expires_in', 'expires_on', 'ext_expires_in', 'not_before']) {
        assert.match(body[field], /^\d+$/, field);
      }
      const sa = t.state.identities.current.systemAssigned;
      assert.ok(sa);
      assert.equal(body.client_id, sa.clientId);
      assert.equal(body.resource, ARM);
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.refresh_token, '');
      assert.equal(body.ext_expires_in, '86400');
      const claims = claimsOf(body.access_token);
      assert.equal(String(claims.exp), body.expires_on);
      assert.equal(String(claims.nbf), body.not_before);
      assert.equal(claims.aud, ARM);
      assert.equal(claims.oid, sa.principalId);
      const left = Number(body.expires_on) - Math.floor(t.state.clock.now() / 1000);
      assert.ok(Math.abs(Number(body.expires_in) - left) <= 1, `expires_in ${body.expires_in} vs ${left}`);
    });

    test('echoes the resource verbatim and uses it as aud (with or without trailing slash)', async () => {
      for (const resource of ['https://vault.azure.net', 'https://vault.azure.net/', 'api://my-api/']) {
        const body = JSON.parse((await t.get(tokenPath({ resource }))).body);
        assert.equal(body.resource, resource);
        assert.equal(claimsOf(body.access_token).aud, resource);
      }
    });

    test('serves the cached token until it nears expiry, with expires_in counting down', async () => {
      const resource = 'https://storage.azure.com/';
      const first = JSON.parse((await t.get(tokenPath({ resource }))).body);
      t.state.clock.advance(3_600_000);
      const second = JSON.parse((await t.get(tokenPath({ resource }))).body);
      assert.equal(second.access_token, first.access_token);
      assert.equal(second.expires_on, first.expires_on);
      assert.ok(Number(first.expires_in) - Number(second.expires_in) >= 3599);
      t.state.clock.advance((86_400 - 3600 - 600) * 1000);
      const third = JSON.parse((await t.get(tokenPath({ resource }))).body);
      assert.notEqual(third.access_token, first.access_token);
      assert.ok(Number(third.expires_on) > Number(first.expires_on));
      t.state.clock.reset();
    });

    test('mints a fresh token on bypass_cache=true', async () => {
      const resource = 'https://database.windows.net/';
      const first = JSON.parse((await t.get(tokenPath({ resource }))).body);
      const bypassed = JSON.parse((await t.get(tokenPath({ resource, bypass_cache: 'true' }))).body);
      assert.notEqual(bypassed.access_token, first.access_token);
      const again = JSON.parse((await t.get(tokenPath({ resource }))).body);
      assert.equal(again.access_token, bypassed.access_token);
    });

    test('selects a user-assigned identity by client_id, object_id, msi_res_id and mi_res_id', async () => {
      const u = t.state.identities.current.userAssigned[1];
      assert.ok(u);
      for (const [name, value] of [
        ['client_id', u.clientId],
        ['object_id', u.principalId],
        ['msi_res_id', u.resourceId],
        ['mi_res_id', u.resourceId],
      ] as const) {
        const res = await t.get(tokenPath({ resource: ARM, [name]: value }));
        assert.equal(res.status, 200, `${name}: ${res.body}`);
        const body = JSON.parse(res.body);
        assert.equal(body.client_id, u.clientId, name);
        const claims = claimsOf(body.access_token);
        assert.equal(claims.appid, u.clientId);
        assert.equal(claims.oid, u.principalId);
        assert.equal(claims.xms_mirid, u.resourceId);
      }
    });

    test('treats an empty selector as absent (the system-assigned identity)', async () => {
      const body = JSON.parse((await t.get(tokenPath({ resource: ARM, client_id: '' }))).body);
      assert.equal(body.client_id, t.state.identities.current.systemAssigned?.clientId);
    });

    test('ignores the parameters newer MSAL versions add (xms_cc, token_sha256_to_refresh)', async () => {
      const res = await t.get(tokenPath({ resource: ARM, xms_cc: 'cp1', token_sha256_to_refresh: 'abc' }));
      assert.equal(res.status, 200, res.body);
    });

    test('accepts the path with a trailing slash, as msal-node sends it', async () => {
      const res = await t.get(tokenPath({ resource: ARM }).replace('/token?', '/token/?'));
      assert.equal(res.status, 200, res.body);
      assertIdentityError(await t.request('GET', `${TOKEN}/`), 400, HEADER_MISSING);
    });

    test('accepts the Metadata header value in any letter case', async () => {
      const res = await t.request('GET', tokenPath({ resource: ARM }), { Metadata: 'True' });
      assert.equal(res.status, 200);
    });
  });

  describe(`identity info (${kind})`, () => {
    test('answers the tenant of the system-assigned identity', async () => {
      const t = await openTransport(kind, { identity: { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' } });
      try {
        const res = await t.get('/metadata/identity/info?api-version=2018-02-01');
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-type'], JSON_TYPE);
        assert.equal(res.body, '{"tenantId":"72f988bf-86f1-41af-91ab-2d7cd011db47"}');
        assertIdentityError(
          await t.request('GET', '/metadata/identity/info?api-version=2018-02-01'),
          400,
          HEADER_MISSING,
        );
        assertIdentityError(await t.get('/metadata/identity/info'), 400, BAD_VERSION);
      } finally {
        await t.close();
      }
    });

    test('answers 400 Identity not found without a system-assigned identity', async () => {
      const t = await openTransport(kind, { identity: { systemAssigned: false } });
      try {
        assertIdentityError(await t.get('/metadata/identity/info?api-version=2018-02-01'), 400, NOT_FOUND);
      } finally {
        await t.close();
      }
    });
  });

  describe(`identity rate limit (${kind})`, () => {
    test('throttles the identity category with its own bucket: 429 too_many_requests with Retry-After', async () => {
      const t = await openTransport(kind, {
        imds: {
          rateLimit: {
            enabled: true,
            requestsPerSecond: 0.01,
            burst: 1,
            identity: { requestsPerSecond: 0.01, burst: 3 },
          },
        },
      });
      try {
        // The metadata bucket (burst 1) is used up without touching the identity bucket (burst 3).
        await t.get('/metadata/versions');
        assert.equal((await t.get('/metadata/versions')).status, 429);
        for (let i = 0; i < 3; i++)
          assert.equal((await t.get(tokenPath({ resource: ARM }))).status, 200, `request ${i}`);
        const res = await t.get(tokenPath({ resource: ARM }));
        assertIdentityError(res, 429, oauth('too_many_requests', 'Too many requests'));
        assert.equal(res.headers['retry-after'], '1');
      } finally {
        await t.close();
      }
    });
  });
}

describe('identity endpoint: strict Metadata header', () => {
  test('rejects Metadata: True when imds.strictMetadataHeader is set', async () => {
    const t = await openTransport('inject', { imds: { strictMetadataHeader: true } });
    try {
      assertIdentityError(
        await t.request('GET', tokenPath({ resource: ARM }), { Metadata: 'True' }),
        400,
        HEADER_MISSING,
      );
    } finally {
      await t.close();
    }
  });
});
