/**
 * Service Fabric: unmodified @azure/identity and @azure/msal-node code gets tokens from azimds's HTTPS
 * token service with the variables `azimds env --platform service-fabric` prints. The JS SDKs validate
 * the server certificate like any HTTPS client — they read IDENTITY_SERVER_THUMBPRINT only to detect
 * Service Fabric, and do not pin it — so Node must trust the self-signed certificate:
 * NODE_EXTRA_CA_CERTS (read at process start, which is why each call runs in its own process).
 * Service Fabric assigns the identity in the cluster: the SDKs refuse user-assigned ids client-side.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { failure, identitiesOf, runSdk, tokenVerifier } from '../support/platform-sdk.js';

let azimds: EmulatorHandle;
let verify: Awaited<ReturnType<typeof tokenVerifier>>;
let env: Record<string, string | undefined>;
const dataDir = mkdtempSync(join(tmpdir(), 'azimds-sf-'));

before(async () => {
  azimds = await startEmulator({
    dataDir,
    tokens: { keys: { store: 'memory' } },
    identity: { userAssigned: [{ name: 'id-app' }] },
    platforms: { serviceFabric: { enabled: true } },
  });
  verify = await tokenVerifier(azimds);
  env = azimds.env('service-fabric');
});

after(async () => {
  await azimds.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('@azure/identity ManagedIdentityCredential on Service Fabric', () => {
  test('gets the application identity token over HTTPS with the printed variables', async () => {
    const result = await runSdk(env, { sdk: 'identity', scope: 'https://vault.azure.net/.default' });
    await verify(result, 'https://vault.azure.net', identitiesOf(azimds).system);
  });

  test('fails the TLS handshake when Node does not trust the certificate (no NODE_EXTRA_CA_CERTS)', async () => {
    const result = await runSdk(
      { ...env, NODE_EXTRA_CA_CERTS: undefined },
      { sdk: 'identity', scope: 'https://vault.azure.net/.default', maxRetries: 0 },
    );
    assert.match(
      failure(result).message,
      /self[- ]signed certificate|DEPTH_ZERO_SELF_SIGNED_CERT|Network unreachable/i,
    );
  });

  test('does not pin IDENTITY_SERVER_THUMBPRINT: a wrong thumbprint still gets a token when the certificate is trusted', async () => {
    const result = await runSdk(
      { ...env, IDENTITY_SERVER_THUMBPRINT: '0000000000000000000000000000000000000000' },
      { sdk: 'identity', scope: 'https://vault.azure.net/.default' },
    );
    await verify(result, 'https://vault.azure.net', identitiesOf(azimds).system);
  });

  test('is refused client-side for a user-assigned identity (configured in the cluster, not per request)', async () => {
    const target = identitiesOf(azimds).users[0];
    assert.ok(target);
    const result = await runSdk(env, {
      sdk: 'identity',
      scope: 'https://vault.azure.net/.default',
      id: { clientId: target.clientId },
    });
    assert.match(failure(result).message, /Service Fabric|user-assigned/i);
  });

  test('fails with a wrong IDENTITY_HEADER: Service Fabric answers 404 ManagedIdentityNotFound', async () => {
    const result = await runSdk(
      { ...env, IDENTITY_HEADER: 'not-the-secret' },
      { sdk: 'identity', scope: 'https://vault.azure.net/.default', maxRetries: 0 },
    );
    assert.match(failure(result).message, /Managed identity not found for the specified application host/);
  });
});

describe('@azure/msal-node ManagedIdentityApplication on Service Fabric', () => {
  test('picks Service Fabric from the environment and gets the application identity token', async () => {
    const result = await runSdk(env, { sdk: 'msal', resource: 'https://storage.azure.com' });
    assert.equal(result.ok && result.source, 'ServiceFabric');
    await verify(result, 'https://storage.azure.com', identitiesOf(azimds).system);
  });

  test('fails with a wrong IDENTITY_HEADER with the documented error', async () => {
    const result = await runSdk(
      { ...env, IDENTITY_HEADER: 'not-the-secret' },
      { sdk: 'msal', resource: 'https://storage.azure.com', maxRetries: 0 },
    );
    assert.match(failure(result).message, /Managed identity not found/);
  });
});
