/**
 * The legacy managed identity VM extension's `/oauth2/token` (port 50342): POST with `Metadata: true`
 * and a form `resource=...` (or a GET with the query, as scripts sent it), user-assigned identities by
 * `client_id` / `object_id` / `msi_res_id`, the extension's documented body, and IMDS-style errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { platformSuite, TRANSPORTS } from '../support/platform.js';

const ARM = 'https://management.azure.com/';
const FORM = { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' };

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

function oauth(description: string) {
  return { error: 'invalid_request', error_description: description };
}

for (const kind of TRANSPORTS) {
  describe(`VM extension /oauth2/token (${kind})`, () => {
    const ext = platformSuite(kind, 'vmExtension', {
      identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-deploy' }] },
      platforms: { vmExtension: { enabled: true } },
    });

    test("answers a form POST with the extension's body: every value a string, in its order", async () => {
      const res = await ext.json('POST', '/oauth2/token', FORM, form({ resource: ARM }));
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(Object.keys(res.json), [
        'access_token',
        'refresh_token',
        'expires_in',
        'expires_on',
        'not_before',
        'resource',
        'token_type',
      ]);
      for (const [key, value] of Object.entries(res.json)) assert.equal(typeof value, 'string', key);
      assert.equal(res.json.refresh_token, '');
      assert.equal(res.json.resource, ARM);
      assert.ok(Number(res.json.expires_in) > 0);
    });

    test('answers a GET with the resource in the query (PowerShell -Method GET -Body)', async () => {
      const res = await ext.request('GET', `/oauth2/token?resource=${encodeURIComponent(ARM)}`, {
        Metadata: 'true',
      });
      assert.equal(res.status, 200);
    });

    test('a repeated request gets the cached token with expires_in counting down on the clock', async () => {
      const path = `/oauth2/token?resource=${encodeURIComponent('https://storage.azure.com/')}`;
      const first = await ext.json('GET', path, { Metadata: 'true' });
      ext.state.clock.advance(90_000);
      const later = await ext.json('GET', path, { Metadata: 'true' });
      const posted = await ext.json(
        'POST',
        '/oauth2/token',
        FORM,
        form({ resource: 'https://storage.azure.com/' }),
      );
      ext.state.clock.reset();
      assert.equal(later.json.access_token, first.json.access_token);
      assert.equal(later.json.expires_on, first.json.expires_on);
      assert.ok(
        Number(first.json.expires_in) - Number(later.json.expires_in) >= 89,
        `${first.body} ${later.body}`,
      );
      assert.ok(Math.abs(Number(posted.json.expires_in) - Number(later.json.expires_in)) <= 1);
      // A selector in the query of a GET still selects (the query object is the GET's parameters).
      const target = ext.state.identities.current.userAssigned[0];
      assert.ok(target);
      const selected = await ext.json('GET', `${path}&client_id=${target.clientId}`, { Metadata: 'true' });
      const claims = JSON.parse(
        Buffer.from(selected.json.access_token.split('.')[1], 'base64url').toString(),
      );
      assert.equal(claims.appid, target.clientId);
    });

    test('selects a user-assigned identity by client_id, object_id or msi_res_id in the form', async () => {
      const target = ext.state.identities.current.userAssigned[1];
      assert.ok(target);
      for (const selector of <Record<string, string>[]>[
        { client_id: target.clientId },
        { object_id: target.principalId },
        { msi_res_id: target.resourceId },
      ]) {
        const res = await ext.json('POST', '/oauth2/token', FORM, form({ resource: ARM, ...selector }));
        const claims = JSON.parse(Buffer.from(res.json.access_token.split('.')[1], 'base64url').toString());
        assert.equal(claims.appid, target.clientId, JSON.stringify(selector));
      }
    });

    test("answers IMDS's 400s: no Metadata header, no resource, unknown identity", async () => {
      const noHeader = await ext.json(
        'POST',
        '/oauth2/token',
        { 'Content-Type': FORM['Content-Type'] },
        form({ resource: ARM }),
      );
      assert.equal(noHeader.status, 400);
      assert.deepEqual(noHeader.json, oauth('Required metadata header not specified'));
      const noResource = await ext.json('POST', '/oauth2/token', FORM, '');
      assert.equal(noResource.status, 400);
      assert.deepEqual(noResource.json, oauth('Required audience parameter not specified'));
      const unknown = await ext.json(
        'POST',
        '/oauth2/token',
        FORM,
        form({ resource: ARM, client_id: '00000000-0000-4000-8000-000000000000' }),
      );
      assert.equal(unknown.status, 400);
      assert.deepEqual(unknown.json, oauth('Identity not found'));
      // A selector the extension does not take names no identity: not the default one.
      const target = ext.state.identities.current.userAssigned[0];
      assert.ok(target);
      for (const selector of <Record<string, string>[]>[
        { clientid: target.clientId },
        { mi_res_id: target.resourceId },
      ]) {
        const foreign = await ext.json('POST', '/oauth2/token', FORM, form({ resource: ARM, ...selector }));
        assert.equal(foreign.status, 400, JSON.stringify(selector));
        assert.deepEqual(foreign.json, oauth('Identity not found'));
      }
    });

    test('answers 400 to a parameter given twice and 405 to another verb', async () => {
      const twice = await ext.request('POST', '/oauth2/token', FORM, `resource=${ARM}&resource=${ARM}`);
      assert.equal(twice.status, 400);
      const put = await ext.request('PUT', '/oauth2/token', FORM, form({ resource: ARM }));
      assert.equal(put.status, 405);
      assert.equal(put.headers.allow, 'GET, POST');
    });
  });
}
