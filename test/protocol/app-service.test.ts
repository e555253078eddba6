/**
 * App Service's token service (protocols.md §7.1, §7.2): api-version 2019-08-01 with
 * X-IDENTITY-HEADER and the selectors client_id / principal_id / object_id / mi_res_id, the legacy
 * 2017-09-01 with the `secret` header, `clientid` and a date-formatted `expires_on`, App Service's
 * `{statusCode, message, correlationId}` errors, and path matching as on Windows and Linux.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { appServiceDate } from '../../src/protocols/app-service/plugin.js';
import { startEmulator } from '../../src/server/emulator.js';
import { openPlatform, platformSuite, TRANSPORTS } from '../support/platform.js';
import { claimsOf } from '../support/token-sources.js';

const VAULT = 'https://vault.azure.net';
const SECRET = 'c2b5a4f0-5d1e-4a8b-9f3c-0e1d2c3b4a59';

function path(params: Record<string, string>, base = '/msi/token'): string {
  return `${base}?${new URLSearchParams(params)}`;
}

function assertAppServiceError(
  res: { status: number; body: string; headers: Record<string, string> },
  status: number,
  message: string | RegExp,
): void {
  assert.equal(res.status, status, res.body);
  const body = JSON.parse(res.body);
  assert.deepEqual(Object.keys(body), ['statusCode', 'message', 'correlationId']);
  assert.equal(body.statusCode, status);
  if (typeof message === 'string') assert.equal(body.message, message);
  else assert.match(body.message, message);
  assert.match(body.correlationId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
}

for (const kind of TRANSPORTS) {
  describe(`App Service 2019-08-01 (${kind})`, () => {
    const v2019 = (params: Record<string, string> = {}) =>
      path({ 'api-version': '2019-08-01', resource: VAULT, ...params });
    const header = { 'X-IDENTITY-HEADER': SECRET };

    const app = platformSuite(kind, 'appService', {
      identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-deploy' }] },
      platforms: { appService: { enabled: true, secret: SECRET } },
    });

    test('answers {access_token, expires_on, resource, token_type, client_id} with expires_on an epoch string', async () => {
      const res = await app.json('GET', v2019(), header);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(Object.keys(res.json), [
        'access_token',
        'expires_on',
        'resource',
        'token_type',
        'client_id',
      ]);
      assert.match(res.json.expires_on, /^\d+$/);
      assert.equal(res.json.resource, VAULT);
      assert.equal(res.json.token_type, 'Bearer');
      const system = app.state.identities.current.systemAssigned;
      assert.equal(res.json.client_id, system?.clientId);
      const claims = claimsOf(res.json.access_token);
      assert.equal(claims.aud, VAULT);
      assert.equal(claims.exp, Number(res.json.expires_on));
    });

    test('selects a user-assigned identity by client_id, principal_id, object_id or mi_res_id', async () => {
      const target = app.state.identities.current.userAssigned[1];
      assert.ok(target);
      for (const params of <Record<string, string>[]>[
        { client_id: target.clientId },
        { principal_id: target.principalId },
        { object_id: target.principalId },
        { mi_res_id: target.resourceId },
      ]) {
        const res = await app.json('GET', v2019(params), header);
        assert.equal(res.status, 200, JSON.stringify(params));
        assert.equal(res.json.client_id, target.clientId);
        assert.equal(claimsOf(res.json.access_token).xms_mirid, target.resourceId);
      }
    });

    test('answers 400 "Unable to load the proper Managed Identity." for an identity not assigned', async () => {
      const res = await app.request(
        'GET',
        v2019({ client_id: '00000000-0000-4000-8000-000000000000' }),
        header,
      );
      assertAppServiceError(res, 400, 'Unable to load the proper Managed Identity.');
    });

    test('answers 400 for two selectors (principal_id and object_id count as two)', async () => {
      const target = app.state.identities.current.userAssigned[0];
      assert.ok(target);
      const res = await app.request(
        'GET',
        v2019({ principal_id: target.principalId, object_id: target.principalId }),
        header,
      );
      assertAppServiceError(res, 400, /Only one of client_id, principal_id, object_id and mi_res_id/);
    });

    test('answers 400 without X-IDENTITY-HEADER and 401 with a wrong one', async () => {
      assertAppServiceError(
        await app.request('GET', v2019()),
        400,
        'The request is missing the X-IDENTITY-HEADER header.',
      );
      assertAppServiceError(
        await app.request('GET', v2019(), { 'X-IDENTITY-HEADER': 'not-the-secret' }),
        401,
        'The X-IDENTITY-HEADER header is not valid.',
      );
      // The 2017 header does not stand in for the 2019 one.
      assertAppServiceError(await app.request('GET', v2019(), { secret: SECRET }), 400, /X-IDENTITY-HEADER/);
      // The secret is checked before the verb.
      assertAppServiceError(await app.request('POST', v2019()), 400, /X-IDENTITY-HEADER/);
      // 2017's `clientid` on 2019 names no identity.
      const target = app.state.identities.current.userAssigned[0];
      assert.ok(target);
      assertAppServiceError(
        await app.request('GET', v2019({ clientid: target.clientId }), header),
        400,
        'Unable to load the proper Managed Identity.',
      );
    });

    test('answers 400 without resource, and for an api-version it does not serve', async () => {
      assertAppServiceError(
        await app.request('GET', path({ 'api-version': '2019-08-01' }), header),
        400,
        "The request is missing the 'resource' parameter.",
      );
      assertAppServiceError(
        await app.request('GET', path({ 'api-version': '2018-02-01', resource: VAULT }), header),
        400,
        /api-version '2018-02-01' is not supported/,
      );
    });

    test('answers 400 for an api-version named like an object property (constructor, toString)', async () => {
      for (const version of ['constructor', 'toString', '__proto__']) {
        assertAppServiceError(
          await app.request('GET', path({ 'api-version': version, resource: VAULT }), header),
          400,
          `The api-version '${version}' is not supported. Supported versions: 2019-08-01, 2017-09-01.`,
        );
      }
    });

    test("takes MSAL's extra Metadata and Content-Type headers, and answers 405 to POST", async () => {
      const res = await app.request('GET', v2019(), {
        ...header,
        Metadata: 'true',
        'Content-Type': 'application/x-www-form-urlencoded',
      });
      assert.equal(res.status, 200);
      assertAppServiceError(await app.request('POST', v2019(), header, ''), 405, /GET/);
    });

    test('matches the path in any case, with or without a trailing slash (/MSI/token/ on Windows)', async () => {
      for (const base of ['/MSI/token/', '/msi/token/', '/Msi/Token']) {
        const res = await app.request(
          'GET',
          path({ 'api-version': '2019-08-01', resource: VAULT }, base),
          header,
        );
        assert.equal(res.status, 200, base);
      }
      assertAppServiceError(await app.request('GET', '/other', header), 404, /not found/);
    });

    test('fetches a fresh token only when token_sha256_to_refresh names the cached one (MSAL revocation)', async () => {
      const first = await app.json('GET', v2019({ resource: 'https://storage.azure.com' }), header);
      const cached = await app.json('GET', v2019({ resource: 'https://storage.azure.com' }), header);
      assert.equal(cached.json.access_token, first.json.access_token);
      // A hash that is not the cached token's (another token, garbage) changes nothing.
      for (const other of ['abc', createHash('sha256').update('another token').digest('hex')]) {
        const same = await app.json(
          'GET',
          v2019({ resource: 'https://storage.azure.com', token_sha256_to_refresh: other }),
          header,
        );
        assert.equal(same.json.access_token, first.json.access_token, other);
      }
      const sha = createHash('sha256').update(first.json.access_token).digest('hex');
      const fresh = await app.json(
        'GET',
        v2019({ resource: 'https://storage.azure.com', token_sha256_to_refresh: sha.toUpperCase() }),
        header,
      );
      assert.notEqual(fresh.json.access_token, first.json.access_token);
      // The new token is cached; the old hash no longer forces anything.
      const again = await app.json(
        'GET',
        v2019({ resource: 'https://storage.azure.com', token_sha256_to_refresh: sha }),
        header,
      );
      assert.equal(again.json.access_token, fresh.json.access_token);
    });
  });

  describe(`App Service 2017-09-01 (${kind})`, () => {
    const v2017 = (params: Record<string, string> = {}) =>
      path({ 'api-version': '2017-09-01', resource: VAULT, ...params });

    const app = platformSuite(kind, 'appService', {
      identity: { userAssigned: [{ name: 'id-app' }] },
      platforms: { appService: { enabled: true, secret: SECRET } },
    });

    test('answers with the secret header and expires_on as a date string (Linux format)', async () => {
      const res = await app.json('GET', v2017(), { secret: SECRET });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(Object.keys(res.json), ['access_token', 'expires_on', 'resource', 'token_type']);
      assert.match(res.json.expires_on, /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} \+00:00$/);
      const exp = claimsOf(res.json.access_token).exp as number;
      assert.equal(res.json.expires_on, appServiceDate(exp, false));
    });

    test('selects a user-assigned identity by clientid', async () => {
      const target = app.state.identities.current.userAssigned[0];
      assert.ok(target);
      const res = await app.json('GET', v2017({ clientid: target.clientId }), { secret: SECRET });
      assert.equal(claimsOf(res.json.access_token).appid, target.clientId);
    });

    test('answers 400 without the secret header and 401 with a wrong one', async () => {
      assertAppServiceError(
        await app.request('GET', v2017()),
        400,
        'The request is missing the secret header.',
      );
      assertAppServiceError(
        await app.request('GET', v2017(), { secret: 'wrong' }),
        401,
        'The secret header is not valid.',
      );
      assertAppServiceError(
        await app.request('GET', v2017(), { 'X-IDENTITY-HEADER': SECRET }),
        400,
        /secret/,
      );
    });

    test('refuses the 2019 selectors (client_id, object_id): 2017 takes only clientid', async () => {
      const target = app.state.identities.current.userAssigned[0];
      assert.ok(target);
      for (const params of <Record<string, string>[]>[
        { client_id: target.clientId },
        { object_id: target.principalId },
      ]) {
        assertAppServiceError(
          await app.request('GET', v2017(params), { secret: SECRET }),
          400,
          'Unable to load the proper Managed Identity.',
        );
      }
    });
  });
}

describe('App Service 2017-09-01 on a Windows machine', () => {
  test('writes expires_on as App Service on Windows does (M/d/yyyy h:mm:ss AM +00:00)', async () => {
    const app = await openPlatform('inject', 'appService', {
      vm: { compute: { osType: 'Windows' } },
      platforms: { appService: { enabled: true, secret: SECRET } },
    });
    try {
      const res = await app.json('GET', path({ 'api-version': '2017-09-01', resource: VAULT }), {
        secret: SECRET,
      });
      assert.match(res.json.expires_on, /^\d{1,2}\/\d{1,2}\/\d{4} \d{1,2}:\d{2}:\d{2} (AM|PM) \+00:00$/);
    } finally {
      await app.close();
    }
  });

  test("formats dates as .NET's en-US general format on either system", () => {
    const t = Date.UTC(2020, 0, 16, 5, 24, 12) / 1000;
    assert.equal(appServiceDate(t, true), '1/16/2020 5:24:12 AM +00:00');
    assert.equal(appServiceDate(t, false), '01/16/2020 05:24:12 +00:00');
    const noon = Date.UTC(2019, 5, 20, 12, 0, 0) / 1000;
    assert.equal(appServiceDate(noon, true), '6/20/2019 12:00:00 PM +00:00');
    const midnight = Date.UTC(2019, 5, 20, 0, 7, 9) / 1000;
    assert.equal(appServiceDate(midnight, true), '6/20/2019 12:07:09 AM +00:00');
  });
});

describe('App Service secrets', () => {
  test('a generated secret is a GUID, shared by IDENTITY_HEADER and MSI_SECRET', async () => {
    const handle = await startEmulator({ platforms: { appService: { enabled: true } } });
    try {
      const env = handle.env('app-service');
      assert.match(env.IDENTITY_HEADER ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(env.MSI_SECRET, env.IDENTITY_HEADER);
      assert.equal(env.IDENTITY_ENDPOINT, `${handle.urls.appService}/msi/token`);
      assert.equal(env.MSI_ENDPOINT, env.IDENTITY_ENDPOINT);
      const res = await fetch(`${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${VAULT}`, {
        headers: { 'X-IDENTITY-HEADER': env.IDENTITY_HEADER ?? '' },
      });
      assert.equal(res.status, 200);
    } finally {
      await handle.close();
    }
  });
});
