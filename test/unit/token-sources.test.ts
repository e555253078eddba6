/**
 * Token sources without a network: their config (no inline secrets, references, clouds), the Go
 * simulator's service principals as identities, routing rules, the router's safety net (timeouts, thrown
 * errors, scrubbed descriptions and logs), the cache in front (one call for concurrent requests, a
 * still-valid token when a refresh fails), and the parsing of az's and Entra's answers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ServerError } from '@azure/msal-node';
import { fromGoSimulator } from '../../src/config/go-simulator.js';
import { resolveConfig } from '../../src/config/load.js';
import { printableConfig } from '../../src/config/redact.js';
import { EmulatorClock } from '../../src/core/clock.js';
import type { ManagedIdentity } from '../../src/core/identities/identity.js';
import type { TokenProvider, TokenRequest, TokenResult } from '../../src/core/tokens/provider.js';
import { unverifiedClaims, upstreamAccessToken } from '../../src/core/tokens/sources/access-token.js';
import { azExpiry } from '../../src/core/tokens/sources/azure-cli.js';
import { createTokenSources } from '../../src/core/tokens/sources/create.js';
import { identityMatcher, resourceMatcher, TokenSourceRouter } from '../../src/core/tokens/sources/router.js';
import { SecretRegistry } from '../../src/core/tokens/sources/secrets.js';
import { entraFailure, scopeOf } from '../../src/core/tokens/sources/service-principal.js';
import { CachingTokenProvider } from '../../src/core/tokens/token-cache.js';
import { EnvChanges } from '../support/env.js';
import { TEST_IDENTITY } from '../support/token-sources.js';

const SP = '3f1c9a52-6d1e-4c7a-9b1e-2f4a7c9d0e11';

const identity = TEST_IDENTITY;
const system: ManagedIdentity = {
  ...identity,
  kind: 'system-assigned',
  name: 'vm-01',
  clientId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
};

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected an error');
}

/** A source that answers with a token named after each call, or as told. */
function fakeSource(name: string, answer?: (n: number) => Promise<TokenResult> | TokenResult) {
  let calls = 0;
  const provider: TokenProvider = {
    name,
    async getToken({ resource }: TokenRequest) {
      calls++;
      if (answer) return answer(calls);
      return {
        ok: true,
        token: {
          accessToken: `${name}-${calls}`,
          resource,
          clientId: SP,
          tokenType: 'Bearer',
          notBefore: 0,
          expiresOn: Math.floor(Date.now() / 1000) + 3600,
          lifetimeSeconds: 3600,
        },
      };
    },
  };
  return { provider, calls: () => calls };
}

function lines() {
  const out: string[] = [];
  const log = {
    warn: (f: object, m: string) => out.push(`warn ${JSON.stringify(f)} ${m}`),
    info: (f: object, m: string) => out.push(`info ${JSON.stringify(f)} ${m}`),
    debug: (f: object, m: string) => out.push(`debug ${JSON.stringify(f)} ${m}`),
  };
  return { out, log };
}

