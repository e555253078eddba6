/**
 * The Entra directory (app registrations / service principals) and client-assertion verification,
 * without HTTP: ids, tenants, secrets (generated, persisted, expired), certificates by either
 * thumbprint, federated credentials against azimds's workload issuer and a configured issuer's JWKS.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { resolveConfig } from '../../src/config/load.js';
import { EmulatorClock } from '../../src/core/clock.js';
import { type AssertionContext, verifyClientAssertion } from '../../src/core/directory/assertions.js';
import { CLIENT_SECRETS_FILE } from '../../src/core/directory/client-secrets.js';
import { EntraDirectory } from '../../src/core/directory/directory.js';
import { MemoryKeyStore } from '../../src/core/tokens/key-store.js';
import { AzimdsError } from '../../src/errors.js';
import { type EmulatorOptions, libraryConfig } from '../../src/server/emulator.js';
import { certificateAssertion, clientCertificate } from '../support/entra.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function directory(options: EmulatorOptions = {}, clock = new EmulatorClock()): EntraDirectory {
  const config = libraryConfig({ identity: { tenantId: TENANT }, ...options });
  return new EntraDirectory(config, () => TENANT, new MemoryKeyStore(clock, 3600), clock);
}

function context(dir: EntraDirectory, now = Date.now()): AssertionContext {
  return {
    now,
    isTokenEndpoint: (aud) => aud === `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`,
    workloadIssuer: { url: dir.workloadIssuer.url, keys: () => dir.ownKeys() },
    issuerKeys: (issuer) => dir.issuerKeys(issuer),
  };
}

const TOKEN_ENDPOINT = `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`;

describe('zero config', () => {
  test('one app registration with stable generated ids, a generated secret and a federated credential', () => {
    const a = directory().servicePrincipals();
    const b = directory().servicePrincipals();
    assert.equal(a.length, 1);
    const [app] = a;
    assert.ok(app);
    assert.equal(app.displayName, 'azimds-app');
    assert.match(app.clientId, /^[0-9a-f-]{36}$/);
    assert.notEqual(app.clientId, app.principalId);
    assert.equal(app.clientId, b[0]?.clientId, 'same ids on every run');
    assert.equal(app.principalId, b[0]?.principalId);
    assert.equal(app.tenantId, TENANT);
    assert.equal(app.secrets.length, 1);
    assert.equal(app.secrets[0]?.generated, true);
    assert.match(app.secrets[0]?.value() ?? '', /^[A-Za-z0-9_.~-]{3}8Q~[A-Za-z0-9_.~-]{34}$/);
    assert.deepEqual(
      app.federatedCredentials.map((f) => [f.issuer, f.subject, f.audiences]),
      [[undefined, 'system:serviceaccount:default:default', ['api://AzureADTokenExchange']]],
    );
  });

  test('service principals are RBAC principals', () => {
    const dir = directory();
    const [app] = dir.servicePrincipals();
    assert.ok(app);
    assert.deepEqual(dir.principals(), [
      {
        principalId: app.principalId,
        principalType: 'ServicePrincipal',
        displayName: 'azimds-app',
        appId: app.clientId,
        tenantId: TENANT,
      },
    ]);
    assert.equal(dir.byPrincipalId(app.principalId.toUpperCase()), app);
    assert.equal(dir.byClientId(app.clientId.toUpperCase()), app);
    assert.equal(dir.byClientId('00000000-0000-0000-0000-000000000000'), undefined);
  });

  test('a generated secret persists in dataDir (owner-only) with the file key store', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'azimds-entra-'));
    dirs.push(dataDir);
    const options = { dataDir, tokens: { keys: { store: 'file' as const } } };
    const first = directory(options).servicePrincipals()[0]?.secrets[0]?.value();
    const again = directory(options).servicePrincipals()[0]?.secrets[0]?.value();
    assert.ok(first);
    assert.equal(again, first);
    assert.equal(statSync(join(dataDir, CLIENT_SECRETS_FILE)).mode & 0o777, 0o600);
  });
});

describe('tenants', () => {
  test('the tenant id, its domain, common and organizations resolve; others do not', () => {
    const dir = directory({ entra: { domain: 'Contoso.onmicrosoft.com' } });
    for (const segment of [
      TENANT,
      TENANT.toUpperCase(),
      'contoso.onmicrosoft.com',
      'common',
      'organizations',
    ]) {
      assert.equal(dir.resolveTenant(segment), TENANT, segment);
    }
    assert.equal(dir.resolveTenant('fabrikam.onmicrosoft.com'), undefined);
    assert.equal(dir.resolveTenant('00000000-0000-0000-0000-000000000000'), undefined);
    assert.equal(dir.resolveTenant('consumers'), undefined);
  });
});

describe('secrets', () => {
  test('inline, from the environment, expired', () => {
    process.env.AZIMDS_TEST_ENTRA_SECRET = 'from-env';
    const clock = new EmulatorClock();
    const dir = directory(
      {
        entra: {
          applications: [
            {
              displayName: 'ci',
              secrets: [
                { value: 'old', expiresOn: '2020-01-01T00:00:00Z' },
                { value: 'current' },
                { valueEnv: 'AZIMDS_TEST_ENTRA_SECRET' },
              ],
            },
          ],
        },
      },
      clock,
    );
    const [app] = dir.servicePrincipals();
    assert.ok(app);
    assert.equal(dir.checkSecret(app, 'current'), 'ok');
    assert.equal(dir.checkSecret(app, 'from-env'), 'ok');
    assert.equal(dir.checkSecret(app, 'old'), 'expired');
    assert.equal(dir.checkSecret(app, 'curren'), 'invalid');
    assert.equal(dir.checkSecret(app, ''), 'invalid');
  });

  test('config rejects two sources for one secret and duplicate apps', () => {
    assert.throws(
      () =>
        resolveConfig({
          entra: { applications: [{ displayName: 'a', secrets: [{ value: 'x', valueEnv: 'Y' }] }] },
        }),
      (e: unknown) => e instanceof AzimdsError && /at most one of value, valueEnv, valueFile/.test(e.message),
    );
    assert.throws(
      () => resolveConfig({ entra: { applications: [{ displayName: 'a' }, { displayName: 'A' }] } }),
      (e: unknown) => e instanceof AzimdsError && /entra\.applications\[1\]\.displayName/.test(e.message),
    );
  });
});

describe('certificate assertions', () => {
  const certificate = clientCertificate();
  const other = clientCertificate('someone-else');
  const dir = directory({
    entra: { applications: [{ displayName: 'cert-app', certificates: [{ pem: certificate.certPem }] }] },
  });
  const app = dir.servicePrincipals()[0];
  assert.ok(app);

  test('the certificate is known by both thumbprints', () => {
    assert.equal(app.certificates[0]?.thumbprint, certificate.thumbprint);
    assert.equal(app.certificates[0]?.x5t, certificate.x5t);
    assert.equal(app.certificates[0]?.x5tS256, certificate.x5tS256);
  });

  for (const alg of ['PS256', 'RS256'] as const) {
    test(`${alg} assertion verifies`, async () => {
      const assertion = await certificateAssertion({
        clientId: app.clientId,
        audience: TOKEN_ENDPOINT,
        certificate,
        alg,
      });
      const result = await verifyClientAssertion(assertion, app, context(dir));
      assert.deepEqual(result, { ok: true, kind: 'certificate', credential: certificate.thumbprint });
    });
  }

  const failures: Array<[string, () => Promise<string>, number, RegExp]> = [
    [
      'an unregistered certificate',
      () =>
        certificateAssertion({
          clientId: app.clientId,
          audience: TOKEN_ENDPOINT,
          certificate: other,
          alg: 'RS256',
        }),
      700027,
      new RegExp(`not registered on application.*Thumbprint of key used by client: '${other.thumbprint}'`),
    ],
    [
      'a signature by another key',
      () =>
        certificateAssertion({
          clientId: app.clientId,
          audience: TOKEN_ENDPOINT,
          certificate,
          signWith: other.privateKey,
        }),
      700027,
      /failed signature validation/,
    ],
    [
      'another audience',
      () =>
        certificateAssertion({ clientId: app.clientId, audience: 'https://example.com/token', certificate }),
      700023,
      /audience claim/,
    ],
    [
      'an expired assertion',
      () =>
        certificateAssertion({
          clientId: app.clientId,
          audience: TOKEN_ENDPOINT,
          certificate,
          now: Math.floor(Date.now() / 1000) - 3600,
        }),
      700024,
      /not within its valid time range\. Current time: \d{4}-\d\d-\d\dT[\d:.]+Z, assertion valid from/,
    ],
  ];
  for (const [name, make, code, text] of failures) {
    test(`${name}: AADSTS${code}`, async () => {
      const result = await verifyClientAssertion(await make(), app, context(dir));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.failure.code, code);
      assert.match(result.failure.message, text);
    });
  }

  test('not a JWT: AADSTS50027', async () => {
    const result = await verifyClientAssertion('not-a-jwt', app, context(dir));
    assert.equal(result.ok ? 0 : result.failure.code, 50027);
  });
});

describe('federated assertions', () => {
  const external = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const GITHUB = 'https://token.actions.githubusercontent.com';
  const SUBJECT = 'repo:octo/app:ref:refs/heads/main';
  let dir: EntraDirectory;
  let app: ReturnType<EntraDirectory['servicePrincipals']>[number];

  test('setup: an app trusting azimds and GitHub', async () => {
    const jwk = { ...(await exportJWK(external.publicKey)), kid: 'gh-1', alg: 'RS256', use: 'sig' };
    dir = directory({
      entra: {
        federatedIssuers: [{ issuer: GITHUB, jwks: { keys: [jwk] } }],
        applications: [
          {
            displayName: 'wi-app',
            federatedCredentials: [
              { subject: 'system:serviceaccount:default:default' },
              { issuer: GITHUB, subject: SUBJECT },
            ],
          },
        ],
      },
    });
    app = dir.servicePrincipals()[0] as typeof app;
    assert.ok(app);
  });

  const github = (claims: { sub?: string; aud?: string; exp?: number }) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'gh-1' })
      .setIssuer(GITHUB)
      .setSubject(claims.sub ?? SUBJECT)
      .setAudience(claims.aud ?? 'api://AzureADTokenExchange')
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(external.privateKey);

  test("azimds's workload issuer token for the trusted subject", async () => {
    const { token } = await dir.workloadIssuer.mint({ subject: 'system:serviceaccount:default:default' });
    assert.deepEqual(await verifyClientAssertion(token, app, context(dir)), {
      ok: true,
      kind: 'federated',
      credential: 'credential-0',
    });
  });

  test('a configured issuer verified with its JWKS', async () => {
    const result = await verifyClientAssertion(await github({}), app, context(dir));
    assert.deepEqual(result, { ok: true, kind: 'federated', credential: 'credential-1' });
  });

  const cases: Array<[string, () => Promise<string>, number]> = [
    ['another subject (AADSTS700213)', () => github({ sub: 'repo:octo/app:ref:refs/heads/MAIN' }), 700213],
    ['another audience (AADSTS700212)', () => github({ aud: 'api://other' }), 700212],
    ['expired (AADSTS700024)', () => github({ exp: Math.floor(Date.now() / 1000) - 10 }), 700024],
    [
      'an untrusted issuer (AADSTS700211)',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer('https://evil.example')
          .setSubject(SUBJECT)
          .setAudience('api://AzureADTokenExchange')
          .setExpirationTime('5m')
          .sign(external.privateKey),
      700211,
    ],
    [
      "a token claiming azimds's issuer signed by another key (AADSTS700027)",
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer(dir.workloadIssuer.url)
          .setSubject('system:serviceaccount:default:default')
          .setAudience('api://AzureADTokenExchange')
          .setExpirationTime('5m')
          .sign(external.privateKey),
      700027,
    ],
  ];
  for (const [name, make, code] of cases) {
    test(name, async () => {
      const result = await verifyClientAssertion(await make(), app, context(dir));
      assert.equal(result.ok ? 0 : result.failure.code, code);
    });
  }

  test('an app without federated credentials: AADSTS70021 naming issuer, subject, audience', async () => {
    const plain = directory({ entra: { applications: [{ displayName: 'plain' }] } });
    const principal = plain.servicePrincipals()[0];
    assert.ok(principal);
    const { token } = await plain.workloadIssuer.mint({ subject: 'system:serviceaccount:a:b' });
    const result = await verifyClientAssertion(token, principal, context(plain));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.failure.code, 70021);
    assert.match(
      result.failure.message,
      /Assertion Subject: 'system:serviceaccount:a:b'\. Assertion Audience: 'api:\/\/AzureADTokenExchange'/,
    );
  });
});
