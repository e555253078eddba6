/**
 * Azure Machine Learning: unmodified @azure/identity and @azure/msal-node code gets tokens from azimds
 * with MSI_ENDPOINT, MSI_SECRET and DEFAULT_IDENTITY_CLIENT_ID (the SDKs send it as `clientid` for the
 * default identity). Azure ML selects user-assigned identities by client id only.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { failure, platformSdkSuite } from '../support/platform-sdk.js';

const sdk = platformSdkSuite('azure-ml', {
  identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-train' }] },
  platforms: { azureMl: { enabled: true } },
});

describe('@azure/identity ManagedIdentityCredential on Azure ML', () => {
  test('gets the default (system-assigned) token through DEFAULT_IDENTITY_CLIENT_ID', async () => {
    assert.equal(sdk.env.DEFAULT_IDENTITY_CLIENT_ID, sdk.system.clientId);
    await sdk.token(
      { sdk: 'identity', scope: 'https://ml.azure.com/.default' },
      'https://ml.azure.com',
      sdk.system,
    );
  });

  test('gets a user-assigned token by clientId (clientid)', async () => {
    const target = sdk.user(1);
    await sdk.token(
      { sdk: 'identity', scope: 'https://storage.azure.com/.default', id: { clientId: target.clientId } },
      'https://storage.azure.com',
      target,
    );
  });

  test('is refused client-side for an objectId (Azure ML selects by client id only)', async () => {
    const target = sdk.user(1);
    const result = await sdk.run({
      sdk: 'identity',
      scope: 'https://storage.azure.com/.default',
      id: { objectId: target.principalId },
    });
    assert.match(failure(result).message, /Only client id is supported/);
  });

  test("fails with a wrong MSI_SECRET as on Azure ML: a plain-text refusal the SDK can't parse", async () => {
    const result = await sdk.run(
      { sdk: 'identity', scope: 'https://ml.azure.com/.default', maxRetries: 0 },
      { MSI_SECRET: 'wrong-secret-value' },
    );
    // Azure ML's `Invalid secret token header: ...` is not JSON: msal-node reports a network error, as
    // reported from real compute (AzureAD/microsoft-authentication-library-for-js#7597).
    assert.match(failure(result).message, /network_error|Network unreachable/);
  });
});

describe('@azure/msal-node ManagedIdentityApplication on Azure ML', () => {
  test('picks Machine Learning from the environment and gets the default token', async () => {
    const result = await sdk.run({ sdk: 'msal', resource: 'https://ml.azure.com' });
    assert.equal(result.ok && result.source, 'MachineLearning');
    await sdk.verify(result, 'https://ml.azure.com', sdk.system);
  });

  test('gets a user-assigned token by client id', async () => {
    const target = sdk.user(0);
    await sdk.token(
      { sdk: 'msal', resource: 'https://vault.azure.net', id: { clientId: target.clientId } },
      'https://vault.azure.net',
      target,
    );
  });
});
