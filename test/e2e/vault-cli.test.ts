/**
 * `azimds vault list|set` against a running emulator (the built CLI, through the control API): names
 * and versions are printed, values never.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { assertCliBuilt, cliEnv, runCli } from '../support/cli.js';

describe('azimds vault', () => {
  let azimds: EmulatorHandle;
  let dir: string;
  let vault: string;
  before(async () => {
    assertCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'azimds-vault-cli-'));
    azimds = await startEmulator();
    vault = azimds.state.keyVaults.catalog.defaultVault()?.name as string;
  });
  after(async () => {
    await azimds.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[], extra: Record<string, string> = {}) =>
    runCli([...args, '--url', azimds.urls.control as string], cliEnv(join(dir, 'data'), extra));

  test('set reads the value from an environment variable and prints the new version only', async () => {
    const run = await cli(['vault', 'set', vault, 'api-key', '--env', 'KV_VALUE', '--tag', 'env=dev'], {
      KV_VALUE: 'very-secret-value',
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${vault}/api-key: version [0-9a-f]{32}\\n$`));
    const target = azimds.state.keyVaults.vault(vault);
    assert.ok(target);
    const got = azimds.state.keyVaults.secrets(target).get('api-key');
    assert.ok(got.ok);
    assert.equal(got.value.value, 'very-secret-value');
    assert.deepEqual(got.value.tags, { env: 'dev' });
  });

  test('list prints vaults, secret names and versions, never a value', async () => {
    const run = await cli(['vault', 'list']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^${vault}  RBAC  https://${vault}\\.vault\\.azure\\.net/`));
    assert.match(run.stdout, /sample-secret {2}1 version, latest [0-9a-f]{32}/);
    assert.ok(!run.stdout.includes('Hello from azimds'));
    assert.ok(!run.stdout.includes('very-secret-value'));
    const json = await cli(['vault', 'list', '--json']);
    assert.equal(JSON.parse(json.stdout)[0].name, vault);
  });

  test('set without exactly one value source is a usage error', async () => {
    const run = await cli(['vault', 'set', vault, 'x']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /exactly one of --value, --file, --env/);
  });
});
