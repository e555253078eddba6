/**
 * Azure Arc's HIMDS (protocols.md §7.3): the challenge handshake (401 + `WWW-Authenticate: Basic
 * realm=<file>.key`, an owner-only single-use secret file, the retry with `Authorization: Basic`),
 * every way a secret is turned away (missing, wrong, reused, expired, malformed), the checks that come
 * before any challenge, user-assigned selection with the identity echoed, the older agent that ignores
 * selectors, instance metadata as an Arc machine serves it, and the start-up check of the directory.
 * Challenge files go to a temporary directory here (test/clients/arc.test.ts uses the agent's own).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { arcTokenDir } from '../../src/core/platforms/arc-challenges.js';
import { AzimdsError } from '../../src/errors.js';
import { type EmulatorOptions, startEmulator } from '../../src/server/emulator.js';
import { IMDS_TOKEN_FIELDS, METADATA } from '../support/imds.js';
import { openPlatform, type PlatformTransport, TRANSPORTS } from '../support/platform.js';
import { claimsOf } from '../support/token-sources.js';

const ARM = 'https://management.azure.com/';
const TOKEN = '/metadata/identity/oauth2/token';
const root = mkdtempSync(join(tmpdir(), 'azimds-arc-'));
let dirs = 0;

/** Emulator options with Arc on and challenge files in a fresh directory (`dir`). */
function arcSetup(extra: Record<string, unknown> = {}): { dir: string; options: EmulatorOptions } {
  const dir = join(root, `tokens-${++dirs}`);
  return {
    dir,
    options: {
      identity: { userAssigned: [{ name: 'id-app' }, { name: 'id-deploy' }] },
      platforms: { arc: { enabled: true, tokenDir: dir, ...extra } },
    },
  };
}

function tokenPath(params: Record<string, string> = {}, version = '2020-06-01'): string {
  return `${TOKEN}?${new URLSearchParams({ 'api-version': version, resource: ARM, ...params })}`;
}

function realmOf(header: string | undefined): string {
  const match = /^Basic realm=(.+)$/.exec(header ?? '');
  assert.ok(match, `WWW-Authenticate: ${header}`);
  return match[1] as string;
}

after(() => rmSync(root, { recursive: true, force: true }));

