/**
 * Unmodified Azure SDK code gets managed-identity tokens from azimds with one environment variable
 * (AZURE_POD_IDENTITY_AUTHORITY_HOST), and every token verifies the way a resource server verifies
 * Entra's: discovery document → JWKS (jose), checking signature, aud, iss and exp.
 *
 * The SDKs read the environment when a credential is built and pick a platform from variables such
 * as IDENTITY_ENDPOINT or MSI_ENDPOINT, so those are removed for the duration of this file and
 * restored after. msal-node caches tokens process-wide, so the file shares one emulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { ManagedIdentityApplication } from '@azure/msal-node';
import type { JWTPayload } from 'jose';
import type { ManagedIdentity } from '../../src/core/identities/identity.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { assertIdentityClaims, identitiesOf, jwksVerifier } from '../support/platform-sdk.js';
import { isolateSdkEnvironment } from '../support/sdk-env.js';

const TENANT = '8e2f1a6b-3c4d-4e5f-9a0b-1c2d3e4f5a6b';

let azimds: EmulatorHandle;
let restoreEnv: () => void;
/** Verifies signature (JWKS from discovery), aud, iss and exp, and returns the claims. */
let verify: (token: string, audience: string) => Promise<JWTPayload>;
let system: ManagedIdentity;
let users: readonly ManagedIdentity[];

before(async () => {
  azimds = await startEmulator({
    identity: { tenantId: TENANT, userAssigned: [{ name: 'id-app' }, { name: 'id-deploy' }] },
  });
  restoreEnv = isolateSdkEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: azimds.urls.imds });
  // What a resource server does once at start: read discovery for the tenant it trusts.
  verify = await jwksVerifier(azimds);
  ({ system, users } = identitiesOf(azimds));
});

after(async () => {
  restoreEnv();
  await azimds.close();
});

function assertIdentity(payload: JWTPayload, identity: ManagedIdentity): void {
  assertIdentityClaims(payload, identity);
  assert.equal(payload.tid, TENANT);
}

describe('@azure/identity ManagedIdentityCredential', () => {
  test('gets a system-assigned token for a .default scope; aud is the resource without /.default', async () => {
    const credential = new ManagedIdentityCredential();
    const token = await credential.getToken('https://management.azure.com/.default');
    assert.ok(token.expiresOnTimestamp > Date.now());
    assertIdentity(await verify(token.token, 'https://management.azure.com'), system);
  });

  test('gets a user-assigned token by clientId', async () => {
    const target = users[0] as ManagedIdentity;
    const credential = new ManagedIdentityCredential({ clientId: target.clientId });
    const token = await credential.getToken('https://vault.azure.net/.default');
    assertIdentity(await verify(token.token, 'https://vault.azure.net'), target);
  });

  test('gets a user-assigned token by objectId', async () => {
    const target = users[1] as ManagedIdentity;
    const credential = new ManagedIdentityCredential({ objectId: target.principalId });
    const token = await credential.getToken('https://storage.azure.com/.default');
    assertIdentity(await verify(token.token, 'https://storage.azure.com'), target);
  });

  test('gets a user-assigned token by resourceId', async () => {
    const target = users[1] as ManagedIdentity;
    const credential = new ManagedIdentityCredential({ resourceId: target.resourceId });
    const token = await credential.getToken('https://database.windows.net/.default');
    assertIdentity(await verify(token.token, 'https://database.windows.net'), target);
  });

  test('reports an identity that is not assigned as an authentication failure', async () => {
    const credential = new ManagedIdentityCredential({ clientId: '00000000-0000-4000-8000-000000000000' });
    await assert.rejects(credential.getToken('https://management.azure.com/.default'), /Identity not found/);
  });
});

describe('@azure/identity DefaultAzureCredential', () => {
  test('reaches the managed identity in its chain and gets a system-assigned token', async () => {
    const credential = new DefaultAzureCredential();
    const token = await credential.getToken('https://management.azure.com/.default');
    assertIdentity(await verify(token.token, 'https://management.azure.com'), system);
  });

  test('uses the user-assigned identity named by managedIdentityClientId', async () => {
    const target = users[0] as ManagedIdentity;
    const credential = new DefaultAzureCredential({ managedIdentityClientId: target.clientId });
    const token = await credential.getToken('https://graph.microsoft.com/.default');
    assertIdentity(await verify(token.token, 'https://graph.microsoft.com'), target);
  });
});

describe('@azure/msal-node ManagedIdentityApplication', () => {
  test('acquires a system-assigned token (IMDS source via AZURE_POD_IDENTITY_AUTHORITY_HOST)', async () => {
    const app = new ManagedIdentityApplication();
    // `DefaultToImds`: no other platform's variables are set, IMDS is used (at the pod-identity host).
    assert.match(app.getManagedIdentitySource(), /Imds$/);
    const result = await app.acquireToken({ resource: 'https://management.azure.com/', forceRefresh: true });
    assert.ok(result.expiresOn && result.expiresOn.getTime() > Date.now());
    assertIdentity(await verify(result.accessToken, 'https://management.azure.com/'), system);
  });

  test('acquires user-assigned tokens by client id, object id and resource id', async () => {
    const [one, two] = users as [ManagedIdentity, ManagedIdentity];
    const cases = [
      { params: { userAssignedClientId: one.clientId }, identity: one },
      { params: { userAssignedObjectId: two.principalId }, identity: two },
      { params: { userAssignedResourceId: one.resourceId }, identity: one },
    ];
    for (const { params, identity } of cases) {
      const app = new ManagedIdentityApplication({ managedIdentityIdParams: params });
      const result = await app.acquireToken({ resource: 'https://vault.azure.net', forceRefresh: true });
      assertIdentity(await verify(result.accessToken, 'https://vault.azure.net'), identity);
    }
  });
});
