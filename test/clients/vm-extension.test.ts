/**
 * The legacy VM extension: its `/oauth2/token` speaks the protocol current SDKs use for Cloud Shell,
 * so MSI_ENDPOINT (what legacy clients such as msrestazure honour for the extension's URL) is all
 * unmodified @azure/identity and @azure/msal-node code needs for the default identity. User-assigned
 * identities are reached with `client_id` / `object_id` / `msi_res_id` in the form, as the extension
 * took them (test/protocol/vm-extension.test.ts); the current SDKs do not send them on this path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { identitiesOf, runSdk, tokenVerifier } from '../support/platform-sdk.js';

let azimds: EmulatorHandle;
let verify: Awaited<ReturnType<typeof tokenVerifier>>;
let env: Record<string, string | undefined>;

before(async () => {
  azimds = await startEmulator({ platforms: { vmExtension: { enabled: true } } });
  verify = await tokenVerifier(azimds);
  env = azimds.env('vm-extension');
});

after(() => azimds.close());

describe('VM extension through the SDKs', () => {
  test("the printed variables point MSI_ENDPOINT at the extension's /oauth2/token", () => {
    assert.equal(env.MSI_ENDPOINT, `${azimds.urls.vmExtension}/oauth2/token`);
    assert.equal(env.IDENTITY_ENDPOINT, undefined);
  });

  test('@azure/identity gets the system-assigned token from the extension', async () => {
    const result = await runSdk(env, { sdk: 'identity', scope: 'https://management.azure.com/.default' });
    await verify(result, 'https://management.azure.com', identitiesOf(azimds).system);
  });

  test('msal-node gets the system-assigned token from the extension', async () => {
    const result = await runSdk(env, { sdk: 'msal', resource: 'https://vault.azure.net' });
    await verify(result, 'https://vault.azure.net', identitiesOf(azimds).system);
  });
});
