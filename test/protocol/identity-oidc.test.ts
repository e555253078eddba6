/**
 * OIDC discovery and JWKS of the local issuer: what a resource server that validates Entra tokens
 * fetches, served by azimds so the same validation accepts azimds's tokens. URLs never come from the
 * request's Host header; the issuer in the documents is the tokens' `iss`.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { pino } from 'pino';
import { buildSurface, type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';

const ARM = 'https://management.azure.com/';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';

async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

async function imdsToken(
  base: string,
  resource: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const query = new URLSearchParams({ 'api-version': '2018-02-01', resource, ...extra });
  const { status, body } = await getJson(`${base}/metadata/identity/oauth2/token?${query}`, {
    Metadata: 'true',
  });
  assert.equal(status, 200, JSON.stringify(body));
  return body.access_token ?? '';
}

/**
 * Verifies `token` the way a resource server configured for Entra does: discovery document at
 * `<authority>/.well-known/openid-configuration`, then its `jwks_uri` and `issuer`.
 */
async function verifyViaDiscovery(token: string, authority: string, audience: string) {
  const { body: config } = await getJson(`${authority}/.well-known/openid-configuration`);
  const jwks = createRemoteJWKSet(new URL(config.jwks_uri ?? ''));
  return jwtVerify(token, jwks, { issuer: config.issuer, audience, algorithms: ['RS256'] });
}

