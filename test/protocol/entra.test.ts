/**
 * Entra's endpoints on the IMDS listener and on the `entra` surface, with inject(): instance discovery,
 * discovery by tenant id / domain / common, the v1 and v2 client-credentials token endpoints with every
 * credential type and every error path (AADSTS codes, Entra's error body), the workload issuer, and
 * the tokens' claims verified through the served discovery + JWKS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import type { ServicePrincipal } from '../../src/core/directory/service-principal.js';
import { entraListenerSpec } from '../../src/protocols/entra/listener.js';
import { buildSurface } from '../../src/server/emulator.js';
import { buildListenerApp } from '../../src/server/listener.js';
import { createLogger } from '../../src/server/logger.js';
import { certificateAssertion, clientCertificate, form, JWT_BEARER } from '../support/entra.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const ARM = 'https://management.azure.com/.default';
const certificate = clientCertificate();

type Surface = Awaited<ReturnType<typeof buildSurface>>;
let imds: Surface;
let app: ServicePrincipal;
let secret: string;
let certApp: ServicePrincipal;

before(async () => {
  imds = await buildSurface('imds', {
    identity: { tenantId: TENANT },
    entra: {
      domain: 'contoso.onmicrosoft.com',
      v2Resources: ['api://my-v2-api'],
      applications: [
        {
          displayName: 'azimds-app',
          secrets: [{}, { value: 'expired-secret', expiresOn: '2021-01-01T00:00:00Z' }],
          federatedCredentials: [{ subject: 'system:serviceaccount:default:default' }],
        },
        { displayName: 'cert-app', certificates: [{ pem: certificate.certPem }] },
      ],
    },
  });
  [app, certApp] = imds.state.directory.servicePrincipals() as [ServicePrincipal, ServicePrincipal];
  secret = app.secrets[0]?.value() as string;
});
after(() => imds.close());

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function post(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await imds.inject({
    method: 'POST',
    url,
    headers: { ...FORM, ...headers },
    payload: form(fields),
  });
  return { status: res.statusCode, headers: res.headers, body: res.json() as Record<string, unknown> };
}

const v2 = (tenant = TENANT) => `/${tenant}/oauth2/v2.0/token`;
const v1 = (tenant = TENANT) => `/${tenant}/oauth2/token`;

/** A v2 client-credentials request for ARM with a client assertion. */
const withAssertion = (clientId: string, assertion: string) =>
  post(v2(), {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    scope: ARM,
  });

/** Verifies a token through the served v2 discovery document and JWKS, like a resource server. */
async function verify(token: string, audience: string) {
  const discovery = (await imds.inject({ url: `/${TENANT}/v2.0/.well-known/openid-configuration` })).json();
  const path = new URL(discovery.jwks_uri as string).pathname;
  const jwks = createLocalJWKSet((await imds.inject({ url: path })).json());
  const claims = decodeJwt(token);
  const { payload } = await jwtVerify(token, jwks, { audience, issuer: claims.iss as string });
  return payload;
}

