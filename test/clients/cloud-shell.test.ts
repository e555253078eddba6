/**
 * Cloud Shell: unmodified @azure/identity and @azure/msal-node code gets a token from azimds with
 * MSI_ENDPOINT alone (POST form with `Metadata: true`). Cloud Shell has one identity: the SDKs refuse
 * user-assigned ids client-side.
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
    identity: { userAssigned: [{ name: 'id-app' }] },
    platforms: { cloudShell: { enabled: true } },
  });
  verify = await tokenVerifier(azimds);
  env = azimds.env('cloud-shell');
});

after(() => azimds.close());

describe('Cloud Shell through the SDKs', () => {
  test('@azure/identity gets the default token through MSI_ENDPOINT', async () => {
    const result = await runSdk(env, { sdk: 'identity', scope: 'https://management.azure.com/.default' });
    await verify(result, 'https://management.azure.com', identitiesOf(azimds).system);
  });

  test('@azure/identity refuses a user-assigned identity on Cloud Shell', async () => {
    const target = identitiesOf(azimds).users[0];
    assert.ok(target);
    const result = await runSdk(env, {
      sdk: 'identity',
      scope: 'https://management.azure.com/.default',
      id: { clientId: target.clientId },
    });
    assert.match(failure(result).message, /not supported for CloudShell/);
  });

  test('msal-node picks Cloud Shell from MSI_ENDPOINT alone and gets the default token', async () => {
    const result = await runSdk(env, { sdk: 'msal', resource: 'https://vault.azure.net' });
    assert.equal(result.ok && result.source, 'CloudShell');
    await verify(result, 'https://vault.azure.net', identitiesOf(azimds).system);
  });

  test('msal-node picks Azure ML instead when a stray MSI_SECRET is left in the environment', async () => {
    const result = await runSdk(
      { ...env, MSI_SECRET: 'left-over-secret' },
      { sdk: 'msal', resource: 'https://vault.azure.net', maxRetries: 0 },
    );
    // Why `azimds env` unsets the other platforms' variables: the detection order decides.
    assert.equal(failure(result).source, 'MachineLearning');
  });
});