describe('OIDC discovery (real HTTP)', () => {
  let azimds: EmulatorHandle;
  let base: string;
  before(async () => {
    azimds = await startEmulator({ identity: { tenantId: TENANT } });
    base = azimds.urls.imds ?? '';
  });
  after(() => azimds.close());

  test("serves Entra's v1 document: issuer sts.windows.net/<tenant>/, JWKS on the listener's own address", async () => {
    const { status, body } = await getJson(`${base}/${TENANT}/.well-known/openid-configuration`);
    assert.equal(status, 200);
    assert.equal(body.issuer, `https://sts.windows.net/${TENANT}/`);
    assert.equal(body.jwks_uri, `${base}/common/discovery/keys`);
    assert.equal(body.token_endpoint, `${base}/${TENANT}/oauth2/token`);
    assert.deepEqual(body.id_token_signing_alg_values_supported, ['RS256']);
    for (const key of ['authorization_endpoint', 'response_types_supported', 'subject_types_supported']) {
      assert.ok(key in body, key);
    }
  });

  test('serves the v2.0 document with the v2.0 issuer and JWKS', async () => {
    const { body } = await getJson(`${base}/${TENANT}/v2.0/.well-known/openid-configuration`);
    assert.equal(body.issuer, `https://login.microsoftonline.com/${TENANT}/v2.0`);
    assert.equal(body.jwks_uri, `${base}/${TENANT}/discovery/v2.0/keys`);
  });

  test('answers common and organizations with the {tenantid} placeholder, as Entra does', async () => {
    const { body } = await getJson(`${base}/common/.well-known/openid-configuration`);
    assert.equal(body.issuer, 'https://sts.windows.net/{tenantid}/');
    const v2 = await getJson(`${base}/organizations/v2.0/.well-known/openid-configuration`);
    assert.equal(v2.body.issuer, 'https://login.microsoftonline.com/{tenantid}/v2.0');
  });

  test('never takes URLs from the Host header', async () => {
    const { body } = await getJson(`${base}/${TENANT}/.well-known/openid-configuration`, {
      Host: 'attacker.example',
      'X-Forwarded-Host': 'attacker.example',
    });
    assert.equal(body.jwks_uri, `${base}/common/discovery/keys`);
  });

  test('answers a tenant it does not serve with 400 invalid_tenant (AADSTS90002)', async () => {
    const res = await fetch(`${base}/11111111-2222-4333-8444-555555555555/.well-known/openid-configuration`);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_tenant');
    assert.match(
      body.error_description,
      /^AADSTS90002: Tenant '11111111-2222-4333-8444-555555555555' not found/,
    );
    assert.equal((await fetch(`${base}/contoso.example/discovery/keys`)).status, 400);
  });

  test('publishes public RSA signing keys only, with kid and x5t, on every JWKS path', async () => {
    for (const path of [
      'common/discovery/keys',
      `${TENANT}/discovery/keys`,
      `${TENANT}/discovery/v2.0/keys`,
    ]) {
      const res = await fetch(`${base}/${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      const { keys } = (await res.json()) as { keys: Array<Record<string, string>> };
      assert.ok(keys.length >= 1);
      for (const key of keys) {
        assert.deepEqual(Object.keys(key).sort(), ['e', 'kid', 'kty', 'n', 'use', 'x5t']);
        assert.equal(key.kty, 'RSA');
        assert.equal(key.use, 'sig');
        assert.equal(key.x5t, key.kid);
      }
    }
  });

  test('a resource server validating via discovery accepts IMDS tokens (signature, aud, iss, exp)', async () => {
    const token = await imdsToken(base, ARM);
    const { payload } = await verifyViaDiscovery(token, `${base}/${TENANT}`, ARM);
    assert.equal(payload.tid, TENANT);
    assert.ok((payload.exp ?? 0) > Date.now() / 1000);
    await assert.rejects(verifyViaDiscovery(token, `${base}/${TENANT}`, 'https://vault.azure.net'), /aud/);
  });

  test('old tokens keep verifying after a key rotation; new tokens carry the new kid', async () => {
    const old = await imdsToken(base, 'https://vault.azure.net');
    const fresh = azimds.state.tokens.rotateKeys();
    const next = await imdsToken(base, 'https://vault.azure.net', { bypass_cache: 'true' });
    assert.equal(decodeProtectedHeader(next).kid, fresh.kid);
    assert.notEqual(decodeProtectedHeader(old).kid, fresh.kid);
    await verifyViaDiscovery(old, `${base}/${TENANT}`, 'https://vault.azure.net');
    await verifyViaDiscovery(next, `${base}/${TENANT}`, 'https://vault.azure.net');
  });
});

/** A free loopback port (listen on 0, close). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('OIDC discovery configuration', () => {
  test('an issuer set to azimds itself makes discovery strictly consistent (issuer + /.well-known)', async () => {
    const port = await freePort();
    const azimds = await startEmulator({
      imds: { port },
      identity: { tenantId: TENANT },
      tokens: { issuer: `http://127.0.0.1:${port}/{tenantId}/` },
    });
    try {
      const issuer = `http://127.0.0.1:${port}/${TENANT}/`;
      const { body } = await getJson(`${issuer}.well-known/openid-configuration`);
      assert.equal(body.issuer, issuer);
      const token = await imdsToken(azimds.urls.imds ?? '', ARM);
      const { payload } = await verifyViaDiscovery(token, issuer.slice(0, -1), ARM);
      assert.equal(payload.iss, issuer);
      const v2 = await getJson(`${issuer}v2.0/.well-known/openid-configuration`);
      assert.equal(v2.body.issuer, `http://127.0.0.1:${port}/${TENANT}/v2.0`);
    } finally {
      await azimds.close();
    }
  });

  test('uses tokens.publicUrl for the URLs in the documents (e.g. behind a port mapping)', async () => {
    const app = await buildSurface('imds', {
      identity: { tenantId: TENANT },
      tokens: { publicUrl: 'http://azimds.internal:18169/' },
    });
    try {
      const res = await app.inject({ url: `/${TENANT}/.well-known/openid-configuration` });
      assert.equal(JSON.parse(res.body).jwks_uri, 'http://azimds.internal:18169/common/discovery/keys');
    } finally {
      await app.close();
    }
  });

  test('names the configured IMDS address when not listening (inject)', async () => {
    const app = await buildSurface('imds', { identity: { tenantId: TENANT }, imds: { port: 8169 } });
    try {
      const res = await app.inject({
        url: `/${TENANT}/.well-known/openid-configuration`,
        // An allowed name that is not the configured address (a foreign Host is refused outright).
        headers: { host: 'localhost:9999' },
      });
      assert.equal(JSON.parse(res.body).jwks_uri, 'http://127.0.0.1:8169/common/discovery/keys');
    } finally {
      await app.close();
    }
  });
});

describe('local token warning', () => {
  test('is logged once per process at warn, however many emulators start', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ level: 'warn' }, sink);
    const first = await startEmulator({ logger });
    const second = await startEmulator({ logger });
    await Promise.all([first.close(), second.close()]);
    const warnings = lines.filter((l) => l.includes('minted locally'));
    assert.equal(warnings.length, 1);
    assert.equal(JSON.parse(warnings[0] ?? '{}').level, 40);
  });
});
