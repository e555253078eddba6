/**
 * Configuration: defaults, YAML and JSON files, the precedence flags > environment (AZIMDS_*) >
 * file > defaults, error messages that name the key path and its source, the VM section's
 * conversions and derived fields, and the Go IMDS simulator's config.json, accepted unchanged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../../src/config/defaults.js';
import { ENV_KEYS, loadConfig, type Override, resolveConfig } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/schema.js';
import { buildInstanceDocument } from '../../src/core/machines/instance-document.js';
import type { JsonObject } from '../../src/core/machines/json.js';
import { AzimdsError } from '../../src/errors.js';
import { startEmulator } from '../../src/server/emulator.js';

const dir = mkdtempSync(join(tmpdir(), 'azimds-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** Writes `text` to a fresh file named `*.<ext>` and returns its path. */
function file(ext: string, text: string): string {
  const path = join(dir, `config-${++files}.${ext}`);
  writeFileSync(path, text);
  return path;
}

const GO_CONFIG = fileURLToPath(new URL('../fixtures/go-simulator-config.json', import.meta.url));

/** The message of the AzimdsError `fn` throws (asserting its code). */
function configError(fn: () => unknown, code = 'CONFIG_INVALID'): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AzimdsError, `expected AzimdsError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error.message;
  }
  assert.fail('expected a configuration error');
}

function flag(path: string[], value: unknown, source: string): Override {
  return { path, value, source };
}

function compute(config: { vm: Parameters<typeof buildInstanceDocument>[0] }): JsonObject {
  return buildInstanceDocument(config.vm).compute as JsonObject;
}

describe('defaults', () => {
  test('an empty environment and no file give the documented defaults', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.host, DEFAULTS.host);
    assert.equal(config.logLevel, DEFAULTS.logLevel);
    assert.equal(config.dataDir, DEFAULTS.dataDir);
    assert.equal(config.imds.enabled, true);
    assert.equal(config.imds.port, 8169);
    assert.equal(config.imds.host, undefined);
    assert.equal(config.imds.strictMetadataHeader, false);
  });

  test("the rate limit is off by default, with Azure's 5 requests per second when switched on", () => {
    const { rateLimit } = loadConfig({ env: {} }).imds;
    assert.equal(rateLimit.enabled, false);
    assert.equal(rateLimit.requestsPerSecond, 5);
    assert.equal(rateLimit.burst, 5);
  });

  test('the zero-config VM is one realistic Linux VM with consistent, stable ids', () => {
    const c = compute(loadConfig({ env: {} }));
    assert.equal(c.osType, 'Linux');
    assert.equal(c.name, DEFAULTS.vm.name);
    assert.equal(c.vmSize, DEFAULTS.vm.vmSize);
    assert.equal(c.location, DEFAULTS.vm.location);
    assert.equal(c.zone, DEFAULTS.vm.zone);
    assert.equal(
      c.resourceId,
      `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroupName}/providers/Microsoft.Compute/virtualMachines/${c.name}`,
    );
    assert.deepEqual(compute(loadConfig({ env: {} })), c, 'same ids on every build');
    assert.equal((c.host as JsonObject).id, '');
    assert.equal((c.hostGroup as JsonObject).id, '');
  });

  test('library options listen on a free port and log nothing unless told', async () => {
    const emulator = await startEmulator();
    try {
      assert.equal(emulator.config.imds.port, 0);
      assert.equal(emulator.config.logLevel, 'silent');
      assert.match(emulator.urls.imds ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(emulator.urls.imds, 'http://127.0.0.1:0');
    } finally {
      await emulator.close();
    }
  });
});

describe('config files', () => {
  test('reads a YAML file', () => {
    const path = file(
      'yaml',
      'host: 0.0.0.0\nlogLevel: debug\nimds:\n  port: 9001\n  strictMetadataHeader: true\n',
    );
    const config = loadConfig({ file: path, env: {} });
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.imds.port, 9001);
    assert.equal(config.imds.strictMetadataHeader, true);
  });

  test('reads a .yml file', () => {
    assert.equal(loadConfig({ file: file('yml', 'imds: { port: 9002 }\n'), env: {} }).imds.port, 9002);
  });

  test('reads a JSON file', () => {
    const path = file('json', JSON.stringify({ imds: { port: 9003 }, vm: { compute: { name: 'json-vm' } } }));
    const config = loadConfig({ file: path, env: {} });
    assert.equal(config.imds.port, 9003);
    assert.equal(compute(config).name, 'json-vm');
  });

  test('reads JSON content from a YAML-named file (YAML is a superset of JSON)', () => {
    assert.equal(loadConfig({ file: file('yaml', '{"imds": {"port": 9004}}'), env: {} }).imds.port, 9004);
  });

  test('treats an empty file as no settings', () => {
    assert.equal(loadConfig({ file: file('yaml', ''), env: {} }).imds.port, 8169);
  });

  test('reports a missing file with CONFIG_NOT_FOUND and its path', () => {
    const message = configError(
      () => loadConfig({ file: join(dir, 'nope.yaml'), env: {} }),
      'CONFIG_NOT_FOUND',
    );
    assert.match(message, /nope\.yaml/);
  });

  test('reports invalid YAML on one line with the position', () => {
    const path = file('yaml', 'imds:\n  port: [\n');
    const message = configError(() => loadConfig({ file: path, env: {} }));
    assert.match(message, /not valid YAML/);
    assert.match(message, /line \d+/);
    assert.equal(message.includes('\n'), false, message);
  });

  test('reports invalid JSON', () => {
    const message = configError(() => loadConfig({ file: file('json', '{"imds": '), env: {} }));
    assert.match(message, /not valid JSON/);
  });

  test('rejects a file whose top level is not a mapping', () => {
    assert.match(
      configError(() => loadConfig({ file: file('yaml', '- a\n- b\n'), env: {} })),
      /top level must be a mapping/,
    );
    assert.match(
      configError(() => loadConfig({ file: file('yaml', 'just a string\n'), env: {} })),
      /top level/,
    );
  });
});

describe('precedence: flags > environment (AZIMDS_*) > file > defaults', () => {
  const path = file('yaml', 'host: 10.1.1.1\nlogLevel: warn\ndataDir: /from/file\nimds:\n  port: 1111\n');
  const env = {
    AZIMDS_HOST: '10.2.2.2',
    AZIMDS_PORT: '2222',
    AZIMDS_LOG_LEVEL: 'error',
    AZIMDS_DATA_DIR: '/from/env',
  };
  const flags = [
    flag(['host'], '10.3.3.3', '--host'),
    flag(['imds', 'port'], '3333', '--port'),
    flag(['logLevel'], 'debug', '--log-level'),
  ];

  test('the file overrides the defaults', () => {
    const config = loadConfig({ file: path, env: {} });
    assert.deepEqual(
      [config.host, config.imds.port, config.logLevel, config.dataDir],
      ['10.1.1.1', 1111, 'warn', '/from/file'],
    );
  });

  test('the environment overrides the file', () => {
    const config = loadConfig({ file: path, env });
    assert.deepEqual(
      [config.host, config.imds.port, config.logLevel, config.dataDir],
      ['10.2.2.2', 2222, 'error', '/from/env'],
    );
  });

  test('flags override the environment and the file', () => {
    const config = loadConfig({ file: path, env, flags });
    assert.deepEqual([config.host, config.imds.port, config.logLevel], ['10.3.3.3', 3333, 'debug']);
    assert.equal(
      config.dataDir,
      '/from/env',
      'no flag for dataDir: the environment still wins over the file',
    );
  });

  test('the environment overrides the defaults without a file', () => {
    assert.equal(loadConfig({ env: { AZIMDS_PORT: '4444' } }).imds.port, 4444);
  });

  test('an empty environment variable counts as unset', () => {
    assert.equal(loadConfig({ file: path, env: { AZIMDS_PORT: '' } }).imds.port, 1111);
  });

  test('an override keeps the rest of its section from the file', () => {
    const withSection = file('yaml', 'imds:\n  port: 1111\n  strictMetadataHeader: true\n');
    const config = loadConfig({ file: withSection, env: { AZIMDS_PORT: '2222' } });
    assert.equal(config.imds.port, 2222);
    assert.equal(config.imds.strictMetadataHeader, true);
  });

  test('environment variables other than AZIMDS_* are ignored', () => {
    assert.equal(loadConfig({ env: { PORT: '5555', IMDS_PORT: '5555' } }).imds.port, 8169);
  });
});

describe('environment variables', () => {
  test('docs/configuration.md lists every AZIMDS_* variable with the key it sets', () => {
    const docs = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');
    for (const { name, path } of ENV_KEYS) {
      assert.match(docs, new RegExp(`\\| \`${name}\` \\| \`${path.join('\\.')}\` \\|`), name);
    }
  });
});

