/**
 * `npx azimds start &` / `npm start &` then `kill $!` stops the emulator (issue 17 B9): `$!` is npm's
 * process, which forwards the signal to the shell it runs the command in. The start script `exec`s node
 * (the shell becomes azimds), and under npx azimds also stops once the process that started it is gone
 * (dash keeps its `sh -c` between npm and a command: the shell dies, azimds would not). Runs npm for
 * real, offline, in a throwaway project that has azimds in node_modules.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { assertCliBuilt, freePortBlock, ROOT } from '../support/cli.js';

/** Generous: only a process that never starts or never stops reaches it (no timing assertion). */
const TIMEOUT_MS = 30_000;

const dir = mkdtempSync(join(tmpdir(), 'azimds-signals-'));
const imdsOnly = join(dir, 'imds-only.json');
writeFileSync(
  imdsOnly,
  JSON.stringify({ control: { enabled: false }, proxy: { enabled: false }, arm: { enabled: false } }),
);
after(() => rmSync(dir, { recursive: true, force: true }));

/** A project with azimds installed (linked) and a script shaped like azimds's own `npm start`. */
function project(): string {
  const proj = join(dir, 'project');
  mkdirSync(join(proj, 'node_modules/.bin'), { recursive: true });
  symlinkSync(ROOT, join(proj, 'node_modules/azimds'));
  symlinkSync('../azimds/dist/cli/main.js', join(proj, 'node_modules/.bin/azimds'));
  writeFileSync(
    join(proj, 'package.json'),
    JSON.stringify({ name: 'signals-project', private: true, scripts: { start: 'exec azimds start' } }),
  );
  return proj;
}

async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/metadata/versions`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts `npm <args>` as `cmd &` does, waits until azimds answers, kills npm's pid, waits until it stops. */
async function startAndKill(proj: string, args: string[], port: number, name: string): Promise<void> {
  const child: ChildProcess = spawn('npm', args, {
    cwd: proj,
    env: {
      ...process.env,
      AZIMDS_DATA_DIR: join(dir, `data-${name}`),
      AZIMDS_PORT: String(port),
      // IMDS alone: the other listeners' ports (IMDS + 1, + 2, + 3) are not checked free here.
      AZIMDS_CONFIG: imdsOnly,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group, so that whatever happens the group can be cleaned up below.
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  try {
    await until(`${name} answers on ${port}`, async () => {
      if (gone) throw new Error(`${name} exited before answering: ${stderr}`);
      return answers(port);
    });
    child.kill('SIGTERM'); // kill $!
    await until(`${name} stops answering after kill`, async () => !(await answers(port)));
    await exited;
  } finally {
    try {
      process.kill(-(child.pid as number), 'SIGKILL'); // npm, its shell and azimds, if any is left
    } catch {}
  }
}

const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });

describe('kill $! stops an emulator started through npm', {
  skip: npm.status === 0 ? false : 'npm is not on PATH',
}, () => {
  const proj = project();

  test("azimds's start script execs node (no shell left between npm and azimds)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.match(pkg.scripts.start, /(^|&& )exec node dist\/cli\/main\.js start$/);
  });

  test('npx azimds start & ... kill $!', async () => {
    assertCliBuilt();
    await startAndKill(
      proj,
      ['exec', '--offline', '--yes', '--', 'azimds', 'start'],
      await freePortBlock(),
      'npx',
    );
  });

  test('npm start & ... kill $! (a start script that execs azimds)', async () => {
    assertCliBuilt();
    await startAndKill(proj, ['start', '--silent'], await freePortBlock(), 'npm start');
  });
});
