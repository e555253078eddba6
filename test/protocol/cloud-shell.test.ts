/**
 * Cloud Shell's MSI endpoint (MSI_ENDPOINT=http://localhost:50342/oauth2/token): POST with
 * `Metadata: true` and a form `resource=...` (or GET with a query), the VM extension's body, identity
 * parameters refused (one identity per session), and the port shared with the VM extension refused as a config error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { AzimdsError } from '../../src/errors.js';
import { platformSuite, TRANSPORTS } from '../support/platform.js';

const VAULT = 'https://vault.azure.net';
const FORM = { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' };

for (const kind of TRANSPORTS) {
  describe(`Cloud Shell MSI endpoint (${kind})`, () => {
    const shell = platformSuite(kind, 'cloudShell', {
      identity: { userAssigned: [{ name: 'id-app' }] },
      platforms: { cloudShell: { enabled: true } },
    });

    test("answers msal-node's request (POST form, Metadata: true) with the token", async () => {
      const res = await shell.json('POST', '/oauth2/token', FORM, `resource=${encodeURIComponent(VAULT)}`);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.resource, VAULT);
      assert.equal(res.json.token_type, 'Bearer');
      assert.match(res.json.expires_on, /^\d+$/);
      assert.match(res.json.expires_in, /^\d+$/);
    });

    test("refuses identity parameters (one identity per session): never the session's token for another", async () => {
      const other = shell.state.identities.current.userAssigned[0];
      assert.ok(other);
      for (const selector of [`client_id=${other.clientId}`, `object_id=${other.principalId}`]) {
        const res = await shell.request(
          'POST',
          '/oauth2/token',
          FORM,
          `resource=${encodeURIComponent(VAULT)}&${selector}`,
        );
        assert.equal(res.status, 400);
        assert.equal(JSON.parse(res.body).error_description, 'Identity not found');
        const get = await shell.request('GET', `/oauth2/token?resource=${VAULT}&${selector}`, FORM);
        assert.equal(get.status, 400);
      }
    });

    test('answers GET with resource in the query, as Cloud Shell does (msal4j sends it)', async () => {
      const res = await shell.json('GET', `/oauth2/token?resource=${encodeURIComponent(VAULT)}`, {
        Metadata: 'true',
      });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json.resource, VAULT);
      const claims = JSON.parse(Buffer.from(res.json.access_token.split('.')[1], 'base64url').toString());
      assert.equal(claims.appid, shell.state.identities.current.systemAssigned?.clientId);
    });

    test('answers 400 without Metadata: true and 405 to other verbs', async () => {
      const noHeader = await shell.request(
        'POST',
        '/oauth2/token',
        { 'Content-Type': FORM['Content-Type'] },
        `resource=${VAULT}`,
      );
      assert.equal(noHeader.status, 400);
      const put = await shell.request('PUT', `/oauth2/token?resource=${VAULT}`, { Metadata: 'true' });
      assert.equal(put.status, 405);
      assert.equal(put.headers.allow, 'GET, POST');
    });
  });
}

describe('Cloud Shell and the VM extension', () => {
  test('cannot both be enabled on the same port (both default to 50342)', () => {
    assert.throws(
      () => resolveConfig({ platforms: { cloudShell: { enabled: true }, vmExtension: { enabled: true } } }),
      (error: unknown) =>
        error instanceof AzimdsError &&
        /platforms\.cloudShell\.port: port 50342 is also used by platforms\.vmExtension/.test(error.message),
    );
    assert.doesNotThrow(() =>
      resolveConfig({
        platforms: { cloudShell: { enabled: true, port: 50343 }, vmExtension: { enabled: true } },
      }),
    );
  });
});