function assertEntraError(
  res: { status: number; headers: Record<string, unknown>; body: Record<string, unknown> },
  status: number,
  error: string,
  code: number,
  text?: RegExp,
) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error, error);
  assert.deepEqual(res.body.error_codes, [code]);
  const description = res.body.error_description as string;
  assert.match(
    description,
    new RegExp(
      `^AADSTS${code}: .+ Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
    ),
  );
  if (text) assert.match(description, text);
  assert.match(res.body.timestamp as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.equal(res.body.trace_id, description.match(/Trace ID: ([0-9a-f-]+)/)?.[1]);
  assert.equal(res.body.correlation_id, description.match(/Correlation ID: ([0-9a-f-]+)/)?.[1]);
  assert.equal(res.body.error_uri, `https://login.microsoftonline.com/error?code=${code}`);
  assert.equal(res.headers['cache-control'], 'no-store, no-cache');
}

describe('instance discovery', () => {
  test('the public cloud answer, plus the asked custom host', async () => {
    const endpoint = `https://127.0.0.1:8443/${TENANT}/oauth2/v2.0/authorize`;
    const res = await imds.inject({
      url: `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(endpoint)}`,
    });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body['api-version'], '1.1');
    assert.equal(
      body.tenant_discovery_endpoint,
      `https://127.0.0.1:8443/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    assert.deepEqual(body.metadata[0], {
      preferred_network: 'login.microsoftonline.com',
      preferred_cache: 'login.windows.net',
      aliases: ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'],
    });
    assert.deepEqual(body.metadata.at(-1), {
      preferred_network: '127.0.0.1:8443',
      preferred_cache: '127.0.0.1:8443',
      aliases: ['127.0.0.1:8443'],
    });
  });

  test('for login.microsoftonline.com: no extra entry', async () => {
    const endpoint = `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/authorize`;
    const body = (
      await imds.inject({
        url: `/common/discovery/instance?authorization_endpoint=${encodeURIComponent(endpoint)}`,
      })
    ).json();
    assert.equal(
      body.tenant_discovery_endpoint,
      `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`,
    );
    assert.ok(body.metadata.every((m: { aliases: string[] }) => !m.aliases.includes('127.0.0.1:8443')));
    assert.equal(body.metadata.length, 5);
  });
});

describe('discovery', () => {
  for (const tenant of [TENANT, 'contoso.onmicrosoft.com', 'Contoso.OnMicrosoft.com']) {
    test(`v1 and v2 by ${tenant}: endpoints name the tenant id`, async () => {
      const d2 = (await imds.inject({ url: `/${tenant}/v2.0/.well-known/openid-configuration` })).json();
      assert.equal(d2.issuer, `https://login.microsoftonline.com/${TENANT}/v2.0`);
      assert.match(d2.token_endpoint, new RegExp(`/${TENANT}/oauth2/v2\\.0/token$`));
      const d1 = (await imds.inject({ url: `/${tenant}/.well-known/openid-configuration` })).json();
      assert.equal(d1.issuer, `https://sts.windows.net/${TENANT}/`);
      assert.match(d1.token_endpoint, new RegExp(`/${TENANT}/oauth2/token$`));
    });
  }
  test('organizations and common keep the {tenantid} placeholder', async () => {
    for (const tenant of ['organizations', 'common']) {
      const d2 = (await imds.inject({ url: `/${tenant}/v2.0/.well-known/openid-configuration` })).json();
      assert.equal(d2.issuer, 'https://login.microsoftonline.com/{tenantid}/v2.0');
    }
  });
  test('another domain: AADSTS90002', async () => {
    const res = await imds.inject({ url: '/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration' });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error_description, /^AADSTS90002: Tenant 'fabrikam\.onmicrosoft\.com' not found/);
  });
});

