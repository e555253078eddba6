/**
 * The service-principal token source behind IMDS, against a fake Entra ID on loopback (HTTPS with a test
 * CA): client secret and certificate credentials, routing per resource and per identity, Entra's
 * refusals and outages as IMDS errors (protocols.md §6.4), timeouts, caching with refresh before expiry,
 * one Entra call for concurrent requests, and no secret in any log.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jwtVerify } from 'jose';
import type { EmulatorOptions } from '../../src/server/emulator.js';
import { EnvChanges, withEnv } from '../support/env.js';
import { clientCertificate, type FakeEntra, startFakeEntra } from '../support/fake-entra.js';
import { claimsOf, startWithSources, withSources } from '../support/token-sources.js';

const TENANT = '5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
const SP = '3f1c9a52-6d1e-4c7a-9b1e-2f4a7c9d0e11';
const SP_CERT = '7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d';
const UAMI = 'c0ffee00-1234-4abc-9def-0123456789ab';
const SECRET = 'Sp~Secret.Value_9f8e7d6c5b4a';
const SECRET_ENV = 'AZIMDS_TEST_SP_SECRET';
const VAULT = 'https://vault.azure.net';
const ARM = 'https://management.azure.com/';

let entra: FakeEntra;
let dir: string;
let certificate: { certificatePem: string; privateKeyPem: string };
let certificateFile: string;
/** The secret's variable, and proxy variables that would send loopback requests elsewhere. */
const env = new EnvChanges();

before(async () => {
  entra = await startFakeEntra();
  entra.addSecretClient(SP, SECRET);
  certificate = clientCertificate('azimds test service principal');
  entra.addCertificateClient(SP_CERT, certificate.certificatePem);
  dir = mkdtempSync(join(tmpdir(), 'azimds-sp-test-'));
  certificateFile = join(dir, 'sp.pem');
  writeFileSync(certificateFile, certificate.privateKeyPem + certificate.certificatePem, { mode: 0o600 });
  env.apply({ [SECRET_ENV]: SECRET, HTTPS_PROXY: undefined, https_proxy: undefined });
});

after(async () => {
  await entra.close();
  rmSync(dir, { recursive: true, force: true });
  env.restore();
});

/** Emulator options: one user-assigned identity besides the system-assigned one, sources as given. */
function options(tokens: Record<string, unknown>): EmulatorOptions {
  return {
    identity: { tenantId: TENANT, userAssigned: [{ name: 'id-app', clientId: UAMI }] },
    tokens: { upstream: { authorityHost: entra.url, caFile: entra.caFile, timeoutMs: 5000 }, ...tokens },
  } as EmulatorOptions;
}

const secretSource = { type: 'service-principal', clientId: SP, clientSecretEnv: SECRET_ENV };

/** Everything for one Entra-backed source as the default. */
function spDefault(extra: Record<string, unknown> = {}, source: Record<string, unknown> = secretSource) {
  return options({ source: 'sp', sources: { sp: { ...source, ...extra } } });
}

function callsFor(clientId: string) {
  return entra.tokenCalls.filter((c) => c.clientId === clientId);
}