describe('errors name the key path and where the bad value came from', () => {
  test('a bad flag: "--port: imds.port: ..."', () => {
    const message = configError(() =>
      loadConfig({ env: {}, flags: [flag(['imds', 'port'], 'abc', '--port')] }),
    );
    assert.match(message, /^--port: imds\.port: /);
    assert.match(message, /port/);
  });

  test('a bad environment variable: "AZIMDS_PORT: imds.port: ..."', () => {
    assert.match(
      configError(() => loadConfig({ env: { AZIMDS_PORT: '70000' } })),
      /^AZIMDS_PORT: imds\.port: /,
    );
  });

  test('a bad value in the file: "<file>: imds.port: ..."', () => {
    const path = file('yaml', 'imds:\n  port: -1\n');
    assert.equal(
      configError(() => loadConfig({ file: path, env: {} })).startsWith(`${path}: imds.port: `),
      true,
    );
  });

  test('a bad log level names logLevel', () => {
    assert.match(
      configError(() => loadConfig({ env: { AZIMDS_LOG_LEVEL: 'loud' } })),
      /^AZIMDS_LOG_LEVEL: logLevel: /,
    );
  });

  test('a bad value deep in the VM names the full path, array indexes included', () => {
    const path = file(
      'yaml',
      'vm:\n  network:\n    interface:\n      - ipv4:\n          ipAddress:\n            - privateIpAddress: not-an-ip\n',
    );
    assert.match(
      configError(() => loadConfig({ file: path, env: {} })),
      /vm\.network\.interface\[0\]\.ipv4\.ipAddress\[0\]\.privateIpAddress: /,
    );
  });

  test('a bad MAC address says what IMDS expects', () => {
    const message = configError(() =>
      resolveConfig({ vm: { network: { interface: [{ macAddress: '00:0d:3a:11:22:33' }] } } }),
    );
    assert.match(message, /vm\.network\.interface\[0\]\.macAddress: a MAC address is 12 hex digits/);
  });

  test('unknown keys are named, at the top level and inside sections', () => {
    assert.match(
      configError(() => resolveConfig({ prot: 1 })),
      /\(top level\): unknown key "prot"/,
    );
    assert.match(
      configError(() => resolveConfig({ imds: { prot: 1 } })),
      /imds: unknown key "prot"/,
    );
    assert.match(
      configError(() => resolveConfig({ vm: { compute: { vmSzie: 'x' } } })),
      /vm\.compute: unknown key "vmSzie"/,
    );
  });

  test('every problem gets its own line', () => {
    const message = configError(() =>
      resolveConfig({ imds: { port: 'x', strictMetadataHeader: 'yes' }, logLevel: 'loud' }),
    );
    const lines = message.split('\n');
    assert.equal(lines.length, 3, message);
    assert.ok(lines.some((l) => l.includes('imds.port')));
    assert.ok(lines.some((l) => l.includes('imds.strictMetadataHeader')));
    assert.ok(lines.some((l) => l.includes('logLevel')));
  });

  test('a vmId or subscriptionId that is not a UUID is refused', () => {
    assert.match(
      configError(() => resolveConfig({ vm: { compute: { vmId: 'abc' } } })),
      /vm\.compute\.vmId: /,
    );
    assert.match(
      configError(() => resolveConfig({ vm: { compute: { subscriptionId: 'abc' } } })),
      /vm\.compute\.subscriptionId: /,
    );
  });

  test('userData must be base64, as ARM requires', () => {
    assert.match(
      configError(() => resolveConfig({ vm: { compute: { userData: 'not base64!' } } })),
      /vm\.compute\.userData: /,
    );
  });
});

