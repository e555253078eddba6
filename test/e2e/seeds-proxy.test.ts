/**
 * The seed stories end to end as their users run them: curl, unchanged, in a child process whose
 * environment is only the proxy block (`handle.proxyEnv()`, what `eval "$(azimds env)"` sets), calling
 * Azure's own addresses (http://169.254.169.254, https://management.azure.com,
 * https://<vault>.vault.azure.net). The token endpoints of Arc and the VM extension are on loopback
 * (NO_PROXY), as on a real machine.
 * - seed 003: IMDS → token → list the resources of my resource group;
 * - seed 004: legacy VM extension token → PUT a resource group (the identity holds Contributor);
 * - seed 002: Arc challenge → token → list resources → find the key vault → vault token →
 *   `GET /secrets/<name>/?api-version=7.1`, and the same read refused as Azure refuses it without a role;
 * - seed 000: token → the VMs of my group → their private IPs (one VM for now).
 * The Arc challenge directory is a private temp directory instead of /var/opt/azcmagent/tokens (no sudo).
 * CI installs curl (.ci/run); elsewhere the tests say why they did not run.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { blockOnly } from '../support/proxy.js';

const run = promisify(execFile);
const hasCurl = spawnSync('curl', ['--version']).status === 0;
const skip = !hasCurl && !process.env.CI ? 'curl is not installed (.ci/run installs it in CI)' : false;

const SUB = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
const ARM = 'https://management.azure.com';
const SECRET = 'psql "host=db.example dbname=arc_pilot"';

interface CurlResponse {
  status: number;
  headers: string;
  // biome-ignore lint/suspicious/noExplicitAny: the seeds read the fields they need, of many shapes
  json: any;
}

describe('seed stories through the proxy block, with curl', { skip }, () => {
  let azimds: EmulatorHandle;
  let block: Record<string, string>;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'azimds-seeds-'));
    azimds = await startEmulator({
      vm: { compute: { name: 'vm-seed', subscriptionId: SUB, resourceGroupName: 'rg-seed' } },
      platforms: { arc: { enabled: true, tokenDir: join(dir, 'tokens') }, vmExtension: { enabled: true } },
      world: {
        roleAssignments: [
          { identity: 'vm-seed', role: 'Contributor', scope: `/subscriptions/${SUB}` },
          { identity: 'vm-seed', role: 'Key Vault Secrets User' },
        ],
      },
      keyVault: { secrets: { placeholder: [] } },
    });
    block = azimds.proxyEnv();
    // The lab's `az keyvault secret set` (by the operator, here through the core).
    const vault = azimds.state.keyVaults.vault(azimds.state.keyVaults.catalog.defaultVault()?.name ?? '');
    assert.ok(vault);
    azimds.state.keyVaults.secrets(vault).set('psql-cmd', { value: SECRET });
  });
  after(async () => {
    await azimds?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `curl -sS -D - ...args` with only the proxy block in its environment; the status, headers and JSON body. */
  async function curl(...args: string[]): Promise<CurlResponse> {
    const { stdout } = await run('curl', ['-sS', '-D', '-', ...args], { env: blockOnly(block) });
    // -D - prints every response's head (a proxy's CONNECT answer first): the last head is the answer's.
    const parts = stdout.split('\r\n\r\n');
    let index = 0;
    while (index + 1 < parts.length && /^HTTP\/[\d.]+ \d{3}/.test(parts[index + 1] ?? '')) index++;
    const head = parts[index] ?? '';
    const body = parts.slice(index + 1).join('\r\n\r\n');
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1]);
    return { status, headers: head, json: body ? JSON.parse(body) : undefined };
  }

  const bearer = (token: string) => ['-H', `Authorization: Bearer ${token}`];

  async function imdsToken(resource: string): Promise<string> {
    const res = await curl(
      '-H',
      'Metadata:true',
      `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}`,
    );
    assert.equal(res.status, 200);
    return res.json.access_token;
  }

  /** The lab's Arc flow: the challenge names a file, its content is the Basic credential. */
  async function arcToken(resource: string): Promise<string> {
    const url = `http://127.0.0.1:${new URL(azimds.urls.arc as string).port}/metadata/identity/oauth2/token?api-version=2019-11-01&resource=${encodeURIComponent(resource)}`;
    const challenge = await curl('-H', 'Metadata:true', url);
    assert.equal(challenge.status, 401);
    const path = /^www-authenticate: Basic realm=(\S+)/im.exec(challenge.headers)?.[1];
    assert.ok(path, challenge.headers);
    const res = await curl(
      '-H',
      'Metadata:true',
      '-H',
      `Authorization: Basic ${readFileSync(path, 'utf8')}`,
      url,
    );
    assert.equal(res.status, 200);
    return res.json.access_token;
  }

  test('seed 003: IMDS token, then the resources of my resource group', async () => {
    const token = await imdsToken('https://management.azure.com/');
    const compute = await curl(
      '-H',
      'Metadata:true',
      'http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01',
    );
    const rgId = `/subscriptions/${compute.json.subscriptionId}/resourceGroups/${compute.json.resourceGroupName}`;
    const list = await curl(...bearer(token), `${ARM}${rgId}/resources?api-version=2021-04-01`);
    assert.equal(list.status, 200);
    assert.ok(
      list.json.value.some(
        (r: { type: string; name: string }) =>
          r.type === 'Microsoft.Compute/virtualMachines' && r.name === 'vm-seed',
      ),
    );
  });

  test('seed 004: VM extension token (POST resource=https://management.azure.com), then PUT a resource group', async () => {
    const port = new URL(azimds.urls.vmExtension as string).port;
    const got = await curl(
      '--data',
      'resource=https://management.azure.com',
      `http://localhost:${port}/oauth2/token`,
      '-H',
      'Metadata:true',
    );
    assert.equal(got.status, 200);
    const put = await curl(
      '-X',
      'PUT',
      ...bearer(got.json.access_token),
      '-H',
      'Content-Type: application/json',
      '--data',
      '{"location": "West US"}',
      `${ARM}/subscriptions/${SUB}/resourcegroups/ExampleResourceGroup?api-version=2016-02-01`,
    );
    assert.equal(put.status, 201);
    assert.equal(put.json.name, 'ExampleResourceGroup');
  });

  test('seed 002: Arc challenge, token, list resources, find the key vault, vault token, read the secret', async () => {
    const token = await arcToken('https://management.azure.com');
    const list = await curl(
      ...bearer(token),
      '-H',
      'Content-Type: application/json',
      `${ARM}/subscriptions/${SUB}/resourceGroups/rg-seed/resources?api-version=2020-06-01`,
    );
    assert.equal(list.status, 200);
    const machine = list.json.value.find(
      (r: { type: string }) => r.type === 'Microsoft.HybridCompute/machines',
    );
    const oid = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).oid;
    assert.equal(machine?.identity?.principalId, oid);
    const kv = list.json.value.find((r: { type: string }) => r.type === 'Microsoft.KeyVault/vaults')?.name;
    assert.match(kv, /^kv-azimds-[0-9a-f]{8}$/);

    const vaultToken = await arcToken('https://vault.azure.net');
    const secretUrl = `https://${kv}.vault.azure.net/secrets/psql-cmd/?api-version=7.1`;
    const secret = await curl(
      '-X',
      'GET',
      ...bearer(vaultToken),
      '-H',
      'Content-Type: application/json',
      secretUrl,
    );
    assert.equal(secret.status, 200);
    assert.equal(secret.json.value, SECRET);

    // Without the role the same call fails as Azure's RBAC refuses it.
    const assignments = azimds.state.keyVaults.checker;
    azimds.state.keyVaults.useChecker({ check: () => ({ allowed: false, reason: 'no role' }) });
    try {
      const denied = await curl(...bearer(vaultToken), secretUrl);
      assert.equal(denied.status, 403);
      assert.equal(denied.json.error.code, 'Forbidden');
      assert.equal(denied.json.error.innererror.code, 'ForbiddenByRbac');
    } finally {
      azimds.state.keyVaults.useChecker(assignments);
    }
  });

  test('seed 000: the VMs of my group and their private IPs', async () => {
    const token = await imdsToken('https://management.azure.com/');
    const vms = await curl(
      ...bearer(token),
      `${ARM}/subscriptions/${SUB}/resourceGroups/rg-seed/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01`,
    );
    assert.equal(vms.status, 200);
    const ips: string[] = [];
    for (const vm of vms.json.value) {
      for (const { id } of vm.properties.networkProfile.networkInterfaces as Array<{ id: string }>) {
        const nic = await curl(...bearer(token), `${ARM}${id}?api-version=2024-05-01`);
        for (const c of nic.json.properties.ipConfigurations) ips.push(c.properties.privateIPAddress);
      }
    }
    assert.deepEqual(ips, ['10.0.0.4']);
  });
});
