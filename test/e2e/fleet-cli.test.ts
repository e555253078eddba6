/**
 * The fleet from the CLI (docs/fleet.md): `azimds start --vms 3` (banner), `azimds env --vm NAME` (the
 * VM in the proxy URL's user part, its own IMDS port from the running emulator), `--vm` on the control
 * commands (`vm`, `events add/list`), `token --vm`, and an unknown name refused.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCliBuilt, cliEnv, type Finished, runCli, startCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'azimds-fleet-cli-'));
const env = cliEnv(join(dir, 'data'));

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port P with P .. P + 3 free (IMDS, control, ARM, proxy). */
async function freePorts(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const all = await Promise.all([0, 1, 2, 3].map((i) => listens(port + i)));
    if (all.every(Boolean)) return port;
  }
  throw new Error('no free ports');
}

async function ok(args: string[]): Promise<string> {
  const r: Finished = await runCli(args, env);
  assert.equal(r.code, 0, `azimds ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

before(() => assertCliBuilt());
after(() => rmSync(dir, { recursive: true, force: true }));

describe('azimds start --vms 3', () => {
  let child: ChildProcess;
  let exited: Promise<Finished>;
  let banner: string;
  let port: string;
  before(async () => {
    port = String(await freePorts());
    const started = await startCli(
      ['start', '--log-level', 'warn', '--port', port, '--vms', '3'],
      env,
      (out) => (/Press Ctrl-C/.test(out) ? out : undefined),
    );
    child = started.child;
    exited = started.exited;
    banner = started.value;
  });
  after(async () => {
    child.kill('SIGTERM');
    await exited;
  });

  test('the banner says how many VMs and how to become one', () => {
    assert.match(banner, /Fleet 3 VMs \(azimds-vm-01 … azimds-vm-03/);
    assert.match(banner, /azimds env --port \d+ --vms 3 --vm azimds-vm-02/);
  });

  test('env --vm: the VM in the proxy URL, AZURE_POD_IDENTITY_AUTHORITY_HOST at its own port, answering as it', async () => {
    const block = JSON.parse(
      await ok(['env', '--port', port, '--vm', 'azimds-vm-03', '--shell', 'json']),
    ) as Record<string, string>;
    assert.match(block.HTTPS_PROXY ?? '', /^http:\/\/azimds-vm-03@127\.0\.0\.1:\d+$/);
    const own = block.AZURE_POD_IDENTITY_AUTHORITY_HOST as string;
    assert.notEqual(own, `http://127.0.0.1:${port}`);
    const res = await fetch(`${own}/metadata/instance/compute/name?api-version=2021-02-01&format=text`, {
      headers: { Metadata: 'true' },
    });
    assert.equal(await res.text(), 'azimds-vm-03');
    const direct = JSON.parse(
      await ok(['env', '--port', port, '--vm', 'azimds-vm-03', '--direct', '--shell', 'json']),
    ) as Record<string, string>;
    assert.equal(direct.AZURE_POD_IDENTITY_AUTHORITY_HOST, own);
    assert.equal(direct.HTTPS_PROXY, undefined);
  });

  test('--vm on vm, events add/list and token', async () => {
    const vm = JSON.parse(await ok(['vm', '--port', port, '--vm', 'azimds-vm-02'])) as {
      compute: { name: string };
    };
    assert.equal(vm.compute.name, 'azimds-vm-02');
    assert.match(
      await ok(['events', 'add', '--port', port, '--vm', 'azimds-vm-02', '--type', 'Freeze']),
      /Freeze/,
    );
    assert.match(await ok(['events', 'list', '--port', port, '--vm', 'azimds-vm-02']), /Freeze/);
    assert.doesNotMatch(await ok(['events', 'list', '--port', port]), /Freeze/);
    const token = (
      await ok(['token', '--port', port, '--vm', 'azimds-vm-02', '-r', 'https://management.azure.com/'])
    ).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
      xms_mirid: string;
    };
    assert.match(claims.xms_mirid, /virtualMachines\/azimds-vm-02$/);
  });

  test('an unknown VM is refused with its name', async () => {
    const r = await runCli(['env', '--port', port, '--vm', 'nope'], env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no VM named "nope"/);
  });
});