describe('token source config', () => {
  test('refuses a secret written in the config, and says what to write instead', () => {
    const sp = configError(() =>
      resolveConfig({
        tokens: { sources: { sp: { type: 'service-principal', clientId: SP, clientSecret: 'hunter22' } } },
      } as never),
    );
    assert.match(
      sp,
      /tokens\.sources\.sp\.clientSecret: secrets are not accepted in the config file; use clientSecretEnv or clientSecretFile/,
    );
    assert.ok(!sp.includes('hunter22'));
    const fixed = configError(() =>
      resolveConfig({ tokens: { sources: { s: { type: 'static', token: 'eyJ' } } } } as never),
    );
    assert.match(fixed, /tokens\.sources\.s\.token: .*use tokenEnv or tokenFile/);
  });

  test('wants exactly one credential for a service principal', () => {
    const none = configError(() =>
      resolveConfig({ tokens: { sources: { sp: { type: 'service-principal', clientId: SP } } } } as never),
    );
    assert.match(none, /give exactly one credential/);
    const two = configError(() =>
      resolveConfig({
        tokens: {
          sources: {
            sp: { type: 'service-principal', clientId: SP, clientSecretEnv: 'A', certificateFile: '/x.pem' },
          },
        },
      } as never),
    );
    assert.match(two, /give exactly one credential/);
  });

  test('refuses a source name that is neither built in nor defined, in tokens.source and in rules', () => {
    const message = configError(() =>
      resolveConfig({
        tokens: { source: 'nope', rules: [{ resource: 'https://vault.azure.net', source: 'gone' }] },
      } as never),
    );
    assert.match(
      message,
      /tokens\.source: unknown source "nope": one of local, azure-cli, service-principal, static/,
    );
    assert.match(message, /tokens\.rules\[0\]\.source: unknown source "gone"/);
  });

  test('accepts cloud names as IMDS and the az CLI spell them, and trims an authority host', () => {
    const config = resolveConfig({
      tokens: {
        sources: {
          gov: {
            type: 'service-principal',
            clientId: SP,
            clientSecretEnv: 'X',
            cloud: 'AzureUSGovernmentCloud',
          },
          cn: { type: 'service-principal', clientId: SP, clientSecretEnv: 'X', cloud: 'azurechinacloud' },
        },
        upstream: { authorityHost: 'https://login.example.com/' },
      },
    } as never);
    assert.equal((config.tokens.sources.gov as { cloud: string }).cloud, 'AzureUSGovernment');
    assert.equal((config.tokens.sources.cn as { cloud: string }).cloud, 'AzureChinaCloud');
    assert.equal(config.tokens.upstream.authorityHost, 'https://login.example.com');
    assert.match(
      configError(() => resolveConfig({ tokens: { upstream: { cloud: 'Mars' } } } as never)),
      /unknown cloud "Mars"/,
    );
  });

  test('takes the default source from AZIMDS_TOKEN_SOURCE and the authority host from AZIMDS_AUTHORITY_HOST', async () => {
    const { loadConfig } = await import('../../src/config/load.js');
    const config = loadConfig({
      env: { AZIMDS_TOKEN_SOURCE: 'azure-cli', AZIMDS_AUTHORITY_HOST: 'https://127.0.0.1:8443' },
    });
    assert.equal(config.tokens.source, 'azure-cli');
    assert.equal(config.tokens.upstream.authorityHost, 'https://127.0.0.1:8443');
  });
});

describe("the Go simulator's service principals", () => {
  const second = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

  test('become identities: the first is the system-assigned one, the others user-assigned; real tokens by default', () => {
    const config = resolveConfig({
      tenantID: 'sometenant.onmicrosoft.com',
      servicePrincipals: { [SP]: 'secret-one', [second]: 'secret-two', 'not-a-guid': 'x' },
    });
    assert.equal(config.identity.systemAssigned.enabled, true);
    assert.equal((config.identity.systemAssigned as { clientId?: string }).clientId, SP);
    assert.deepEqual(
      config.identity.userAssigned.map((u) => [u.name, u.clientId]),
      [[`sp-${second}`, second]],
    );
    assert.equal(config.tokens.source, 'service-principal');
  });

  test('without service principals change nothing', () => {
    assert.deepEqual(fromGoSimulator({ tenantID: 'x', servicePrincipals: {} }), {
      goSimulator: { tenantId: 'x', servicePrincipals: {} },
    });
  });

  test('are shown without their secrets', () => {
    const config = resolveConfig({
      tenantID: 't.onmicrosoft.com',
      servicePrincipals: { [SP]: 'secret-one' },
    });
    const shown = JSON.stringify(printableConfig(config));
    assert.ok(!shown.includes('secret-one'));
    assert.match(shown, /\[redacted\]/);
    assert.equal(config.goSimulator?.servicePrincipals?.[SP], 'secret-one', 'the config itself keeps them');
  });

  test('need the tenant: a config without tenantID does not start', () => {
    const config = resolveConfig({ servicePrincipals: { [SP]: 'secret-one' } });
    const clock = new EmulatorClock();
    assert.match(
      configError(() => createTokenSources(config, { local: fakeSource('local').provider, clock })),
      /servicePrincipals but no tenantID/,
    );
  });
});

