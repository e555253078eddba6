/**
 * Issue 10's "done means", as a user does it: `azimds start`, then in a fresh shell
 * `eval "$(azimds env ...)"` is the only step before a program that hard-codes Azure's addresses talks
 * to azimds. Also `azimds env` (every shell format) and `azimds ca`. Uses the built CLI (dist/).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  assertCliBuilt,
  CLI,
  cliEnv,
  freePort,
  NODE,
  runCli,
  type StartedCli,
  startCli,
  stopCli,
} from '../support/cli.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'azimds-proxy-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const hasCurl = await run('curl', ['--version']).then(
  () => true,
  () => false,
);

describe('azimds start + eval "$(azimds env)"', () => {
  const dataDir = join(scratch, 'data');
  const config = join(scratch, 'azimds.yaml');
  let started: StartedCli<string>;
  before(async () => {
    assertCliBuilt();
    // Every port from the file (free ones), so no derived port can meet another test's listener.
    const [imds, control, proxy] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      config,
      `imds: { port: ${imds} }\ncontrol: { port: ${control} }\nproxy: { port: ${proxy} }\n`,
    );
    started = await startCli(['start', '--config', config], cliEnv(dataDir), (out) =>
      out.includes('Press Ctrl-C to stop.') ? out : undefined,
    );
  });
  after(() => (started ? stopCli(started) : undefined));

  test('the banner shows the proxy and the one line to run', () => {
    assert.match(started.value, /Proxy {2}http:\/\/127\.0\.0\.1:\d+/);
    // `npx azimds` when started through npm (as under `npm test`), `azimds` otherwise.
    assert.ok(/eval "\$\((npx )?azimds env --config /.test(started.value), started.value);
    assert.ok(started.value.includes(`azimds env --config ${config})"`), started.value);
  });

  test('a fresh shell: eval, then curl to http://169.254.169.254 and https://login.microsoftonline.com', {
    skip: hasCurl || process.env.CI ? false : 'curl is not installed',
  }, async () => {
    const azimds = `'${NODE}' '${CLI}'`;
    const script = [
      'set -e',
      `eval "$(${azimds} env --config '${config}')"`,
      "curl -sS --fail -H Metadata:true 'http://169.254.169.254/metadata/instance/compute/name?api-version=2021-02-01&format=text'",
      'echo',
      'curl -sS --fail https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration | head -c 200',
    ].join('\n');
    // A fresh shell: PATH and HOME, the data directory the emulator uses, nothing else.
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AZIMDS_DATA_DIR: dataDir };
    const { stdout } = await run('bash', ['-c', script], { env });
    const [name, doc] = stdout.split('\n');
    assert.equal(name, 'azimds-vm-01');
    assert.match(doc ?? '', /"token_endpoint":"https:\/\/login\.microsoftonline\.com\//);
  });
});

describe('azimds env and azimds ca', () => {
  const dataDir = join(scratch, 'env-data');
  const env = cliEnv(dataDir);

  test('env prints the proxy block in every format; --direct the endpoint block', async () => {
    const bash = (await runCli(['env', '--shell', 'bash', '--port', '9123'], env)).stdout;
    assert.match(bash, /^export HTTP_PROXY=http:\/\/127\.0\.0\.1:9125\n/);
    assert.match(bash, /\nexport NO_PROXY=127\.0\.0\.1,localhost,::1\n/);
    assert.match(bash, /\nexport AZURE_POD_IDENTITY_AUTHORITY_HOST=http:\/\/127\.0\.0\.1:9123\n/);
    assert.ok(bash.includes(`export NODE_EXTRA_CA_CERTS=${join(dataDir, 'local-ca.crt')}\n`));
    assert.ok(bash.includes(`export REQUESTS_CA_BUNDLE=${join(dataDir, 'local-ca-bundle.pem')}\n`));
    const json = JSON.parse((await runCli(['env', '--shell', 'json'], env)).stdout);
    assert.deepEqual(Object.keys(json), [
      'HTTP_PROXY',
      'HTTPS_PROXY',
      'http_proxy',
      'https_proxy',
      'NO_PROXY',
      'no_proxy',
      'NODE_USE_ENV_PROXY',
      'AZURE_POD_IDENTITY_AUTHORITY_HOST',
      'NODE_EXTRA_CA_CERTS',
      'REQUESTS_CA_BUNDLE',
      'SSL_CERT_FILE',
      'CURL_CA_BUNDLE',
    ]);
    assert.equal(json.HTTPS_PROXY, 'http://127.0.0.1:8171');
    assert.match(
      (await runCli(['env', '--shell', 'pwsh'], env)).stdout,
      /^\$env:HTTP_PROXY = 'http:\/\/127\.0\.0\.1:8171'\n/,
    );
    assert.match(
      (await runCli(['env', '--shell', 'cmd'], env)).stdout,
      /^set "HTTP_PROXY=http:\/\/127\.0\.0\.1:8171"\n/,
    );
    assert.match(
      (await runCli(['env', '--shell', 'dotenv'], env)).stdout,
      /^HTTP_PROXY=http:\/\/127\.0\.0\.1:8171\n/,
    );
    assert.equal(
      (await runCli(['env', '--direct', '--shell', 'bash'], env)).stdout,
      'export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:8169\nexport NO_PROXY=127.0.0.1,localhost,169.254.169.254\n',
    );
  });

  test('ca prints the CA file, the bundle and the PEM; the files are owner-only', async () => {
    const { stdout, code } = await runCli(['ca'], env);
    assert.equal(code, 0);
    const certFile = join(dataDir, 'local-ca.crt');
    assert.ok(stdout.includes(certFile));
    assert.ok(stdout.includes(join(dataDir, 'local-ca-bundle.pem')));
    assert.ok(stdout.includes(readFileSync(certFile, 'utf8').trim()));
    assert.equal((await runCli(['ca', '--pem'], env)).stdout, readFileSync(certFile, 'utf8'));
    if (process.platform !== 'win32') {
      assert.equal(statSync(join(dataDir, 'local-ca.key')).mode & 0o777, 0o600);
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    }
  });
});
