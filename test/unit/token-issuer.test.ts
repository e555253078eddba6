/**
 * The local issuer: Entra-shaped managed-identity access tokens (claims, header, signature) on an
 * injected clock and key store, and the per-(identity, resource) cache in front of any token source.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { EmulatorClock } from '../../src/core/clock.js';
import type { ManagedIdentity } from '../../src/core/identities/identity.js';
import { MemoryKeyStore } from '../../src/core/tokens/key-store.js';
import { jwksKey } from '../../src/core/tokens/keys.js';
import { LocalIssuer } from '../../src/core/tokens/local-issuer.js';
import type {
  AccessToken,
  TokenProvider,
  TokenRequest,
  TokenResult,
} from '../../src/core/tokens/provider.js';
import { CachingTokenProvider } from '../../src/core/tokens/token-cache.js';
import { TEST_IDENTITY } from '../support/token-sources.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ISSUER = `https://sts.windows.net/${TENANT}/`;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

const identity: ManagedIdentity = { ...TEST_IDENTITY, tenantId: TENANT };

function setup(lifetimeSeconds = 86_400) {
  const clock = new EmulatorClock();
  clock.set(T0);
  const keys = new MemoryKeyStore(clock, lifetimeSeconds);
  const issuer = new LocalIssuer({
    keys,
    clock,
    lifetimeSeconds,
    issuer: 'https://sts.windows.net/{tenantId}/',
  });
  const jwks = () => createLocalJWKSet({ keys: keys.publicKeys().map(jwksKey) as never });
  return { clock, keys, issuer, jwks };
}

async function mint(issuer: LocalIssuer, resource: string): Promise<AccessToken> {
  const result = await issuer.mint({ identity, resource });
  assert.ok(result.ok, 'minted');
  return result.token;
}

describe('local issuer', () => {
  test('mints an RS256 JWT with Entra managed-identity claims that verifies against the JWKS', async () => {
    const { issuer, jwks, clock } = setup();
    const token = await mint(issuer, 'https://management.azure.com/');
    const { payload, protectedHeader } = await jwtVerify(token.accessToken, jwks(), {
      issuer: ISSUER,
      audience: 'https://management.azure.com/',
      currentDate: new Date(clock.now()),
    });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(protectedHeader.typ, 'JWT');
    assert.equal(protectedHeader.x5t, protectedHeader.kid);
    const now = T0 / 1000;
    assert.equal(payload.iat, now - 300);
    assert.equal(payload.nbf, now - 300);
    assert.equal(payload.exp, now + 86_400);
    assert.equal(payload.tid, TENANT);
    assert.equal(payload.idp, ISSUER);
    assert.equal(payload.appid, identity.clientId);
    assert.equal(payload.azp, identity.clientId);
    assert.equal(payload.appidacr, '2');
    assert.equal(payload.oid, identity.principalId);
    assert.equal(payload.sub, identity.principalId);
    assert.equal(payload.idtyp, 'app');
    assert.equal(payload.ver, '1.0');
    assert.equal(payload.xms_mirid, identity.resourceId);
    assert.match(String(payload.uti), /^[A-Za-z0-9_-]{22}$/);
    assert.match(String(payload.rh), /^0\.A[A-Za-z0-9_-]+\.$/);
    assert.equal(token.expiresOn, payload.exp);
    assert.equal(token.notBefore, payload.nbf);
    assert.equal(token.lifetimeSeconds, 86_400);
    assert.equal(token.clientId, identity.clientId);
  });

  test('sets aud to the resource exactly as requested (trailing slash, no slash, application id)', async () => {
    const { issuer } = setup();
    for (const resource of [
      'https://management.azure.com/',
      'https://management.azure.com',
      'https://vault.azure.net',
      'https://vault.azure.net/',
      'api://my-api',
      '6dae42f8-4368-4678-94ff-3960e28e3630',
    ]) {
      const token = await mint(issuer, resource);
      const payload = JSON.parse(Buffer.from(token.accessToken.split('.')[1] ?? '', 'base64url').toString());
      assert.equal(payload.aud, resource);
      assert.equal(token.resource, resource);
    }
  });

  test('adds xms_mirid and idtyp for Microsoft first-party resources only, as Entra does', async () => {
    const { issuer } = setup();
    const claimsFor = async (resource: string) =>
      JSON.parse(
        Buffer.from(
          (await mint(issuer, resource)).accessToken.split('.')[1] as string,
          'base64url',
        ).toString(),
      );
    for (const resource of [
      'https://management.azure.com/',
      'https://vault.azure.net',
      'https://myaccount.blob.core.windows.net',
      'https://graph.microsoft.com',
      'https://management.usgovcloudapi.net/',
      '797f4846-ba00-4fd7-ba43-dac1f8f63013',
      '00000003-0000-0000-c000-000000000000',
    ]) {
      const claims = await claimsFor(resource);
      assert.equal(claims.xms_mirid, identity.resourceId, resource);
      assert.equal(claims.idtyp, 'app', resource);
    }
    for (const resource of [
      'api://my-api',
      'api://2c0c8f5e-3f3a-4e42-9d55-1f1f2a8c6b11',
      '2c0c8f5e-3f3a-4e42-9d55-1f1f2a8c6b11',
      'https://api.contoso.com',
      'https://evil-azure.com.example.org',
      'http://management.azure.com/',
    ]) {
      const claims = await claimsFor(resource);
      assert.equal('xms_mirid' in claims, false, resource);
      assert.equal('idtyp' in claims, false, resource);
      // The claims every v1 token has stay.
      assert.equal(claims.oid, identity.principalId, resource);
      assert.equal(claims.appid, identity.clientId, resource);
      assert.equal(claims.aud, resource);
    }
  });

  test('gives every token a unique uti', async () => {
    const { issuer } = setup();
    const uti = (t: AccessToken) =>
      JSON.parse(Buffer.from(t.accessToken.split('.')[1] ?? '', 'base64url').toString()).uti;
    assert.notEqual(
      uti(await mint(issuer, 'https://vault.azure.net')),
      uti(await mint(issuer, 'https://vault.azure.net')),
    );
  });

  test('refuses resources Entra would not know with AADSTS500011 (invalid-resource)', async () => {
    const { issuer } = setup();
    for (const resource of ['not a uri', 'vault', 'https://vault.azure.net/.default']) {
      const result = await issuer.mint({ identity, resource });
      assert.equal(result.ok, false, resource);
      if (!result.ok) {
        assert.equal(result.failure.code, 'invalid-resource');
        assert.match(
          result.failure.description,
          /^AADSTS500011: The resource principal named .* was not found/,
        );
      }
    }
  });

  test('follows the injected clock: a token minted later has later times', async () => {
    const { issuer, clock } = setup();
    const first = await mint(issuer, 'https://storage.azure.com/');
    clock.advance(3_600_000);
    const second = await mint(issuer, 'https://storage.azure.com/');
    assert.equal(second.expiresOn - first.expiresOn, 3600);
  });

  test('replaces {tenantId} in a configured issuer', async () => {
    const clock = new EmulatorClock();
    const keys = new MemoryKeyStore(clock, 3600);
    const issuer = new LocalIssuer({
      keys,
      clock,
      lifetimeSeconds: 3600,
      issuer: 'http://127.0.0.1:8169/{tenantId}/',
    });
    const token = await mint(issuer, 'https://management.azure.com/');
    const { payload } = await jwtVerify(
      token.accessToken,
      createLocalJWKSet({ keys: keys.publicKeys().map(jwksKey) as never }),
    );
    assert.equal(payload.iss, `http://127.0.0.1:8169/${TENANT}/`);
  });
});

describe('key rotation', () => {
  test('signs with the new key after rotation and keeps the old key published until its tokens expire', async () => {
    const { issuer, keys, jwks, clock } = setup(3600);
    const old = await mint(issuer, 'https://vault.azure.net');
    const oldKid = decodeProtectedHeader(old.accessToken).kid;
    const fresh = keys.rotate();
    assert.notEqual(fresh.kid, oldKid);
    const next = await mint(issuer, 'https://vault.azure.net');
    assert.equal(decodeProtectedHeader(next.accessToken).kid, fresh.kid);
    assert.deepEqual(
      keys.publicKeys().map((k) => k.kid),
      [fresh.kid, oldKid],
    );
    const at = new Date(clock.now());
    await jwtVerify(old.accessToken, jwks(), { currentDate: at });
    await jwtVerify(next.accessToken, jwks(), { currentDate: at });
    // Once every token the old key signed has expired (plus a margin), it leaves the JWKS.
    clock.advance((3600 + 601) * 1000);
    assert.deepEqual(
      keys.publicKeys().map((k) => k.kid),
      [fresh.kid],
    );
  });
});

/** A token source that counts calls and can be told to fail or to wait. */
function countingSource(clock: EmulatorClock, lifetimeSeconds = 3600) {
  const calls: TokenRequest[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  let failNext = false;
  const provider: TokenProvider = {
    name: 'counting',
    async getToken(request): Promise<TokenResult> {
      calls.push(request);
      if (gate) await gate;
      if (failNext) {
        failNext = false;
        throw new Error('upstream down');
      }
      const now = Math.floor(clock.now() / 1000);
      return {
        ok: true,
        token: {
          accessToken: `token-${calls.length}`,
          resource: request.resource,
          clientId: request.identity.clientId,
          tokenType: 'Bearer',
          notBefore: now,
          expiresOn: now + lifetimeSeconds,
          lifetimeSeconds,
        },
      };
    },
  };
  return {
    provider,
    calls,
    hold() {
      gate = new Promise((r) => {
        release = r;
      });
    },
    release() {
      gate = undefined;
      release?.();
    },
    failOnce() {
      failNext = true;
    },
  };
}

/** A cache (refreshing 900 s before expiry) in front of a counting source, on a fresh clock. */
function cachedSource(lifetimeSeconds = 3600, options: { maxEntries?: number } = {}) {
  const clock = new EmulatorClock();
  const source = countingSource(clock, lifetimeSeconds);
  const cache = new CachingTokenProvider(source.provider, { clock, refreshBeforeSeconds: 900, ...options });
  return { clock, source, cache };
}

async function tokenOf(p: Promise<TokenResult>): Promise<string> {
  const r = await p;
  assert.ok(r.ok);
  return r.token.accessToken;
}

describe('token cache', () => {
  test('serves the same token per (identity, resource) until it nears expiry, then fetches a new one', async () => {
    const { clock, source, cache } = cachedSource(3600);
    const req = { identity, resource: 'https://vault.azure.net' };
    const first = await tokenOf(cache.getToken(req));
    clock.advance((3600 - 901) * 1000);
    assert.equal(await tokenOf(cache.getToken(req)), first);
    clock.advance(2000);
    assert.notEqual(await tokenOf(cache.getToken(req)), first);
    assert.equal(source.calls.length, 2);
  });

  test('caches per resource and per identity', async () => {
    const { cache } = cachedSource();
    const other = { ...identity, principalId: '11111111-2222-4333-8444-555555555555' };
    const a = await tokenOf(cache.getToken({ identity, resource: 'https://vault.azure.net' }));
    const b = await tokenOf(cache.getToken({ identity, resource: 'https://vault.azure.net/' }));
    const c = await tokenOf(cache.getToken({ identity: other, resource: 'https://vault.azure.net' }));
    assert.equal(new Set([a, b, c]).size, 3);
  });

  test('re-mints at half the lifetime when the lifetime is short', async () => {
    const { clock, cache } = cachedSource(60);
    const req = { identity, resource: 'https://vault.azure.net' };
    const first = await tokenOf(cache.getToken(req));
    clock.advance(29_000);
    assert.equal(await tokenOf(cache.getToken(req)), first);
    clock.advance(2_000);
    assert.notEqual(await tokenOf(cache.getToken(req)), first);
  });

  test('fetches a fresh token on bypassCache and serves it afterwards', async () => {
    const { cache } = cachedSource();
    const req = { identity, resource: 'https://vault.azure.net' };
    const first = await tokenOf(cache.getToken(req));
    const bypassed = await tokenOf(cache.getToken({ ...req, bypassCache: true }));
    assert.notEqual(bypassed, first);
    assert.equal(await tokenOf(cache.getToken(req)), bypassed);
  });

  test('shares one source call among concurrent requests for the same pair', async () => {
    const { source, cache } = cachedSource();
    const req = { identity, resource: 'https://vault.azure.net' };
    source.hold();
    const pending = [cache.getToken(req), cache.getToken(req), cache.getToken(req)];
    source.release();
    const tokens = await Promise.all(pending.map(tokenOf));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(source.calls.length, 1);
  });

  test('turns a thrown source error into an upstream failure and does not cache it', async () => {
    const { source, cache } = cachedSource();
    const req = { identity, resource: 'https://vault.azure.net' };
    source.failOnce();
    const failed = await cache.getToken(req);
    assert.deepEqual(failed, {
      ok: false,
      failure: { code: 'upstream', description: 'counting: upstream down' },
    });
    assert.equal((await cache.getToken(req)).ok, true);
  });

  test('stays bounded when clients ask for many different resources', async () => {
    const { source, cache } = cachedSource(3600, { maxEntries: 50 });
    for (let i = 0; i < 500; i++) await cache.getToken({ identity, resource: `api://r${i}` });
    // The most recent resource is still cached.
    const before = source.calls.length;
    await cache.getToken({ identity, resource: 'api://r499' });
    assert.equal(source.calls.length, before);
  });
});