describe('creating token sources', () => {
  const clock = new EmulatorClock();
  const local = fakeSource('local').provider;

  test('creates nothing when every token is local (the local issuer is called directly)', () => {
    assert.equal(createTokenSources(resolveConfig({}), { local, clock }), undefined);
  });

  test('the built-in service-principal source reads AZIMDS_SP_*, and says which variables it needs', () => {
    const config = resolveConfig({ tokens: { source: 'service-principal' } } as never);
    assert.match(
      configError(() => createTokenSources(config, { local, clock, env: {} })),
      /set AZIMDS_SP_CLIENT_ID \(and AZIMDS_SP_TENANT_ID, and AZIMDS_SP_CLIENT_SECRET, AZIMDS_SP_CLIENT_SECRET_FILE or AZIMDS_SP_CERTIFICATE_FILE\)/,
    );
    const router = createTokenSources(config, {
      local,
      clock,
      env: {
        AZIMDS_SP_CLIENT_ID: SP,
        AZIMDS_SP_TENANT_ID: 'contoso.onmicrosoft.com',
        AZIMDS_SP_CLIENT_SECRET: 's3cret-value',
      },
    });
    assert.ok(router);
    assert.equal(router.mintsLocally, false);
  });

  test('a service principal needs a tenant: its own or identity.tenantId', () => {
    const config = resolveConfig({
      tokens: {
        source: 'sp',
        sources: { sp: { type: 'service-principal', clientId: SP, clientSecretEnv: 'SP_SECRET' } },
      },
    } as never);
    assert.match(
      configError(() => createTokenSources(config, { local, clock, env: { SP_SECRET: 'value-1234' } })),
      /tokens\.sources\.sp\.tenantId: the tenant of the service principal is needed/,
    );
  });

  const windows = process.platform === 'win32' && 'the home directory comes from HOME on POSIX only';
  test('reads secret files named with ~ from the home directory', { skip: windows }, () => {
    const home = mkdtempSync(join(tmpdir(), 'azimds-home-'));
    const env = new EnvChanges().apply({ HOME: home });
    try {
      writeFileSync(join(home, 'sp.secret'), 'secret-from-home\n', { mode: 0o600 });
      const config = resolveConfig({
        identity: { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
        tokens: {
          source: 'sp',
          sources: { sp: { type: 'service-principal', clientId: SP, clientSecretFile: '~/sp.secret' } },
        },
      } as never);
      assert.ok(createTokenSources(config, { local, clock }));
    } finally {
      env.restore();
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('a certificate file needs a private key and its certificate; the error never shows the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'azimds-cert-unit-'));
    try {
      const file = join(dir, 'key-only.pem');
      const key =
        '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDkeyMaterialThatIsNotReal\n-----END PRIVATE KEY-----\n';
      writeFileSync(file, key, { mode: 0o600 });
      const config = resolveConfig({
        identity: { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
        tokens: {
          source: 'sp',
          sources: { sp: { type: 'service-principal', clientId: SP, certificateFile: file } },
        },
      } as never);
      const message = configError(() => createTokenSources(config, { local, clock }));
      assert.match(message, /must hold a PEM private key and its certificate/);
      assert.ok(!message.includes('MIIEvQ'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('routing rules', () => {
  test('match a resource without letter case or trailing slash, with * for any characters', () => {
    const vault = resourceMatcher('https://vault.azure.net');
    assert.ok(vault('https://vault.azure.net'));
    assert.ok(vault('https://vault.azure.net/'));
    assert.ok(vault('https://VAULT.azure.net'));
    assert.ok(!vault('https://vault.azure.net.evil.example'));
    const any = resourceMatcher(['https://*.vault.azure.net', 'api://*']);
    assert.ok(any('https://myvault.vault.azure.net/'));
    assert.ok(any('api://my-app'));
    assert.ok(!any('https://vault.azure.net'));
  });

  test('match an identity by name, client id, principal id or resource id, or by kind', () => {
    assert.ok(identityMatcher('ID-APP')(identity));
    assert.ok(identityMatcher(identity.clientId.toUpperCase())(identity));
    assert.ok(identityMatcher(identity.principalId)(identity));
    assert.ok(identityMatcher(identity.resourceId)(identity));
    assert.ok(identityMatcher('user-assigned')(identity));
    assert.ok(!identityMatcher('system-assigned')(identity));
    assert.ok(identityMatcher('system-assigned')(system));
  });

  test('the first matching rule wins; no match goes to the default source', async () => {
    const secrets = new SecretRegistry();
    const a = fakeSource('a');
    const b = fakeSource('b');
    const fallback = fakeSource('fallback');
    const router = new TokenSourceRouter({
      rules: [
        {
          identity: identityMatcher('id-app'),
          resource: resourceMatcher('https://vault.azure.net'),
          source: { name: 'a', provider: a.provider },
        },
        { resource: resourceMatcher('https://vault.azure.net'), source: { name: 'b', provider: b.provider } },
      ],
      fallback: { name: 'fallback', provider: fallback.provider },
      local: fakeSource('local').provider,
      secrets,
      log: lines().log,
    });
    assert.equal(router.route(identity, 'https://vault.azure.net/').name, 'a');
    assert.equal(router.route(system, 'https://vault.azure.net').name, 'b');
    assert.equal(router.route(identity, 'https://management.azure.com/').name, 'fallback');
    assert.equal(router.mintsLocally, false);
  });
});

describe('token source safety net', () => {
  function routerFor(provider: TokenProvider, timeoutMs?: number) {
    const secrets = new SecretRegistry();
    secrets.add('super-secret-value');
    const { out, log } = lines();
    const router = new TokenSourceRouter({
      rules: [],
      fallback: { name: 'real', provider, ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
      local: fakeSource('local').provider,
      secrets,
      log,
    });
    return { router, out };
  }

  test('turns a thrown error into a typed upstream failure naming the source', async () => {
    const { router } = routerFor({
      name: 'real',
      getToken: async () => {
        throw new Error('boom');
      },
    });
    const result = await router.getToken({ identity, resource: 'https://vault.azure.net' });
    assert.deepEqual(result, {
      ok: false,
      failure: {
        code: 'upstream',
        reason: 'unavailable',
        description: 'token source real failed: boom',
        source: 'real',
      },
    });
  });

  test('answers with a timeout failure when a source never answers', async () => {
    const { router } = routerFor({ name: 'real', getToken: () => new Promise<TokenResult>(() => {}) }, 10);
    const result = await router.getToken({ identity, resource: 'https://vault.azure.net' });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.failure.reason, 'timeout');
  });

  test('scrubs registered secrets from failure descriptions and from the log', async () => {
    const { router, out } = routerFor(
      fakeSource('real', () => ({
        ok: false,
        failure: { code: 'upstream', reason: 'rejected', description: 'echoed super-secret-value back' },
      })).provider,
    );
    const result = await router.getToken({ identity, resource: 'https://vault.azure.net' });
    assert.equal(!result.ok && result.failure.description, 'echoed [redacted] back');
    assert.ok(out.some((l) => l.startsWith('warn') && l.includes('echoed [redacted] back')));
    assert.ok(!out.join('\n').includes('super-secret-value'));
  });

  test('does not log tokens it hands out', async () => {
    const { router, out } = routerFor(fakeSource('real').provider);
    const result = await router.getToken({ identity, resource: 'https://vault.azure.net' });
    assert.ok(result.ok);
    assert.ok(out.length > 0);
    assert.ok(!out.join('\n').includes(result.token.accessToken));
  });
});

/** A successful result: a token that expires an hour from `clock`'s now. */
function oneHourToken(accessToken: string, clock: EmulatorClock): TokenResult {
  return {
    ok: true,
    token: {
      accessToken,
      resource: 'r',
      clientId: SP,
      tokenType: 'Bearer',
      notBefore: 0,
      expiresOn: Math.floor(clock.now() / 1000) + 3600,
      lifetimeSeconds: 3600,
    },
  };
}

describe('the cache in front of real sources', () => {
  test('makes one source call for concurrent requests for the same identity and resource', async () => {
    const clock = new EmulatorClock();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = fakeSource('slow', async (n) => {
      await gate;
      return oneHourToken(`t${n}`, clock);
    });
    const cache = new CachingTokenProvider(slow.provider, { clock, refreshBeforeSeconds: 900 });
    const pending = Array.from({ length: 25 }, () =>
      cache.getToken({ identity, resource: 'https://vault.azure.net' }),
    );
    release();
    const results = await Promise.all(pending);
    assert.ok(results.every((r) => r.ok && r.token.accessToken === 't1'));
    assert.equal(slow.calls(), 1);
  });

  test('serves the still-valid cached token when a refresh ahead of expiry fails, but not on bypassCache', async () => {
    const clock = new EmulatorClock();
    let failing = false;
    const source = fakeSource('real', (n) =>
      failing
        ? { ok: false, failure: { code: 'upstream', reason: 'unavailable', description: 'Entra down' } }
        : oneHourToken(`t${n}`, clock),
    );
    const cache = new CachingTokenProvider(source.provider, { clock, refreshBeforeSeconds: 900 });
    const req = { identity, resource: 'https://vault.azure.net' };
    assert.ok((await cache.getToken(req)).ok);
    failing = true;
    clock.advance((3600 - 600) * 1000); // due (10 min left), still usable
    const stale = await cache.getToken(req);
    assert.ok(stale.ok && stale.token.accessToken === 't1');
    assert.equal((await cache.getToken({ ...req, bypassCache: true })).ok, false);
    clock.advance(400 * 1000); // 200 s left: no longer worth handing out
    assert.equal((await cache.getToken(req)).ok, false);
  });

  test('peek answers each (identity, resource) with its own token and forgets what was cleared or evicted', async () => {
    const clock = new EmulatorClock();
    const source = fakeSource('real', (n) => oneHourToken(`t${n}`, clock));
    const cache = new CachingTokenProvider(source.provider, {
      clock,
      refreshBeforeSeconds: 900,
      maxEntries: 2,
    });
    const vault = { identity, resource: 'https://vault.azure.net' };
    const arm = { identity, resource: 'https://management.azure.com/' };
    const other = { identity: { ...identity, principalId: 'another-principal' }, resource: vault.resource };
    assert.equal(cache.peek(vault), undefined);
    await cache.getToken(vault);
    await cache.getToken(arm);
    // Alternating lookups: the remembered last entry never answers for another key.
    assert.equal(cache.peek(vault)?.accessToken, 't1');
    assert.equal(cache.peek(vault)?.accessToken, 't1');
    assert.equal(cache.peek(arm)?.accessToken, 't2');
    assert.equal(cache.peek(other), undefined);
    assert.equal(cache.peek(vault)?.accessToken, 't1');
    // A third pair evicts the oldest tenth (the vault token): peek must not keep answering it.
    await cache.getToken(other);
    assert.equal(cache.peek(vault), undefined);
    assert.equal(cache.peek(other)?.accessToken, 't3');
    cache.clear();
    assert.equal(cache.peek(other), undefined);
    // Expired: due for refresh, so peek has nothing to hand out.
    await cache.getToken(arm);
    assert.ok(cache.peek(arm));
    clock.advance(3600 * 1000);
    assert.equal(cache.peek(arm), undefined);
  });
});

describe('upstream answers', () => {
  test("az's expiry: expires_on (epoch) first, else expiresOn in local time", () => {
    assert.equal(azExpiry({ expires_on: 1767312000, expiresOn: '2000-01-01 00:00:00.000000' }), 1767312000);
    assert.equal(azExpiry({ expires_on: '1767312000' }), 1767312000);
    const local = new Date(2026, 0, 2, 3, 4, 5).getTime() / 1000;
    assert.equal(azExpiry({ expiresOn: '2026-01-02 03:04:05.123456' }), local);
    assert.equal(azExpiry({ expiresOn: 'tomorrow' }), undefined);
  });

  test('times of a token come from its own exp and nbf; an opaque token gets the fallback lifetime', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 2000, nbf: 1000, appid: SP })).toString('base64url');
    const jwt = upstreamAccessToken({
      accessToken: `e30.${payload}.sig`,
      resource: 'r',
      identity,
      nowSeconds: 1500,
      expiresOn: 9999,
      fallbackLifetimeSeconds: 60,
    });
    assert.deepEqual(
      [jwt.expiresOn, jwt.notBefore, jwt.lifetimeSeconds, jwt.clientId],
      [2000, 1000, 500, SP],
    );
    const opaque = upstreamAccessToken({
      accessToken: 'opaque',
      resource: 'r',
      identity,
      nowSeconds: 1500,
      fallbackLifetimeSeconds: 60,
    });
    assert.deepEqual([opaque.expiresOn, opaque.clientId], [1560, identity.clientId]);
    assert.equal(unverifiedClaims('a.b'), undefined);
    assert.equal(unverifiedClaims('a.!!!.c'), undefined);
  });

  test('asks Entra for <resource>/.default', () => {
    assert.equal(scopeOf('https://vault.azure.net'), 'https://vault.azure.net/.default');
    assert.equal(scopeOf('https://management.azure.com/'), 'https://management.azure.com//.default');
  });

  test("Entra's errors become typed failures: unknown resource, refusal, outage, timeout", () => {
    const secrets = new SecretRegistry();
    const message = (description: string) =>
      `Error(s): 500011 - Timestamp: now - Description: ${description} - Correlation ID: c - Trace ID: t`;
    const invalid = entraFailure(
      new ServerError(
        'invalid_resource',
        'c',
        message('AADSTS500011: The resource principal named x was not found.'),
        '',
        '500011',
        400,
      ),
      { deadline: 0, timeoutMs: 1 },
      'sp',
      secrets,
    );
    assert.deepEqual(invalid, {
      code: 'invalid-resource',
      description: 'AADSTS500011: The resource principal named x was not found.',
      reason: 'rejected',
    });
    const refused = entraFailure(
      new ServerError(
        'invalid_client',
        'c',
        message('AADSTS7000215: Invalid client secret.'),
        '',
        '7000215',
        401,
      ),
      { deadline: 0, timeoutMs: 1 },
      'sp',
      secrets,
    );
    assert.deepEqual(
      [refused.code, refused.reason, refused.description],
      ['upstream', 'rejected', 'sp: invalid_client: AADSTS7000215: Invalid client secret.'],
    );
    const down = entraFailure(
      new ServerError('temporarily_unavailable', 'c', message('AADSTS90033: transient'), '', '90033', 503),
      { deadline: 0, timeoutMs: 1 },
      'sp',
      secrets,
    );
    assert.equal(down.reason, 'unavailable');
    const timeout = entraFailure(
      new Error('whatever msal says'),
      {
        deadline: 0,
        timeoutMs: 1,
        transportFailure: { message: 'no answer within the timeout of 1 ms', reason: 'timeout' },
      },
      'sp',
      secrets,
    );
    assert.deepEqual(
      [timeout.reason, timeout.description],
      ['timeout', 'sp: no answer within the timeout of 1 ms'],
    );
  });
});
