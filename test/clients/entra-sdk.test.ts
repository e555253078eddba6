/**
 * Real, unmodified clients get app-only tokens from azimds's Entra: @azure/identity's
 * ClientSecretCredential, ClientCertificateCredential, WorkloadIdentityCredential, EnvironmentCredential
 * and DefaultAzureCredential, and @azure/msal-node's ConfidentialClientApplication (secret; certificate by
 * SHA-256 and SHA-1 thumbprint), each in a child process (test/fixtures/entra-sdk.mjs) whose environment
 * is only the proxy block (`handle.proxyEnv()`) plus the credential's AZURE_* variables.
 * AZURE_AUTHORITY_HOST is unset: the clients ask https://login.microsoftonline.com (instance discovery
 * included) through the proxy, with no client option. The app holds Reader on the VM's resource group:
 * each credential then lists its resources through ARM and is refused the vault's secret (no Key Vault
 * role), as managed identities are.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';
import type { ServicePrincipal } from '../../src/core/directory/service-principal.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { clientCertificate } from '../support/entra.js';
import { blockOnly } from '../support/proxy.js';

const run = promisify(execFile);
const RUNNER = fileURLToPath(new URL('../fixtures/entra-sdk.mjs', import.meta.url));

type SdkResult =
  | { ok: true; token: string; arm?: Record<string, unknown>; keyVault?: Record<string, unknown> }
  | { ok: false; name?: string; errorCode?: string; message: string };

const ARM = 'https://management.azure.com/.default';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SUB = '3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const APP_PRINCIPAL = '0b7c3e29-5d4a-4f1b-9e6c-2a8d7f3b1c40';
const certificate = clientCertificate('entra-sdk-test');
const dir = mkdtempSync(join(tmpdir(), 'azimds-entra-sdk-'));
let azimds: EmulatorHandle;
let secretApp: ServicePrincipal;
let certApp: ServicePrincipal;
let verify: (token: string) => Promise<JWTPayload>;
const certificateFile = join(dir, 'client.pem');
const tokenFile = join(dir, 'azure-identity-token');

before(async () => {
  azimds = await startEmulator({
    identity: { tenantId: TENANT },
    vm: { compute: { subscriptionId: SUB, resourceGroupName: 'rg-entra' } },
    entra: {
      applications: [
        {
          displayName: 'azimds-app',
          principalId: APP_PRINCIPAL,
          secrets: [{}],
          federatedCredentials: [{ subject: 'system:serviceaccount:default:default' }],
        },
        { displayName: 'cert-app', certificates: [{ pem: certificate.certPem }] },
      ],
    },
    // The app holds Reader on the VM's resource group (as the zero-config app does), no Key Vault role.
    world: {
      roleAssignments: [{ principalId: APP_PRINCIPAL, principalType: 'ServicePrincipal', role: 'Reader' }],
    },
  });
  [secretApp, certApp] = azimds.state.directory.servicePrincipals() as [ServicePrincipal, ServicePrincipal];
  writeFileSync(certificateFile, `${certificate.certPem}${certificate.keyPem}`, { mode: 0o600 });
  const jwks = createRemoteJWKSet(new URL(`${azimds.urls.imds}/${TENANT}/discovery/v2.0/keys`));
  verify = async (token) =>
    (
      await jwtVerify(token, jwks, {
        issuer: `https://sts.windows.net/${TENANT}/`,
        audience: 'https://management.azure.com',
      })
    ).payload;
});

after(async () => {
  await azimds?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs one client with only the proxy block and `env` (plus PATH and HOME) in its environment. */
