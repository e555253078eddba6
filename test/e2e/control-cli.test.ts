/**
 * The CLI commands that act on a running emulator (`faults`, `logs`, `clock`, `events`, `vm`, `reset`)
 * against a real `azimds start` (dist/, built by `npm test`; run `npm run build` first when running this
 * file alone). They find the control API from the same --port/--config as `start`, or --url.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCliBuilt, cliEnv, type Finished, freePortBlock, runCli, startCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'azimds-control-cli-'));

/** Spawns `azimds ...args` to completion; `onStdout` sees output as it arrives. */
function spawnCli(args: string[], onStdout?: (all: string, child: ChildProcess) => void): Promise<Finished> {
  return runCli(args, cliEnv(join(dir, 'data')), onStdout);
}

/** Runs a command to completion and asserts exit 0. */
async function ok(args: string[]): Promise<string> {
  const r = await spawnCli(args);
  assert.equal(r.code, 0, `azimds ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

interface Emulator {
  child: ChildProcess;
  imds: string;
  control: string;
  exited: Promise<Finished>;
}

/** `azimds start ...args`, resolved once it printed its URLs. */
async function start(args: string[]): Promise<Emulator> {
  const started = await startCli(
    ['start', '--log-level', 'warn', ...args],
    cliEnv(join(dir, 'data')),
    (out) => {
      const imds = /AZURE_POD_IDENTITY_AUTHORITY_HOST=(\S+)/.exec(out)?.[1];
      const control = /Control API\s+(\S+)/.exec(out)?.[1];
      return imds && control ? { imds, control } : undefined;
    },
  );
  return { child: started.child, ...started.value, exited: started.exited };
}

const get = (url: string, headers: Record<string, string> = { Metadata: 'true' }) => fetch(url, { headers });
/** The scheduled-events document of a running emulator. */
async function scheduledEvents(base: string) {
  const res = await get(`${base}/metadata/scheduledevents?api-version=2020-07-01`);
  return (await res.json()) as { Events: Array<{ EventId: string; EventType: string; EventStatus: string }> };
}

before(() => assertCliBuilt());
after(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI commands on an emulator started with --port', () => {
  let emu: Emulator;
  let port: string;
  before(async () => {
    port = String(await freePortBlock());
    emu = await start(['--port', port]);
  });
  after(async () => {
    emu.child.kill('SIGTERM');
    await emu.exited;
  });

  test('start prints the control API on the IMDS port + 1', () => {
    assert.equal(emu.control, `http://127.0.0.1:${Number(port) + 1}`);
  });

  test('faults add with the same --port makes IMDS fail once, faults list shows the hit, faults clear removes it', async () => {
    const added = await ok([
      'faults',
      'add',
      '--port',
      port,
      '--path',
      '/metadata/identity/oauth2/token',
      '--status',
      '429',
      '--once',
    ]);
    assert.match(added, /^added f\d+ .*status 429 \(Retry-After 1\)/);
    const token = `${emu.imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`;
    const first = await get(token);
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '1');
    assert.equal((await get(token)).status, 200);
    const listed = JSON.parse(await ok(['faults', 'list', '--port', port, '--json']));
    assert.deepEqual(
      listed.map((f: { hits: number; expired: boolean }) => [f.hits, f.expired]),
      [[1, true]],
    );
    assert.match(await ok(['faults', 'clear', '--port', port]), /cleared/);
    assert.equal(await ok(['faults', 'list', '--port', port]), 'no fault rules\n');
  });

  test('faults add without an effect exits 1 with the reason from the control API', async () => {
    const r = await spawnCli(['faults', 'add', '--port', port, '--path', '/x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /a rule needs status, reset, throttle or latencyMs/);
  });

  test('faults add with a status Azure does not send exits 2 (bad usage)', async () => {
    const r = await spawnCli(['faults', 'add', '--port', port, '--status', '418']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /404, 410, 429, 500, 503/);
  });

  test('logs prints the requests served, with secrets redacted', async () => {
    await get(`${emu.imds}/metadata/instance?api-version=2021-02-01&client_secret=hunter2`);
    const text = await ok(['logs', '--port', port, '--limit', '1']);
    assert.match(
      text,
      /imds GET \/metadata\/instance\?api-version=2021-02-01&client_secret=\[redacted\] 200 /,
    );
    assert.ok(!text.includes('hunter2'));
    const json = (await ok(['logs', '--port', port, '--json']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(json.length >= 1);
    assert.equal(json.at(-1).path, '/metadata/instance');
  });

  test('logs --follow prints requests made after it started, and exits 0 on SIGINT', async () => {
    const marker = '/metadata/instance/compute/name?api-version=2021-02-01&format=text';
    // --limit 0 prints nothing at first; keep sending the marker request until the follower prints it.
    const sender = setInterval(() => void get(`${emu.imds}${marker}`), 200);
    try {
      const r = await spawnCli(['logs', '--follow', '--port', port, '--limit', '0'], (out, child) => {
        if (out.includes('/metadata/instance/compute/name')) child.kill('SIGINT');
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /imds GET \/metadata\/instance\/compute\/name\?api-version=2021-02-01&format=text 200/,
      );
    } finally {
      clearInterval(sender);
    }
  });

  test('clock advance moves the emulator clock; clock reset returns to real time', async () => {
    assert.match(await ok(['clock', 'advance', '10m', '--port', port]), /\(real time \+10m\)/);
    assert.match(await ok(['clock', '--port', port]), /\(real time \+10m\)/);
    assert.match(await ok(['clock', 'reset', '--port', port]), /\(real time\)/);
  });

  test('events add schedules a Reboot the VM sees; events approve starts it', async () => {
    const added = await ok([
      'events',
      'add',
      '--type',
      'Reboot',
      '--not-before',
      '+5m',
      '--port',
      port,
      '--json',
    ]);
    const event = JSON.parse(added);
    assert.equal(event.status, 'Scheduled');
    const doc = await scheduledEvents(emu.imds);
    assert.equal(doc.Events[0]?.EventId, event.id);
    assert.equal(doc.Events[0]?.EventType, 'Reboot');
    assert.match(await ok(['events', 'list', '--port', port]), new RegExp(`${event.id}  Reboot  Scheduled`));
    assert.match(await ok(['events', 'approve', event.id, '--port', port]), /Started/);
    const after = await scheduledEvents(emu.imds);
    assert.equal(after.Events[0]?.EventStatus, 'Started');
    assert.match(await ok(['events', 'cancel', event.id, '--port', port]), /cancelled/);
  });

  test('vm patch changes what IMDS serves, and reset restores the configured VM', async () => {
    const tags = `${emu.imds}/metadata/instance/compute/tags?api-version=2021-02-01&format=text`;
    const configured = await (await get(tags)).text();
    await ok(['vm', 'patch', '{"compute":{"tags":{"team":"payments"}}}', '--port', port]);
    assert.equal(await (await get(tags)).text(), `${configured};team:payments`);
    assert.match(await ok(['reset', '--port', port]), /reset/);
    assert.equal(await (await get(tags)).text(), configured);
  });

  test('--url reaches the control API directly', async () => {
    assert.match(await ok(['clock', '--url', emu.control]), /real time/);
  });
});

describe('CLI commands on an emulator started with --config', () => {
  test('reach the control API at the port the config file sets', async () => {
    const [imdsPort, controlPort] = [await freePortBlock(), await freePortBlock()];
    const file = join(dir, 'azimds.yaml');
    writeFileSync(file, `imds:\n  port: ${imdsPort}\ncontrol:\n  port: ${controlPort}\n`);
    const emu = await start(['--config', file]);
    try {
      assert.equal(emu.control, `http://127.0.0.1:${controlPort}`);
      assert.match(
        await ok(['faults', 'add', '--config', file, '--status', '503', '--path', '/metadata/versions']),
        /added/,
      );
      assert.equal((await get(`${emu.imds}/metadata/versions`)).status, 503);
    } finally {
      emu.child.kill('SIGTERM');
      await emu.exited;
    }
  });
});

describe('CLI commands with no emulator running', { concurrency: true }, () => {
  for (const args of [
    ['faults', 'list'],
    ['logs'],
    ['clock', 'advance', '1m'],
    ['events', 'list'],
    ['reset'],
  ]) {
    test(`${args.join(' ')} exits 1 and says nothing is running there`, async () => {
      const port = String(await freePortBlock());
      const r = await spawnCli([...args, '--port', port]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`no azimds emulator is running at http://127\\.0\\.0\\.1:${Number(port) + 1}`),
      );
      assert.match(r.stderr, /--config\/--host\/--port, or --url/);
    });
  }
});
