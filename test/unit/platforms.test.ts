/**
 * The platforms' plumbing: the `platforms:` config, generated secrets (kept in dataDir or in memory),
 * the environment each platform gets (set and unset variables) as `handle.env()` and
 * `azimds env --platform` give it, rendered for each shell, and `--platform` parsing.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, mock, test } from 'node:test';
import {
  environmentFromConfig,
  formatPlatformEnvironment,
  parsePlatformList,
  parseTokenPlatform,
} from '../../src/cli/platforms.js';
import { buildProgram } from '../../src/cli/program.js';
import { resolveConfig } from '../../src/config/load.js';
import { EmulatorClock } from '../../src/core/clock.js';
import { FaultSet } from '../../src/core/faults/fault-set.js';
import { ArcChallenges } from '../../src/core/platforms/arc-challenges.js';
import { PLATFORM_IDS, PLATFORMS, platformByName } from '../../src/core/platforms/catalog.js';
import { MANAGED_IDENTITY_VARIABLES } from '../../src/core/platforms/environment.js';
import { PlatformSecrets, SECRETS_FILE } from '../../src/core/platforms/secrets.js';
import { AzimdsError } from '../../src/errors.js';
import { startEmulator } from '../../src/server/emulator.js';

const root = mkdtempSync(join(tmpdir(), 'azimds-platforms-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `data-${++dirs}`);

describe('platforms config', () => {
  test('every platform is off by default, at the port the real platform uses', () => {
    const { platforms } = resolveConfig({});
    for (const p of Object.values(platforms)) assert.equal(p.enabled, false);
    assert.equal(platforms.arc.port, 40342);
    assert.equal(platforms.vmExtension.port, 50342);
    assert.equal(platforms.cloudShell.port, 50342);
    assert.equal(platforms.appService.port, 42356);
    assert.equal(platforms.appService.path, '/msi/token');
    assert.equal(platforms.serviceFabric.port, 2377);
    assert.equal(platforms.azureMl.port, 46808);
    assert.equal(platforms.azureMl.path, '/MSI/auth');
    assert.equal(platforms.arc.secretTtlSeconds, 60);
  });

  test('rejects unknown keys, a secret with spaces, and a path that is not one', () => {
    const invalid = (platforms: unknown, pattern: RegExp) =>
      assert.throws(
        () => resolveConfig({ platforms }),
        (e: unknown) => e instanceof AzimdsError && pattern.test(e.message),
      );
    invalid({ arc: { enable: true } }, /platforms\.arc: unknown key "enable"/);
    invalid({ appService: { secret: 'has a space' } }, /platforms\.appService\.secret: a secret is 8-512/);
    invalid({ azureMl: { path: 'MSI/auth' } }, /platforms\.azureMl\.path: a URL path/);
  });
});

describe('generated platform secrets', () => {
  const config = (dataDir: string, store: 'file' | 'memory') =>
    resolveConfig({ dataDir, tokens: { keys: { store } } });

  test('are GUIDs kept owner-only in dataDir and read back by the next process', () => {
    const dataDir = freshDir();
    const first = new PlatformSecrets(config(dataDir, 'file'));
    const secret = first.get('appService');
    assert.match(secret, /^[0-9a-f-]{36}$/);
    assert.notEqual(first.get('serviceFabric'), secret);
    const file = join(dataDir, SECRETS_FILE);
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).appService, secret);
    assert.equal(new PlatformSecrets(config(dataDir, 'file')).get('appService'), secret);
  });

  test('live in memory, one set per emulator, when the keys do (the library default)', () => {
    const dataDir = freshDir();
    const a = new PlatformSecrets(config(dataDir, 'memory'));
    const b = new PlatformSecrets(config(dataDir, 'memory'));
    assert.notEqual(a.get('azureMl'), b.get('azureMl'));
    assert.equal(a.location, 'memory');
  });

  test('give way to a secret set in config, compared in constant time', () => {
    const secrets = new PlatformSecrets(
      resolveConfig({
        platforms: { azureMl: { secret: 'fixed-secret-value' } },
        tokens: { keys: { store: 'memory' } },
      }),
    );
    assert.equal(secrets.get('azureMl'), 'fixed-secret-value');
    assert.equal(secrets.matches('azureMl', 'fixed-secret-value'), true);
    assert.equal(secrets.matches('azureMl', 'fixed-secret-valuE'), false);
    assert.equal(secrets.matches('azureMl', 'short'), false);
  });
});

describe('platform environments', () => {
  test('each platform sets its variables and unsets every other managed-identity variable', async () => {
    const handle = await startEmulator({
      dataDir: freshDir(),
      tokens: { keys: { store: 'memory' } },
      platforms: {
        arc: { enabled: true, tokenDir: freshDir() },
        appService: { enabled: true },
        serviceFabric: { enabled: true },
        azureMl: { enabled: true },
        cloudShell: { enabled: true },
        vmExtension: { enabled: true, port: 0 },
      },
    });
    try {
      const expected: Record<string, string[]> = {
        imds: ['AZURE_POD_IDENTITY_AUTHORITY_HOST'],
        arc: ['IDENTITY_ENDPOINT', 'IMDS_ENDPOINT'],
        'vm-extension': ['MSI_ENDPOINT'],
        'app-service': ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'MSI_ENDPOINT', 'MSI_SECRET'],
        'cloud-shell': ['MSI_ENDPOINT'],
        'service-fabric': [
          'IDENTITY_ENDPOINT',
          'IDENTITY_HEADER',
          'IDENTITY_SERVER_THUMBPRINT',
          'IDENTITY_API_VERSION',
          'NODE_EXTRA_CA_CERTS',
        ],
        'azure-ml': ['MSI_ENDPOINT', 'MSI_SECRET', 'DEFAULT_IDENTITY_CLIENT_ID'],
      };
      for (const [platform, names] of Object.entries(expected)) {
        const env = handle.env(platform);
        const set = Object.keys(env).filter((k) => env[k] !== undefined);
        assert.deepEqual(set.sort(), [...names, 'NO_PROXY'].sort(), platform);
        for (const name of MANAGED_IDENTITY_VARIABLES) {
          assert.ok(name in env, `${platform} says what to do with ${name}`);
        }
      }
      assert.equal(handle.env('arc').IMDS_ENDPOINT, handle.urls.arc);
      assert.deepEqual(handle.env('appService'), handle.env('app-service'), 'ids and CLI names');
      assert.throws(() => handle.env('nowhere'), /unknown platform "nowhere"/);
    } finally {
      await handle.close();
    }
  });

  test('a platform that is not enabled has no environment in a running emulator', async () => {
    const handle = await startEmulator();
    try {
      assert.throws(
        () => handle.env('arc'),
        (e: unknown) => e instanceof AzimdsError && e.code === 'NOT_RUNNING',
      );
    } finally {
      await handle.close();
    }
  });

  test('`azimds env --platform` computes what a running emulator with the same config serves', async () => {
    const dataDir = freshDir();
    const input = {
      dataDir,
      platforms: { appService: { enabled: true, port: 45123 }, azureMl: { enabled: true, port: 45124 } },
    };
    const offline = environmentFromConfig(resolveConfig(input), 'appService');
    const running = await startEmulator(input);
    try {
      const served = Object.entries(running.env('app-service')).filter(([, v]) => v !== undefined);
      assert.deepEqual(Object.fromEntries(offline.set), Object.fromEntries(served));
      const ml = environmentFromConfig(resolveConfig(input), 'azureMl');
      assert.equal(
        Object.fromEntries(ml.set).DEFAULT_IDENTITY_CLIENT_ID,
        running.state.identities.current.systemAssigned?.clientId,
      );
    } finally {
      await running.close();
    }
  });

  test('renders removals and settings for bash, pwsh, cmd, dotenv and json', () => {
    const env = {
      set: [['MSI_ENDPOINT', 'http://127.0.0.1:50342/oauth2/token']] as const,
      unset: ['IMDS_ENDPOINT', 'MSI_SECRET'],
    };
    assert.equal(
      formatPlatformEnvironment(env, 'bash'),
      'unset IMDS_ENDPOINT MSI_SECRET\nexport MSI_ENDPOINT=http://127.0.0.1:50342/oauth2/token\n',
    );
    assert.equal(
      formatPlatformEnvironment(env, 'pwsh'),
      "Remove-Item Env:IMDS_ENDPOINT -ErrorAction SilentlyContinue\nRemove-Item Env:MSI_SECRET -ErrorAction SilentlyContinue\n$env:MSI_ENDPOINT = 'http://127.0.0.1:50342/oauth2/token'\n",
    );
    assert.equal(
      formatPlatformEnvironment(env, 'cmd'),
      'set "IMDS_ENDPOINT="\nset "MSI_SECRET="\nset "MSI_ENDPOINT=http://127.0.0.1:50342/oauth2/token"\n',
    );
    assert.equal(
      formatPlatformEnvironment(env, 'dotenv'),
      'MSI_ENDPOINT=http://127.0.0.1:50342/oauth2/token\n',
    );
    assert.deepEqual(JSON.parse(formatPlatformEnvironment(env, 'json')), {
      IMDS_ENDPOINT: null,
      MSI_SECRET: null,
      MSI_ENDPOINT: 'http://127.0.0.1:50342/oauth2/token',
    });
  });
});

describe('platform names on the command line', () => {
  test('--platform takes CLI names and ids, comma-separated, and refuses unknown ones', () => {
    assert.deepEqual(parsePlatformList('arc,app-service, serviceFabric,arc'), [
      'arc',
      'appService',
      'serviceFabric',
    ]);
    assert.throws(() => parsePlatformList('arc,lambda'), /unknown platform "lambda"/);
    assert.equal(parseTokenPlatform('IMDS'), 'imds');
    assert.equal(platformByName('Azure-ML'), 'azureMl');
  });

  test('every name env --platform takes, start --platform takes too (imds: always on)', () => {
    for (const name of [
      'imds',
      'IMDS',
      ...PLATFORM_IDS,
      ...PLATFORM_IDS.map((id) => PLATFORMS[id].cliName),
    ]) {
      const platform = parseTokenPlatform(name);
      assert.deepEqual(parsePlatformList(name), platform === 'imds' ? [] : [platform], name);
    }
    assert.deepEqual(parsePlatformList('imds,vm-extension'), ['vmExtension']);
  });

  test('fault rules name a platform surface by any of its names', () => {
    const faults = new FaultSet({ clock: new EmulatorClock() });
    for (const [i, name] of ['app-service', 'appService', 'App-Service'].entries()) {
      faults.add({ id: `r${i}`, surface: name, status: 500 });
      assert.equal(faults.match('appService', 'GET', '/msi/token', '127.0.0.1')?.id, 'r0', name);
    }
    faults.add({ id: 'other', surface: 'arm', status: 503 });
    assert.ok(faults.list().some((r) => r.id === 'other'));
  });

  test('azimds env --platform arc prints the unset line and the two variables', async () => {
    let text = '';
    const out = new Writable({
      write(chunk, _encoding, done) {
        text += chunk;
        done();
      },
    });
    await buildProgram(out).parseAsync(['node', 'azimds', 'env', '--platform', 'arc', '--shell', 'bash'], {
      from: 'node',
    });
    assert.match(text, /^unset AZURE_POD_IDENTITY_AUTHORITY_HOST IDENTITY_HEADER /m);
    assert.match(
      text,
      /^export IDENTITY_ENDPOINT=http:\/\/127\.0\.0\.1:40342\/metadata\/identity\/oauth2\/token$/m,
    );
    assert.match(text, /^export IMDS_ENDPOINT=http:\/\/127\.0\.0\.1:40342$/m);
  });
});

describe('Arc challenge files', () => {
  test('an expired file is deleted even when no request comes to redeem it', () => {
    let now = 1_000_000;
    const challenges = new ArcChallenges({ dir: freshDir(), ttlSeconds: 5, clock: { now: () => now } });
    challenges.prepare();
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { path } = challenges.issue() as { path: string };
      assert.ok(existsSync(path));
      now += 6000;
      mock.timers.tick(6000);
      assert.equal(existsSync(path), false);
      assert.equal(challenges.outstanding, 0);
    } finally {
      mock.timers.reset();
      challenges.close();
    }
  });

  test('keeps at most the configured number of outstanding secrets, refusing new ones, never evicting pending ones', () => {
    let now = 0;
    const challenges = new ArcChallenges({
      dir: freshDir(),
      ttlSeconds: 60,
      clock: { now: () => now },
      maxOutstanding: 2,
    });
    challenges.prepare();
    try {
      const first = challenges.issue() as { path: string };
      challenges.issue();
      assert.equal(challenges.issue(), undefined, 'full: no new challenge');
      assert.equal(challenges.outstanding, 2);
      assert.equal(existsSync(first.path), true);
      // The legitimate client's pending secret still redeems, which makes room for a new one.
      assert.equal(challenges.redeem(readFileSync(first.path, 'utf8')), 'ok');
      assert.ok(challenges.issue());
      // Expired secrets make room too.
      now += 61_000;
      assert.ok(challenges.issue());
      assert.equal(challenges.outstanding, 1);
    } finally {
      challenges.close();
    }
  });
});
