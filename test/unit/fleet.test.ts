import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { Fleet } from '../../src/core/fleet/fleet.js';
import { fleetMembers } from '../../src/core/fleet/members.js';
import type { JsonObject } from '../../src/core/machines/json.js';
import { Machine } from '../../src/core/machines/machine.js';
import { AzimdsError } from '../../src/errors.js';

/** `value`, asserted present. */
function present<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

function members(input: object) {
  const config = configSchema.parse(input);
  return fleetMembers(config.vm, config.fleet);
}

const compute = (m: Machine) => m.document.compute as JsonObject;
const nic = (m: Machine) => ((m.document.network as JsonObject).interface as JsonObject[])[0] as JsonObject;

describe('fleet members from config', () => {
  test('without a fleet, the single VM of `vm` is the only member, unchanged', () => {
    const [only, ...rest] = members({ vm: { compute: { name: 'web-01' } } });
    assert.equal(rest.length, 0);
    assert.equal(only?.name, 'web-01');
    assert.equal(only?.privateIpAddress, '10.0.0.4');
    assert.equal(compute(new Machine(present(only).vmConfig())).name, 'web-01');
  });

  test('count N gives N VMs named like the default VM, each with its own vmId, address and MAC, spread over zones', () => {
    const list = members({ fleet: { count: 3 } });
    assert.deepEqual(
      list.map((m) => m.name),
      ['azimds-vm-01', 'azimds-vm-02', 'azimds-vm-03'],
    );
    const machines = list.map((m) => new Machine(m.vmConfig()));
    assert.deepEqual(
      machines.map((m) => m.compute('zone')),
      ['1', '2', '3'],
    );
    assert.equal(new Set(machines.map((m) => m.compute('vmId'))).size, 3);
    assert.equal(new Set(machines.map((m) => nic(m).macAddress)).size, 3);
    const addresses = machines.map(
      (m) => (((nic(m).ipv4 as JsonObject).ipAddress as JsonObject[])[0] as JsonObject).privateIpAddress,
    );
    assert.deepEqual(addresses, ['10.0.0.4', '10.0.0.5', '10.0.0.6']);
    assert.deepEqual(
      list.map((m) => m.privateIpAddress),
      addresses,
    );
    // One resource group, the default VM's.
    assert.deepEqual(new Set(machines.map((m) => m.compute('resourceGroupName'))), new Set(['rg-azimds']));
  });

  test('scale set instances are <name>_<i> with the scale set in IMDS, sharing the template', () => {
    const list = members({
      fleet: {
        scaleSets: [{ name: 'vmss-web', count: 2, template: { compute: { vmSize: 'Standard_B2s' } } }],
      },
    });
    assert.deepEqual(
      list.map((m) => m.name),
      ['vmss-web_0', 'vmss-web_1'],
    );
    const m = new Machine(present(list[1]).vmConfig());
    assert.equal(m.compute('vmScaleSetName'), 'vmss-web');
    assert.equal(m.compute('vmSize'), 'Standard_B2s');
    assert.match(
      ((m.document.compute as JsonObject).virtualMachineScaleSet as JsonObject).id as string,
      /\/resourceGroups\/rg-azimds\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/vmss-web$/,
    );
    assert.equal(list[1]?.scaleSet, 'vmss-web');
  });

  test('listed VMs keep their own addresses; the others take free ones; availability sets spread fault domains', () => {
    const list = members({
      fleet: {
        vms: [
          {
            compute: { name: 'db-01' },
            network: { interface: [{ ipv4: { ipAddress: [{ privateIpAddress: '10.1.0.10' }] } }] },
          },
          { compute: { name: 'db-02' }, availabilitySet: 'avset-db' },
          { compute: { name: 'db-03' }, availabilitySet: 'avset-db' },
        ],
      },
    });
    assert.deepEqual(
      list.map((m) => m.privateIpAddress),
      ['10.1.0.10', '10.0.0.4', '10.0.0.5'],
    );
    const [, second, third] = list.map((m) => new Machine(m.vmConfig()));
    assert.deepEqual(
      [second?.compute('platformFaultDomain'), third?.compute('platformFaultDomain')],
      ['1', '0'],
    );
    assert.equal(second?.compute('zone'), '', 'availability sets and zones exclude each other');
    assert.equal(list[1]?.availabilitySet, 'avset-db');
  });

  test('a fleet of more than 251 VMs uses a /16 subnet, addresses continuing past x.x.x.255', () => {
    const list = members({ fleet: { count: 300 } });
    assert.equal(list[252]?.privateIpAddress, '10.0.1.0');
    const subnet = (
      (nic(new Machine(present(list[0]).vmConfig())).ipv4 as JsonObject).subnet as JsonObject[]
    )[0];
    assert.deepEqual(subnet, { address: '10.0.0.0', prefix: '16' });
  });

  test('two VMs with the same name (any case) are a config error naming both', () => {
    assert.throws(
      () => members({ fleet: { vms: [{ compute: { name: 'a-1' } }, { compute: { name: 'A-1' } }] } }),
      (e: unknown) =>
        e instanceof AzimdsError && e.code === 'CONFIG_INVALID' && /named "A-1"/.test(e.message),
    );
  });

  test('config refuses a listed VM without a name, a VM name with a space, and more VMs than the maximum', () => {
    assert.equal(configSchema.safeParse({ fleet: { vms: [{}] } }).success, false);
    assert.equal(
      configSchema.safeParse({ fleet: { scaleSets: [{ name: 'bad name', count: 1 }] } }).success,
      false,
    );
    const tooMany = configSchema.safeParse({ fleet: { count: 50_001 } });
    assert.equal(tooMany.success, false);
    assert.match(JSON.stringify(tooMany.error?.issues), /at most 50000/);
  });
});

describe('Fleet lookups', () => {
  test('finds a VM by name (any case) and by private address (IPv4-mapped too); builds its state once, on first use', () => {
    let built = 0;
    const fleet = new Fleet(members({ fleet: { count: 5 } }), (m) => {
      built++;
      return { machine: new Machine(m.vmConfig()) };
    });
    assert.equal(built, 0);
    const m = fleet.byName('AZIMDS-VM-04');
    assert.equal(m?.index, 3);
    assert.equal(fleet.byAddress('::ffff:10.0.0.7'), m);
    assert.equal(fleet.context(present(m)), fleet.context(present(m)));
    assert.equal(built, 1);
    assert.equal(fleet.byName('nope'), undefined);
    assert.equal(fleet.defaultMember.name, 'azimds-vm-01');
    assert.deepEqual(
      [...fleet.started()].map(([member]) => member.name),
      ['azimds-vm-04'],
    );
  });
});
