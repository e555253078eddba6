/**
 * The `azimds` command as users run it, for e2e tests: the built CLI (dist/cli/main.js, built by
 * `npm test`; run `npm run build` first when running an e2e file alone), spawned with Node ≥ 22 from
 * node_modules/.bin. Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const CLI = join(ROOT, 'dist/cli/main.js');
/** Generous: only a hung process reaches it (no timing assertion). Tests of a group may run concurrently. */
export const CLI_TIMEOUT_MS = 20_000;

/** How a CLI run ended, with everything it printed. */
export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Fails with what to do when dist/ has not been built. */
export function assertCliBuilt(): void {
  assert.ok(existsSync(CLI), `${CLI} is missing: run npm run build (npm test does it)`);
}

/** The environment of a spawned CLI: the caller's without any AZIMDS_*, state kept in `dataDir`, then `extra`. */
export function cliEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AZIMDS_')) env[k] = v;
  return { ...env, AZIMDS_DATA_DIR: dataDir, ...extra };
}

interface Spawned {
  child: ChildProcess;
  /** Resolves when the process has exited; rejects when it could not start or was killed for `timeoutMs`. */
  exited: Promise<Finished>;
}

function spawnCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { onStdout?: (all: string, child: ChildProcess) => void; timeoutMs?: number } = {},
): Spawned {
  const child = spawn(NODE, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<Finished>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`azimds ${args.join(' ')} did not exit\nstdout: ${stdout}\nstderr: ${stderr}`));
          }, options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited };
}

/**
 * Runs `azimds ...args` to completion with `env` (see cliEnv); `onStdout` sees the output so far as it
 * arrives. Killed, and the call fails, when still running after CLI_TIMEOUT_MS.
 */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  onStdout?: (all: string, child: ChildProcess) => void,
): Promise<Finished> {
  return spawnCli(args, env, { ...(onStdout ? { onStdout } : {}), timeoutMs: CLI_TIMEOUT_MS }).exited;
}

/** A long-running CLI (`azimds start ...`) that is ready. */
export interface StartedCli<T> {
  child: ChildProcess;
  /** What `until` returned from the output. */
  value: T;
  /** Everything printed so far. */
  stdout(): string;
  exited: Promise<Finished>;
}

/**
 * Starts `azimds ...args` and resolves once `until(stdout so far)` returns a value (a URL parsed from
 * the banner, ...). Fails when the process exits first, or is killed after CLI_TIMEOUT_MS without
 * being ready; once ready it runs until stopped (stopCli).
 */
export function startCli<T>(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  until: (stdout: string) => T | undefined,
): Promise<StartedCli<T>> {
  return new Promise((resolve, reject) => {
    let ready = false;
    let stdout = '';
    const { child, exited } = spawnCli(args, env, {
      onStdout: (all) => {
        stdout = all;
        if (ready) return;
        const value = until(all);
        if (value === undefined) return;
        ready = true;
        clearTimeout(timer);
        resolve({ child, value, stdout: () => stdout, exited });
      },
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`azimds ${args.join(' ')} was not ready in time\nstdout: ${stdout}`));
    }, CLI_TIMEOUT_MS);
    exited.then(
      (f) => {
        if (ready) return;
        clearTimeout(timer);
        reject(
          new Error(
            `azimds ${args.join(' ')} exited with ${f.code}\nstdout: ${f.stdout}\nstderr: ${f.stderr}`,
          ),
        );
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Sends `signal` to a started CLI and waits for it to exit. */
export function stopCli(started: StartedCli<unknown>, signal: NodeJS.Signals = 'SIGTERM'): Promise<Finished> {
  started.child.kill(signal);
  return started.exited;
}

/** Whether `port` on 127.0.0.1 can be listened on right now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port P such that P … P + size - 1 are free on 127.0.0.1 now: for `azimds start --port P`, whose
 * control API, proxy and ARM endpoint take P + 1, P + 2 and P + 3 (a lone free port's neighbours may
 * be anyone's).
 */
export async function freePortBlock(size = 4): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    let free = true;
    for (let i = 0; i < size && free; i++) free = await canListen(port + i);
    if (free) return port;
  }
  throw new Error(`no ${size} free ports in a row on 127.0.0.1`);
}

/** A port nothing listens on right now (on 127.0.0.1). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address && typeof address === 'object');
  return address.port;
}
