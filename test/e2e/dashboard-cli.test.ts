/**
 * `azimds start` prints the dashboard's URL; `azimds dashboard` prints it for a running emulator and
 * opens it only where there is a display (none here: DISPLAY and WAYLAND_DISPLAY are removed), and
 * exits 1 when nothing runs there. Uses the built CLI (dist/; `npm run build` first when run alone).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { browserOpener } from '../../src/cli/commands/dashboard.js';
import { assertCliBuilt, cliEnv, runCli, type StartedCli, startCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'azimds-dashboard-cli-'));
const env = () => {
  const e = cliEnv(join(dir, 'data'));
  delete e.DISPLAY;
  delete e.WAYLAND_DISPLAY;
  return e;
};

before(() => assertCliBuilt());
after(() => rmSync(dir, { recursive: true, force: true }));

describe('azimds dashboard', () => {
  let started: StartedCli<string>;
  before(async () => {
    started = await startCli(
      ['start', '--port', '0', '--log-level', 'warn'],
      env(),
      (out) => /Dashboard\s+(\S+)/.exec(out)?.[1],
    );
  });
  after(async () => {
    started.child.kill('SIGTERM');
    await started.exited;
  });

  test('start prints the dashboard URL, which serves the page', async () => {
    assert.match(started.value, /^http:\/\/127\.0\.0\.1:\d+\/dashboard$/);
    const res = await fetch(started.value);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<title>azimds dashboard<\/title>/);
  });

  test('prints the URL of a running emulator when there is no display', async () => {
    const control = started.value.replace(/\/dashboard$/, '');
    const r = await runCli(['dashboard', '--url', control], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${started.value}\n`);
  });

  test('exits 1 and says so when no emulator runs there', async () => {
    const r = await runCli(['dashboard', '--url', 'http://127.0.0.1:9'], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no azimds emulator is running at http:\/\/127\.0\.0\.1:9/);
  });
});

describe('the browser opener', () => {
  test('is open on macOS, start on Windows, xdg-open with a display, none without', () => {
    const url = 'http://127.0.0.1:8170/dashboard';
    assert.equal(browserOpener(url, 'darwin', {})?.command, 'open');
    assert.deepEqual(browserOpener(url, 'win32', {})?.args, ['/c', 'start', '""', url]);
    assert.equal(browserOpener(url, 'linux', { DISPLAY: ':0' })?.command, 'xdg-open');
    assert.equal(browserOpener(url, 'linux', { WAYLAND_DISPLAY: 'wayland-0' })?.command, 'xdg-open');
    assert.equal(browserOpener(url, 'linux', {}), undefined);
  });
});