async function runClient(env: Record<string, string>, request: Record<string, unknown>): Promise<SdkResult> {
  const { stdout } = await run(process.execPath, [RUNNER, JSON.stringify(request)], {
    env: blockOnly(azimds.proxyEnv(), env),
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as SdkResult;
}

/** What the credential does next: list its resource group (Reader: allowed), read a secret (no role). */
const calls = () => ({
  subscription: SUB,
  group: 'rg-entra',
  vaultUrl: `https://${azimds.state.keyVaults.catalog.defaultVault()?.name}.vault.azure.net`,
});

/** ARM let the app list its group; Key Vault refused it as Azure's RBAC does. */
function assertSameRbac(result: SdkResult) {
  assert.ok(result.ok);
  assert.equal(result.arm?.ok, true, JSON.stringify(result.arm));
  assert.ok((result.arm?.count as number) > 0);
  assert.deepEqual(result.keyVault, { ok: false, statusCode: 403, code: 'Forbidden' });
}

const secretEnv = () => ({
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: secretApp.clientId,
  AZURE_CLIENT_SECRET: secretApp.secrets[0]?.value() as string,
});
const certEnv = () => ({
  AZURE_TENANT_ID: TENANT,
  AZURE_CLIENT_ID: certApp.clientId,
  AZURE_CLIENT_CERTIFICATE_PATH: certificateFile,
});

async function assertToken(result: SdkResult, principal: ServicePrincipal, appidacr: string) {
  assert.equal(result.ok, true, JSON.stringify(result));
  if (!result.ok) return;
  const claims = await verify(result.token);
  assert.equal(claims.oid, principal.principalId);
  assert.equal(claims.appid, principal.clientId);
  assert.equal(claims.appidacr, appidacr);
  assert.equal(claims.tid, TENANT);
  assert.equal(claims.idtyp, 'app');
}

describe('@azure/identity', () => {
  test('ClientSecretCredential, then ARM (Reader) and Key Vault (no role: 403)', async () => {
    const result = await runClient(secretEnv(), { client: 'secret', scope: ARM, calls: calls() });
    await assertToken(result, secretApp, '1');
    assertSameRbac(result);
  });

  test('ClientSecretCredential with a wrong secret: AADSTS7000215 reaches the caller', async () => {
    const result = await runClient(
      { ...secretEnv(), AZURE_CLIENT_SECRET: 'wrong' },
      { client: 'secret', scope: ARM },
    );
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /AADSTS7000215: Invalid client secret provided/);
  });

  test('ClientSecretCredential for an unknown app: AADSTS700016', async () => {
    const result = await runClient(
      { ...secretEnv(), AZURE_CLIENT_ID: '00000000-1111-2222-3333-444444444444' },
      { client: 'secret', scope: ARM },
    );
    assert.match(result.ok ? '' : result.message, /AADSTS700016/);
  });

  test('ClientCertificateCredential (PS256, x5t#S256)', async () => {
    await assertToken(await runClient(certEnv(), { client: 'certificate', scope: ARM }), certApp, '2');
  });

  test('EnvironmentCredential with a secret, then with a certificate', async () => {
    const result = await runClient(secretEnv(), { client: 'environment', scope: ARM, calls: calls() });
    await assertToken(result, secretApp, '1');
    assertSameRbac(result);
    await assertToken(await runClient(certEnv(), { client: 'environment', scope: ARM }), certApp, '2');
  });

  test('WorkloadIdentityCredential from the variables the AKS webhook injects', async () => {
    const { token } = await azimds.state.directory.workloadIssuer.mint({
      subject: 'system:serviceaccount:default:default',
    });
    writeFileSync(tokenFile, token, { mode: 0o600 });
    // The issuer is the IMDS listener's bound address, served with its own discovery document.
    assert.equal(decodeJwt(token).iss, `${azimds.urls.imds}/workload-identity`);
    const discovery = (await (
      await fetch(`${azimds.urls.imds}/workload-identity/.well-known/openid-configuration`)
    ).json()) as { issuer: string };
    assert.equal(discovery.issuer, `${azimds.urls.imds}/workload-identity`);
    const env = {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: secretApp.clientId,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    };
    const result = await runClient(env, { client: 'workload', scope: ARM, calls: calls() });
    await assertToken(result, secretApp, '2');
    assertSameRbac(result);
    // DefaultAzureCredential: EnvironmentCredential is incomplete without a secret, WorkloadIdentityCredential answers.
    await assertToken(await runClient(env, { client: 'default', scope: ARM }), secretApp, '2');
  });

  test('WorkloadIdentityCredential for an untrusted subject: AADSTS700213', async () => {
    const { token } = await azimds.state.directory.workloadIssuer.mint({
      subject: 'system:serviceaccount:prod:other',
    });
    const file = join(dir, 'other-token');
    writeFileSync(file, token, { mode: 0o600 });
    const env = {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: secretApp.clientId,
      AZURE_FEDERATED_TOKEN_FILE: file,
    };
    const result = await runClient(env, { client: 'workload', scope: ARM });
    assert.match(
      result.ok ? '' : result.message,
      /AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:prod:other'/,
    );
  });

  test('DefaultAzureCredential with a client secret in the environment', async () => {
    await assertToken(await runClient(secretEnv(), { client: 'default', scope: ARM }), secretApp, '1');
  });
});

describe('@azure/msal-node ConfidentialClientApplication', () => {
  test('client secret', async () => {
    await assertToken(await runClient(secretEnv(), { client: 'msal-secret', scope: ARM }), secretApp, '1');
  });

  test('certificate by SHA-256 thumbprint (PS256) and by SHA-1 thumbprint (RS256)', async () => {
    const sha256 = Buffer.from(certificate.x5tS256, 'base64url').toString('hex');
    await assertToken(
      await runClient(certEnv(), { client: 'msal-certificate', scope: ARM, thumbprintSha256: sha256 }),
      certApp,
      '2',
    );
    await assertToken(
      await runClient(certEnv(), {
        client: 'msal-certificate',
        scope: ARM,
        thumbprint: certificate.thumbprint,
      }),
      certApp,
      '2',
    );
  });
});
