/**
 * Code that sets no environment variable at all, as on an Azure VM: azimds listens on
 * 169.254.169.254:80 inside a private network namespace (loopback with the link-local address added),
 * and DefaultAzureCredential — which first probes IMDS with a header-less GET, then asks for a token —
 * ManagedIdentityCredential and msal-node get tokens from it. Needs root (network namespace, port 80)
 * and Linux's `unshare` and `ip`; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

function whyNot(): string | false {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (a network namespace and port 80)';
  try {
    execFileSync('unshare', ['--net', 'true'], { stdio: 'ignore' });
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs unshare and ip (util-linux, iproute2) and permission to create a network namespace';
  }
  return false;
}

/** Runs inside the namespace: azimds on 169.254.169.254:80, then the SDKs with no MI variables. */
const SCRIPT = `
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { ManagedIdentityApplication } from '@azure/msal-node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startEmulator } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};

const TENANT = '5f0c7a1e-2b3d-4c4e-8f5a-6b7c8d9e0f1a';
const azimds = await startEmulator({ host: '169.254.169.254', imds: { port: 80 }, identity: { tenantId: TENANT } });
const out = {};
try {
  const probe = await fetch('http://169.254.169.254/metadata/identity/oauth2/token', { headers: { Accept: 'application/json' } });
  out.probe = { status: probe.status, body: await probe.text() };
  const discovery = await (await fetch('http://169.254.169.254/' + TENANT + '/.well-known/openid-configuration')).json();
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const verify = async (token, audience) => (await jwtVerify(token, jwks, { issuer: discovery.issuer, audience })).payload;
  const dac = await new DefaultAzureCredential().getToken('https://management.azure.com/.default');
  out.dac = await verify(dac.token, 'https://management.azure.com');
  const mic = await new ManagedIdentityCredential().getToken('https://vault.azure.net/.default');
  out.mic = await verify(mic.token, 'https://vault.azure.net');
  const app = new ManagedIdentityApplication();
  out.msalSource = app.getManagedIdentitySource();
  const msal = await app.acquireToken({ resource: 'https://storage.azure.com/' });
  out.msal = await verify(msal.accessToken, 'https://storage.azure.com/');
  out.systemAssigned = azimds.state.identities.current.systemAssigned;
} finally {
  await azimds.close();
}
process.stdout.write(JSON.stringify(out));
`;

test('unmodified SDK code on "an Azure VM" (169.254.169.254:80, no variables) gets verifiable tokens', {
  skip: whyNot(),
  timeout: 60_000,
}, async () => {
  // Only what any process has: no managed-identity, proxy or Azure credential variables.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      !/^(AZURE_|IDENTITY_|MSI_|IMDS_|AZIMDS_|DEFAULT_IDENTITY_CLIENT_ID$|https?_proxy$|HTTPS?_PROXY$)/.test(
        k,
      )
    )
      env[k] = v;
  }
  const inner =
    'ip link set lo up && ip addr add 169.254.169.254/32 dev lo && exec "$0" --import tsx --input-type=module -e "$1"';
  const { stdout } = await run('unshare', ['--net', 'sh', '-c', inner, process.execPath, SCRIPT], {
    cwd: root,
    env,
    maxBuffer: 1 << 20,
  });
  const out = JSON.parse(stdout);
  assert.equal(out.probe.status, 400);
  assert.equal(
    out.probe.body,
    '{"error":"invalid_request","error_description":"Required metadata header not specified"}',
  );
  assert.match(out.msalSource, /Imds$/);
  for (const name of ['dac', 'mic', 'msal']) {
    assert.equal(out[name].oid, out.systemAssigned.principalId, name);
    assert.equal(out[name].appid, out.systemAssigned.clientId, name);
    assert.equal(out[name].tid, '5f0c7a1e-2b3d-4c4e-8f5a-6b7c8d9e0f1a', name);
  }
});
