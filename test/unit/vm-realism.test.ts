/**
 * A generated or configured VM is one Azure could have, and every config error says what is expected
 * (issue 17 B11): a Windows VM gets a Windows image, the SSH key is a real key (`ssh-keygen -l`
 * accepts it), every VM has a NIC (the Go simulator's `"interface": []` sample gets the generated one),
 * VM names follow Azure's rules, and no error says only "Invalid input".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { vmNameProblem } from '../../src/config/schema.js';
import type { JsonObject } from '../../src/core/machines/json.js';
import { Machine } from '../../src/core/machines/machine.js';
import { AzimdsError } from '../../src/errors.js';
import { ROOT } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'azimds-vm-realism-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function compute(input: Record<string, unknown> = {}): JsonObject {
  return new Machine(resolveConfig({ vm: { compute: input } }).vm).document.compute as JsonObject;
}

/** The config error of `input` (AzimdsError CONFIG_INVALID), or a failed assertion. */
function configError(input: Record<string, unknown>): string {
  try {
    resolveConfig(input);
  } catch (error) {
    assert.ok(error instanceof AzimdsError, String(error));
    return error.message;
  }
  assert.fail(`accepted: ${JSON.stringify(input)}`);
}

describe('the built-in VM is one Azure could have', () => {
  test('osType Windows gets a Windows Server image, no SSH keys, no Linux-only fields', () => {
    const windows = compute({ osType: 'Windows' });
    assert.equal(windows.publisher, 'MicrosoftWindowsServer');
    assert.equal(windows.offer, 'WindowsServer');
    assert.match(String(windows.sku), /datacenter/);
    const storage = windows.storageProfile as JsonObject;
    const image = storage.imageReference as JsonObject;
    assert.equal(image.publisher, 'MicrosoftWindowsServer');
    assert.equal((storage.osDisk as JsonObject).osType, 'Windows');
    assert.deepEqual(windows.publicKeys, []);
    assert.equal((windows.osProfile as JsonObject).disablePasswordAuthentication, '');
    // The configured image still wins.
    assert.equal(compute({ osType: 'Windows', publisher: 'MyPublisher' }).publisher, 'MyPublisher');
    assert.equal(compute().publisher, 'canonical');
  });

  test('the generated SSH public key is a real key: ssh-keygen -l accepts it, and it is stable', () => {
    const keys = compute().publicKeys as Array<{ keyData: string; path: string }>;
    const keyData = keys[0]?.keyData as string;
    assert.match(keyData, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ azureuser@azimds$/);
    assert.equal((compute().publicKeys as typeof keys)[0]?.keyData, keyData);
    assert.notEqual((compute({ name: 'other-vm' }).publicKeys as typeof keys)[0]?.keyData, keyData);
    const file = join(dir, 'key.pub');
    writeFileSync(file, `${keyData}\n`);
    const result = spawnSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' });
    assert.equal(result.error, undefined, 'ssh-keygen (openssh-client) is installed (.ci/run installs it)');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^256 SHA256:\S+ azureuser@azimds \(ED25519\)$/m);
  });

  test("docs/configuration.md's examples are accepted, the Go simulator's empty NIC list included", () => {
    const docs = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
    const blocks = [...docs.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    assert.ok(blocks.length >= 2);
    for (const block of blocks) {
      const input = JSON.parse(block.replace(/, "\.\.\.": "\.\.\."/g, ''));
      const config = resolveConfig(input);
      const nics = new Machine(config.vm).document.network as { interface: unknown[] };
      assert.ok(nics.interface.length >= 1, 'every VM has a NIC');
    }
  });

  test("azimds's own format says a VM needs a NIC when the list is empty", () => {
    assert.match(
      configError({ vm: { network: { interface: [] } } }),
      /vm\.network\.interface: a VM has at least one network interface/,
    );
  });
});

describe("VM names follow Azure's rules", () => {
  test('accepts what Azure accepts', () => {
    for (const name of ['web-01', 'a', 'vm.prod.01', 'x'.repeat(64)])
      assert.equal(vmNameProblem(name, 'Linux'), undefined, name);
    for (const name of ['WEB-01', 'x'.repeat(15)])
      assert.equal(vmNameProblem(name, 'Windows'), undefined, name);
    assert.equal(compute({ name: 'vm.prod.01' }).name, 'vm.prod.01');
  });

  test('refuses a space, special characters, a trailing period or hyphen, and too long names', () => {
    for (const [name, os, why] of [
      ['my vm', 'Linux', /" " is not allowed/],
      ['my_vm', 'Linux', /"_" is not allowed/],
      ['vm/01', 'Linux', /"\/" is not allowed/],
      ['vm-', 'Linux', /cannot end with a period or a hyphen/],
      ['vm.', 'Linux', /cannot end/],
      ['x'.repeat(65), 'Linux', /1-64/],
      ['x'.repeat(16), 'Windows', /1-15/],
      ['web.01', 'Windows', /cannot contain a period/],
      ['', 'Linux', /1-64/],
    ] as const) {
      assert.match(vmNameProblem(name, os) ?? 'accepted', why, `${os} ${JSON.stringify(name)}`);
    }
    assert.match(
      configError({ vm: { compute: { name: 'my vm' } } }),
      /vm\.compute\.name: a VM name is 1-64 letters/,
    );
  });
});

describe('every config error says what is expected', () => {
  test('no message is a bare "Invalid input"', () => {
    for (const [input, expected] of [
      [
        { vm: { compute: { tags: 42 } } },
        /vm\.compute\.tags: expected a map of tag names to values .* received number/,
      ],
      [
        { vm: { compute: { location: { city: 'x' } } } },
        /vm\.compute\.location: expected a string, number or boolean, received object/,
      ],
      [{ vm: { compute: { vmId: 'not-a-guid' } } }, /vm\.compute\.vmId: expected a GUID/],
      [{ vm: { compute: { userData: '!!' } } }, /vm\.compute\.userData: expected base64/],
      [
        { vm: { compute: { osType: 'Solaris' } } },
        /vm\.compute\.osType: .*expected one of "Linux"\|"Windows"/,
      ],
      [
        { vm: { network: { interface: [{ ipv4: { ipAddress: [{ privateIpAddress: '10.0.0' }] } }] } } },
        /expected an IPv4 address/,
      ],
      [
        {
          vm: {
            network: {
              interface: [{ ipv4: { ipAddress: [{ privateIpAddress: '10.0.0.4', publicIpAddress: 'x' }] } }],
            },
          },
        },
        /publicIpAddress: expected an IPv4 address/,
      ],
      [{ imds: { port: 'eighty' } }, /imds\.port: expected a port number/],
    ] as const) {
      const message = configError(input as Record<string, unknown>);
      assert.match(message, expected, message);
      assert.doesNotMatch(message, /: Invalid input$/m, message);
    }
  });

  test('a union without its own message lists what its branches expect', () => {
    assert.match(
      configError({ identity: { systemAssigned: 42 } }),
      /identity\.systemAssigned: expected boolean or object$/m,
    );
  });
});
