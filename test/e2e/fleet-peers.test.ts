/**
 * Seed 000 end to end (docs/fleet.md): three VMs in one resource group, each running the same
 * peer-discovery program (test/fixtures/peer-discovery.mjs: @azure/identity, @azure/arm-compute,
 * @azure/arm-network, unchanged) in a child process whose environment is only `handle.vm(name).env()`
 * (what `azimds env --vm NAME` prints). Each gets its own identity's token, lists the VMs of its
 * resource group and reads every peer's private IP from its NIC; a VM whose identity holds no role is
 * refused with ARM's AuthorizationFailed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';

const run = promisify(execFile);
const PROGRAM = fileURLToPath(new URL('../fixtures/peer-discovery.mjs', import.meta.url));
const VMS = ['lxHaServerVm0', 'lxHaServerVm1', 'lxHaServerVm2'];
const GROUP = 'LinuxHaWithUdrs';

interface Discovery {
  self: string;
  oid: string;
  peers?: Array<{ name: string; privateIp: string }>;
  error?: string;
  statusCode?: number;
}

/** Runs the program as VM `name`: a clean environment but for PATH and the VM's block. */
async function discoverAs(azimds: EmulatorHandle, name: string): Promise<Discovery> {
  const env = await azimds.vm(name).env();
  const { stdout } = await run(process.execPath, [PROGRAM], {
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Discovery;
}

describe('seed 000: peers discover each other through IMDS, managed identity and ARM', () => {
  let azimds: EmulatorHandle;
  before(async () => {
    azimds = await startEmulator({
      vm: { compute: { resourceGroupName: GROUP } },
      fleet: {
        vms: VMS.map((name) => ({ compute: { name, resourceGroupName: GROUP }, network: {} })),
      },
      // The first two VMs' identities read the group; the third holds no role.
      world: { roleAssignments: VMS.slice(0, 2).map((identity) => ({ identity, role: 'Reader' })) },
      proxy: { enabled: true, port: 0 },
    } as never);
  });
  after(() => azimds.close());

  test('each VM gets its own token and sees the other two with their private IPs', async () => {
    const expected = VMS.map((name) => ({
      name,
      privateIp: azimds.vm(name).member.privateIpAddress,
    }));
    assert.equal(new Set(expected.map((e) => e.privateIp)).size, 3);
    const results = await Promise.all(VMS.slice(0, 2).map((name) => discoverAs(azimds, name)));
    for (const [i, result] of results.entries()) {
      const name = VMS[i] as string;
      assert.equal(result.self, name);
      assert.equal(result.oid, azimds.vm(name).state.identities.current.systemAssigned?.principalId);
      assert.deepEqual(
        [...(result.peers ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
        expected,
        `${name} sees every VM of its group with its private IP`,
      );
    }
    assert.notEqual(results[0]?.oid, results[1]?.oid);
  });

  test('a VM whose identity holds no role assignment is refused (AuthorizationFailed, 403)', async () => {
    const name = VMS[2] as string;
    const result = await discoverAs(azimds, name);
    assert.equal(result.self, name);
    assert.equal(result.oid, azimds.vm(name).state.identities.current.systemAssigned?.principalId);
    assert.equal(result.error, 'AuthorizationFailed');
    assert.equal(result.statusCode, 403);
  });
});
