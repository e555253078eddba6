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

    test('answers 400 without the secret header and 401 with a wrong one', async () => {
      const missing = await ml.request('GET', tokenPath());
      assert.equal(missing.status, 400);
      assert.equal(messageOf(missing.body), 'The request is missing the secret header.');
      const wrong = await ml.request('GET', tokenPath(), { secret: 'nope-nope-nope' });
      assert.equal(wrong.status, 401);
      assert.equal(messageOf(wrong.body), 'The secret header is not valid.');
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
