/**
 * Azure Machine Learning's token service (protocols.md §7.6): api-version 2017-09-01, the `secret`
 * header (MSI_SECRET), `clientid` (DEFAULT_IDENTITY_CLIENT_ID or a user-assigned identity), a body
 * whose `expires_on` is a number, and errors in App Service's shape.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { platformSuite, TRANSPORTS } from '../support/platform.js';

const ML = 'https://ml.azure.com';
const SECRET = 'aml-secret-0123456789abcdef';

function tokenPath(params: Record<string, string> = {}, base = '/MSI/auth'): string {
  return `${base}?${new URLSearchParams({ 'api-version': '2017-09-01', resource: ML, ...params })}`;
}

function messageOf(body: string): string {
  const parsed = JSON.parse(body);
  assert.deepEqual(Object.keys(parsed), ['statusCode', 'message', 'correlationId']);
  return parsed.message;
}

for (const kind of TRANSPORTS) {
  describe(`Azure ML token service (${kind})`, () => {
    const ml = platformSuite(kind, 'azureMl', {
      identity: { userAssigned: [{ name: 'id-train' }] },
      platforms: { azureMl: { enabled: true, secret: SECRET } },
    });

    test('answers the default identity named by clientid, with expires_on an integer', async () => {
      const system = ml.state.identities.current.systemAssigned;
      assert.ok(system);
      const res = await ml.json('GET', tokenPath({ clientid: system.clientId }), {
        secret: SECRET,
        Metadata: 'true',
      });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(Object.keys(res.json), [
        'access_token',
        'expires_on',
        'resource',
        'token_type',
        'client_id',
      ]);
      assert.equal(typeof res.json.expires_on, 'number');
      assert.equal(res.json.client_id, system.clientId);
      assert.equal(res.json.resource, ML);
    });

    test('answers a user-assigned identity named by clientid, and the default one without it', async () => {
      const target = ml.state.identities.current.userAssigned[0];
      assert.ok(target);
      const named = await ml.json('GET', tokenPath({ clientid: target.clientId }), { secret: SECRET });
      assert.equal(named.json.client_id, target.clientId);
      const unnamed = await ml.json('GET', tokenPath(), { secret: SECRET });
      assert.equal(unnamed.json.client_id, ml.state.identities.current.systemAssigned?.clientId);
    });

    test('answers 400 for an unknown clientid', async () => {
      const res = await ml.request('GET', tokenPath({ clientid: '00000000-0000-4000-8000-000000000000' }), {
        secret: SECRET,
      });
      assert.equal(res.status, 400);
      assert.equal(messageOf(res.body), 'Unable to load the proper Managed Identity.');
    });

    test('refuses a missing or wrong secret in its plain text, before the verb', async () => {
      for (const method of ['GET', 'POST']) {
        const missing = await ml.request(method, tokenPath(), { Metadata: 'true' });
        assert.equal(missing.status, 400);
        assert.match(String(missing.headers['content-type']), /^text\/plain/);
        assert.equal(missing.body, 'Invalid secret token header: ');
        const wrong = await ml.request(method, tokenPath(), { secret: 'nope-nope-nope' });
        assert.equal(wrong.status, 400);
        assert.equal(wrong.body, 'Invalid secret token header: nope-nope-nope');
      }
      const post = await ml.request('POST', tokenPath(), { secret: SECRET });
      assert.equal(post.status, 405);
    });

    test('refuses identity parameters it does not take (client_id, object_id): 400, never the default identity', async () => {
      const target = ml.state.identities.current.userAssigned[0];
      assert.ok(target);
      for (const params of <Record<string, string>[]>[
        { client_id: target.clientId },
        { object_id: target.principalId },
        { mi_res_id: target.resourceId },
        { client_id: ml.state.identities.current.systemAssigned?.clientId ?? '' },
      ]) {
        const res = await ml.request('GET', tokenPath(params), { secret: SECRET });
        assert.equal(res.status, 400, JSON.stringify(params));
        assert.equal(messageOf(res.body), 'Unable to load the proper Managed Identity.');
      }
    });

    test('answers 400 for another api-version and without resource', async () => {
      const version = await ml.request('GET', `/MSI/auth?api-version=2019-08-01&resource=${ML}`, {
        secret: SECRET,
      });
      assert.equal(version.status, 400);
      assert.match(messageOf(version.body), /api-version '2019-08-01' is not supported/);
      const resource = await ml.request('GET', '/MSI/auth?api-version=2017-09-01', { secret: SECRET });
      assert.equal(resource.status, 400);
      assert.equal(messageOf(resource.body), "The request is missing the 'resource' parameter.");
    });

    test('matches the path in any case and with a trailing slash', async () => {
      const res = await ml.request('GET', tokenPath({}, '/msi/auth/'), { secret: SECRET });
      assert.equal(res.status, 200);
    });
  });
}
