/**
 * The platforms from the command line, as users run them: `azimds start --platform ...` lists each
 * platform in its banner, and `azimds env --platform <name>` run in another process (same flags)
 * prints variables that work against it — the generated secret included, read from dataDir. Uses the
 * built CLI (dist/cli/main.js, built by `npm test`; run `npm run build` first when running this file alone).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(root, 'node_modules/.bin/node');
const CLI = join(root, 'dist/cli/main.js');
/** Generous: only a hung process reaches it (no timing assertion). */
const TIMEOUT_MS = 20_000;

const dir = mkdtempSync(join(tmpdir(), 'azimds-platforms-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AZIMDS_')) env[k] = v;
  return { ...env, AZIMDS_DATA_DIR: join(dir, 'data') };
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `azimds start ...`; resolves with its stdout once the banner is out. */
function start(args: string[]): Promise<{ child: ChildProcess; banner: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, 'start', '--log-level', 'warn', ...args], {
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`azimds start did not finish its banner\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve({ child, banner: stdout });
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`azimds start exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('close');
    child.on('close', () => resolve());
    child.kill('SIGTERM');
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** `export NAME=value` lines as a record. */
function exported(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]) as [string, string][],
  );
}

describe('azimds start --platform and azimds env --platform', () => {
  test('the banner lists each platform, and env in another process prints working variables', async () => {
    const [imds, appService, azureMl] = await Promise.all([freePort(), freePort(), freePort()]);
    const config = join(dir, 'platforms.yaml');
    writeFileSync(
      config,
      `platforms:\n  appService: { port: ${appService} }\n  azureMl: { port: ${azureMl} }\n`,
    );
    const flags = ['--config', config, '--port', String(imds)];
    const { child, banner } = await start([...flags, '--platform', 'app-service,azure-ml']);
    try {
      assert.match(banner, new RegExp(`app-service +http://127\\.0\\.0\\.1:${appService}/msi/token`));
      assert.match(banner, new RegExp(`azure-ml +http://127\\.0\\.0\\.1:${azureMl}/MSI/auth`));
      const env = await run(['env', ...flags, '--platform', 'app-service', '--shell', 'bash']);
      assert.equal(env.code, 0, env.stderr);
      assert.match(env.stdout, /^unset /m);
      const vars = exported(env.stdout);
      assert.equal(vars.IDENTITY_ENDPOINT, `http://127.0.0.1:${appService}/msi/token`);
      const res = await fetch(
        `${vars.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=https://vault.azure.net`,
        {
          headers: { 'X-IDENTITY-HEADER': vars.IDENTITY_HEADER ?? '' },
        },
      );
      assert.equal(res.status, 200, 'the secret env printed is the one the running emulator checks');
    } finally {
      await stop(child);
    }
  });

  test('an unknown platform is a usage error (exit 2)', async () => {
    const started = await run(['start', '--platform', 'lambda']);
    assert.equal(started.code, 2);
    assert.match(started.stderr, /unknown platform "lambda"/);
    const env = await run(['env', '--platform', 'lambda']);
    assert.equal(env.code, 2);
  });

  test('Arc fails the start with the one-time setup when its directory cannot be written (exit 1)', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const config = join(dir, 'arc.yaml');
    writeFileSync(
      config,
      `platforms:\n  arc: { enabled: true, port: 0, tokenDir: ${join(blocker, 'tokens')} }\n`,
    );
    const result = await run(['start', '--config', config, '--port', '0']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /azimds: Azure Arc: cannot write challenge files to /);
    assert.match(result.stderr, /sudo mkdir -p/);
  });
});