describe('the VM section', () => {
  test('numbers and booleans given for VM fields become strings, as IMDS serves them', () => {
    const config = resolveConfig({
      vm: {
        compute: {
          platformFaultDomain: 1,
          zone: 2,
          additionalCapabilities: { hibernationEnabled: true },
          storageProfile: { osDisk: { diskSizeGB: 128 }, dataDisks: [{ lun: 3, diskSizeGB: 1024 }] },
        },
        network: { interface: [{ ipv4: { subnet: [{ address: '10.9.0.0', prefix: 16 }] } }] },
      },
    });
    const doc = buildInstanceDocument(config.vm);
    const c = doc.compute as JsonObject;
    assert.equal(c.platformFaultDomain, '1');
    assert.equal(c.zone, '2');
    assert.deepEqual(c.additionalCapabilities, { hibernationEnabled: 'true' });
    const storage = c.storageProfile as { osDisk: JsonObject; dataDisks: JsonObject[] };
    assert.equal(storage.osDisk.diskSizeGB, '128');
    assert.equal(storage.dataDisks[0]?.lun, '3');
    assert.equal(storage.dataDisks[0]?.diskSizeGB, '1024');
    const nic = (doc.network as { interface: Array<{ ipv4: { subnet: JsonObject[] } }> }).interface[0];
    assert.deepEqual(nic?.ipv4.subnet[0], { address: '10.9.0.0', prefix: '16' });
  });

  test('tags given as a map become IMDS\'s "k:v;k2:v2" string and tagsList', () => {
    const c = compute(resolveConfig({ vm: { compute: { tags: { env: 'ci', tier: 2 } } } }));
    assert.equal(c.tags, 'env:ci;tier:2');
    assert.deepEqual(c.tagsList, [
      { name: 'env', value: 'ci' },
      { name: 'tier', value: '2' },
    ]);
  });

  test("tags given as IMDS's string are served as given and split into tagsList", () => {
    const c = compute(resolveConfig({ vm: { compute: { tags: 'env:ci;url:http://x:8080;empty:' } } }));
    assert.equal(c.tags, 'env:ci;url:http://x:8080;empty:');
    assert.deepEqual(c.tagsList, [
      { name: 'env', value: 'ci' },
      { name: 'url', value: 'http://x:8080' },
      { name: 'empty', value: '' },
    ]);
  });

  test('tagsList alone gives the tags string too', () => {
    const c = compute(resolveConfig({ vm: { compute: { tagsList: [{ name: 'a', value: '1' }] } } }));
    assert.equal(c.tags, 'a:1');
  });

  test('no tags at all is an empty string and an empty list', () => {
    const c = compute(resolveConfig({ vm: { compute: { tags: {} } } }));
    assert.equal(c.tags, '');
    assert.deepEqual(c.tagsList, []);
  });

  test('resourceId, disk ids and computerName follow the name, subscription and resource group', () => {
    const subscriptionId = '11111111-2222-4333-8444-555555555555';
    const c = compute(
      resolveConfig({ vm: { compute: { name: 'api-7', subscriptionId, resourceGroupName: 'rg-prod' } } }),
    );
    const group = `/subscriptions/${subscriptionId}/resourceGroups/rg-prod`;
    assert.equal(c.resourceId, `${group}/providers/Microsoft.Compute/virtualMachines/api-7`);
    assert.equal((c.osProfile as JsonObject).computerName, 'api-7');
    const storage = c.storageProfile as { osDisk: JsonObject; dataDisks: JsonObject[] };
    assert.ok(
      String((storage.osDisk.managedDisk as JsonObject).id).startsWith(
        `${group}/providers/Microsoft.Compute/disks/api-7_OsDisk_1`,
      ),
    );
    assert.equal(
      (storage.osDisk.managedDisk as JsonObject).id,
      `${group}/providers/Microsoft.Compute/disks/${storage.osDisk.name}`,
    );
    for (const disk of storage.dataDisks) {
      assert.equal(
        (disk.managedDisk as JsonObject).id,
        `${group}/providers/Microsoft.Compute/disks/${disk.name}`,
      );
    }
  });

  test('the generated vmId is stable for a VM and differs between VMs', () => {
    const a = compute(resolveConfig({ vm: { compute: { name: 'a' } } }));
    const again = compute(resolveConfig({ vm: { compute: { name: 'a' } } }));
    const b = compute(resolveConfig({ vm: { compute: { name: 'b' } } }));
    assert.equal(a.vmId, again.vmId);
    assert.notEqual(a.vmId, b.vmId);
  });

  test('a value given in the config is served as given, even a derived one', () => {
    const c = compute(
      resolveConfig({
        vm: { compute: { name: 'x', resourceId: '/custom/id', osProfile: { computerName: 'HOST-X' } } },
      }),
    );
    assert.equal(c.resourceId, '/custom/id');
    assert.deepEqual(c.osProfile, {
      adminUsername: 'azureuser',
      computerName: 'HOST-X',
      disablePasswordAuthentication: 'true',
    });
  });

  test('a Windows VM has no SSH keys and no disablePasswordAuthentication', () => {
    const c = compute(resolveConfig({ vm: { compute: { osType: 'Windows' } } }));
    assert.deepEqual(c.publicKeys, []);
    assert.equal((c.osProfile as JsonObject).disablePasswordAuthentication, '');
    assert.equal(((c.storageProfile as JsonObject).osDisk as JsonObject).osType, 'Windows');
  });

  test('an empty network interface list is refused (a VM has at least one NIC)', () => {
    assert.match(
      configError(() => resolveConfig({ vm: { network: { interface: [] } } })),
      /vm\.network\.interface: /,
    );
  });

  test('the JSON Schema of the config describes the sections', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown> };
    for (const key of ['host', 'logLevel', 'imds', 'vm']) assert.ok(key in schema.properties, key);
  });
});

