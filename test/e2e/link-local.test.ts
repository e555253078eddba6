/**
 * docs/binding.md, run for real: a private network namespace with 169.254.169.254 on its loopback,
 * `azimds start --host 169.254.169.254 --port 80` inside it (`ip netns exec`), and clients in the same
 * namespace that hard-code http://169.254.169.254/ with no configuration at all. Needs Linux, root and
 * iproute2's `ip`; skipped with the reason otherwise. The namespace is always deleted.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(root, 'node_modules/.bin/node');
const CLI = join(root, 'dist/cli/main.js');
const NS = `azimds-test-${process.pid}-${randomBytes(3).toString('hex')}`;
/** Generous: only a hung process reaches it (no timing assertion). */
const TIMEOUT_MS = 20_000;

function has(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why this machine cannot run the test, or false when it can. */
function whyNot(): string | false {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns add, port 80)';
  if (!has('ip', ['-V'])) return 'needs `ip` from iproute2 (apt-get install iproute2)';
  // Root is not always enough (a container without CAP_SYS_ADMIN): try once with a throwaway name.
  const probe = `${NS}-probe`;
  if (!has('ip', ['netns', 'add', probe]))
    return 'cannot create a network namespace here (ip netns add failed)';
  has('ip', ['netns', 'delete', probe]);
  return false;
}

const skip = whyNot();

/** Clients run with nothing that could send them elsewhere: no proxy and no azimds/Azure variables. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AZIMDS_|AZURE_|IDENTITY_|MSI_|IMDS_)|_proxy$|_PROXY$/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs a command inside the namespace to completion. */
async function inNamespace(command: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', NS, command, ...args], {
    env: cleanEnv(),
    timeout: TIMEOUT_MS,
  });
  return stdout;
}

/** A script for `node -e`: a GET with `fetch`, printing status and body as JSON. */
function fetchScript(path: string, headers: Record<string, string>): string {
  return `const r = await fetch(${JSON.stringify(`http://169.254.169.254${path}`)}, { headers: ${JSON.stringify(headers)} });
process.stdout.write(JSON.stringify({ status: r.status, type: r.headers.get('content-type'), body: await r.text() }));`;
}

describe('unmodified clients reach azimds on 169.254.169.254:80 in a network namespace', { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'azimds-link-local-'));
  let azimds: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let banner = '';

  before(async () => {
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', NS, 'addr', 'add', '169.254.169.254/32', 'dev', 'lo']);
    const child = spawn(
      'ip',
      // The real VM's layout in one command: IMDS on the link-local address, the legacy extension on
      // localhost (here on port 50343, the extension's `settings.port` in seed 004).
      [
        'netns',
        'exec',
        NS,
        NODE,
        CLI,
        'start',
        '--host',
        '169.254.169.254',
        '--port',
        '80',
        '--platform',
        'vm-extension',
        '--vm-extension-port',
        '50343',
      ],
      { env: cleanEnv({ AZIMDS_DATA_DIR: join(dataDir, 'data') }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    azimds = child;
    exited = new Promise((resolve) => child.once('exit', resolve));
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner\n${banner}\n${stderr}`)), TIMEOUT_MS);
      child.stdout.on('data', (d) => {
        banner += d;
        if (banner.includes('Press Ctrl-C to stop.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited?.then((code) => reject(new Error(`azimds start exited ${code}\n${banner}\n${stderr}`)));
    });
  });

  after(async () => {
    if (azimds && azimds.exitCode === null && azimds.signalCode === null) {
      azimds.kill('SIGKILL');
      await exited;
    }
    // Whatever happened above, the namespace goes (this also ends anything still running in it).
    for (const pid of execFileSync('ip', ['netns', 'pids', NS]).toString().split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    try {
      execFileSync('ip', ['netns', 'delete', NS], { stdio: 'ignore' });
    } catch {}
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('start prints the link-local URL on port 80', () => {
    assert.match(banner, /http:\/\/169\.254\.169\.254:80\/metadata\/instance\?api-version=/);
  });

  test('fetch to http://169.254.169.254/metadata/instance (no port, no variables) gets the document', async () => {
    const out = JSON.parse(
      await inNamespace(NODE, [
        '--input-type=module',
        '-e',
        fetchScript('/metadata/instance?api-version=2021-02-01', { Metadata: 'true' }),
      ]),
    );
    assert.equal(out.status, 200);
    assert.equal(out.type, 'application/json; charset=utf-8');
    const document = JSON.parse(out.body);
    assert.match(document.compute.vmId, /^[0-9a-f-]{36}$/);
    assert.ok(Array.isArray(document.network.interface));
  });

  test("a request without the Metadata header gets Azure's 400 there too", async () => {
    const out = JSON.parse(
      await inNamespace(NODE, [
        '--input-type=module',
        '-e',
        fetchScript('/metadata/instance?api-version=2021-02-01', {}),
      ]),
    );
    assert.equal(out.status, 400);
    assert.equal(out.body, '{"error":"Bad request. Required metadata header not specified"}');
  });

  test("curl as in Microsoft's docs reads a leaf as text", {
    skip: !has('curl', ['--version']) && 'curl is not installed',
  }, async () => {
    const vmId = await inNamespace('curl', [
      '-s',
      '--noproxy',
      '*',
      '-H',
      'Metadata:true',
      'http://169.254.169.254/metadata/instance/compute/vmId?api-version=2021-02-01&format=text',
    ]);
    assert.match(vmId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('the VM extension stays on localhost:50343 (not the link-local address), as on a VM', async () => {
    assert.match(banner, /http:\/\/127\.0\.0\.1:50343\/oauth2\/token/);
    const out = JSON.parse(
      await inNamespace(NODE, [
        '--input-type=module',
        '-e',
        `const r = await fetch('http://localhost:50343/oauth2/token', { method: 'POST', headers: { Metadata: 'true', 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'resource=https://management.azure.com' });
process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() }));`,
      ]),
    );
    assert.equal(out.status, 200, out.body);
    assert.equal(JSON.parse(out.body).resource, 'https://management.azure.com');
  });

  test('SIGTERM stops it with exit code 0', async () => {
    azimds?.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
