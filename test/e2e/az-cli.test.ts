/**
 * The az CLI (Debian's azure-cli 2.45), unchanged, given only the proxy block (`handle.proxyEnv()`, what
 * `eval "$(azimds env)"` sets) and a private AZURE_CONFIG_DIR: `az login --identity` (IMDS at
 * 169.254.169.254, then ARM's /subscriptions), `az group list`, `az resource list -g`, `az rest`, and
 * `az group create`, refused as Azure refuses it for the zero-config Reader, then allowed once the
 * control API assigns Contributor. Debian's az cannot run `az vm list` or `az keyvault secret show`
 * (packaging bugs, reference arm-keyvault-entra.md §2.1), so those are not tried here.
 * CI installs azure-cli (.ci/run); elsewhere the test says why it did not run.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { blockOnly } from '../support/proxy.js';

const hasAz = spawnSync('az', ['version'], { stdio: 'ignore' }).status === 0;
const skip = !hasAz && !process.env.CI ? 'az is not installed (.ci/run installs azure-cli in CI)' : false;

describe('az CLI through the proxy block', { skip }, () => {
  let azimds: EmulatorHandle;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'azimds-az-'));
    azimds = await startEmulator();
  });
  after(async () => {
    await azimds?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `az ...args -o json`; resolves with its exit code, parsed stdout and stderr. */
  const az = (...args: string[]) =>
    new Promise<{ code: number; json: unknown; stderr: string }>((resolve) => {
      const env = blockOnly(azimds.proxyEnv(), {
        AZURE_CONFIG_DIR: join(dir, 'azure'),
        AZURE_CORE_COLLECT_TELEMETRY: 'no',
        AZURE_CORE_NO_COLOR: 'true',
      });
      execFile('az', [...args, '-o', 'json'], { env, timeout: 120_000 }, (error, stdout, stderr) => {
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          json: stdout.trim() ? JSON.parse(stdout) : undefined,
          stderr,
        });
      });
    });

  test('login --identity, group list, resource list -g, rest; group create refused for a Reader, allowed for a Contributor', async () => {
    const sub = azimds.state.machine.compute('subscriptionId');
    const group = azimds.state.machine.compute('resourceGroupName');

    const login = await az('login', '--identity');
    assert.equal(login.code, 0, login.stderr);
    const [account] = login.json as Array<{
      id: string;
      tenantId: string;
      user: { assignedIdentityInfo: string };
    }>;
    assert.equal(account?.id, sub);
    assert.equal(account?.tenantId, azimds.state.identities.tenantId);
    assert.equal(account?.user.assignedIdentityInfo, 'MSI');

    const groups = await az('group', 'list');
    assert.equal(groups.code, 0, groups.stderr);
    assert.deepEqual(
      (groups.json as Array<{ name: string }>).map((g) => g.name),
      [group],
    );

    const resources = await az('resource', 'list', '-g', group);
    assert.equal(resources.code, 0, resources.stderr);
    const types = (resources.json as Array<{ type: string }>).map((r) => r.type);
    assert.ok(types.includes('Microsoft.Compute/virtualMachines'), types.join());
    assert.ok(types.includes('Microsoft.KeyVault/vaults'), types.join());

    const rest = await az(
      'rest',
      '--method',
      'get',
      '--url',
      `https://management.azure.com/subscriptions/${sub}?api-version=2022-12-01`,
    );
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal((rest.json as { subscriptionId: string }).subscriptionId, sub);

    const refused = await az('group', 'create', '-n', 'rg-from-az', '-l', 'westeurope');
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /\(AuthorizationFailed\) The client '[0-9a-f-]{36}' with object id '[0-9a-f-]{36}' does not have authorization to perform action 'Microsoft\.Resources\/subscriptions\/resourceGroups\/write'/,
    );

    const assigned = await fetch(`${azimds.urls.control}/world/role-assignments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        identity: azimds.state.machine.compute('name'),
        role: 'Contributor',
        scope: `/subscriptions/${sub}`,
      }),
    });
    assert.equal(assigned.status, 201);
    const created = await az('group', 'create', '-n', 'rg-from-az', '-l', 'westeurope');
    assert.equal(created.code, 0, created.stderr);
    assert.equal((created.json as { name: string }).name, 'rg-from-az');
    assert.ok(azimds.state.world.resourceGroups().some((g) => g.name === 'rg-from-az'));
  });
});