describe("the Go IMDS simulator's config.json", () => {
  test('is accepted unchanged', () => {
    const config = loadConfig({ file: GO_CONFIG, env: {} });
    assert.equal(config.goSimulator?.tenantId, 'sometenant.onmicrosoft.com');
    assert.deepEqual(config.goSimulator?.servicePrincipals, {
      'deadbeef-efa9-42ea-9ac3-28a920370be6': 'ewewM/OblEL/WOJweC0=',
    });
  });

  test('its compute values are what IMDS serves', async () => {
    // The file's content as library options: the same translation as `azimds start --config`.
    const emulator = await startEmulator(JSON.parse(readFileSync(GO_CONFIG, 'utf8')));
    try {
      const res = await fetch(`${emulator.urls.imds}/metadata/instance/compute?api-version=2020-09-01`, {
        headers: { Metadata: 'true' },
      });
      assert.equal(res.status, 200);
      const served = (await res.json()) as Record<string, unknown>;
      const expected = {
        provider: 'Microsoft.Compute',
        tags: 'tag1:val2',
        azEnvironment: 'AzurePublicCloud',
        location: 'westeurope',
        subscriptionId: 'deadbeef-bee4-484b-bf13-d6a5505d2b51',
        resourceGroupName: 'spring',
        vmId: 'c7619932-27e3-4a63-988c-460bd290ca55',
        name: 'somevm',
        vmSize: 'Standard_D2s_v3',
        customData: '',
        placementGroupId: '',
        platformFaultDomain: '0',
        platformUpdateDomain: '0',
        osType: 'Linux',
        publisher: 'Canonical',
        offer: 'UbuntuServer',
        sku: '18.04-LTS',
        version: '18.04.201905290',
        vmScaleSetName: '',
        zone: '',
      };
      for (const [key, value] of Object.entries(expected)) assert.equal(served[key], value, key);
      // Fields the Go file does not have are generated consistently with the ones it has.
      assert.equal(
        served.resourceId,
        '/subscriptions/deadbeef-bee4-484b-bf13-d6a5505d2b51/resourceGroups/spring/providers/Microsoft.Compute/virtualMachines/somevm',
      );
      assert.deepEqual(served.tagsList, [{ name: 'tag1', value: 'val2' }]);
    } finally {
      await emulator.close();
    }
  });

  test('a file that mixes Go simulator keys with azimds keys is read as an azimds config', () => {
    const path = file('json', JSON.stringify({ tenantID: 't', imds: { port: 1 } }));
    assert.match(
      configError(() => loadConfig({ file: path, env: {} })),
      /unknown key "tenantID"/,
    );
  });
});
