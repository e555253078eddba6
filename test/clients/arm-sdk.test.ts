/**
 * The real ARM SDKs (@azure/arm-resources, -compute, -network, -authorization, -msi), unchanged and
 * without any client option, with ManagedIdentityCredential: each scenario is one child process
 * (test/fixtures/arm-sdk.mjs) whose environment is only the proxy block (`handle.proxyEnv()`, what
 * `eval "$(azimds env)"` sets), so the SDKs call https://management.azure.com through azimds's proxy and
 * trust its local CA. RBAC allows a Reader to read, refuses its writes, lets an Owner write, and
 * refuses everything to an identity without a role (world.roleAssignments: []), as Azure does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type EmulatorHandle, type EmulatorOptions, startEmulator } from '../../src/server/emulator.js';
import { blockOnly } from '../support/proxy.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../fixtures/arm-sdk.mjs', import.meta.url));
const SUB = '3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const VM = { compute: { name: 'vm-sdk', subscriptionId: SUB, resourceGroupName: 'rg-sdk' } };

/** Runs one scenario of the fixture with only `azimds`'s proxy block in its environment. */
// biome-ignore lint/suspicious/noExplicitAny: the scenario's JSON is read field by field
async function scenario(azimds: EmulatorHandle, ...args: string[]): Promise<any> {
  const { stdout } = await run(
    process.execPath,
    [SCRIPT, args[0] as string, SUB, 'rg-sdk', ...args.slice(1)],
    {
      env: blockOnly(azimds.proxyEnv()),
      timeout: 120_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string);
}

async function emulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  return startEmulator({ vm: VM, ...options });
}

describe('ARM SDKs through the proxy block, RBAC allowing', () => {
  let azimds: EmulatorHandle;
  before(async () => {
    azimds = await emulator({
      identity: { userAssigned: [{ name: 'id-owner' }] },
      world: {
        roleAssignments: [
          { identity: 'vm-sdk', role: 'Reader' },
          { identity: 'id-owner', role: 'Owner', scope: `/subscriptions/${SUB}` },
        ],
      },
    });
  });
  after(() => azimds.close());

  const owner = () => azimds.state.identities.all().find((i) => i.name === 'id-owner');

  test("a Reader lists groups, resources, VMs, reads each NIC's private IP and the identities; its writes get 403 AuthorizationFailed", async () => {
    const out = await scenario(azimds, 'reader');
    assert.deepEqual(out.groups, ['rg-sdk']);
    assert.ok(out.types.includes('Microsoft.Compute/virtualMachines'), out.types.join());
    assert.ok(out.types.includes('Microsoft.KeyVault/vaults'), out.types.join());
    assert.deepEqual(out.vms, [
      {
        name: 'vm-sdk',
        vmId: azimds.state.machine.compute('vmId'),
        principalId: azimds.state.identities.current.systemAssigned?.principalId,
      },
    ]);
    assert.deepEqual(out.privateIps, ['10.0.0.4']);
    assert.deepEqual(out.identities, [
      {
        name: 'id-owner',
        clientId: owner()?.clientId,
        principalId: owner()?.principalId,
        tenantId: azimds.state.identities.tenantId,
      },
    ]);
    assert.deepEqual(out.createGroup, { ok: false, statusCode: 403, code: 'AuthorizationFailed' });
    assert.deepEqual(out.assignRole, { ok: false, statusCode: 403, code: 'AuthorizationFailed' });
  });

  test('an Owner creates a group, deletes it (polling its Location) and assigns Contributor to the VM', async () => {
    const principalId = azimds.state.identities.current.systemAssigned?.principalId as string;
    const out = await scenario(azimds, 'owner', owner()?.clientId as string, principalId);
    assert.equal(out.created, 'rg-by-owner');
    assert.equal(out.existsAfterCreate, true);
    assert.equal(out.existsAfterDelete, false);
    assert.equal(out.assigned.principalId, principalId);
    assert.match(out.assigned.roleDefinitionId, /\/roleDefinitions\/b24988ac-6180-42a0-ab88-20f7382dd24c$/);
    // The configured Reader on rg-sdk and the new Contributor, which lets the VM write there now.
    assert.equal(out.assignmentsOfPrincipal, 2);
    assert.ok(
      azimds.state.rbac.check({
        principalId,
        scope: `/subscriptions/${SUB}/resourceGroups/rg-sdk`,
        action: 'Microsoft.Resources/subscriptions/resourceGroups/write',
      }).allowed,
    );
  });
});

describe('ARM SDKs through the proxy block, no role assignment', () => {
  let azimds: EmulatorHandle;
  before(async () => {
    azimds = await emulator({ world: { roleAssignments: [] } });
  });
  after(() => azimds.close());

  test('the SDK surfaces 403 AuthorizationFailed for every call', async () => {
    const out = await scenario(azimds, 'denied');
    assert.deepEqual(out.groups, { ok: false, statusCode: 403, code: 'AuthorizationFailed' });
    assert.deepEqual(out.resources, { ok: false, statusCode: 403, code: 'AuthorizationFailed' });
  });
});
