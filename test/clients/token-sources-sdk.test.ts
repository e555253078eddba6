/**
 * Unmodified @azure/identity code gets real service-principal tokens through azimds, as users of the Go
 * IMDS simulator did: its config.json's service principals, Entra being a fake on loopback. The
 * system-assigned credential gets the first service principal's token, a client id the named one's, and
 * a resource Entra does not know fails with Entra's AADSTS500011 in the SDK's error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManagedIdentityCredential } from '@azure/identity';
import { jwtVerify } from 'jose';
import { fromGoSimulator } from '../../src/config/go-simulator.js';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/server/emulator.js';
import { type FakeEntra, startFakeEntra } from '../support/fake-entra.js';
import { isolateSdkEnvironment } from '../support/sdk-env.js';

const TENANT = 'sometenant.onmicrosoft.com';
const FIRST = 'deadbeef-efa9-42ea-9ac3-28a920370be6';
const SECOND = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

let entra: FakeEntra;
let azimds: EmulatorHandle;
let restoreEnv: () => void;

before(async () => {
  entra = await startFakeEntra();
  entra.addSecretClient(FIRST, 'first-secret-value');
  entra.addSecretClient(SECOND, 'second-secret-value');
  // The Go simulator's config.json as the library receives it, with Entra redirected to the fake.
  const go = fromGoSimulator({
    tenantID: TENANT,
    servicePrincipals: { [FIRST]: 'first-secret-value', [SECOND]: 'second-secret-value' },
  }) as { tokens: Record<string, unknown> };
  azimds = await startEmulator({
    ...go,
    tokens: { ...go.tokens, upstream: { authorityHost: entra.url, caFile: entra.caFile } },
  } as EmulatorOptions);
  restoreEnv = isolateSdkEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: azimds.urls.imds });
});

after(async () => {
  restoreEnv();
  await azimds.close();
  await entra.close();
});

describe('@azure/identity ManagedIdentityCredential with real service-principal tokens', () => {
  test('the system-assigned credential gets a token of the first service principal', async () => {
    const token = await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default');
    const { payload } = await jwtVerify(token.token, entra.signingKey, {
      audience: 'https://vault.azure.net',
    });
    assert.equal(payload.appid, FIRST);
    assert.equal(payload.tid, TENANT);
    // IMDS's expires_on is the token's exp; msal-node turns it into "seconds left" and back on its own
    // clock, two readings that can straddle a second boundary: the SDK's expiry is exp, to the second.
    const driftMs = Math.abs(token.expiresOnTimestamp - (payload.exp as number) * 1000);
    assert.ok(driftMs <= 1000, `expiresOnTimestamp is ${driftMs} ms away from the token's exp`);
  });

  test("a credential for a client id gets that service principal's token", async () => {
    const token = await new ManagedIdentityCredential({ clientId: SECOND }).getToken(
      'https://storage.azure.com/.default',
    );
    const { payload } = await jwtVerify(token.token, entra.signingKey, {
      audience: 'https://storage.azure.com',
    });
    assert.equal(payload.appid, SECOND);
  });

  test("a resource Entra does not know fails with Entra's AADSTS500011", async () => {
    await assert.rejects(
      new ManagedIdentityCredential().getToken('https://api.contoso.invalid/.default'),
      /AADSTS500011/,
    );
  });
});