for (const kind of TRANSPORTS) {
  describe(`Arc HIMDS token handshake (${kind})`, () => {
    let arc: PlatformTransport;
    let dir: string;

    before(async () => {
      const setup = arcSetup();
      dir = setup.dir;
      arc = await openPlatform(kind, 'arc', setup.options);
    });
    after(() => arc.close());

    /** The first leg: a 401 challenge; returns the file's path and the secret in it. */
    async function challenge(params: Record<string, string> = {}) {
      const res = await arc.request('GET', tokenPath(params), METADATA);
      assert.equal(res.status, 401, res.body);
      const path = realmOf(res.headers['www-authenticate']);
      return { res, path, secret: readFileSync(path, 'utf8') };
    }

    test('answers the first request with 401 and WWW-Authenticate: Basic realm=<dir>/<uuid>.key', async () => {
      const { res, path, secret } = await challenge();
      assert.match(path, new RegExp(`^${dir}/[0-9a-f-]{36}\\.key$`));
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(JSON.parse(res.body).error, 'unauthorized_client');
      assert.ok(secret.length > 0 && secret.length <= 4096, 'the SDKs read at most 4096 bytes');
      if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600, 'owner-only file');
    });

    test('gives the token to the retry with Authorization: Basic <file contents>, IMDS-shaped', async () => {
      const { path, secret } = await challenge();
      const res = await arc.json('GET', tokenPath(), { ...METADATA, Authorization: `Basic ${secret}` });
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(Object.keys(res.json), IMDS_TOKEN_FIELDS);
      for (const [key, value] of Object.entries(res.json)) assert.equal(typeof value, 'string', key);
      assert.equal(res.json.resource, ARM);
      assert.equal(res.json.token_type, 'Bearer');
      assert.ok(Number(res.json.expires_in) > 0);
      const system = arc.state.identities.current.systemAssigned;
      assert.equal(res.json.client_id, system?.clientId);
      const claims = claimsOf(res.json.access_token);
      assert.equal(claims.aud, ARM);
      assert.equal(claims.oid, system?.principalId);
      assert.equal(claims.exp, Number(res.json.expires_on));
      assert.equal(existsSync(path), false, 'the redeemed secret file is deleted');
    });

    test('turns a reused secret away with 401 and a new challenge', async () => {
      const { secret } = await challenge();
      const auth = { ...METADATA, Authorization: `Basic ${secret}` };
      assert.equal((await arc.request('GET', tokenPath(), auth)).status, 200);
      const again = await arc.request('GET', tokenPath(), auth);
      assert.equal(again.status, 401);
      assert.match(JSON.parse(again.body).error_description, /unknown, already used or expired/);
      assert.ok(existsSync(realmOf(again.headers['www-authenticate'])), 'a new file to read');
    });

    test('turns a wrong secret away with 401 and a new challenge', async () => {
      const res = await arc.request('GET', tokenPath(), {
        ...METADATA,
        Authorization: `Basic ${'0'.repeat(64)}`,
      });
      assert.equal(res.status, 401);
      assert.match(JSON.parse(res.body).error_description, /unknown, already used or expired/);
      assert.ok(realmOf(res.headers['www-authenticate']));
    });

    test('turns an Authorization header that is not Basic away with 401', async () => {
      const { secret } = await challenge();
      const res = await arc.request('GET', tokenPath(), { ...METADATA, Authorization: `Bearer ${secret}` });
      assert.equal(res.status, 401);
      assert.ok(realmOf(res.headers['www-authenticate']));
    });

    test('turns an expired secret away and deletes its file (secrets live 60 s on the emulator clock)', async () => {
      const { path, secret } = await challenge();
      arc.state.clock.advance(61_000);
      try {
        const res = await arc.request('GET', tokenPath(), { ...METADATA, Authorization: `Basic ${secret}` });
        assert.equal(res.status, 401);
        assert.equal(existsSync(path), false, 'the expired file is gone');
      } finally {
        arc.state.clock.reset();
      }
    });

    test('answers the SDK probe (no query, no Metadata header) at once with 400', async () => {
      const res = await arc.request('GET', TOKEN);
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body), {
        error: 'invalid_request',
        error_description: 'Required metadata header not specified',
      });
    });

    test('checks api-version and resource before any challenge, writing no file', async () => {
      const before = readdirSync(dir).length;
      const noVersion = await arc.request('GET', `${TOKEN}?resource=${encodeURIComponent(ARM)}`, METADATA);
      assert.equal(noVersion.status, 400);
      assert.equal(JSON.parse(noVersion.body).error_description, "Invalid 'api-version' requested");
      const tooOld = await arc.request('GET', tokenPath({}, '2018-02-01'), METADATA);
      assert.equal(tooOld.status, 400);
      const noResource = await arc.request('GET', `${TOKEN}?api-version=2020-06-01`, METADATA);
      assert.equal(noResource.status, 400);
      assert.equal(
        JSON.parse(noResource.body).error_description,
        'Required audience parameter not specified',
      );
      assert.equal(readdirSync(dir).length, before);
    });

    test('takes the api-versions the SDKs send (2019-08-15, 2019-11-01, 2020-06-01)', async () => {
      for (const version of ['2019-08-15', '2019-11-01', '2020-06-01']) {
        assert.equal((await arc.request('GET', tokenPath({}, version), METADATA)).status, 401, version);
      }
    });

    test('selects a user-assigned identity by client_id, object_id or msi_res_id and echoes it', async () => {
      const target = arc.state.identities.current.userAssigned[1];
      assert.ok(target);
      for (const params of <Record<string, string>[]>[
        { client_id: target.clientId },
        { object_id: target.principalId },
        { msi_res_id: target.resourceId },
      ]) {
        const { secret } = await challenge(params);
        const res = await arc.json('GET', tokenPath(params), {
          ...METADATA,
          Authorization: `Basic ${secret}`,
        });
        assert.equal(res.status, 200, res.body);
        assert.equal(res.json.client_id, target.clientId);
        assert.equal(res.json.object_id, target.principalId);
        assert.equal(res.json.msi_res_id, target.resourceId);
        assert.equal(claimsOf(res.json.access_token).xms_mirid, target.resourceId);
      }
    });

    test("refuses a selector it does not take (mi_res_id, clientid): no other identity's token", async () => {
      const target = arc.state.identities.current.userAssigned[0];
      assert.ok(target);
      for (const params of <Record<string, string>[]>[
        { mi_res_id: target.resourceId },
        { clientid: target.clientId },
      ]) {
        const res = await arc.request('GET', tokenPath(params), METADATA);
        assert.equal(res.status, 404);
        assert.equal(JSON.parse(res.body).error_description, 'Identity not found');
        assert.equal(res.headers['www-authenticate'], undefined);
      }
    });

    test('answers 404 before any challenge for an identity the machine does not have', async () => {
      const before = readdirSync(dir).length;
      for (const params of <Record<string, string>[]>[
        { client_id: '00000000-0000-4000-8000-000000000000' },
        // The machine's own identity is asked for without a selector, not by its client id.
        { client_id: arc.state.identities.current.systemAssigned?.clientId ?? '' },
      ]) {
        const res = await arc.request('GET', tokenPath(params), METADATA);
        assert.equal(res.status, 404);
        assert.deepEqual(JSON.parse(res.body), {
          error: 'invalid_request',
          error_description: 'Identity not found',
        });
        assert.equal(res.headers['www-authenticate'], undefined);
      }
      assert.equal(readdirSync(dir).length, before);
    });

    test('answers 400 for two selectors', async () => {
      const [a, b] = arc.state.identities.current.userAssigned;
      const res = await arc.request(
        'GET',
        tokenPath({ client_id: a?.clientId ?? '', object_id: b?.principalId ?? '' }),
        METADATA,
      );
      assert.equal(res.status, 400);
    });
  });
}

