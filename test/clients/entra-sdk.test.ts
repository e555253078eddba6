/**
 * Real, unmodified clients get app-only tokens from azimds's Entra: @azure/identity's
 * ClientSecretCredential, ClientCertificateCredential, WorkloadIdentityCredential, EnvironmentCredential
 * and DefaultAzureCredential, and @azure/msal-node's ConfidentialClientApplication (secret; certificate by
 * SHA-256 and SHA-1 thumbprint), each in a child process whose environment is an "Entra route" block.
 *
 * The route here is the direct HTTPS endpoint (the `entra` surface on its own port, with a self-signed
 * certificate trusted through NODE_EXTRA_CA_CERTS, as Service Fabric's tests do). MSAL asks instance
 * discovery of login.microsoftonline.com for any other host, so this route passes
 * `disableInstanceDiscovery` (msal-node: `knownAuthorities`). Through the proxy (login.microsoftonline.com,
 * HTTPS_PROXY + the local CA) no such option is needed: give `directRoute`'s place a proxy route.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';
import type { ServicePrincipal } from '../../src/core/directory/service-principal.js';
import { serviceFabricCertificate } from '../../src/core/platforms/tls-certificate.js';
import { entraListenerSpec } from '../../src/protocols/entra/listener.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { type RunningListener, startListener } from '../../src/server/listener.js';
import { createLogger } from '../../src/server/logger.js';
import { clientCertificate } from '../support/entra.js';
import { type EntraRoute, runClient, type SdkResult } from '../support/entra-route.js';

const ARM = 'https://management.azure.com/.default';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const certificate = clientCertificate('entra-sdk-test');
const dir = mkdtempSync(join(tmpdir(), 'azimds-entra-sdk-'));
let azimds: EmulatorHandle;
let entra: RunningListener;
let route: EntraRoute;
let secretApp: ServicePrincipal;
let certApp: ServicePrincipal;
let verify: (token: string) => Promise<JWTPayload>;
const certificateFile = join(dir, 'client.pem');
const tokenFile = join(dir, 'azure-identity-token');

before(async () => {
  azimds = await startEmulator({
    identity: { tenantId: TENANT },
    entra: {
      applications: [
        {
          displayName: 'azimds-app',
          secrets: [{}],
          federatedCredentials: [{ subject: 'system:serviceaccount:default:default' }],
        },
        { displayName: 'cert-app', certificates: [{ pem: certificate.certPem }] },
      ],
    },
  });
  [secretApp, certApp] = azimds.state.directory.servicePrincipals() as [ServicePrincipal, ServicePrincipal];
  const tls = serviceFabricCertificate({ dataDir: dir, host: '127.0.0.1', now: Date.now() });
  entra = await startListener(
    entraListenerSpec(azimds.state, {
      host: '127.0.0.1',
      port: 0,
      serverOptions: { https: { key: tls.keyPem, cert: tls.certPem } },
    }),
    createLogger('silent'),
  );
  const origin = `https://127.0.0.1:${entra.port}`;
  route = {
    env: {
      AZURE_AUTHORITY_HOST: `${origin}/`,
      NODE_EXTRA_CA_CERTS: tls.certFile,
      NO_PROXY: '127.0.0.1,localhost',
    },
    identityOptions: { disableInstanceDiscovery: true },
    msalOptions: { knownAuthorities: [`127.0.0.1:${entra.port}`] },
  };
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
  await entra?.app.close();
  await azimds?.close();
  rmSync(dir, { recursive: true, force: true });
});

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
  test('ClientSecretCredential', async () => {
    await assertToken(await runClient(route, secretEnv(), { client: 'secret', scope: ARM }), secretApp, '1');
  });

  test('ClientSecretCredential with a wrong secret: AADSTS7000215 reaches the caller', async () => {
    const result = await runClient(
      route,
      { ...secretEnv(), AZURE_CLIENT_SECRET: 'wrong' },
      { client: 'secret', scope: ARM },
    );
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /AADSTS7000215: Invalid client secret provided/);
  });

  test('ClientSecretCredential for an unknown app: AADSTS700016', async () => {
    const result = await runClient(
      route,
      { ...secretEnv(), AZURE_CLIENT_ID: '00000000-1111-2222-3333-444444444444' },
      { client: 'secret', scope: ARM },
    );
    assert.match(result.ok ? '' : result.message, /AADSTS700016/);
  });

  test('ClientCertificateCredential (PS256, x5t#S256)', async () => {
    await assertToken(await runClient(route, certEnv(), { client: 'certificate', scope: ARM }), certApp, '2');
  });

  test('EnvironmentCredential with a secret, then with a certificate', async () => {
    await assertToken(
      await runClient(route, secretEnv(), { client: 'environment', scope: ARM }),
      secretApp,
      '1',
    );
    await assertToken(await runClient(route, certEnv(), { client: 'environment', scope: ARM }), certApp, '2');
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
    await assertToken(await runClient(route, env, { client: 'workload', scope: ARM }), secretApp, '2');
    // DefaultAzureCredential: EnvironmentCredential is incomplete without a secret, WorkloadIdentityCredential answers.
    await assertToken(await runClient(route, env, { client: 'default', scope: ARM }), secretApp, '2');
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
    const result = await runClient(route, env, { client: 'workload', scope: ARM });
    assert.match(
      result.ok ? '' : result.message,
      /AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:prod:other'/,
    );
  });

  test('DefaultAzureCredential with a client secret in the environment', async () => {
    await assertToken(await runClient(route, secretEnv(), { client: 'default', scope: ARM }), secretApp, '1');
  });
});

describe('@azure/msal-node ConfidentialClientApplication', () => {
  test('client secret', async () => {
    await assertToken(
      await runClient(route, secretEnv(), { client: 'msal-secret', scope: ARM }),
      secretApp,
      '1',
    );
  });

  test('certificate by SHA-256 thumbprint (PS256) and by SHA-1 thumbprint (RS256)', async () => {
    const sha256 = Buffer.from(certificate.x5tS256, 'base64url').toString('hex');
    await assertToken(
      await runClient(route, certEnv(), { client: 'msal-certificate', scope: ARM, thumbprintSha256: sha256 }),
      certApp,
      '2',
    );
    await assertToken(
      await runClient(route, certEnv(), {
        client: 'msal-certificate',
        scope: ARM,
        thumbprint: certificate.thumbprint,
      }),
      certApp,
      '2',
    );
  });
});