describe('service-principal token source', () => {
  test('answers IMDS with a real token of the service principal (client secret), every field as IMDS sends it', async () => {
    await withSources(spDefault(), async (azimds) => {
      const before = callsFor(SP).length;
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 200, res.body);
      const { payload } = await jwtVerify(res.json.access_token, entra.signingKey, { audience: VAULT });
      assert.equal(payload.appid, SP);
      assert.equal(payload.tid, TENANT);
      assert.equal(res.json.resource, VAULT);
      assert.equal(res.json.client_id, SP, 'the application the token was issued to');
      assert.equal(res.json.token_type, 'Bearer');
      assert.equal(res.json.expires_on, String(payload.exp));
      assert.equal(res.json.not_before, String(payload.nbf));
      for (const field of ['expires_in', 'expires_on', 'ext_expires_in', 'not_before']) {
        assert.match(res.json[field], /^\d+$/, field);
      }
      const calls = callsFor(SP).slice(before);
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0], {
        tenant: TENANT,
        clientId: SP,
        scope: `${VAULT}/.default`,
        resource: VAULT,
        credential: 'secret',
      });
    });
  });

  test('authenticates with a certificate: Entra verifies the client assertion (signature, x5t#S256, aud)', async () => {
    await withSources(
      spDefault({}, { type: 'service-principal', clientId: SP_CERT, certificateFile }),
      async (azimds) => {
        const before = callsFor(SP_CERT).length;
        const res = await azimds.token(ARM);
        assert.equal(res.status, 200, res.body);
        assert.equal(claimsOf(res.json.access_token).appid, SP_CERT);
        assert.equal(claimsOf(res.json.access_token).aud, ARM);
        assert.equal(callsFor(SP_CERT).slice(before)[0]?.credential, 'certificate');
      },
    );
  });

  test('is refused by Entra (500, AADSTS700027) when the certificate is not the one registered', async () => {
    const other = clientCertificate('another certificate');
    const file = join(dir, 'other.pem');
    writeFileSync(file, other.privateKeyPem + other.certificatePem, { mode: 0o600 });
    await withSources(
      spDefault({}, { type: 'service-principal', clientId: SP_CERT, certificateFile: file }),
      async (azimds) => {
        const res = await azimds.token(ARM);
        assert.equal(res.status, 500);
        assert.match(res.json.error_description, /invalid_client: AADSTS700027: .*thumbprint/);
      },
    );
  });

  test('sends the resource as <resource>/.default, as the SDKs and the az CLI convert it', async () => {
    await withSources(spDefault(), async (azimds) => {
      const before = callsFor(SP).length;
      assert.equal((await azimds.token(ARM)).status, 200);
      assert.equal(callsFor(SP).slice(before)[0]?.scope, 'https://management.azure.com//.default');
    });
  });

  test('gives real tokens for Key Vault and local ones for everything else (rules by resource)', async () => {
    await withSources(
      options({
        sources: { sp: secretSource },
        rules: [{ resource: 'https://vault.azure.net', source: 'sp' }],
      }),
      async (azimds) => {
        const before = callsFor(SP).length;
        const vault = await azimds.token('https://vault.azure.net/');
        assert.equal(vault.status, 200, vault.body);
        assert.equal(claimsOf(vault.json.access_token).appid, SP, 'a trailing slash matches the rule');
        const arm = await azimds.token(ARM);
        assert.equal(arm.status, 200);
        const local = claimsOf(arm.json.access_token);
        assert.equal(local.iss, `https://sts.windows.net/${TENANT}/`);
        assert.notEqual(local.appid, SP, 'minted locally for the identity');
        assert.equal(callsFor(SP).length - before, 1, 'only Key Vault went to Entra');
      },
    );
  });

  test('routes by identity: the user-assigned identity gets real tokens, the system-assigned one local tokens', async () => {
    await withSources(
      options({ sources: { sp: secretSource }, rules: [{ identity: 'id-app', source: 'sp' }] }),
      async (azimds) => {
        const real = await azimds.token(ARM, { client_id: UAMI });
        assert.equal(claimsOf(real.json.access_token).appid, SP);
        const local = await azimds.token(ARM);
        assert.notEqual(claimsOf(local.json.access_token).appid, SP);
      },
    );
  });

  test("answers 500 unknown with Entra's reason when the secret is wrong (401 invalid_client)", async () => {
    const wrong = 'not-the-right-secret-1234';
    process.env.AZIMDS_TEST_WRONG_SECRET = wrong;
    const azimds = await startWithSources(spDefault({ clientSecretEnv: 'AZIMDS_TEST_WRONG_SECRET' }));
    try {
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 500);
      assert.deepEqual(Object.keys(res.json), ['error', 'error_description']);
      assert.equal(res.json.error, 'unknown');
      assert.match(res.json.error_description, /^Failed to retrieve token from the Active directory\. /);
      assert.match(
        res.json.error_description,
        /invalid_client: AADSTS7000215: Invalid client secret provided/,
      );
      assert.ok(!res.body.includes(wrong), 'the secret is not echoed');
      assert.ok(
        azimds.log.some((l) => l.includes('AADSTS7000215') && l.includes('"level":40')),
        'logged as a warning',
      );
      assert.ok(!azimds.log.some((l) => l.includes(wrong)));
    } finally {
      await azimds.close();
      delete process.env.AZIMDS_TEST_WRONG_SECRET;
    }
  });

  test('answers 500 when Entra does not know the application (400 unauthorized_client)', async () => {
    await withSources(spDefault({ clientId: '99999999-8888-4777-8666-555555555555' }), async (azimds) => {
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 500);
      assert.match(res.json.error_description, /AADSTS700016/);
    });
  });

  test("answers 400 invalid_resource with Entra's AADSTS500011 for a resource the tenant does not have", async () => {
    await withSources(spDefault(), async (azimds) => {
      const res = await azimds.token('https://api.contoso.invalid');
      assert.equal(res.status, 400, res.body);
      assert.equal(res.json.error, 'invalid_resource');
      assert.match(
        res.json.error_description,
        /^AADSTS500011: The resource principal named https:\/\/api\.contoso\.invalid was not found in the tenant/,
      );
    });
  });

  test('answers 500 when Entra is unavailable (503 temporarily_unavailable) and when a proxy answers 502 with HTML', async () => {
    const azimds = await startWithSources(spDefault());
    try {
      entra.override = (call) =>
        call.resource === 'https://storage.azure.com'
          ? {
              status: 503,
              body: {
                error: 'temporarily_unavailable',
                error_description: 'AADSTS90033: A transient error has occurred. Please try again.',
              },
            }
          : call.resource === 'https://database.windows.net'
            ? { status: 502, body: '<html><body>Bad Gateway</body></html>', contentType: 'text/html' }
            : undefined;
      const unavailable = await azimds.token('https://storage.azure.com');
      assert.equal(unavailable.status, 500);
      assert.match(unavailable.json.error_description, /temporarily_unavailable: AADSTS90033/);
      const proxy = await azimds.token('https://database.windows.net');
      assert.equal(proxy.status, 500);
      assert.match(proxy.json.error_description, /HTTP 502 .* not JSON \(text\/html\)/);
      assert.equal((await azimds.token(VAULT)).status, 200, 'other resources still work');
    } finally {
      entra.override = undefined;
      await azimds.close();
    }
  });

  test('answers 500 within the configured timeout when Entra never answers, and the next request works', async () => {
    const azimds = await startWithSources(spDefault({ timeoutMs: 300 }));
    try {
      entra.override = () => 'hang';
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 500);
      assert.match(
        res.json.error_description,
        /no answer from 127\.0\.0\.1:\d+\/.* within the timeout of 300 ms/,
      );
      entra.override = undefined;
      assert.equal((await azimds.token(VAULT)).status, 200);
    } finally {
      entra.override = undefined;
      await azimds.close();
    }
  });

  test('answers 500 naming the host when the authority cannot be reached', async () => {
    await withSources(spDefault({ authorityHost: 'https://127.0.0.1:1' }), async (azimds) => {
      const res = await azimds.token(VAULT);
      assert.equal(res.status, 500);
      assert.match(res.json.error_description, /cannot reach 127\.0\.0\.1:1\/.*ECONNREFUSED/);
    });
  });

  test("asks the sovereign cloud's authority host (AzureUSGovernment: login.microsoftonline.us), through HTTPS_PROXY", async () => {
    // A CONNECT proxy on loopback that records where it was asked to go and refuses: no network needed.
    const targets: string[] = [];
    const proxy = createHttpServer();
    proxy.on('connect', (req, socket) => {
      targets.push(req.url ?? '');
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      await withEnv({ HTTPS_PROXY: proxyUrl, NO_PROXY: undefined }, async () => {
        await withSources(spDefault({ cloud: 'AzureUSGovernment' }), async (azimds) => {
          const res = await azimds.token(VAULT);
          assert.equal(res.status, 500);
          assert.deepEqual(targets, ['login.microsoftonline.us:443']);
          assert.match(
            res.json.error_description,
            /login\.microsoftonline\.us\/5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\//,
          );
        });
      });
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  test('serves the cached token until it nears expiry, then asks Entra again', async () => {
    await withSources(spDefault(), async (azimds) => {
      const before = callsFor(SP).length;
      const first = await azimds.token(VAULT);
      const second = await azimds.token(VAULT);
      assert.equal(second.json.access_token, first.json.access_token);
      assert.equal(callsFor(SP).length - before, 1);
      // 3599 s tokens are refreshed when 15 minutes remain.
      azimds.emulator.state.clock.advance((3599 - 900 + 5) * 1000);
      const third = await azimds.token(VAULT);
      assert.equal(third.status, 200);
      assert.equal(callsFor(SP).length - before, 2);
    });
  });

  test('asks Entra again on bypass_cache=true', async () => {
    await withSources(spDefault(), async (azimds) => {
      const before = callsFor(SP).length;
      await azimds.token(VAULT);
      await azimds.token(VAULT, { bypass_cache: 'true' });
      assert.equal(callsFor(SP).length - before, 2);
    });
  });

  test('makes one Entra call for many concurrent requests for the same identity and resource', async () => {
    const azimds = await startWithSources(spDefault());
    try {
      entra.delayMs = 100;
      const before = callsFor(SP).length;
      const replies = await Promise.all(Array.from({ length: 20 }, () => azimds.token(VAULT)));
      assert.ok(replies.every((r) => r.status === 200));
      assert.equal(new Set(replies.map((r) => r.json.access_token)).size, 1, 'all got the same token');
      assert.equal(callsFor(SP).length - before, 1);
    } finally {
      entra.delayMs = 0;
      await azimds.close();
    }
  });

  test('keeps serving the cached token while it is still valid when a refresh fails', async () => {
    const azimds = await startWithSources(spDefault());
    try {
      const first = await azimds.token(VAULT);
      azimds.emulator.state.clock.advance((3599 - 600) * 1000); // 10 minutes left: due for refresh
      entra.override = () => ({
        status: 503,
        body: {
          error: 'temporarily_unavailable',
          error_description: 'AADSTS90033: A transient error has occurred.',
        },
      });
      const before = callsFor(SP).length;
      const second = await azimds.token(VAULT);
      assert.equal(second.status, 200);
      assert.equal(second.json.access_token, first.json.access_token);
      assert.equal(callsFor(SP).length - before, 1, 'it did try');
    } finally {
      entra.override = undefined;
      await azimds.close();
    }
  });

  test('never writes a secret, a private key or a token to its log or to the request log', async () => {
    const wrong = 'wrong-secret-never-logged-42';
    process.env.AZIMDS_TEST_WRONG_SECRET = wrong;
    const azimds = await startWithSources(
      options({
        sources: {
          sp: secretSource,
          cert: { type: 'service-principal', clientId: SP_CERT, certificateFile },
          bad: { type: 'service-principal', clientId: SP, clientSecretEnv: 'AZIMDS_TEST_WRONG_SECRET' },
        },
        rules: [
          { resource: 'https://vault.azure.net', source: 'sp' },
          { resource: 'https://storage.azure.com', source: 'cert' },
          { resource: 'https://database.windows.net', source: 'bad' },
        ],
      }),
    );
    try {
      const tokens: string[] = [];
      for (const resource of [VAULT, 'https://storage.azure.com', ARM]) {
        const res = await azimds.token(resource, { client_id: UAMI });
        assert.equal(res.status, 200, res.body);
        tokens.push(res.json.access_token);
      }
      assert.equal((await azimds.token('https://database.windows.net')).status, 500);
      const keyLines = certificate.privateKeyPem.split('\n').filter((l) => l.length > 40);
      const forbidden = [
        SECRET,
        wrong,
        ...tokens,
        ...tokens.map((t) => t.split('.')[2] as string),
        ...keyLines,
      ];
      const log = azimds.log.join('\n');
      const requestLog = await azimds.requestLog();
      assert.match(requestLog, /oauth2\/token/, 'the requests are in the request log');
      for (const secret of forbidden) {
        assert.ok(!log.includes(secret), 'a secret or token reached the log');
        assert.ok(!requestLog.includes(secret), 'a secret or token reached the request log');
      }
    } finally {
      await azimds.close();
      delete process.env.AZIMDS_TEST_WRONG_SECRET;
    }
  });

  test("does not start when the secret's environment variable is not set, and says which", async () => {
    await assert.rejects(
      startWithSources(spDefault({ clientSecretEnv: 'AZIMDS_TEST_UNSET_VARIABLE' })),
      (error: Error & { code?: string }) =>
        error.code === 'CONFIG_INVALID' &&
        /tokens\.sources\.sp\.clientSecretEnv: .*AZIMDS_TEST_UNSET_VARIABLE is not set/.test(error.message),
    );
  });

  test('reads the secret from a file and warns when other users can read that file', async () => {
    const file = join(dir, 'secret.txt');
    writeFileSync(file, `${SECRET}\n`);
    chmodSync(file, 0o644);
    await withSources(spDefault({ clientSecretEnv: undefined, clientSecretFile: file }), async (azimds) => {
      assert.equal((await azimds.token(VAULT)).status, 200);
      if (process.platform !== 'win32') {
        assert.ok(
          azimds.log.some((l) => l.includes(`chmod 600 ${file}`)),
          'warned about the mode',
        );
      }
    });
  });
});
