/**
 * Service Fabric's token service (protocols.md §7.5): HTTPS with the emulator's self-signed
 * certificate whose SHA-1 thumbprint is IDENTITY_SERVER_THUMBPRINT (a pinning client accepts it and
 * rejects any other), the `secret` header, api-version 2019-07-01-preview, the documented error codes
 * in `{"error":{"correlationId","code","message"}}`, and the certificate kept owner-only in dataDir.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  SERVICE_FABRIC_CERT_FILE,
  SERVICE_FABRIC_KEY_FILE,
} from '../../src/core/platforms/tls-certificate.js';
import { type EmulatorOptions, startEmulator } from '../../src/server/emulator.js';
import { openPlatform, platformSuite, TRANSPORTS, wire } from '../support/platform.js';

const VAULT = 'https://vault.azure.net/';
const SECRET = 'sf-application-secret-0123456789';
const TOKEN = '/metadata/identity/oauth2/token';
const root = mkdtempSync(join(tmpdir(), 'azimds-sf-'));
let dirs = 0;

function sfOptions(extra: Record<string, unknown> = {}): EmulatorOptions {
  return {
    dataDir: join(root, `data-${++dirs}`),
    tokens: { keys: { store: 'memory' } },
    identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-worker' }] },
    platforms: { serviceFabric: { enabled: true, secret: SECRET, ...extra } },
  };
}

function tokenPath(params: Record<string, string> = {}): string {
  return `${TOKEN}?${new URLSearchParams({ 'api-version': '2019-07-01-preview', resource: VAULT, ...params })}`;
}

function assertSfError(
  res: { status: number; body: string },
  status: number,
  code: string,
  message: string,
): void {
  assert.equal(res.status, status, res.body);
  const body = JSON.parse(res.body);
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error), ['correlationId', 'code', 'message']);
  assert.match(body.error.correlationId, /^[0-9a-f-]{36}$/);
  assert.equal(body.error.code, code);
  assert.equal(body.error.message, message);
}

after(() => rmSync(root, { recursive: true, force: true }));

for (const kind of TRANSPORTS) {
  describe(`Service Fabric token service (${kind})`, () => {
    const sf = platformSuite(kind, 'serviceFabric', sfOptions());

    test('answers {token_type, access_token, expires_on, resource} to the secret header', async () => {
      const res = await sf.json('GET', tokenPath(), { secret: SECRET });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(Object.keys(res.json), ['token_type', 'access_token', 'expires_on', 'resource']);
      assert.equal(res.json.token_type, 'Bearer');
      assert.equal(res.json.resource, VAULT);
      assert.match(res.json.expires_on, /^\d+$/);
      const claims = JSON.parse(Buffer.from(res.json.access_token.split('.')[1], 'base64url').toString());
      assert.equal(claims.aud, VAULT);
      assert.equal(claims.appid, sf.state.identities.current.systemAssigned?.clientId);
    });

    test("takes the header in any case (Go sends Secret, msal-node secret) and Go's Accept", async () => {
      const res = await sf.request('GET', tokenPath(), { Secret: SECRET, Accept: 'application/json' });
      assert.equal(res.status, 200);
    });

    test('answers 400 SecretHeaderNotFound without the secret header', async () => {
      assertSfError(
        await sf.request('GET', tokenPath()),
        400,
        'SecretHeaderNotFound',
        'Secret is not found in the request headers.',
      );
    });

    test('answers 404 ManagedIdentityNotFound to an unknown secret', async () => {
      assertSfError(
        await sf.request('GET', tokenPath(), { secret: 'not-the-secret' }),
        404,
        'ManagedIdentityNotFound',
        'Managed identity not found for the specified application host.',
      );
    });

    test('answers 400 InvalidApiVersion for any other api-version, naming it', async () => {
      assertSfError(
        await sf.request('GET', `${TOKEN}?api-version=2019-08-01&resource=${VAULT}`, { secret: SECRET }),
        400,
        'InvalidApiVersion',
        "The api-version '2019-08-01' is not supported. Supported version is '2019-07-01-preview'.",
      );
      assertSfError(
        await sf.request('GET', `${TOKEN}?resource=${VAULT}`, { secret: SECRET }),
        400,
        'InvalidApiVersion',
        "The api-version '' is not supported. Supported version is '2019-07-01-preview'.",
      );
    });

    test('answers 400 ArgumentNullOrEmpty without resource', async () => {
      assertSfError(
        await sf.request('GET', `${TOKEN}?api-version=2019-07-01-preview&resource=`, { secret: SECRET }),
        400,
        'ArgumentNullOrEmpty',
        "The parameter 'resource' should not be null or empty string.",
      );
    });

    test("refuses identity parameters (the identity is set in the cluster): no other identity's token", async () => {
      const other = sf.state.identities.current.userAssigned[0];
      assert.ok(other);
      for (const params of <Record<string, string>[]>[
        { client_id: other.clientId },
        { principal_id: other.principalId },
      ]) {
        const res = await sf.request('GET', tokenPath(params), { secret: SECRET });
        assert.equal(res.status, 404);
        assert.equal(JSON.parse(res.body).error.code, 'ManagedIdentityNotFound');
      }
    });

    test('checks the secret before the verb', async () => {
      const res = await sf.request('POST', tokenPath(), {});
      assert.equal(res.status, 400);
      assert.equal(JSON.parse(res.body).error.code, 'SecretHeaderNotFound');
    });
  });
}

describe('Service Fabric certificate', () => {
  let handle: Awaited<ReturnType<typeof startEmulator>>;
  let dataDir: string;
  before(async () => {
    const options = sfOptions();
    dataDir = options.dataDir as string;
    handle = await startEmulator(options);
  });
  after(() => handle.close());

  const url = () => `${handle.urls.serviceFabric}${tokenPath()}`;

  test('is served over HTTPS; IDENTITY_SERVER_THUMBPRINT is its SHA-1 (upper-case hex)', async () => {
    const env = handle.env('service-fabric');
    assert.match(env.IDENTITY_SERVER_THUMBPRINT ?? '', /^[0-9A-F]{40}$/);
    assert.equal(env.IDENTITY_ENDPOINT, `${handle.urls.serviceFabric}${TOKEN}`);
    assert.match(env.IDENTITY_ENDPOINT ?? '', /^https:\/\//);
    assert.equal(env.IDENTITY_API_VERSION, '2019-07-01-preview');
    assert.equal(env.IDENTITY_HEADER, SECRET);
    let served = '';
    const res = await wire(url(), {
      headers: { secret: SECRET },
      ca: handle.state.platforms.certificate().certPem,
      checkServerIdentity: (_host, cert) => {
        served = cert.fingerprint.replaceAll(':', '');
        return undefined;
      },
    });
    assert.equal(res.status, 200);
    assert.equal(served, env.IDENTITY_SERVER_THUMBPRINT);
  });

  test('a client that pins the thumbprint accepts the printed one and rejects any other', async () => {
    const thumbprint = handle.env('service-fabric').IDENTITY_SERVER_THUMBPRINT;
    // What a pinning client (Azure.Identity for .NET) does: trust the certificate if its thumbprint matches.
    const pinned = (expected: string) => (_host: string, cert: { fingerprint: string }) =>
      cert.fingerprint.replaceAll(':', '') === expected ? undefined : new Error('thumbprint mismatch');
    const options = (expected: string) => ({
      headers: { secret: SECRET },
      ca: handle.state.platforms.certificate().certPem,
      checkServerIdentity: pinned(expected),
    });
    assert.equal((await wire(url(), options(thumbprint ?? ''))).status, 200);
    await assert.rejects(wire(url(), options('0'.repeat(40))), /thumbprint mismatch/);
  });

  test('is not trusted by default: a client that neither trusts nor pins it fails the handshake', async () => {
    await assert.rejects(wire(url(), { headers: { secret: SECRET } }), /self[- ]signed certificate/);
  });

  test('covers localhost, 127.0.0.1 and ::1, and is kept owner-only in dataDir', () => {
    const x509 = new X509Certificate(handle.state.platforms.certificate().certPem);
    assert.equal(x509.checkHost('localhost'), 'localhost');
    assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(x509.checkIP('::1'), '::1');
    assert.equal(handle.env('service-fabric').NODE_EXTRA_CA_CERTS, join(dataDir, SERVICE_FABRIC_CERT_FILE));
    if (process.platform !== 'win32') {
      for (const file of [SERVICE_FABRIC_CERT_FILE, SERVICE_FABRIC_KEY_FILE]) {
        assert.equal(statSync(join(dataDir, file)).mode & 0o777, 0o600, file);
      }
    }
  });

  test('is reused by the next emulator with the same dataDir (the thumbprint stays)', async () => {
    const thumbprint = handle.env('service-fabric').IDENTITY_SERVER_THUMBPRINT;
    const next = await startEmulator({ ...sfOptions(), dataDir });
    try {
      assert.equal(next.env('service-fabric').IDENTITY_SERVER_THUMBPRINT, thumbprint);
    } finally {
      await next.close();
    }
  });
});

describe('Service Fabric application identity', () => {
  test('is platforms.serviceFabric.identity when given (a user-assigned identity by name)', async () => {
    const sf = await openPlatform('inject', 'serviceFabric', sfOptions({ identity: 'id-worker' }));
    try {
      const res = await sf.json('GET', tokenPath(), { secret: SECRET });
      const worker = sf.state.identities.current.userAssigned.find((u) => u.name === 'id-worker');
      const claims = JSON.parse(Buffer.from(res.json.access_token.split('.')[1], 'base64url').toString());
      assert.equal(claims.appid, worker?.clientId);
    } finally {
      await sf.close();
    }
  });

  test('answers 404 ManagedIdentityNotFound when the application has no identity', async () => {
    const sf = await openPlatform('inject', 'serviceFabric', {
      ...sfOptions(),
      identity: { systemAssigned: false },
    });
    try {
      assertSfError(
        await sf.request('GET', tokenPath(), { secret: SECRET }),
        404,
        'ManagedIdentityNotFound',
        'Managed identity not found for the specified application host.',
      );
    } finally {
      await sf.close();
    }
  });
});