describe('Arc HIMDS acting as an older agent (userAssignedIdentities: false)', () => {
  let arc: PlatformTransport;
  before(async () => {
    arc = await openPlatform('inject', 'arc', arcSetup({ userAssignedIdentities: false }).options);
  });
  after(() => arc.close());

  test('ignores selectors and answers with the system-assigned identity, echoing nothing', async () => {
    const target = arc.state.identities.current.userAssigned[0];
    assert.ok(target);
    const params = { client_id: target.clientId };
    const first = await arc.request('GET', tokenPath(params), METADATA);
    const secret = readFileSync(realmOf(first.headers['www-authenticate']), 'utf8');
    const res = await arc.json('GET', tokenPath(params), { ...METADATA, Authorization: `Basic ${secret}` });
    assert.equal(res.json.client_id, arc.state.identities.current.systemAssigned?.clientId);
    assert.equal(res.json.object_id, undefined);
    assert.equal(res.json.msi_res_id, undefined);
  });
});

describe('Arc HIMDS instance metadata', () => {
  let arc: PlatformTransport;
  before(async () => {
    arc = await openPlatform('http', 'arc', {
      ...arcSetup().options,
      vm: { compute: { name: 'onprem-01', tags: { datacentre: 'lon1' } } },
    });
  });
  after(() => arc.close());

  test('serves /metadata/instance as an Arc-enabled server: HybridCompute resource id, OS sku, no network', async () => {
    const res = await arc.json('GET', '/metadata/instance?api-version=2020-06-01', METADATA);
    assert.equal(res.status, 200);
    const { compute, network } = res.json;
    assert.deepEqual(network, {});
    assert.equal(compute.name, 'onprem-01');
    assert.equal(compute.osType, 'linux');
    assert.equal(compute.vmSize, '');
    assert.equal(compute.provider, '');
    assert.equal(compute.publicKeys, null);
    assert.deepEqual(compute.storageProfile, {});
    assert.equal(compute.sku, 'Ubuntu 24.04.1 LTS');
    assert.equal(
      compute.resourceId,
      `/subscriptions/${compute.subscriptionId}/resourceGroups/${compute.resourceGroupName}/providers/Microsoft.HybridCompute/machines/onprem-01`,
    );
    assert.deepEqual(compute.tagsList, [{ name: 'datacentre', value: 'lon1' }]);
    assert.equal(compute.vmId, arc.state.machine.compute('vmId'));
  });

  test("supports route filtering and format=text, and IMDS's Metadata header rule", async () => {
    const leaf = await arc.request(
      'GET',
      '/metadata/instance/compute/resourceGroupName?api-version=2020-06-01&format=text',
      METADATA,
    );
    assert.equal(leaf.status, 200);
    assert.equal(leaf.body, arc.state.machine.compute('resourceGroupName'));
    const noHeader = await arc.request('GET', '/metadata/instance?api-version=2020-06-01');
    assert.equal(noHeader.status, 400);
  });

  test('follows a change of the VM at once', async () => {
    arc.handle?.patchVm({ compute: { tags: { datacentre: 'ams2' } } });
    const res = await arc.json('GET', '/metadata/instance/compute?api-version=2020-06-01', METADATA);
    assert.equal(res.json.tags, 'datacentre:ams2');
  });
});

