/**
 * App Service (and Functions, Container Apps): unmodified @azure/identity and @azure/msal-node code
 * gets tokens from azimds with only the variables `azimds env --platform app-service` prints
 * (IDENTITY_ENDPOINT + IDENTITY_HEADER, api-version 2019-08-01). Each SDK call runs in its own
 * process with exactly that environment (test/support/platform-sdk.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { failure, platformSdkSuite } from '../support/platform-sdk.js';

const sdk = platformSdkSuite('app-service', {
  identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-deploy' }] },
  platforms: { appService: { enabled: true } },
});

describe('@azure/identity ManagedIdentityCredential on App Service', () => {
  test('gets a system-assigned token through IDENTITY_ENDPOINT and IDENTITY_HEADER', async () => {
    await sdk.token(
      { sdk: 'identity', scope: 'https://vault.azure.net/.default' },
      'https://vault.azure.net',
      sdk.system,
    );
  });

  test('gets a user-assigned token by clientId (client_id)', async () => {
    const target = sdk.user(0);
    await sdk.token(
      { sdk: 'identity', scope: 'https://storage.azure.com/.default', id: { clientId: target.clientId } },
      'https://storage.azure.com',
      target,
    );
  });

  test('gets a user-assigned token by objectId (object_id)', async () => {
    const target = sdk.user(1);
    await sdk.token(
      {
        sdk: 'identity',
        scope: 'https://management.azure.com/.default',
        id: { objectId: target.principalId },
      },
      'https://management.azure.com',
      target,
    );
  });

  test('gets a user-assigned token by resourceId (mi_res_id)', async () => {
    const target = sdk.user(1);
    await sdk.token(
      {
        sdk: 'identity',
        scope: 'https://database.windows.net/.default',
        id: { resourceId: target.resourceId },
      },
      'https://database.windows.net',
      target,
    );
  });

  test("reports an identity that is not assigned with App Service's message", async () => {
    const result = await sdk.run({
      sdk: 'identity',
      scope: 'https://vault.azure.net/.default',
      id: { clientId: '00000000-0000-4000-8000-000000000000' },
      maxRetries: 0,
    });
    assert.match(failure(result).message, /Unable to load the proper Managed Identity/);
  });

  test('fails with a wrong IDENTITY_HEADER: the token service answers 401', async () => {
    const result = await sdk.run(
      { sdk: 'identity', scope: 'https://vault.azure.net/.default', maxRetries: 0 },
      { IDENTITY_HEADER: '11111111-2222-4333-8444-555555555555' },
    );
    assert.match(failure(result).message, /X-IDENTITY-HEADER header is not valid/);
  });
});

describe('@azure/msal-node ManagedIdentityApplication on App Service', () => {
  test('picks App Service from the environment and gets a system-assigned token', async () => {
    const result = await sdk.run({ sdk: 'msal', resource: 'https://vault.azure.net' });
    assert.equal(result.ok && result.source, 'AppService');
    await sdk.verify(result, 'https://vault.azure.net', sdk.system);
  });

  test('gets a user-assigned token by client id', async () => {
    const target = sdk.user(0);
    await sdk.token(
      { sdk: 'msal', resource: 'https://vault.azure.net', id: { clientId: target.clientId } },
      'https://vault.azure.net',
      target,
    );
  });

  test('gets a user-assigned token by resource id', async () => {
    const target = sdk.user(0);
    await sdk.token(
      { sdk: 'msal', resource: 'https://graph.microsoft.com', id: { resourceId: target.resourceId } },
      'https://graph.microsoft.com',
      target,
    );
  });
});

describe('retries on App Service, as on Azure', () => {
  test('msal-node retries a 503 from the token service (Retry-After honoured) and gets the token', async () => {
    sdk.azimds.faults.add({ surface: 'appService', status: 503, retryAfter: 0, times: 1 });
    try {
      await sdk.token(
        { sdk: 'msal', resource: 'https://eventhubs.azure.net' },
        'https://eventhubs.azure.net',
        sdk.system,
      );
      const served = sdk.azimds.requestLog.entries().entries.filter((e) => e.surface === 'appService');
      assert.deepEqual(
        served.slice(-2).map((e) => e.status),
        [503, 200],
      );
    } finally {
      sdk.azimds.faults.clear();
    }
  });
});
