/**
 * The world through the control API (list, add resource, assign role, remove), seen by ARM at once;
 * ARM reached as https://management.azure.com through the proxy, as clients reach it, and the request
 * log's record of ARM calls (no bearer kept).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { tokenFor } from '../support/arm.js';
import { viaAzure } from '../support/proxy.js';

const ARM = 'https://management.azure.com';

let azimds: EmulatorHandle;
before(async () => {
  azimds = await startEmulator({ world: { roleAssignments: [] } });
});
after(() => azimds.close());

async function control(method: string, path: string, body?: unknown) {
  const res = await fetch(`${azimds.urls.control}${path}`, {
    method,
    // As the CLI does: the control listener refuses body-less changes without its header (docs/control-api.md).
    headers: body === undefined ? { 'x-azimds-control': '1' } : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('control API /world', () => {
  test('shows the world: subscriptions, groups, the VM, the vault, no assignments', async () => {
    const { status, body } = await control('GET', '/world');
    assert.equal(status, 200);
    assert.equal(body.tenantId, azimds.state.identities.tenantId);
    assert.equal(body.subscriptions.length, 1);
    assert.ok(
      body.resources.some(
        (r: { type: string; origin: string }) =>
          r.type === 'Microsoft.Compute/virtualMachines' && r.origin === 'derived',
      ),
    );
    assert.equal(body.vaults.length, 1);
    assert.deepEqual(body.roleAssignments, []);
  });

  test('assign a role, add a resource, remove both: ARM (through the proxy) follows each change', async () => {
    const token = await tokenFor(azimds.state, 'azimds-vm-01');
    const sub = azimds.state.machine.compute('subscriptionId');
    const rgUrl = `${ARM}/subscriptions/${sub}/resourceGroups/rg-azimds/resources?api-version=2025-04-01`;
    const arm = () => viaAzure(azimds, 'GET', rgUrl, { token });
    assert.equal((await arm()).status, 403);

    const assigned = await control('POST', '/world/role-assignments', {
      identity: 'azimds-vm-01',
      role: 'Reader',
    });
    assert.equal(assigned.status, 201);
    assert.equal((await arm()).status, 200);

    const added = await control('POST', '/world/resources', {
      resourceGroup: 'rg-azimds',
      type: 'Microsoft.Storage/storageAccounts',
      name: 'stapp01',
      kind: 'StorageV2',
    });
    assert.equal(added.status, 201);
    const names = ((await arm()).json as { value: Array<{ name: string }> }).value.map((r) => r.name);
    assert.ok(names.includes('stapp01'));

    assert.equal(
      (await control('DELETE', `/world/resources?${new URLSearchParams({ id: added.body.id })}`)).status,
      204,
    );
    assert.equal((await control('DELETE', `/world/role-assignments/${assigned.body.name}`)).status, 204);
    assert.equal((await arm()).status, 403);
    assert.equal((await control('DELETE', '/world/role-assignments/nope')).status, 404);
  });

  test('the request log records ARM calls without their bearer token', async () => {
    const token = await tokenFor(azimds.state, 'azimds-vm-01');
    await viaAzure(azimds, 'GET', `${ARM}/subscriptions?api-version=2022-12-01`, { token });
    // Recorded when the response has ended on the server's side, which may follow the client's read.
    const find = () => azimds.requestLog.entries({ surface: 'arm' }).entries;
    for (let i = 0; i < 20 && !find().some((e) => e.path === '/subscriptions'); i++) {
      await azimds.requestLog.waitForNewer(azimds.requestLog.last, 100);
    }
    const entries = find();
    const entry = entries.find((e) => e.path === '/subscriptions');
    assert.ok(entry);
    assert.equal(entry.status, 200);
    assert.ok(!JSON.stringify(entries).includes(token.slice(0, 40)));
  });

  test("fault injection answers on the ARM surface in ARM's error shape", async () => {
    azimds.faults.add({ surface: 'arm', path: '/subscriptions', status: 429, times: 1 });
    const res = await viaAzure(azimds, 'GET', `${ARM}/subscriptions?api-version=2022-12-01`);
    assert.equal(res.status, 429);
    assert.equal(res.json.error.code, 'SubscriptionRequestsThrottled');
    assert.ok(res.headers['retry-after']);
  });

  test('reset restores the configured world', async () => {
    await control('POST', '/world/resource-groups', { name: 'rg-temp' });
    assert.ok(azimds.state.world.resourceGroups().some((g) => g.name === 'rg-temp'));
    await control('POST', '/reset');
    assert.ok(!azimds.state.world.resourceGroups().some((g) => g.name === 'rg-temp'));
  });
});
