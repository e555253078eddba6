/**
 * Issue 17 items 14, 15 and 17: hostile inputs that used to cost a 500, unbounded memory or another
 * client's state are refused as invalid input, bounded by bytes, and kept apart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EmulatorClock } from '../../src/core/clock.js';
import { CachingTokenProvider } from '../../src/core/tokens/token-cache.js';
import { buildSurface } from '../../src/server/emulator.js';

describe('deeply nested JSON', () => {
  test('PATCH /vm nested 10,000 deep is a 400 InvalidVm, as any invalid VM, and the VM is unchanged', async () => {
    const app = await buildSurface('control');
    try {
      const before = JSON.stringify(app.state.machine.document);
      const deep = (open: string, close: string) => `${open.repeat(10_000)}1${close.repeat(10_000)}`;
      for (const body of [
        deep('{"a":', '}'),
        `{"compute":{"tags":${deep('{"a":', '}')}}}`,
        `{"compute":{"userData":${deep('[', ']')}}}`,
      ]) {
        for (const contentType of ['application/json', 'application/merge-patch+json']) {
          const res = await app.inject({
            method: 'PATCH',
            url: '/vm',
            payload: body,
            headers: { 'content-type': contentType },
          });
          assert.equal(res.statusCode, 400, res.body.slice(0, 200));
          assert.equal(res.json().error.code, 'InvalidVm');
          assert.match(res.json().error.message, /deeper than 32 levels/);
        }
      }
      assert.equal(JSON.stringify(app.state.machine.document), before);
      // A patch of ordinary depth still works.
      const ok = await app.inject({
        method: 'PATCH',
        url: '/vm',
        payload: { compute: { tags: { team: 'a' } } },
      });
      assert.equal(ok.statusCode, 200, ok.body);
    } finally {
      await app.close();
    }
  });
});

describe('deeply nested JSON on every control API route', () => {
  test('a body nested 20,000 deep is a 400 InvalidInput on every route that takes one, never a 500', async () => {
    const app = await buildSurface('control');
    try {
      const deep = (open: string, close: string) => `${open.repeat(20_000)}1${close.repeat(20_000)}`;
      const routes: Array<[string, string]> = [
        ['POST', '/events'],
        ['POST', '/faults'],
        ['POST', '/clock/advance'],
        ['POST', '/clock/set'],
        ['POST', '/identities/user-assigned'],
        ['POST', '/world/resource-groups'],
        ['POST', '/world/resources'],
        ['POST', '/world/role-assignments'],
        ['POST', '/vms/azimds-vm-01/listeners'],
        ['PUT', `/key-vault/vaults/${app.state.world.vaults()[0]?.name}/secrets/deep`],
      ];
      for (const [method, url] of routes) {
        for (const payload of [
          deep('[', ']'),
          deep('{"a":', '}'),
          `{"type":"Reboot","x":${deep('[', ']')}}`,
        ]) {
          const res = await app.inject({
            method: method as 'POST',
            url,
            payload,
            headers: { 'content-type': 'application/json' },
          });
          assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body.slice(0, 200)}`);
          assert.equal(res.json().error.code, 'InvalidInput');
          assert.match(res.json().error.message, /nests deeper than 64 levels/);
        }
      }
      // Ordinary bodies still reach the routes.
      const ok = await app.inject({ method: 'POST', url: '/events', payload: { type: 'Reboot' } });
      assert.equal(ok.statusCode, 201, ok.body);
    } finally {
      await app.close();
    }
  });
});

describe('the token cache under distinct huge resources', () => {
  test('2,000 token requests with distinct 12 KB resources keep the heap within the cache byte bound', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const app = await buildSurface('imds');
    try {
      const request = (i: number) =>
        app.inject({
          url: `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(`https://x${i}.example/${'r'.repeat(12_000)}`)}`,
          headers: { metadata: 'true' },
        });
      // Warm up (keys, code paths), then measure.
      for (let i = 0; i < 50; i++) assert.equal((await request(i)).statusCode, 200);
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 50; i < 2050; i++) {
        const res = await request(i);
        assert.equal(res.statusCode, 200);
      }
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      // Unbounded, each entry held ~100 KB (200 MB here); the cache keeps at most 4 MiB (estimated).
      assert.ok(grown < 32 * 1024 * 1024, `heap grew ${Math.round(grown / 1048576)} MiB`);
      // The newest tokens are still cached: the same request gets the same token.
      const [a, b] = [await request(2049), await request(2049)];
      assert.equal(a.json().access_token, b.json().access_token);
    } finally {
      await app.close();
    }
  });

  test('the byte bound evicts the oldest entries and keeps the newest', async () => {
    const clock = new EmulatorClock();
    let minted = 0;
    const cache = new CachingTokenProvider(
      {
        name: 'test',
        getToken: async (request) => ({
          ok: true,
          token: {
            accessToken: `token-${++minted}-${'t'.repeat(1000)}`,
            resource: request.resource,
            clientId: 'c',
            tokenType: 'Bearer',
            notBefore: 0,
            expiresOn: clock.now() / 1000 + 86_400,
            lifetimeSeconds: 86_400,
          },
        }),
      },
      { clock, refreshBeforeSeconds: 900, maxBytes: 100_000 },
    );
    const identity = { principalId: 'p' } as never;
    for (let i = 0; i < 200; i++) await cache.getToken({ identity, resource: `r${i}-${'x'.repeat(500)}` });
    assert.ok(cache.bytes <= 100_000, `${cache.bytes} bytes`);
    assert.ok(cache.size > 5 && cache.size < 200, `${cache.size} entries`);
    const newest = { identity, resource: `r199-${'x'.repeat(500)}` };
    assert.ok(cache.peek(newest), 'the newest entry is kept');
    assert.equal(cache.peek({ identity, resource: `r0-${'x'.repeat(500)}` }), undefined, 'the oldest went');
  });
});

describe('an Azure Arc challenge flood', () => {
  test("1,000 unauthenticated requests leave a legitimate client's pending challenge valid", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'azimds-arc-flood-'));
    const app = await buildSurface('arc', {
      dataDir,
      platforms: { arc: { enabled: true, tokenDir: join(dataDir, 'tokens') } },
    });
    try {
      const url =
        '/metadata/identity/oauth2/token?api-version=2020-06-01&resource=https://management.azure.com/';
      const headers = { metadata: 'true' };
      const first = await app.inject({ url, headers });
      assert.equal(first.statusCode, 401);
      const realm = /realm=(.+)$/i.exec(String(first.headers['www-authenticate']))?.[1] as string;
      const secret = readFileSync(realm, 'utf8');
      for (let i = 0; i < 1000; i++) {
        const res = await app.inject({ url, headers });
        assert.ok(res.statusCode === 401 || res.statusCode === 429, String(res.statusCode));
      }
      const res = await app.inject({ url, headers: { ...headers, authorization: `Basic ${secret}` } });
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(res.json().access_token);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