describe('Arc challenge directory', () => {
  test("is the real agent's directory by default on Linux and Windows, else below dataDir", () => {
    assert.equal(arcTokenDir(undefined, '/data', 'linux'), '/var/opt/azcmagent/tokens');
    assert.equal(
      arcTokenDir(undefined, '/data', 'win32', { ProgramData: 'D:\\ProgramData' }),
      'D:\\ProgramData\\AzureConnectedMachineAgent\\Tokens',
    );
    assert.equal(arcTokenDir(undefined, '/data', 'darwin'), '/data/arc-tokens');
    assert.equal(arcTokenDir('/srv/tokens', '/data', 'linux'), '/srv/tokens');
  });

  test('is created owner-only when it is missing', async () => {
    const { dir, options } = arcSetup();
    const handle = await startEmulator(options);
    try {
      if (process.platform !== 'win32') assert.equal(statSync(dir).mode & 0o777, 0o700);
    } finally {
      await handle.close();
    }
  });

  test('fails the start with ARC_TOKEN_DIR and the one-time setup when it cannot be written', async () => {
    const file = join(root, 'not-a-directory');
    writeFileSync(file, '');
    await assert.rejects(
      startEmulator({ platforms: { arc: { enabled: true, tokenDir: join(file, 'tokens') } } }),
      (error: unknown) => {
        assert.ok(error instanceof AzimdsError);
        assert.equal(error.code, 'ARC_TOKEN_DIR');
        assert.match(error.message, /cannot write challenge files to .*not-a-directory\/tokens/);
        assert.match(error.message, /sudo mkdir -p .* && sudo chown/);
        return true;
      },
    );
  });

  test('has no secret file left once the emulator is closed', async () => {
    const { dir, options } = arcSetup();
    const handle = await startEmulator(options);
    const url = `${handle.urls.arc}${tokenPath()}`;
    await fetch(url, { headers: METADATA });
    await fetch(url, { headers: METADATA });
    assert.equal(readdirSync(dir).length, 2);
    await handle.close();
    assert.deepEqual(readdirSync(dir), []);
  });
});
