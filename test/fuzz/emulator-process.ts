/**
 * An emulator in a child process with every surface of the fuzz table enabled on free loopback ports,
 * as users run it (`node dist/cli/main.js start --config ...`; run `npm run build` first), so that the
 * fuzzer and the soak see crashes as exits and measure the server's own RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Target } from './engine.js';
import { SURFACES } from './surfaces.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface EmulatorProcess {
  readonly targets: Target[];
  readonly pid: number;
  /** Resident set size of the emulator process now, in bytes (Linux /proc; 0 elsewhere). */
  rss(): number;
  alive(): boolean;
  /** Stops the process (SIGTERM) and removes its data directory. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      existing &&
      typeof existing === 'object'
    ) {
      deepMerge(existing as Record<string, unknown>, value as Record<string, unknown>);
    } else target[key] = value;
  }
}

/** Starts the emulator; resolves once every listener accepts connections. */
export async function startEmulatorProcess(extra: Record<string, unknown> = {}): Promise<EmulatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'azimds-fuzz-'));
  const imdsPort = await freePort();
  const controlPort = await freePort();
  const config: Record<string, unknown> = {
    logLevel: 'silent',
    dataDir: join(dir, 'data'),
    imds: { port: imdsPort },
    control: { port: controlPort },
    // Its own free port (IMDS + 2 could be taken); nothing leaves the machine (docs/proxy.md).
    proxy: { port: await freePort(), passthrough: false },
    identity: { userAssigned: [{ name: 'id-fuzz-a' }, { name: 'id-fuzz-b' }] },
    platforms: { arc: { tokenDir: join(dir, 'arc-tokens') } },
  };
  const ports: Record<string, number> = { imds: imdsPort, control: controlPort };
  for (const surface of SURFACES) {
    if (!surface.config) continue;
    const port = await freePort();
    ports[surface.name] = port;
    deepMerge(config, surface.config(port));
  }
  deepMerge(config, extra);
  const file = join(dir, 'azimds.json');
  writeFileSync(file, JSON.stringify(config));
  const child: ChildProcess = spawn(
    join(ROOT, 'node_modules/.bin/node'),
    [join(ROOT, 'dist/cli/main.js'), 'start', '--config', file],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AZIMDS_CONFIG: '' } },
  );
  let exited = false;
  let stderr = '';
  child.on('exit', () => {
    exited = true;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  child.stdout?.resume();
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`the emulator did not start in 60 s: ${stderr}`)),
      60_000,
    );
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('Press Ctrl-C to stop')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited (${code}) while starting: ${stderr}`));
    });
  });
  const pid = child.pid as number;
  return {
    pid,
    targets: SURFACES.filter((s) => ports[s.name] !== undefined).map((surface) => ({
      surface,
      host: '127.0.0.1',
      port: ports[surface.name] as number,
    })),
    rss: () => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
        return kb ? Number(kb) * 1024 : 0;
      } catch {
        return 0;
      }
    },
    alive: () => !exited,
    stop: async () => {
      if (!exited) {
        const done = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        if (!exited) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
