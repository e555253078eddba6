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
import { after, describe, test } from 'node:test';
import { failure, platformSdkSuite } from '../support/platform-sdk.js';

const dataDir = mkdtempSync(join(tmpdir(), 'azimds-sf-'));
const sdk = platformSdkSuite('service-fabric', {
  dataDir,
  tokens: { keys: { store: 'memory' } },
  identity: { userAssigned: [{ name: 'id-app' }] },
  platforms: { serviceFabric: { enabled: true } },
});
// After the suite's own after hook, which closes the emulator.
after(() => rmSync(dataDir, { recursive: true, force: true }));

describe('@azure/identity ManagedIdentityCredential on Service Fabric', () => {
  test('gets the application identity token over HTTPS with the printed variables', async () => {
    await sdk.token(
      { sdk: 'identity', scope: 'https://vault.azure.net/.default' },
      'https://vault.azure.net',
      sdk.system,
    );
  });

  test('fails the TLS handshake when Node does not trust the certificate (no NODE_EXTRA_CA_CERTS)', async () => {
    const result = await sdk.run(
      { sdk: 'identity', scope: 'https://vault.azure.net/.default', maxRetries: 0 },
      { NODE_EXTRA_CA_CERTS: undefined },
    );
    assert.match(
      failure(result).message,
      /self[- ]signed certificate|DEPTH_ZERO_SELF_SIGNED_CERT|Network unreachable/i,
    );
  });

  test('does not pin IDENTITY_SERVER_THUMBPRINT: a wrong thumbprint still gets a token when the certificate is trusted', async () => {
    const result = await sdk.run(
      { sdk: 'identity', scope: 'https://vault.azure.net/.default' },
      { IDENTITY_SERVER_THUMBPRINT: '0000000000000000000000000000000000000000' },
    );
    await sdk.verify(result, 'https://vault.azure.net', sdk.system);
  });

  test('is refused client-side for a user-assigned identity (configured in the cluster, not per request)', async () => {
    const target = sdk.user(0);
    const result = await sdk.run({
      sdk: 'identity',
      scope: 'https://vault.azure.net/.default',
      id: { clientId: target.clientId },
    });
    assert.match(failure(result).message, /Service Fabric|user-assigned/i);
  });

  test('fails with a wrong IDENTITY_HEADER: Service Fabric answers 404 ManagedIdentityNotFound', async () => {
    const result = await sdk.run(
      { sdk: 'identity', scope: 'https://vault.azure.net/.default', maxRetries: 0 },
      { IDENTITY_HEADER: 'not-the-secret' },
    );
    assert.match(failure(result).message, /Managed identity not found for the specified application host/);
  });
});

describe('@azure/msal-node ManagedIdentityApplication on Service Fabric', () => {
  test('picks Service Fabric from the environment and gets the application identity token', async () => {
    const result = await sdk.run({ sdk: 'msal', resource: 'https://storage.azure.com' });
    assert.equal(result.ok && result.source, 'ServiceFabric');
    await sdk.verify(result, 'https://storage.azure.com', sdk.system);
  });

  test('fails with a wrong IDENTITY_HEADER with the documented error', async () => {
    const result = await sdk.run(
      { sdk: 'msal', resource: 'https://storage.azure.com', maxRetries: 0 },
      { IDENTITY_HEADER: 'not-the-secret' },
    );
    assert.match(failure(result).message, /Managed identity not found/);
  });
});
