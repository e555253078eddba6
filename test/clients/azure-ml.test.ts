/**
 * Azure Machine Learning: unmodified @azure/identity and @azure/msal-node code gets tokens from azimds
 * with MSI_ENDPOINT, MSI_SECRET and DEFAULT_IDENTITY_CLIENT_ID (the SDKs send it as `clientid` for the
 * default identity). Azure ML selects user-assigned identities by client id only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { failure, identitiesOf, runSdk, tokenVerifier } from '../support/platform-sdk.js';

let azimds: EmulatorHandle;
let verify: Awaited<ReturnType<typeof tokenVerifier>>;
let env: Record<string, string | undefined>;

before(async () => {
  azimds = await startEmulator({
    identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-train' }] },
    platforms: { azureMl: { enabled: true } },
  });
  verify = await tokenVerifier(azimds);
  env = azimds.env('azure-ml');
});

after(() => azimds.close());

describe('@azure/identity ManagedIdentityCredential on Azure ML', () => {
  test('gets the default (system-assigned) token through DEFAULT_IDENTITY_CLIENT_ID', async () => {
    assert.equal(env.DEFAULT_IDENTITY_CLIENT_ID, identitiesOf(azimds).system.clientId);
    const result = await runSdk(env, { sdk: 'identity', scope: 'https://ml.azure.com/.default' });
    await verify(result, 'https://ml.azure.com', identitiesOf(azimds).system);
  });

  test('gets a user-assigned token by clientId (clientid)', async () => {
    const target = identitiesOf(azimds).users[1];
    assert.ok(target);
    const result = await runSdk(env, {
      sdk: 'identity',
      scope: 'https://storage.azure.com/.default',
      id: { clientId: target.clientId },
    });
    await verify(result, 'https://storage.azure.com', target);
  });

  test('is refused client-side for an objectId (Azure ML selects by client id only)', async () => {
    const target = identitiesOf(azimds).users[1];
    assert.ok(target);
    const result = await runSdk(env, {
      sdk: 'identity',
      scope: 'https://storage.azure.com/.default',
      id: { objectId: target.principalId },
    });
    assert.match(failure(result).message, /Only client id is supported/);
  });

  test('fails with a wrong MSI_SECRET: the token service answers 401', async () => {
    const result = await runSdk(
      { ...env, MSI_SECRET: 'wrong-secret-value' },
      { sdk: 'identity', scope: 'https://ml.azure.com/.default', maxRetries: 0 },
    );
    assert.match(failure(result).message, /secret header is not valid/);
  });
});

describe('@azure/msal-node ManagedIdentityApplication on Azure ML', () => {
  test('picks Machine Learning from the environment and gets the default token', async () => {
    const result = await runSdk(env, { sdk: 'msal', resource: 'https://ml.azure.com' });
    assert.equal(result.ok && result.source, 'MachineLearning');
    await verify(result, 'https://ml.azure.com', identitiesOf(azimds).system);
  });

  test('gets a user-assigned token by client id', async () => {
    const target = identitiesOf(azimds).users[0];
    assert.ok(target);
    const result = await runSdk(env, {
      sdk: 'msal',
      resource: 'https://vault.azure.net',
      id: { clientId: target.clientId },
    });
    await verify(result, 'https://vault.azure.net', target);
  });
});
