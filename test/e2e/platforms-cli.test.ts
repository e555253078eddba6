/**
 * The platforms from the command line, as users run them: `azimds start --platform ...` lists each
 * platform in its banner, and `azimds env --platform <name>` run in another process (same flags)
 * prints variables that work against it — the generated secret included, read from dataDir. Uses the
 * built CLI (dist/cli/main.js, built by `npm test`; run `npm run build` first when running this file alone).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { cliEnv, freePort, runCli, startCli, stopCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'azimds-platforms-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  return runCli(args, cliEnv(join(dir, 'data')));
}

/** Starts `azimds start ...`; resolves with its stdout (`value`) once the banner is out. */
function start(args: string[]) {
  return startCli(['start', '--log-level', 'warn', ...args], cliEnv(join(dir, 'data')), (out) =>
    out.includes('Press Ctrl-C to stop.') ? out : undefined,
  );
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
    const started = await start([...flags, '--platform', 'app-service,azure-ml']);
    const banner = started.value;
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
      await stopCli(started);
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