describe('client secret', () => {
  test('v2, form post: a v1.0 token for ARM shaped as Entra issues to a service principal', async () => {
    const res = await post(
      v2(),
      { grant_type: 'client_credentials', client_id: app.clientId, client_secret: secret, scope: ARM },
      { 'client-request-id': '11111111-2222-3333-4444-555555555555' },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body), ['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.expires_in, 3599);
    assert.equal(res.headers['client-request-id'], '11111111-2222-3333-4444-555555555555');
    assert.equal(res.headers['cache-control'], 'no-store, no-cache');
    const claims = await verify(res.body.access_token as string, 'https://management.azure.com');
    assert.equal(claims.iss, `https://sts.windows.net/${TENANT}/`);
    assert.equal(claims.ver, '1.0');
    assert.equal(claims.appid, app.clientId);
    assert.equal(claims.appidacr, '1');
    assert.equal(claims.oid, app.principalId);
    assert.equal(claims.sub, app.principalId);
    assert.equal(claims.tid, TENANT);
    assert.equal(claims.idtyp, 'app');
    assert.equal(claims.roles, undefined);
    assert.equal(claims.xms_mirid, undefined);
    assert.equal((claims.exp as number) - (claims.iat as number), 3599 + 300);
  });

  test('v2 with HTTP Basic (client_secret_basic), tenant by domain, /.default of a trailing-slash resource', async () => {
    const basic = Buffer.from(`${encodeURIComponent(app.clientId)}:${encodeURIComponent(secret)}`).toString(
      'base64',
    );
    const res = await post(
      v2('contoso.onmicrosoft.com'),
      { grant_type: 'client_credentials', scope: 'https://management.core.windows.net//.default' },
      { authorization: `Basic ${basic}` },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(decodeJwt(res.body.access_token as string).aud, 'https://management.core.windows.net/');
  });

  test('v1 with resource=: string fields, expires_on, resource echoed', async () => {
    const res = await post(v1(), {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: secret,
      resource: 'https://vault.azure.net',
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.expires_in, '3599');
    assert.equal(res.body.resource, 'https://vault.azure.net');
    assert.match(res.body.expires_on as string, /^\d+$/);
    assert.match(res.body.not_before as string, /^\d+$/);
    assert.equal(decodeJwt(res.body.access_token as string).aud, 'https://vault.azure.net');
  });

  test('a resource configured as v2: the v2.0 issuer and azp', async () => {
    const res = await post(v2('organizations'), {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: secret,
      scope: 'api://my-v2-api/.default',
    });
    const claims = await verify(res.body.access_token as string, 'api://my-v2-api');
    assert.equal(claims.iss, `https://login.microsoftonline.com/${TENANT}/v2.0`);
    assert.equal(claims.ver, '2.0');
    assert.equal(claims.azp, app.clientId);
    assert.equal(claims.azpacr, '1');
    assert.equal(claims.appid, undefined);
  });

  test('a wrong secret: 401 AADSTS7000215', async () => {
    const res = await post(v2(), {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: `${secret}x`,
      scope: ARM,
    });
    assertEntraError(
      res,
      401,
      'invalid_client',
      7000215,
      new RegExp(`secret added to app '${app.clientId}'`),
    );
  });

  test('an expired secret: 401 AADSTS7000222', async () => {
    const res = await post(v2(), {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: 'expired-secret',
      scope: ARM,
    });
    assertEntraError(res, 401, 'invalid_client', 7000222);
  });
});

describe('request errors', () => {
  const base = () => ({
    grant_type: 'client_credentials',
    client_id: app.clientId,
    client_secret: secret,
    scope: ARM,
  });
  const without = (key: string) => Object.fromEntries(Object.entries(base()).filter(([k]) => k !== key));

  test('no grant_type: AADSTS900144', async () => {
    assertEntraError(await post(v2(), without('grant_type')), 400, 'invalid_request', 900144, /'grant_type'/);
  });
  test('another grant type: AADSTS70003', async () => {
    assertEntraError(
      await post(v2(), { ...base(), grant_type: 'password' }),
      400,
      'unsupported_grant_type',
      70003,
      /'password'/,
    );
  });
  test('no client_id: AADSTS900144', async () => {
    assertEntraError(await post(v2(), without('client_id')), 400, 'invalid_request', 900144, /'client_id'/);
  });
  test('no scope (v2): AADSTS900144', async () => {
    assertEntraError(await post(v2(), without('scope')), 400, 'invalid_request', 900144, /'scope'/);
  });
  test('no resource (v1): AADSTS900144', async () => {
    assertEntraError(await post(v1(), without('scope')), 400, 'invalid_request', 900144, /'resource'/);
  });
  test('a scope without /.default: AADSTS1002012', async () => {
    assertEntraError(
      await post(v2(), { ...base(), scope: 'https://management.azure.com/user_impersonation' }),
      400,
      'invalid_scope',
      1002012,
    );
  });
  test('an unknown application: AADSTS700016', async () => {
    const res = await post(v2(), { ...base(), client_id: '00000000-1111-2222-3333-444444444444' });
    assertEntraError(
      res,
      400,
      'unauthorized_client',
      700016,
      /identifier '00000000-1111-2222-3333-444444444444' was not found in the directory/,
    );
  });
  test('no credential: 401 AADSTS7000218', async () => {
    assertEntraError(await post(v2(), without('client_secret')), 401, 'invalid_client', 7000218);
  });
  test('an unknown tenant: AADSTS90002', async () => {
    assertEntraError(await post(v2('fabrikam.onmicrosoft.com'), base()), 400, 'invalid_tenant', 90002);
  });
  test('a resource that is no URI: AADSTS500011', async () => {
    assertEntraError(
      await post(v2(), { ...base(), scope: 'not a resource/.default' }),
      400,
      'invalid_scope',
      1002012,
    );
    assertEntraError(
      await post(v1(), { ...without('scope'), resource: 'nonsense' }),
      400,
      'invalid_resource',
      500011,
      /resource principal named nonsense/,
    );
  });
  test('GET: AADSTS900561', async () => {
    const res = await imds.inject({ url: v2() });
    assertEntraError(
      { status: res.statusCode, headers: res.headers, body: res.json() },
      400,
      'invalid_request',
      900561,
      /Received a GET request/,
    );
  });
  test('a wrong client_assertion_type', async () => {
    const res = await post(v2(), {
      ...without('client_secret'),
      client_assertion: 'x.y.z',
      client_assertion_type: 'jwt',
    });
    assertEntraError(res, 400, 'invalid_request', 700022);
  });
});

describe('certificate assertion', () => {
  const ENDPOINT = `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`;
  for (const alg of ['PS256', 'RS256'] as const) {
    test(`${alg}: a token with appidacr 2`, async () => {
      const assertion = await certificateAssertion({
        clientId: certApp.clientId,
        audience: ENDPOINT,
        certificate,
        alg,
      });
      const res = await withAssertion(certApp.clientId, assertion);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const claims = decodeJwt(res.body.access_token as string);
      assert.equal(claims.appidacr, '2');
      assert.equal(claims.oid, certApp.principalId);
    });
  }
  test("aud = the listener's own token endpoint is accepted too", async () => {
    const discovery = (await imds.inject({ url: `/${TENANT}/v2.0/.well-known/openid-configuration` })).json();
    const assertion = await certificateAssertion({
      clientId: certApp.clientId,
      audience: discovery.token_endpoint,
      certificate,
    });
    const res = await withAssertion(certApp.clientId, assertion);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
  test('an unregistered certificate: 401 AADSTS700027', async () => {
    const assertion = await certificateAssertion({
      clientId: certApp.clientId,
      audience: ENDPOINT,
      certificate: clientCertificate('other'),
    });
    const res = await withAssertion(certApp.clientId, assertion);
    assertEntraError(res, 401, 'invalid_client', 700027);
  });
  test('an expired assertion: AADSTS700024', async () => {
    const assertion = await certificateAssertion({
      clientId: certApp.clientId,
      audience: ENDPOINT,
      certificate,
      now: Math.floor(Date.now() / 1000) - 7200,
    });
    const res = await withAssertion(certApp.clientId, assertion);
    assertEntraError(res, 400, 'invalid_client', 700024);
  });
  test('a malformed assertion: AADSTS50027', async () => {
    const res = await withAssertion(certApp.clientId, 'garbage');
    assertEntraError(res, 400, 'invalid_request', 50027);
  });
});

describe('workload identity', () => {
  test("the workload issuer's discovery and JWKS verify its tokens", async () => {
    const discovery = (
      await imds.inject({ url: '/workload-identity/.well-known/openid-configuration' })
    ).json();
    assert.equal(discovery.issuer, imds.state.directory.workloadIssuer.url);
    const jwks = createLocalJWKSet((await imds.inject({ url: new URL(discovery.jwks_uri).pathname })).json());
    const { token } = await imds.state.directory.workloadIssuer.mint({
      subject: 'system:serviceaccount:ns:sa',
    });
    const { payload } = await jwtVerify(token, jwks, {
      issuer: discovery.issuer,
      audience: 'api://AzureADTokenExchange',
    });
    assert.equal(payload.sub, 'system:serviceaccount:ns:sa');
    assert.deepEqual((payload['kubernetes.io'] as { namespace: string }).namespace, 'ns');
  });

  test('a federated assertion for the trusted subject gets a token', async () => {
    const { token } = await imds.state.directory.workloadIssuer.mint({
      subject: 'system:serviceaccount:default:default',
    });
    const res = await withAssertion(app.clientId, token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(decodeJwt(res.body.access_token as string).oid, app.principalId);
  });

  test('another subject: AADSTS700213', async () => {
    const { token } = await imds.state.directory.workloadIssuer.mint({
      subject: 'system:serviceaccount:default:other',
    });
    const res = await withAssertion(app.clientId, token);
    assertEntraError(res, 400, 'invalid_client', 700213, /subject 'system:serviceaccount:default:other'/);
  });

  test('another audience: AADSTS700212', async () => {
    const { token } = await imds.state.directory.workloadIssuer.mint({
      subject: 'system:serviceaccount:default:default',
      audience: 'api://x',
    });
    const res = await withAssertion(app.clientId, token);
    assertEntraError(res, 400, 'invalid_client', 700212);
  });

  test('an app without federated credentials: AADSTS70021', async () => {
    const { token } = await imds.state.directory.workloadIssuer.mint({
      subject: 'system:serviceaccount:default:default',
    });
    const res = await withAssertion(certApp.clientId, token);
    assertEntraError(res, 400, 'invalid_request', 70021);
  });
});

describe('the entra surface (proxy hosts)', () => {
  test('documents follow the Entra host asked for; unknown paths get 404', async () => {
    const surface = await buildListenerApp(entraListenerSpec(imds.state), createLogger('silent'));
    try {
      const res = await surface.inject({
        url: `/${TENANT}/v2.0/.well-known/openid-configuration`,
        headers: { host: 'login.microsoftonline.com' },
      });
      const body = res.json();
      assert.equal(body.token_endpoint, `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`);
      assert.equal(body.jwks_uri, `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`);
      assert.equal(body.issuer, `https://login.microsoftonline.com/${TENANT}/v2.0`);
      const w = (
        await surface.inject({
          url: `/${TENANT}/.well-known/openid-configuration`,
          headers: { host: 'login.windows.net' },
        })
      ).json();
      assert.equal(w.token_endpoint, `https://login.windows.net/${TENANT}/oauth2/token`);
      const token = await surface.inject({
        method: 'POST',
        url: v2(),
        headers: { ...FORM, host: 'login.microsoftonline.com' },
        payload: form({
          grant_type: 'client_credentials',
          client_id: app.clientId,
          client_secret: secret,
          scope: ARM,
        }),
      });
      assert.equal(token.statusCode, 200);
      assert.equal((await surface.inject({ url: '/nope' })).statusCode, 404);
    } finally {
      await surface.close();
    }
  });
});
