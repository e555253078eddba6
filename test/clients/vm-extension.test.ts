/**
 * The legacy VM extension: its `/oauth2/token` speaks the protocol current SDKs use for Cloud Shell,
 * so MSI_ENDPOINT (what legacy clients such as msrestazure honour for the extension's URL) is all
 * unmodified @azure/identity and @azure/msal-node code needs for the default identity. User-assigned
 * identities are reached with `client_id` / `object_id` / `msi_res_id` in the form, as the extension
 * took them (test/protocol/vm-extension.test.ts); the current SDKs do not send them on this path.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { platformSdkSuite } from '../support/platform-sdk.js';

const sdk = platformSdkSuite('vm-extension', { platforms: { vmExtension: { enabled: true } } });

describe('VM extension through the SDKs', () => {
  test("the printed variables point MSI_ENDPOINT at the extension's /oauth2/token", () => {
    assert.equal(sdk.env.MSI_ENDPOINT, `${sdk.azimds.urls.vmExtension}/oauth2/token`);
    assert.equal(sdk.env.IDENTITY_ENDPOINT, undefined);
  });

  test('@azure/identity gets the system-assigned token from the extension', async () => {
    await sdk.token(
      { sdk: 'identity', scope: 'https://management.azure.com/.default' },
      'https://management.azure.com',
      sdk.system,
    );
  });

  test('msal-node gets the system-assigned token from the extension', async () => {
    await sdk.token(
      { sdk: 'msal', resource: 'https://vault.azure.net' },
      'https://vault.azure.net',
      sdk.system,
    );
  });
});
