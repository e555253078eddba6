/**
 * Issue 17 item 17, the CLI side: a data directory that cannot be written, a control port equal to
 * the IMDS port and key or certificate files that are not there are configuration errors (one message
 * naming the field, exit 2); a platform secrets file other users can read is refused like the key
 * file; `--print-config` never prints a platform secret.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCliBuilt, cliEnv, runCli } from '../support/cli.js';

describe('configuration errors exit 2 with one message naming the field', () => {
  let dir: string;
  before(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'azimds-config-safety-'));
    writeFileSync(join(dir, 'a-file'), 'not a directory');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const expectConfigError = async (args: string[], field: RegExp, env: Record<string, string> = {}) => {
    const run = await runCli(['start', '--port', '0', ...args], cliEnv(join(dir, 'data'), env));
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, field);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(run.stderr, /unexpected error/);
  };

  test('an unwritable or impossible --data-dir (under a file, under /proc)', async () => {
    await expectConfigError(
      ['--data-dir', join(dir, 'a-file', 'sub')],
      /^azimds: dataDir: cannot write to .*a-file\/sub/m,
    );
    await expectConfigError(
      ['--data-dir', '/proc/azimds-data-dir-test'],
      /^azimds: dataDir: cannot write to \/proc\//m,
    );
  });

  test('control.port equal to the IMDS port', async () => {
    const config = join(dir, 'ports.yaml');
    writeFileSync(config, 'imds: { port: 18169 }\ncontrol: { port: 18169 }\n');
    const run = await runCli(['start', '--config', config], cliEnv(join(dir, 'data')));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^azimds: .*ports\.yaml: control\.port: 18169 is also imds\.port/m);
  });

  test('a token signing key file or a Service Fabric certificate that does not exist', async () => {
    const config = join(dir, 'files.yaml');
    writeFileSync(
      config,
      `tokens: { keys: { privateKeyFile: ${join(dir, 'missing-key.pem')} } }\nplatforms: { serviceFabric: { enabled: true, port: 0, certificate: { certFile: ${join(dir, 'missing-cert.pem')}, keyFile: ${join(dir, 'missing-key2.pem')} } } }\n`,
    );
    const run = await runCli(['start', '--port', '0', '--config', config], cliEnv(join(dir, 'data')));
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /tokens\.keys\.privateKeyFile: no file at .*missing-key\.pem/);
    assert.match(
      run.stderr,
      /platforms\.serviceFabric\.certificate\.certFile: no file at .*missing-cert\.pem/,
    );
    assert.match(run.stderr, /platforms\.serviceFabric\.certificate\.keyFile: no file at/);
  });
});

describe('platform secrets', () => {
  let dir: string;
  before(() => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'azimds-platform-secrets-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('platform-secrets.json readable by other users is refused, naming the fix', async (t) => {
    if (process.platform === 'win32') return t.skip('POSIX modes');
    const file = join(dir, 'platform-secrets.json');
    writeFileSync(
      file,
      JSON.stringify({ appService: 'a'.repeat(36), serviceFabric: 'b'.repeat(36), azureMl: 'c'.repeat(36) }),
    );
    chmodSync(file, 0o666);
    const run = await runCli(['start', '--port', '0', '--platform', 'app-service'], {
      ...cliEnv(dir),
      AZIMDS_PLATFORMS_APPSERVICE_PORT: '0',
    });
    assert.notEqual(run.code, 0, run.stdout);
    assert.match(
      run.stderr,
      /platform-secrets\.json holds the platforms' secrets but other users can access it \(mode 666\); run: chmod 600/,
    );
    assert.doesNotMatch(run.stderr, /a{36}/, 'the secret is not printed');
  });

  test('--print-config redacts platforms.<name>.secret', async () => {
    const config = join(dir, 'secret.yaml');
    writeFileSync(config, 'platforms: { appService: { enabled: true, secret: super-secret-value-123 } }\n');
    const run = await runCli(['start', '--print-config', '--config', config], cliEnv(dir));
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stdout, /super-secret-value-123/);
    assert.match(run.stdout, /secret: "?\[redacted\]"?/);
  });
});
