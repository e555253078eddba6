/**
 * The seed stories' ARM calls end to end over real sockets, as their scripts make them (curl-style
 * HTTP): a token from an azimds managed-identity endpoint, then ARM with it.
 * - seed 003: IMDS → token → list the resources of my resource group;
 * - seed 004: legacy VM extension token → PUT a resource group (the identity holds Contributor);
 * - seed 002: Arc challenge → token → list resources → find the key vault (and the Arc machine);
 * - seed 000: token → the VMs of my group → their IPs (one VM for now; the SDK version is in
 *   test/clients/arm-sdk.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';

const SUB = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';

let azimds: EmulatorHandle;
let arcDir: string;
before(async () => {
  arcDir = mkdtempSync(join(tmpdir(), 'azimds-arc-'));
  azimds = await startEmulator({
    vm: { compute: { name: 'vm-seed', subscriptionId: SUB, resourceGroupName: 'rg-seed' } },
    platforms: { arc: { enabled: true, tokenDir: arcDir }, vmExtension: { enabled: true } },
    world: {
      roleAssignments: [{ identity: 'vm-seed', role: 'Contributor', scope: `/subscriptions/${SUB}` }],
    },
  });
});
after(async () => {
  await azimds.close();
  rmSync(arcDir, { recursive: true, force: true });
});

async function arm(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${azimds.urls.arm}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: res.status,
    body: (await res.json()) as { value?: Array<Record<string, unknown>> } & Record<string, unknown>,
  };
}

describe('seed stories through ARM', () => {
  test('seed 003: IMDS token, then the resources of my resource group', async () => {
    const res = await fetch(
      `${azimds.urls.imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`,
      { headers: { Metadata: 'true' } },
    );
    const { access_token: token } = (await res.json()) as { access_token: string };
    const meta = (await (
      await fetch(`${azimds.urls.imds}/metadata/instance/compute?api-version=2021-02-01`, {
        headers: { Metadata: 'true' },
      })
    ).json()) as { subscriptionId: string; resourceGroupName: string };
    const list = await arm(
      'GET',
      `/subscriptions/${meta.subscriptionId}/resourceGroups/${meta.resourceGroupName}/resources?api-version=2021-04-01`,
      token,
    );
    assert.equal(list.status, 200);
    assert.ok(
      list.body.value?.some((r) => r.type === 'Microsoft.Compute/virtualMachines' && r.name === 'vm-seed'),
    );
  });

  test('seed 004: VM extension token (POST resource=https://management.azure.com), then PUT a resource group', async () => {
    const res = await fetch(`${azimds.urls.vmExtension}/oauth2/token`, {
      method: 'POST',
      headers: { Metadata: 'true', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'resource=https://management.azure.com',
    });
    assert.equal(res.status, 200);
    const { access_token: token } = (await res.json()) as { access_token: string };
    const put = await arm(
      'PUT',
      `/subscriptions/${SUB}/resourcegroups/rg-from-vm?api-version=2016-09-01`,
      token,
      { location: 'westeurope' },
    );
    assert.equal(put.status, 201);
    assert.equal(put.body.name, 'rg-from-vm');
  });

  test('seed 002: Arc challenge, token, list resources, find the key vault and the Arc machine', async () => {
    const url = `${azimds.urls.arc}/metadata/identity/oauth2/token?api-version=2019-11-01&resource=https://management.azure.com`;
    const challenge = await fetch(url, { headers: { Metadata: 'true' } });
    assert.equal(challenge.status, 401);
    const realm = /realm=(.+)$/.exec(challenge.headers.get('www-authenticate') ?? '')?.[1] as string;
    const secret = readFileSync(realm, 'utf8');
    const res = await fetch(url, { headers: { Metadata: 'true', Authorization: `Basic ${secret}` } });
    assert.equal(res.status, 200);
    const { access_token: token } = (await res.json()) as { access_token: string };
    const list = await arm(
      'GET',
      `/subscriptions/${SUB}/resources?$filter=${encodeURIComponent("resourceGroup eq 'rg-seed'")}&api-version=2021-04-01`,
      token,
    );
    const vault = list.body.value?.find((r) => r.type === 'Microsoft.KeyVault/vaults');
    assert.ok(vault);
    const got = await arm('GET', `${vault.id}?api-version=2022-07-01`, token);
    assert.match(
      String((got.body.properties as { vaultUri: string }).vaultUri),
      /^https:\/\/kv-azimds-[0-9a-f]{6}\.vault\.azure\.net\/$/,
    );
    const machine = list.body.value?.find((r) => r.type === 'Microsoft.HybridCompute/machines');
    const oid = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).oid;
    assert.ok(machine);
    assert.equal((machine.identity as { principalId: string }).principalId, oid);
  });

  test('seed 000: the VMs of my group and their private IPs', async () => {
    const res = await fetch(
      `${azimds.urls.imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/`,
      { headers: { Metadata: 'true' } },
    );
    const { access_token: token } = (await res.json()) as { access_token: string };
    const vms = await arm(
      'GET',
      `/subscriptions/${SUB}/resourceGroups/rg-seed/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01`,
      token,
    );
    const ips: string[] = [];
    for (const vm of vms.body.value ?? []) {
      const nics = (vm.properties as { networkProfile: { networkInterfaces: Array<{ id: string }> } })
        .networkProfile.networkInterfaces;
      for (const { id } of nics) {
        const nic = await arm('GET', `${id}?api-version=2024-05-01`, token);
        for (const c of (
          nic.body.properties as { ipConfigurations: Array<{ properties: { privateIPAddress: string } }> }
        ).ipConfigurations) {
          ips.push(c.properties.privateIPAddress);
        }
      }
    }
    assert.deepEqual(ips, ['10.0.0.4']);
  });
});
