/**
 * The Key Vault secrets data plane (reference arm-keyvault-entra.md §3, §6.3): the 401 challenge before
 * the body, the vault chosen by Host, every secret operation with Azure's shapes and errors, percent-
 * encoded query keys, paging, and the per-vault rule (RBAC data actions and access policies).
 */
import assert from 'node:assert/strict';
import { get as httpsGet } from 'node:https';
import { after, before, beforeEach, describe, test } from 'node:test';
import { connect } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { EmulatorState } from '../../src/core/state.js';
import { buildSurface, type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import {
  allowAll,
  catalogOf,
  kv,
  strangerIdentity,
  tokenFor,
  VAULT_AUDIENCE,
  vaultRecord,
  vmIdentity,
} from '../support/key-vault.js';

type App = FastifyInstance & { state: EmulatorState };
const HEX32 = /^[0-9a-f]{32}$/;
const V = 'api-version=7.4';

async function surface(options: Record<string, unknown> = {}): Promise<App> {
  return (await buildSurface('key-vault', { keyVault: { port: 0, ...options } })) as App;
}

describe('Key Vault challenge', () => {
  let app: App;
  let host: string;
  before(async () => {
    app = await surface();
    host = `${app.state.keyVaults.catalog.defaultVault()?.name}.vault.azure.net`;
  });
  after(() => app.close());

  test('answers a request without a token with 401, AKV10000 and the exact challenge naming the tenant', async () => {
    const res = await kv(app, 'GET', `/secrets/sample-secret?${V}`, { host });
    assert.equal(res.status, 401);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(
      res.body,
      '{"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}}',
    );
    assert.equal(
      res.headers['www-authenticate'],
      `Bearer authorization="https://login.microsoftonline.com/${app.state.identities.tenantId}", resource="https://vault.azure.net"`,
    );
  });

  test('answers an unauthenticated PUT with 401 whatever its body (no body validation first)', async () => {
    const res = await kv(app, 'PUT', `/secrets/x?${V}`, { host, body: '{not json' });
    assert.equal(res.status, 401);
    assert.equal(res.json().error && (res.json().error as { code: string }).code, 'Unauthorized');
  });

  test('rejects a token for another audience with 401 AKV10022 and the challenge', async () => {
    const token = await tokenFor(app.state, 'https://management.azure.com/');
    const res = await kv(app, 'GET', `/secrets/sample-secret?${V}`, { host, token });
    assert.equal(res.status, 401);
    assert.match(res.body, /AKV10022: Invalid audience/);
    assert.ok(res.headers['www-authenticate']?.startsWith('Bearer authorization='));
  });

  test('accepts the audience with a trailing slash', async () => {
    const token = await tokenFor(app.state, 'https://vault.azure.net/');
    const res = await kv(app, 'GET', `/secrets/sample-secret?${V}`, { host, token });
    assert.equal(res.status, 200);
  });

  test('rejects a token that is not a JWT signed by azimds', async () => {
    const res = await kv(app, 'GET', `/secrets/sample-secret?${V}`, { host, token: 'abc.def.ghi' });
    assert.equal(res.status, 401);
    assert.match(res.body, /Error validating token: 'S2S12086'/);
  });

  test('rejects an expired token (emulator clock)', async () => {
    const token = await tokenFor(app.state);
    app.state.clock.advance(25 * 3600_000);
    try {
      const res = await kv(app, 'GET', `/secrets/sample-secret?${V}`, { host, token });
      assert.equal(res.status, 401);
      assert.equal(
        res.body,
        '{"error":{"code":"Unauthorized","message":"[TokenExpired] Error validating token: \'S2S12086\'."}}',
      );
    } finally {
      app.state.clock.reset();
    }
  });

  test('authenticates paths it does not serve before answering 404', async () => {
    assert.equal((await kv(app, 'GET', `/keys/k?${V}`, { host })).status, 401);
    const token = await tokenFor(app.state);
    const res = await kv(app, 'GET', `/keys/k?${V}`, { host, token });
    assert.equal(res.status, 404);
    assert.equal((res.json().error as { code: string }).code, 'NotFound');
  });

  test("fault injection answers in Key Vault's error shape (429 Throttled with Retry-After)", async () => {
    app.state.faults.add({ surface: 'key-vault', status: 429, times: 1 });
    try {
      const res = await kv(app, 'GET', `/secrets?${V}`, { host });
      assert.equal(res.status, 429);
      assert.equal(res.headers['retry-after'], '1');
      assert.equal((res.json().error as { code: string }).code, 'Throttled');
    } finally {
      app.state.faults.clear();
    }
  });

  test('answers 404 VaultNotFound for a vault host that names no vault', async () => {
    const res = await kv(app, 'GET', `/secrets/x?${V}`, { host: 'nosuchvault.vault.azure.net' });
    assert.equal(res.status, 404);
    assert.equal((res.json().error as { code: string }).code, 'VaultNotFound');
  });
});

describe('Key Vault challenge before the body, on a real socket', () => {
  let azimds: EmulatorHandle;
  before(async () => {
    azimds = await startEmulator({ keyVault: { port: 0 } });
  });
  after(() => azimds.close());

  test('sends 401 to a PUT whose announced body never arrives', async () => {
    const url = new URL(azimds.urls['key-vault'] as string);
    const name = azimds.state.keyVaults.catalog.defaultVault()?.name;
    const head = await new Promise<string>((resolve, reject) => {
      const ca = azimds.state.localCa.certPem();
      const socket = connect({ port: Number(url.port), host: url.hostname, ca }, () => {
        socket.write(
          `PUT /secrets/s1?${V} HTTP/1.1\r\nHost: ${name}.vault.azure.net\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"va`,
        );
      });
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
        if (data.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on('error', reject);
    });
    assert.match(head, /^HTTP\/1\.1 401 /);
    assert.match(
      head,
      /www-authenticate: Bearer authorization="https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}", resource="https:\/\/vault\.azure\.net"/i,
    );
  });

  test('serves the sample secret to the VM identity over HTTPS (local CA) on the direct endpoint (127.0.0.1)', async () => {
    const token = await tokenFor(azimds.state);
    const url = `${azimds.urls['key-vault']}/secrets/sample-secret/?api%2Dversion=7.1`;
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\//);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      httpsGet(
        url,
        { ca: azimds.state.localCa.certPem(), headers: { authorization: `Bearer ${token}` } },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (d) => {
            body += d;
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      ).on('error', reject);
    });
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { value: string }).value, 'Hello from azimds Key Vault');
  });
});

