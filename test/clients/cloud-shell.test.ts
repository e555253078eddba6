/**
 * Cloud Shell: unmodified @azure/identity and @azure/msal-node code gets a token from azimds with
 * MSI_ENDPOINT alone (POST form with `Metadata: true`). Cloud Shell has one identity: the SDKs refuse
 * user-assigned ids client-side.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { failure, platformSdkSuite } from '../support/platform-sdk.js';

const sdk = platformSdkSuite('cloud-shell', {
  identity: { userAssigned: [{ name: 'id-app' }] },
  platforms: { cloudShell: { enabled: true } },
});

describe('Cloud Shell through the SDKs', () => {
  test('@azure/identity gets the default token through MSI_ENDPOINT', async () => {
    await sdk.token(
      { sdk: 'identity', scope: 'https://management.azure.com/.default' },
      'https://management.azure.com',
      sdk.system,
    );
  });

  test('@azure/identity refuses a user-assigned identity on Cloud Shell', async () => {
    const target = sdk.user(0);
    const result = await sdk.run({
      sdk: 'identity',
      scope: 'https://management.azure.com/.default',
      id: { clientId: target.clientId },
    });
    assert.match(failure(result).message, /not supported for CloudShell/);
  });

  test('msal-node picks Cloud Shell from MSI_ENDPOINT alone and gets the default token', async () => {
    const result = await sdk.run({ sdk: 'msal', resource: 'https://vault.azure.net' });
    assert.equal(result.ok && result.source, 'CloudShell');
    await sdk.verify(result, 'https://vault.azure.net', sdk.system);
  });

  test('msal-node picks Azure ML instead when a stray MSI_SECRET is left in the environment', async () => {
    const result = await sdk.run(
      { sdk: 'msal', resource: 'https://vault.azure.net', maxRetries: 0 },
      { MSI_SECRET: 'left-over-secret' },
    );
    // Why `azimds env` unsets the other platforms' variables: the detection order decides. Azure ML's
    // GET reaches Cloud Shell's endpoint, which answers GET as Cloud Shell does.
    assert.equal(result.source, 'MachineLearning');
  });
});
