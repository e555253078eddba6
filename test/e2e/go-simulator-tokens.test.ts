/**
 * A user of the Go IMDS simulator points `azimds start` at their config.json unchanged and gets real
 * tokens of its service principals, as the Go tool gave them: the one the request's client_id names,
 * else the first. Entra is a fake on loopback, reached through AZIMDS_AUTHORITY_HOST and trusted through
 * NODE_EXTRA_CA_CERTS (the CLI in a child process, as a user runs it).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type FakeEntra, startFakeEntra } from '../support/fake-entra.js';
import { claimsOf } from '../support/token-sources.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(root, 'node_modules/.bin/node');
/** Generous: only a hung process reaches it (no timing assertion). */
const TIMEOUT_MS = 30_000;
const TENANT = 'sometenant.onmicrosoft.com';
const FIRST = 'deadbeef-efa9-42ea-9ac3-28a920370be6';
const SECOND = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const FIRST_SECRET = 'ewewM/OblEL/WOJweC0=';
const SECOND_SECRET = 'second~secret.value-5678';

let entra: FakeEntra;
let dir: string;
let configFile: string;

before(async () => {
  entra = await startFakeEntra();
  entra.addSecretClient(FIRST, FIRST_SECRET);
  entra.addSecretClient(SECOND, SECOND_SECRET);
  dir = mkdtempSync(join(tmpdir(), 'azimds-go-tokens-'));
  configFile = join(dir, 'config.json');
  // The Go simulator's format, as its README shows it (two service principals).
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        tenantID: TENANT,
        servicePrincipals: { [FIRST]: FIRST_SECRET, [SECOND]: SECOND_SECRET },
        metadata: { compute: { name: 'somevm', location: 'westeurope', vmSize: 'Standard_D2s_v3' } },
      },
      null,
      2,
    ),
  );
});

after(async () => {
  await entra.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** The CLI's environment: no AZIMDS_* of the caller; Entra is the fake, trusted via NODE_EXTRA_CA_CERTS. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('AZIMDS_') && !/^https?_proxy$/i.test(k)) env[k] = v;
  }
  return {
    ...env,
    AZIMDS_DATA_DIR: join(dir, 'data'),
    AZIMDS_AUTHORITY_HOST: entra.url,
    NODE_EXTRA_CA_CERTS: entra.caFile,
  };
}

function cli(args: string[]): ChildProcess {
  return spawn(NODE, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `azimds start --config <go config.json> --port 0 ...`, resolved once it prints where it listens. */
function start(args: string[] = []): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = cli(['start', '--config', configFile, '--port', '0', ...args]);
    let stdout = '';
    let stderr = '';
    const exited = new Promise<void>((done) => child.on('close', () => done()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`azimds start did not print its URL\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, TIMEOUT_MS);
    child.stdout?.on('data', (d) => {
      stdout += d;
      const match = /AZURE_POD_IDENTITY_AUTHORITY_HOST=(\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1],
          stdout: () => stdout,
          stderr: () => stderr,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`azimds start exited\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

async function token(url: string, params: Record<string, string>) {
  const query = new URLSearchParams({ 'api-version': '2018-02-01', ...params });
  const res = await fetch(`${url}/metadata/identity/oauth2/token?${query}`, {
    headers: { Metadata: 'true' },
  });
  // biome-ignore lint/suspicious/noExplicitAny: the fields asserted on
  return { status: res.status, json: (await res.json()) as any };
}

describe("the Go simulator's config.json with azimds start", () => {
  test('gives real tokens of its service principals: the first without client_id, the named one with it', async () => {
    chmodSync(configFile, 0o600);
    const azimds = await start();
    try {
      const first = await token(azimds.url, { resource: 'https://vault.azure.net' });
      assert.equal(first.status, 200, JSON.stringify(first.json));
      assert.equal(claimsOf(first.json.access_token).appid, FIRST);
      assert.equal(claimsOf(first.json.access_token).tid, TENANT);
      assert.equal(first.json.resource, 'https://vault.azure.net');

      const second = await token(azimds.url, { resource: 'https://vault.azure.net', client_id: SECOND });
      assert.equal(second.status, 200, JSON.stringify(second.json));
      assert.equal(claimsOf(second.json.access_token).appid, SECOND);

      const named = await token(azimds.url, { resource: 'https://storage.azure.com/', client_id: FIRST });
      assert.equal(claimsOf(named.json.access_token).appid, FIRST);

      // The tenant given as a domain is the authority's tenant segment, as it was for the Go tool.
      assert.ok(entra.tokenCalls.some((c) => c.tenant === TENANT && c.clientId === SECOND));
      if (process.platform !== 'win32') {
        assert.doesNotMatch(azimds.stderr(), /chmod 600/, 'no warning for an owner-only file');
      }
      assert.ok(!azimds.stderr().includes(FIRST_SECRET) && !azimds.stderr().includes(SECOND_SECRET));
    } finally {
      await azimds.stop();
    }
  });

  test('answers 400 Identity not found for a client_id that names no service principal', async () => {
    const azimds = await start();
    try {
      const res = await token(azimds.url, {
        resource: 'https://vault.azure.net',
        client_id: '11111111-2222-4333-8444-555555555555',
      });
      assert.equal(res.status, 400);
      assert.deepEqual(res.json, { error: 'invalid_request', error_description: 'Identity not found' });
    } finally {
      await azimds.stop();
    }
  });

  test('warns that the file holds secrets when other users can read it', {
    skip: process.platform === 'win32',
  }, async () => {
    chmodSync(configFile, 0o644);
    const azimds = await start();
    try {
      assert.match(
        azimds.stderr(),
        new RegExp(`chmod 600 ${configFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
    } finally {
      await azimds.stop();
      chmodSync(configFile, 0o600);
    }
  });

  test('--token-source local turns real tokens off', async () => {
    const before = entra.tokenCalls.length;
    const azimds = await start(['--token-source', 'local']);
    try {
      const res = await token(azimds.url, { resource: 'https://vault.azure.net' });
      assert.equal(res.status, 200);
      assert.equal(claimsOf(res.json.access_token).iss, `https://sts.windows.net/${TENANT}/`);
      assert.equal(entra.tokenCalls.length, before);
    } finally {
      await azimds.stop();
    }
  });

  test('start --print-config shows the service principals without their secrets', async () => {
    const child = cli(['start', '--config', configFile, '--print-config']);
    let stdout = '';
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`${FIRST}: "?\\[redacted\\]"?`));
    assert.ok(!stdout.includes(FIRST_SECRET) && !stdout.includes(SECOND_SECRET));
    assert.match(stdout, /source: service-principal/);
  });
});