describe('Key Vault hosts and challenge resources of the direct endpoint', () => {
  let app: App;
  before(async () => {
    app = await surface();
  });
  after(() => app.close());

  test('<vault>.vault.localhost:<port> gets resource https://vault.localhost:<port> (passes JS, Go, Python checks)', async () => {
    const name = app.state.keyVaults.catalog.defaultVault()?.name;
    const res = await kv(app, 'GET', `/secrets?${V}`, { host: `${name}.vault.localhost:8443` });
    assert.equal(res.status, 401);
    assert.match(res.headers['www-authenticate'] as string, /resource="https:\/\/vault\.localhost:8443"$/);
  });

  test('an IPv4 host serves the default vault with a resource whose host:port is a suffix of it', async () => {
    const res = await kv(app, 'GET', `/secrets?${V}`, { host: '127.0.0.1:8443' });
    assert.equal(res.status, 401);
    assert.match(res.headers['www-authenticate'] as string, /resource="https:\/\/0\.0\.1:8443"$/);
  });

  test('accepts a token whose audience is the challenge resource or the endpoint origin', async () => {
    for (const audience of ['https://0.0.1:8443', 'http://127.0.0.1:8443']) {
      const token = await tokenFor(app.state, audience);
      const res = await kv(app, 'GET', `/secrets/sample-secret?${V}`, { host: '127.0.0.1:8443', token });
      assert.equal(res.status, 200, audience);
      assert.match(
        (res.json() as { id: string }).id,
        /^http:\/\/127\.0\.0\.1:8443\/secrets\/sample-secret\/[0-9a-f]{32}$/,
      );
    }
  });
});

describe('Key Vault secrets data plane (Secrets Officer)', () => {
  let app: App;
  let host: string;
  let token: string;
  let origin: string;
  before(async () => {
    // An empty vault (no sample secret).
    app = await surface({ secrets: {} });
    app.state.keyVaults.useChecker(allowAll);
    const name = app.state.keyVaults.catalog.defaultVault()?.name as string;
    host = `${name}.vault.azure.net`;
    origin = `https://${host}`;
    token = await tokenFor(app.state);
  });
  beforeEach(() => app.state.keyVaults.reset());
  after(() => app.close());

  const call = (method: string, url: string, body?: unknown) =>
    kv(app, method, url, { host, token, ...(body === undefined ? {} : { body }) });

  test('set returns the SecretBundle: value, id with a new 32-hex version, attributes, tags, contentType', async () => {
    const now = Math.floor(app.state.clock.now() / 1000);
    const res = await call('PUT', `/secrets/db-password?${V}`, {
      value: 's3cret',
      contentType: 'text/plain',
      tags: { env: 'dev' },
    });
    assert.equal(res.status, 200);
    const body = res.json() as { id: string; attributes: Record<string, unknown> };
    assert.deepEqual(Object.keys(body), ['value', 'contentType', 'id', 'attributes', 'tags']);
    assert.equal((body as unknown as { value: string }).value, 's3cret');
    const version = body.id.split('/').pop() as string;
    assert.match(version, HEX32);
    assert.equal(body.id, `${origin}/secrets/db-password/${version}`);
    assert.equal(body.attributes.enabled, true);
    assert.ok(Math.abs((body.attributes.created as number) - now) <= 1);
    assert.equal(body.attributes.created, body.attributes.updated);
    assert.equal(body.attributes.recoveryLevel, 'Recoverable+Purgeable');
    assert.equal(body.attributes.recoverableDays, 90);
    assert.ok(res.headers['x-ms-request-id']);
  });

  test('each set is a new version; get latest (with and without slash) and by version', async () => {
    const first = (await call('PUT', `/secrets/s?${V}`, { value: 'one' })).json() as { id: string };
    const second = (await call('PUT', `/secrets/s?${V}`, { value: 'two' })).json() as { id: string };
    assert.notEqual(first.id, second.id);
    for (const path of [`/secrets/s?${V}`, `/secrets/s/?${V}`]) {
      assert.equal((await call('GET', path)).json().value, 'two');
    }
    const v1 = first.id.split('/').pop();
    assert.equal((await call('GET', `/secrets/s/${v1}?${V}`)).json().value, 'one');
  });

  test('accepts percent-encoded query keys and every api-version of 7.0-7.6 and 2025-07-01', async () => {
    await call('PUT', `/secrets/s?${V}`, { value: 'v' });
    for (const version of ['7.0', '7.1', '7.2', '7.3', '7.4', '7.5', '7.6', '2025-07-01', '7.6-preview.2']) {
      const res = await call('GET', `/secrets/s/?api%2Dversion=${version}`);
      assert.equal(res.status, 200, version);
    }
  });

  test('refuses a missing or malformed api-version with 400 BadParameter', async () => {
    for (const path of ['/secrets/s', '/secrets/s?api-version=banana']) {
      const res = await call('GET', path);
      assert.equal(res.status, 400, path);
      assert.equal((res.json().error as { code: string }).code, 'BadParameter');
    }
  });

  test('get of an unknown secret or version is 404 SecretNotFound in Azure words', async () => {
    const res = await call('GET', `/secrets/nope?${V}`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.json(), {
      error: {
        code: 'SecretNotFound',
        message:
          'A secret with (name/id) nope was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182',
      },
    });
    await call('PUT', `/secrets/s?${V}`, { value: 'v' });
    const v = await call('GET', `/secrets/s/0123456789abcdef0123456789abcdef?${V}`);
    assert.match(
      (v.json().error as { message: string }).message,
      /\(name\/id\) s\/0123456789abcdef0123456789abcdef was not found/,
    );
  });

  test('refuses an invalid secret name and a bad body with 400 BadParameter', async () => {
    assert.equal((await call('PUT', `/secrets/bad_name?${V}`, { value: 'v' })).status, 400);
    assert.equal((await call('PUT', `/secrets/ok?${V}`, '{oops')).status, 400);
    assert.equal((await call('PUT', `/secrets/ok?${V}`, { value: 42 })).status, 400);
    assert.equal(
      (await call('PUT', `/secrets/ok?${V}`, { value: 'v', attributes: { exp: 'soon' } })).status,
      400,
    );
  });

  test('a disabled version is refused with 403 Forbidden / SecretDisabled; its metadata still lists', async () => {
    const set = (
      await call('PUT', `/secrets/s?${V}`, { value: 'v', attributes: { enabled: false } })
    ).json() as {
      id: string;
    };
    const res = await call('GET', `/secrets/s?${V}`);
    assert.equal(res.status, 403);
    assert.equal(
      res.body,
      '{"error":{"code":"Forbidden","message":"Operation get is not allowed on a disabled secret.","innererror":{"code":"SecretDisabled"}}}',
    );
    const list = (await call('GET', `/secrets?${V}`)).json() as { value: Array<{ id: string }> };
    assert.deepEqual(
      list.value.map((i) => i.id),
      [`${origin}/secrets/s`],
    );
    assert.ok(set.id.startsWith(`${origin}/secrets/s/`));
  });

  test('expired and not-yet-valid secrets are served, as Azure serves them', async () => {
    const now = Math.floor(app.state.clock.now() / 1000);
    await call('PUT', `/secrets/old?${V}`, { value: 'v', attributes: { exp: now - 10 } });
    await call('PUT', `/secrets/future?${V}`, { value: 'v', attributes: { nbf: now + 3600 } });
    assert.equal((await call('GET', `/secrets/old?${V}`)).status, 200);
    const future = await call('GET', `/secrets/future?${V}`);
    assert.equal(future.status, 200);
    assert.equal((future.json().attributes as { nbf: number }).nbf, now + 3600);
  });

  test('update (PATCH) changes attributes, tags and content type and returns no value', async () => {
    const set = (await call('PUT', `/secrets/s?${V}`, { value: 'v' })).json() as { id: string };
    const version = set.id.split('/').pop();
    app.state.clock.advance(5000);
    try {
      const res = await call('PATCH', `/secrets/s/${version}?${V}`, {
        contentType: 'application/json',
        tags: { a: 'b' },
        attributes: { enabled: false, exp: 4102444800 },
      });
      assert.equal(res.status, 200);
      const body = res.json() as { attributes: Record<string, number | boolean>; value?: string };
      assert.equal(body.value, undefined);
      assert.equal(body.attributes.enabled, false);
      assert.equal(body.attributes.exp, 4102444800);
      assert.ok((body.attributes.updated as number) > (body.attributes.created as number));
      assert.deepEqual((body as unknown as { tags: unknown }).tags, { a: 'b' });
      assert.equal((await call('GET', `/secrets/s?${V}`)).status, 403);
      assert.equal((await call('PATCH', `/secrets/nope/${version}?${V}`, {})).status, 404);
    } finally {
      app.state.clock.reset();
    }
  });

  test('list pages with maxresults and a nextLink the client follows; list versions gives versioned ids', async () => {
    for (const n of ['a', 'b', 'c']) await call('PUT', `/secrets/${n}?${V}`, { value: n, tags: { n } });
    await call('PUT', `/secrets/a?${V}`, { value: 'a2' });
    const first = (await call('GET', `/secrets?${V}&maxresults=2`)).json() as {
      value: Array<{ id: string; attributes: unknown; tags?: unknown; value?: unknown }>;
      nextLink: string;
    };
    assert.deepEqual(
      first.value.map((i) => i.id),
      [`${origin}/secrets/a`, `${origin}/secrets/b`],
    );
    assert.equal(first.value[0]?.value, undefined);
    assert.ok(first.nextLink.startsWith(`${origin}/secrets?api-version=7.4&$skiptoken=`));
    const next = new URL(first.nextLink);
    const second = (await call('GET', `${next.pathname}${next.search}`)).json() as {
      value: Array<{ id: string }>;
      nextLink: string | null;
    };
    assert.deepEqual(
      second.value.map((i) => i.id),
      [`${origin}/secrets/c`],
    );
    assert.equal(second.nextLink, null);
    const versions = (await call('GET', `/secrets/a/versions?${V}`)).json() as {
      value: Array<{ id: string }>;
    };
    assert.equal(versions.value.length, 2);
    for (const item of versions.value)
      assert.match(item.id, new RegExp(`^${origin}/secrets/a/[0-9a-f]{32}$`));
    assert.equal((await call('GET', `/secrets?${V}&maxresults=26`)).status, 400);
  });

  test('delete is soft: DeletedSecretBundle, then 404 on get, 409 on set, listed and got as deleted', async () => {
    await call('PUT', `/secrets/s?${V}`, { value: 'v' });
    const now = Math.floor(app.state.clock.now() / 1000);
    const res = await call('DELETE', `/secrets/s?${V}`);
    assert.equal(res.status, 200);
    const body = res.json() as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).slice(0, 3), ['recoveryId', 'deletedDate', 'scheduledPurgeDate']);
    assert.equal(body.recoveryId, `${origin}/deletedsecrets/s`);
    assert.ok(Math.abs((body.deletedDate as number) - now) <= 1);
    assert.equal(body.scheduledPurgeDate, (body.deletedDate as number) + 90 * 86400);
    assert.equal(body.value, undefined);
    assert.equal((await call('GET', `/secrets/s?${V}`)).status, 404);
    const conflict = await call('PUT', `/secrets/s?${V}`, { value: 'again' });
    assert.equal(conflict.status, 409);
    assert.equal(
      conflict.body,
      '{"error":{"code":"Conflict","message":"Secret s is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.","innererror":{"code":"ObjectIsDeletedButRecoverable"}}}',
    );
    const got = (await call('GET', `/deletedsecrets/s?${V}`)).json();
    assert.equal(got.recoveryId, `${origin}/deletedsecrets/s`);
    const list = (await call('GET', `/deletedsecrets?${V}`)).json() as {
      value: Array<{ recoveryId: string }>;
    };
    assert.deepEqual(
      list.value.map((i) => i.recoveryId),
      [`${origin}/deletedsecrets/s`],
    );
    assert.equal((await call('DELETE', `/secrets/nope?${V}`)).status, 404);
  });

  test('recover brings every version back; purge removes for good with 204', async () => {
    await call('PUT', `/secrets/s?${V}`, { value: 'one' });
    await call('PUT', `/secrets/s?${V}`, { value: 'two' });
    await call('DELETE', `/secrets/s?${V}`);
    const recovered = await call('POST', `/deletedsecrets/s/recover?${V}`);
    assert.equal(recovered.status, 200);
    assert.equal(recovered.json().value, undefined);
    assert.equal((await call('GET', `/secrets/s?${V}`)).json().value, 'two');
    assert.equal(((await call('GET', `/secrets/s/versions?${V}`)).json().value as unknown[]).length, 2);
    await call('DELETE', `/secrets/s?${V}`);
    const purged = await call('DELETE', `/deletedsecrets/s?${V}`);
    assert.equal(purged.status, 204);
    assert.equal(purged.body, '');
    const gone = await call('GET', `/deletedsecrets/s?${V}`);
    assert.equal(gone.status, 404);
    assert.equal((gone.json().error as { code: string }).code, 'SecretNotFound');
    assert.equal((await call('POST', `/deletedsecrets/s/recover?${V}`)).status, 404);
    assert.equal((await call('PUT', `/secrets/s?${V}`, { value: 'fresh' })).status, 200);
  });

  test('a deleted secret is purged by itself at its scheduled purge date (emulator clock)', async () => {
    await call('PUT', `/secrets/s?${V}`, { value: 'v' });
    await call('DELETE', `/secrets/s?${V}`);
    app.state.clock.advance(91 * 86_400_000);
    try {
      const list = await kv(app, 'GET', `/deletedsecrets?${V}`, {
        host,
        token: await tokenFor(app.state),
      });
      assert.deepEqual(list.json().value, []);
    } finally {
      app.state.clock.reset();
    }
  });

  test('the request log records vault calls with path and caller, never a value or token', async () => {
    app.state.requestLog.clear();
    await call('PUT', `/secrets/logged?${V}`, { value: 'do-not-log-me' });
    const { entries } = app.state.requestLog.entries({ surface: 'key-vault' });
    const entry = entries.at(-1);
    assert.equal(entry?.path, '/secrets/logged');
    assert.equal(entry?.status, 200);
    assert.equal(entry?.identity, vmIdentity(app.state).clientId);
    const text = JSON.stringify(entries);
    assert.ok(!text.includes('do-not-log-me'));
    assert.ok(!text.includes(token));
  });
});

describe('Key Vault authorization per vault', () => {
  let app: App;
  before(async () => {
    app = await surface();
  });
  after(() => app.close());

  test('zero config: the VM identity reads the sample secret (Key Vault Secrets User) but cannot set', async () => {
    const vault = app.state.keyVaults.catalog.defaultVault();
    assert.ok(vault && /^kv-azimds-[0-9a-f]{8}$/.test(vault.name));
    const host = `${vault.name}.vault.azure.net`;
    const token = await tokenFor(app.state);
    const get = await kv(app, 'GET', `/secrets/sample-secret?api-version=7.1`, { host, token });
    assert.equal(get.status, 200);
    assert.equal(get.json().contentType, 'text/plain');
    assert.equal((await kv(app, 'GET', `/secrets?${V}`, { host, token })).status, 200);
    const set = await kv(app, 'PUT', `/secrets/new?${V}`, { host, token, body: { value: 'v' } });
    assert.equal(set.status, 403);
    const error = set.json().error as { code: string; message: string; innererror: { code: string } };
    assert.equal(error.code, 'Forbidden');
    assert.equal(error.innererror.code, 'ForbiddenByRbac');
    const me = vmIdentity(app.state);
    assert.equal(
      error.message,
      `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${me.clientId};oid=${me.principalId};iss=https://sts.windows.net/${me.tenantId}/\r\nAction: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'\r\nResource: '${vault.resourceId.toLowerCase()}/secrets/new'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: ${vault.name};location=${vault.location}\r\n`,
    );
  });

  test('an identity without a role assignment is refused reading (ForbiddenByRbac, getSecret)', async () => {
    const vault = app.state.keyVaults.catalog.defaultVault();
    const token = await tokenFor(app.state, VAULT_AUDIENCE, strangerIdentity(app.state));
    const res = await kv(app, 'GET', `/secrets/sample-secret?${V}`, {
      host: `${vault?.name}.vault.azure.net`,
      token,
    });
    assert.equal(res.status, 403);
    assert.match(res.body, /Microsoft\.KeyVault\/vaults\/secrets\/getSecret\/action/);
    assert.match(res.body, /ForbiddenByRbac/);
  });

  test('RBAC asks the checker for the data action on the secret scope, and the vault scope for lists', async () => {
    const asked: Array<{ scope: string; dataAction: string }> = [];
    app.state.keyVaults.useChecker({
      check: ({ scope, dataAction }) => {
        asked.push({ scope, dataAction });
        return { allowed: true };
      },
    });
    const vault = app.state.keyVaults.catalog.defaultVault() as { name: string; resourceId: string };
    const host = `${vault.name}.vault.azure.net`;
    const token = await tokenFor(app.state);
    const ops: Array<[string, string, unknown?]> = [
      ['PUT', `/secrets/r?${V}`, { value: 'v' }],
      ['GET', `/secrets/r?${V}`],
      ['GET', `/secrets?${V}`],
      ['PATCH', `/secrets/r?${V}`, { tags: {} }],
      ['DELETE', `/secrets/r?${V}`],
      ['POST', `/deletedsecrets/r/recover?${V}`],
      ['DELETE', `/secrets/r?${V}`],
      ['DELETE', `/deletedsecrets/r?${V}`],
    ];
    for (const [method, url, body] of ops) {
      const res = await kv(app, method, url, { host, token, ...(body === undefined ? {} : { body }) });
      assert.ok(res.status < 300, `${method} ${url}: ${res.status} ${res.body}`);
    }
    const prefix = 'Microsoft.KeyVault/vaults/secrets/';
    assert.deepEqual(
      asked.map((a) => [a.scope.replace(vault.resourceId, '<vault>'), a.dataAction.replace(prefix, '')]),
      [
        ['<vault>/secrets/r', 'setSecret/action'],
        ['<vault>/secrets/r', 'getSecret/action'],
        ['<vault>', 'readMetadata/action'],
        ['<vault>/secrets/r', 'update/action'],
        ['<vault>/secrets/r', 'delete'],
        ['<vault>/secrets/r', 'recover/action'],
        ['<vault>/secrets/r', 'delete'],
        ['<vault>/secrets/r', 'purge/action'],
      ],
    );
  });

  test('an access-policy vault grants the policy permissions of the caller object id and tenant only', async () => {
    const me = vmIdentity(app.state);
    const vault = vaultRecord(app.state, {
      name: 'arc-pilot-keyvault',
      enableRbacAuthorization: false,
      accessPolicies: [
        { tenantId: me.tenantId, objectId: me.principalId, permissions: { secrets: ['Get', 'List'] } },
      ],
    });
    app.state.keyVaults.useCatalog(catalogOf(vault));
    app.state.keyVaults.secrets(vault).set('psql-cmd', { value: 'psql -h db' });
    const host = 'arc-pilot-keyvault.vault.azure.net';
    const token = await tokenFor(app.state);
    const get = await kv(app, 'GET', `/secrets/psql-cmd/?api-version=7.1`, { host, token });
    assert.equal(get.status, 200);
    assert.equal(get.json().value, 'psql -h db');
    const set = await kv(app, 'PUT', `/secrets/psql-cmd?${V}`, { host, token, body: { value: 'x' } });
    assert.equal(set.status, 403);
    assert.deepEqual(set.json(), {
      error: {
        code: 'Forbidden',
        message: `The user, group or application 'appid=${me.clientId};oid=${me.principalId};iss=https://sts.windows.net/${me.tenantId}/' does not have secrets set permission on key vault 'arc-pilot-keyvault;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
        innererror: { code: 'ForbiddenByPolicy' },
      },
    });
    const stranger = await tokenFor(app.state, VAULT_AUDIENCE, strangerIdentity(app.state));
    const denied = await kv(app, 'GET', `/secrets/psql-cmd?${V}`, { host, token: stranger });
    assert.equal(denied.status, 403);
    assert.match(denied.body, /does not have secrets get permission/);
  });

  test('purge protection refuses purge with 403; soft delete off deletes at once', async () => {
    const protectedVault = vaultRecord(app.state, { name: 'kv-protected', enablePurgeProtection: true });
    const plain = vaultRecord(app.state, { name: 'kv-nosoftdelete', enableSoftDelete: false });
    app.state.keyVaults.useCatalog(catalogOf(protectedVault, plain));
    app.state.keyVaults.useChecker(allowAll);
    const token = await tokenFor(app.state);
    let host = 'kv-protected.vault.azure.net';
    const set = await kv(app, 'PUT', `/secrets/s?${V}`, { host, token, body: { value: 'v' } });
    assert.equal((set.json().attributes as { recoveryLevel: string }).recoveryLevel, 'Recoverable');
    await kv(app, 'DELETE', `/secrets/s?${V}`, { host, token });
    const purge = await kv(app, 'DELETE', `/deletedsecrets/s?${V}`, { host, token });
    assert.equal(purge.status, 403);
    assert.match(
      purge.body,
      /Operation \\"purge\\" is not allowed because purge protection is enabled for this vault/,
    );
    host = 'kv-nosoftdelete.vault.azure.net';
    const set2 = await kv(app, 'PUT', `/secrets/s?${V}`, { host, token, body: { value: 'v' } });
    assert.equal((set2.json().attributes as { recoveryLevel: string }).recoveryLevel, 'Purgeable');
    const del = await kv(app, 'DELETE', `/secrets/s?${V}`, { host, token });
    assert.equal(del.status, 200);
    assert.equal(del.json().recoveryId, undefined);
    assert.equal((await kv(app, 'GET', `/deletedsecrets/s?${V}`, { host, token })).status, 404);
  });

  test('a token of another tenant gets 401 and the challenge naming the vault tenant', async () => {
    const other = { ...strangerIdentity(app.state), tenantId: '11111111-2222-3333-4444-555555555555' };
    const vault = app.state.keyVaults.catalog.defaultVault() as { name: string; tenantId: string };
    const token = await tokenFor(app.state, VAULT_AUDIENCE, other);
    const res = await kv(app, 'GET', `/secrets?${V}`, { host: `${vault.name}.vault.azure.net`, token });
    assert.equal(res.status, 401);
    assert.match(res.headers['www-authenticate'] as string, new RegExp(vault.tenantId));
  });
});

describe('Key Vault config', () => {
  test('seeds secrets per vault from config (inline, valueEnv), with tags, contentType, enabled', async () => {
    process.env.AZIMDS_TEST_KV_SECRET = 'from-env';
    const probe = await surface();
    const name = probe.state.keyVaults.catalog.defaultVault()?.name as string;
    await probe.close();
    const app = await surface({
      secrets: {
        [name.toUpperCase()]: [
          { name: 'inline', value: 'v1', contentType: 'text/plain', tags: { t: '1' } },
          { name: 'env', valueEnv: 'AZIMDS_TEST_KV_SECRET' },
          { name: 'off', value: 'x', enabled: false },
        ],
      },
    });
    try {
      const host = `${name}.vault.azure.net`;
      const token = await tokenFor(app.state);
      const inline = (await kv(app, 'GET', `/secrets/inline?${V}`, { host, token })).json();
      assert.equal(inline.value, 'v1');
      assert.deepEqual(inline.tags, { t: '1' });
      assert.equal((await kv(app, 'GET', `/secrets/env?${V}`, { host, token })).json().value, 'from-env');
      assert.equal((await kv(app, 'GET', `/secrets/off?${V}`, { host, token })).status, 403);
      assert.equal((await kv(app, 'GET', `/secrets/sample-secret?${V}`, { host, token })).status, 404);
    } finally {
      delete process.env.AZIMDS_TEST_KV_SECRET;
      await app.close();
    }
  });

  test('enforceValidityPeriod refuses expired and not-yet-valid secrets with 403', async () => {
    const app = await surface({ enforceValidityPeriod: true });
    try {
      app.state.keyVaults.useChecker(allowAll);
      const host = `${app.state.keyVaults.catalog.defaultVault()?.name}.vault.azure.net`;
      const token = await tokenFor(app.state);
      const now = Math.floor(app.state.clock.now() / 1000);
      await kv(app, 'PUT', `/secrets/old?${V}`, {
        host,
        token,
        body: { value: 'v', attributes: { exp: now - 1 } },
      });
      await kv(app, 'PUT', `/secrets/new?${V}`, {
        host,
        token,
        body: { value: 'v', attributes: { nbf: now + 60 } },
      });
      const old = await kv(app, 'GET', `/secrets/old?${V}`, { host, token });
      assert.equal(old.status, 403);
      assert.match(old.body, /SecretExpired/);
      assert.match((await kv(app, 'GET', `/secrets/new?${V}`, { host, token })).body, /SecretNotYetValid/);
    } finally {
      await app.close();
    }
  });
});
