/**
 * Azure Resource Manager over the world and its RBAC, through inject(): every route, with the caller
 * allowed and refused, and ARM's errors, headers and bodies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signJwt } from '../../src/core/tokens/jwt.js';
import { generateSigningKey } from '../../src/core/tokens/keys.js';
import { type ArmApp, armApp, armCall, tokenFor } from '../support/arm.js';

const SUB = '11111111-2222-4333-8444-555555555555';
const OTHER_SUB = '99999999-2222-4333-8444-555555555555';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-app`;
const V = 'api-version=2021-04-01';

/** VM `vm-app` (Reader on its group by default), `id-admin` (Owner on the subscription), `id-none` (no role). */
const OPTIONS = {
  vm: {
    compute: { name: 'vm-app', subscriptionId: SUB, resourceGroupName: 'rg-app', tags: { env: 'test' } },
  },
  identity: { userAssigned: [{ name: 'id-admin' }, { name: 'id-none' }] },
  world: {
    subscriptions: [{ subscriptionId: OTHER_SUB, displayName: 'Other' }],
    resourceGroups: [{ name: 'rg-data', location: 'northeurope', tags: { team: 'data' } }],
    resources: [
      {
        resourceGroup: 'rg-data',
        type: 'Microsoft.Storage/storageAccounts',
        name: 'stdata01',
        kind: 'StorageV2',
      },
    ],
    keyVault: { name: 'kv-app' },
    roleAssignments: [
      { identity: 'vm-app', role: 'Reader' },
      {
        identity: 'vm-app',
        role: 'Key Vault Secrets User',
        scope: `${RG}/providers/Microsoft.KeyVault/vaults/kv-app`,
      },
      { identity: 'id-admin', role: 'Owner', scope: `/subscriptions/${SUB}` },
    ],
  },
};

let app: ArmApp;
let vm: string;
let admin: string;
let none: string;

before(async () => {
  app = await armApp(OPTIONS);
  vm = await tokenFor(app.state, 'vm-app');
  admin = await tokenFor(app.state, 'id-admin');
  none = await tokenFor(app.state, 'id-none');
});
after(() => app.close());

describe('authentication', () => {
  test('a request without Authorization gets 401 AuthenticationFailed with the Bearer challenge', async () => {
    const res = await armCall(app, 'GET', `/subscriptions?${V}`);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'AuthenticationFailed');
    assert.equal(res.body.error.message, "Authentication failed. The 'Authorization' header is missing.");
    assert.match(
      String(res.headers['www-authenticate']),
      /^Bearer authorization_uri="https:\/\/login\.windows\.net\/", error="invalid_token", error_description="/,
    );
    assert.match(String(res.headers['x-ms-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('a non-Bearer Authorization header gets AuthenticationFailedInvalidHeader', async () => {
    const res = await armCall(app, 'GET', `/subscriptions?${V}`, undefined, undefined, {
      authorization: 'Basic abc',
    });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'AuthenticationFailedInvalidHeader');
  });

  test('a bearer that is not a JWT gets InvalidAuthenticationToken', async () => {
    const res = await armCall(app, 'GET', `/subscriptions?${V}`, 'not-a-jwt');
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'InvalidAuthenticationToken');
  });

  test('a token signed by another key gets InvalidAuthenticationToken', async () => {
    const [, payload] = vm.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    const forged = await signJwt(generateSigningKey(Date.now()), claims);
    const res = await armCall(app, 'GET', `/subscriptions?${V}`, forged);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'InvalidAuthenticationToken');
  });

  test('a token for another resource gets InvalidAuthenticationTokenAudience naming the audience', async () => {
    const vault = await tokenFor(app.state, 'vm-app', 'https://vault.azure.net');
    const res = await armCall(app, 'GET', `/subscriptions?${V}`, vault);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'InvalidAuthenticationTokenAudience');
    assert.match(res.body.error.message, /wrong audience or resource 'https:\/\/vault\.azure\.net'/);
  });

  test('the audiences of az (management.core.windows.net/), the SDKs (management.azure.com) and the endpoint origin are accepted', async () => {
    for (const resource of [
      'https://management.core.windows.net/',
      'https://management.azure.com',
      'http://localhost:80',
    ]) {
      const token = await tokenFor(app.state, 'vm-app', resource);
      const res = await armCall(app, 'GET', `/subscriptions?${V}`, token);
      assert.equal(res.status, 200, resource);
    }
  });

  test('an expired token gets ExpiredAuthenticationToken with both UTC times', async () => {
    const fresh = await tokenFor(app.state, 'vm-app');
    app.state.clock.advance((86_400 + 3600) * 1000);
    try {
      const res = await armCall(app, 'GET', `/subscriptions?${V}`, fresh);
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'ExpiredAuthenticationToken');
      assert.match(
        res.body.error.message,
        /^The access token expiry UTC time '.+ (AM|PM)' is earlier than current UTC time '.+ (AM|PM)'\.$/,
      );
    } finally {
      app.state.clock.reset();
    }
  });

  test('a token of another issuer gets InvalidAuthenticationTokenTenant', async () => {
    const [, payload] = vm.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    const other = await signJwt(app.state.tokens.keys.signingKey(), {
      ...claims,
      iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000001/',
    });
    const res = await armCall(app, 'GET', `/subscriptions?${V}`, other);
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'InvalidAuthenticationTokenTenant');
  });

  test('a token signed by a retired key still published is accepted', async () => {
    const before = await tokenFor(app.state, 'vm-app');
    app.state.tokens.rotateKeys();
    const res = await armCall(app, 'GET', `/subscriptions?${V}`, before);
    assert.equal(res.status, 200);
  });
});

describe('api-version and routing', () => {
  test('a missing api-version gets MissingApiVersionParameter', async () => {
    const res = await armCall(app, 'GET', '/subscriptions', vm);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'MissingApiVersionParameter');
    assert.equal(
      res.body.error.message,
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  });

  test('any well-formed api-version is accepted, a malformed one refused', async () => {
    assert.equal((await armCall(app, 'GET', '/subscriptions?api-version=2026-03-01', vm)).status, 200);
    assert.equal(
      (await armCall(app, 'GET', '/subscriptions?api-version=2024-05-01-preview', vm)).status,
      200,
    );
    const bad = await armCall(app, 'GET', '/subscriptions?api-version=latest', vm);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'InvalidApiVersionParameter');
  });

  test('paths match whatever their case', async () => {
    const res = await armCall(app, 'GET', `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/RG-APP?${V}`, vm);
    assert.equal(res.status, 200);
    assert.equal(res.body.name, 'rg-app');
  });

  test('metadata/endpoints serves the 2015-01-01 object and the 2022-09-01 array without a token', async () => {
    const object = await armCall(app, 'GET', '/metadata/endpoints?api-version=2015-01-01');
    assert.equal(object.status, 200);
    assert.deepEqual(object.body.authentication.audiences, [
      'https://management.core.windows.net/',
      'https://management.azure.com/',
    ]);
    const array = await armCall(app, 'GET', '/metadata/endpoints?api-version=2022-09-01');
    assert.equal(array.status, 200);
    assert.ok(Array.isArray(array.body));
    assert.equal(array.body[0].name, 'AzureCloud');
    assert.equal(array.body[0].suffixes.keyVaultDns, 'vault.azure.net');
  });

  test('x-ms-correlation-request-id is echoed', async () => {
    const res = await armCall(app, 'GET', `/subscriptions?${V}`, vm, undefined, {
      'x-ms-correlation-request-id': 'abc-123',
    });
    assert.equal(res.headers['x-ms-correlation-request-id'], 'abc-123');
  });
});

describe('tenants and subscriptions', () => {
  test('/tenants lists the world tenant', async () => {
    const res = await armCall(app, 'GET', `/tenants?${V}`, vm);
    assert.equal(res.status, 200);
    assert.equal(res.body.value[0].tenantId, app.state.identities.tenantId);
  });

  test('/subscriptions lists only subscriptions where the caller holds a role', async () => {
    const res = await armCall(app, 'GET', `/subscriptions?${V}`, vm);
    assert.deepEqual(
      res.body.value.map((s: { subscriptionId: string }) => s.subscriptionId),
      [SUB],
    );
    assert.equal(res.body.value[0].state, 'Enabled');
    assert.equal(res.body.value[0].tenantId, app.state.identities.tenantId);
    const empty = await armCall(app, 'GET', `/subscriptions?${V}`, none);
    assert.deepEqual(empty.body.value, []);
  });

  test('one subscription: visible with a role, SubscriptionNotFound without one', async () => {
    assert.equal(
      (await armCall(app, 'GET', `/subscriptions/${SUB}?${V}`, vm)).body.displayName,
      'Azure subscription 1',
    );
    const hidden = await armCall(app, 'GET', `/subscriptions/${OTHER_SUB}?${V}`, vm);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.error.code, 'SubscriptionNotFound');
    assert.equal(hidden.headers['x-ms-failure-cause'], 'gateway');
  });
});

describe('resource groups', () => {
  test("list: all for a subscription-wide role, the caller's own for a group role, 403 for none", async () => {
    const all = await armCall(app, 'GET', `/subscriptions/${SUB}/resourcegroups?${V}`, admin);
    assert.deepEqual(all.body.value.map((g: { name: string }) => g.name).sort(), ['rg-app', 'rg-data']);
    const own = await armCall(app, 'GET', `/subscriptions/${SUB}/resourcegroups?${V}`, vm);
    assert.deepEqual(
      own.body.value.map((g: { name: string }) => g.name),
      ['rg-app'],
    );
    const refused = await armCall(app, 'GET', `/subscriptions/${SUB}/resourcegroups?${V}`, none);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'AuthorizationFailed');
  });

  test('GET and HEAD: 200/204 when it exists, ResourceGroupNotFound/404 when not, 403 without a role', async () => {
    const got = await armCall(app, 'GET', `${RG}?${V}`, vm);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, {
      id: RG,
      name: 'rg-app',
      type: 'Microsoft.Resources/resourceGroups',
      location: 'westeurope',
      properties: { provisioningState: 'Succeeded' },
    });
    assert.equal((await armCall(app, 'HEAD', `${RG}?${V}`, vm)).status, 204);
    const missing = await armCall(app, 'GET', `/subscriptions/${SUB}/resourceGroups/nope?${V}`, admin);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, "Resource group 'nope' could not be found.");
    assert.equal(
      (await armCall(app, 'HEAD', `/subscriptions/${SUB}/resourceGroups/nope?${V}`, admin)).status,
      404,
    );
    const refused = await armCall(app, 'GET', `/subscriptions/${SUB}/resourceGroups/rg-data?${V}`, vm);
    assert.equal(refused.status, 403);
    assert.match(
      refused.body.error.message,
      /does not have authorization to perform action 'Microsoft\.Resources\/subscriptions\/resourceGroups\/read' over scope '\/subscriptions\/.+\/resourceGroups\/rg-data' or the scope is invalid\. If access was recently granted, please refresh your credentials\./,
    );
  });

  test('PUT creates (201) then updates (200), synchronously; a Reader is refused', async () => {
    const url = `/subscriptions/${SUB}/resourcegroups/rg-new?${V}`;
    assert.equal((await armCall(app, 'PUT', url, vm, { location: 'westeurope' })).status, 403);
    const created = await armCall(app, 'PUT', url, admin, { location: 'West Europe', tags: { a: 'b' } });
    assert.equal(created.status, 201);
    assert.equal(created.body.location, 'westeurope');
    assert.deepEqual(created.body.tags, { a: 'b' });
    const updated = await armCall(app, 'PUT', url, admin, { location: 'westeurope' });
    assert.equal(updated.status, 200);
    const moved = await armCall(app, 'PUT', url, admin, { location: 'eastus' });
    assert.equal(moved.status, 409);
    assert.equal(moved.body.error.code, 'InvalidResourceGroupLocation');
    const noLocation = await armCall(app, 'PUT', `/subscriptions/${SUB}/resourcegroups/rg-x?${V}`, admin, {});
    assert.equal(noLocation.body.error.code, 'LocationRequired');
    const badJson = await armCall(
      app,
      'PUT',
      `/subscriptions/${SUB}/resourcegroups/rg-x?${V}`,
      admin,
      '{nope',
    );
    assert.equal(badJson.body.error.code, 'InvalidRequestContent');
    const badName = await armCall(app, 'PUT', `/subscriptions/${SUB}/resourcegroups/rg%24x?${V}`, admin, {
      location: 'westeurope',
    });
    assert.equal(badName.body.error.code, 'InvalidResourceGroupName');
  });

  test('PATCH changes tags', async () => {
    await armCall(app, 'PUT', `/subscriptions/${SUB}/resourcegroups/rg-patch?${V}`, admin, {
      location: 'westeurope',
    });
    const res = await armCall(app, 'PATCH', `/subscriptions/${SUB}/resourcegroups/rg-patch?${V}`, admin, {
      tags: { x: '1' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.tags, { x: '1' });
  });

  test('DELETE answers 202 with a Location that polls to 200, and the group and its resources are gone', async () => {
    await armCall(app, 'PUT', `/subscriptions/${SUB}/resourcegroups/rg-gone?${V}`, admin, {
      location: 'westeurope',
    });
    await armCall(
      app,
      'PUT',
      `/subscriptions/${SUB}/resourcegroups/rg-gone/providers/Microsoft.Web/sites/app1?${V}`,
      admin,
      { location: 'westeurope' },
    );
    const res = await armCall(app, 'DELETE', `/subscriptions/${SUB}/resourcegroups/rg-gone?${V}`, admin);
    assert.equal(res.status, 202);
    const location = new URL(String(res.headers.location));
    assert.match(location.pathname, new RegExp(`^/subscriptions/${SUB}/operationresults/`));
    const poll = await armCall(app, 'GET', `${location.pathname}${location.search}`, admin);
    assert.equal(poll.status, 200);
    assert.equal(
      (await armCall(app, 'GET', `/subscriptions/${SUB}/resourcegroups/rg-gone?${V}`, admin)).status,
      404,
    );
    assert.equal(
      app.state.world.resource(
        `/subscriptions/${SUB}/resourcegroups/rg-gone/providers/Microsoft.Web/sites/app1`,
      ),
      undefined,
    );
  });

  test("the VM's resource group is not deleted", async () => {
    const res = await armCall(app, 'DELETE', `${RG}?${V}`, admin);
    assert.equal(res.status, 409);
  });

  test('an unknown subscription gets SubscriptionNotFound', async () => {
    const res = await armCall(
      app,
      'GET',
      `/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups?${V}`,
      admin,
    );
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'SubscriptionNotFound');
  });
});

describe('resources', () => {
  test('az resource list: $filter on resource group and type, $expand adds times and state', async () => {
    const url = `/subscriptions/${SUB}/resources?$filter=${encodeURIComponent("resourceGroup eq 'rg-app' and resourceType eq 'Microsoft.Compute/virtualMachines'")}&$expand=createdTime,changedTime,provisioningState&${V}`;
    const res = await armCall(app, 'GET', url, vm);
    assert.equal(res.status, 200);
    assert.equal(res.body.value.length, 1);
    const [item] = res.body.value;
    assert.equal(item.name, 'vm-app');
    assert.equal(item.provisioningState, 'Succeeded');
    assert.ok(item.createdTime);
    assert.equal(item.properties, undefined);
  });

  test("the resources of the VM's group: VM, NIC, public IP, vnet, disks, vault", async () => {
    const res = await armCall(app, 'GET', `${RG}/resources?${V}`, vm);
    const types = res.body.value.map((r: { type: string }) => r.type).sort();
    assert.deepEqual(
      [...new Set(types)],
      [
        'Microsoft.Compute/disks',
        'Microsoft.Compute/virtualMachines',
        'Microsoft.KeyVault/vaults',
        'Microsoft.ManagedIdentity/userAssignedIdentities',
        'Microsoft.Network/networkInterfaces',
        'Microsoft.Network/publicIPAddresses',
        'Microsoft.Network/virtualNetworks',
      ],
    );
  });

  test('a Reader of one group sees only its resources in the subscription list', async () => {
    const res = await armCall(app, 'GET', `/subscriptions/${SUB}/resources?${V}`, vm);
    assert.ok(res.body.value.every((r: { id: string }) => r.id.toLowerCase().startsWith(RG.toLowerCase())));
    const all = await armCall(app, 'GET', `/subscriptions/${SUB}/resources?${V}`, admin);
    assert.ok(all.body.value.some((r: { name: string }) => r.name === 'stdata01'));
  });

  test('$filter by name and an invalid $filter', async () => {
    const res = await armCall(
      app,
      'GET',
      `/subscriptions/${SUB}/resources?$filter=${encodeURIComponent("name eq 'stdata01'")}&${V}`,
      admin,
    );
    assert.equal(res.body.value.length, 1);
    const bad = await armCall(
      app,
      'GET',
      `/subscriptions/${SUB}/resources?$filter=${encodeURIComponent('location gt 1')}&${V}`,
      admin,
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'InvalidFilterInQueryString');
  });

  test('listing the resources of a missing group is ResourceGroupNotFound; of a group without a role, 403', async () => {
    assert.equal(
      (await armCall(app, 'GET', `/subscriptions/${SUB}/resourceGroups/nope/resources?${V}`, admin)).body
        .error.code,
      'ResourceGroupNotFound',
    );
    assert.equal(
      (await armCall(app, 'GET', `/subscriptions/${SUB}/resourceGroups/rg-data/resources?${V}`, vm)).status,
      403,
    );
  });

  test('any provider type: PUT stores it (201/200), GET returns it with Succeeded, DELETE removes it', async () => {
    const id = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.Cache/redis/cache1`;
    const put = await armCall(app, 'PUT', `${id}?api-version=2024-03-01`, admin, {
      location: 'northeurope',
      properties: { sku: { name: 'Basic' } },
      tags: { t: '1' },
    });
    assert.equal(put.status, 201);
    assert.equal(put.body.properties.provisioningState, 'Succeeded');
    assert.equal(
      (await armCall(app, 'PUT', `${id}?api-version=2024-03-01`, admin, { location: 'northeurope' })).status,
      200,
    );
    const got = await armCall(app, 'GET', `${id.toLowerCase()}?api-version=2024-03-01`, admin);
    assert.equal(got.status, 200);
    assert.equal(got.body.type, 'Microsoft.Cache/redis');
    const listed = await armCall(
      app,
      'GET',
      `/subscriptions/${SUB}/providers/Microsoft.Cache/redis?api-version=2024-03-01`,
      admin,
    );
    assert.equal(listed.body.value.length, 1);
    assert.equal((await armCall(app, 'DELETE', `${id}?api-version=2024-03-01`, admin)).status, 200);
    assert.equal((await armCall(app, 'DELETE', `${id}?api-version=2024-03-01`, admin)).status, 204);
    const gone = await armCall(app, 'GET', `${id}?api-version=2024-03-01`, admin);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'ResourceNotFound');
  });

  test("a PUT into a missing group is ResourceGroupNotFound; a Reader's PUT is 403", async () => {
    const missing = await armCall(
      app,
      'PUT',
      `/subscriptions/${SUB}/resourceGroups/nope/providers/Microsoft.Web/sites/a?${V}`,
      admin,
      { location: 'westeurope' },
    );
    assert.equal(missing.body.error.code, 'ResourceGroupNotFound');
    const refused = await armCall(app, 'PUT', `${RG}/providers/Microsoft.Web/sites/a?${V}`, vm, {
      location: 'westeurope',
    });
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /'Microsoft\.Web\/sites\/write'/);
  });
});

describe('the VM and what hangs off it', () => {
  test('the VM: ids, tags, size and identity.principalId = the oid of its tokens', async () => {
    const res = await armCall(
      app,
      'GET',
      `${RG}/providers/Microsoft.Compute/virtualMachines/vm-app?api-version=2024-07-01`,
      vm,
    );
    assert.equal(res.status, 200);
    const oid = JSON.parse(Buffer.from(vm.split('.')[1] as string, 'base64url').toString()).oid;
    assert.equal(res.body.identity.principalId, oid);
    assert.equal(res.body.identity.type, 'SystemAssigned, UserAssigned');
    assert.equal(res.body.properties.vmId, app.state.machine.compute('vmId'));
    assert.equal(res.body.id, app.state.machine.compute('resourceId'));
    assert.deepEqual(res.body.tags, { env: 'test' });
    assert.equal(res.body.properties.hardwareProfile.vmSize, 'Standard_D2s_v5');
  });

  test("peer discovery: the VM list of the group, then each NIC's private IP (seed 000)", async () => {
    const list = await armCall(
      app,
      'GET',
      `${RG}/providers/Microsoft.Compute/virtualMachines?api-version=2024-07-01`,
      vm,
    );
    assert.equal(list.body.value.length, 1);
    const nicId = list.body.value[0].properties.networkProfile.networkInterfaces[0].id;
    const nic = await armCall(app, 'GET', `${nicId}?api-version=2024-05-01`, vm);
    assert.equal(nic.status, 200);
    assert.equal(nic.body.properties.ipConfigurations[0].properties.privateIPAddress, '10.0.0.4');
    assert.match(nic.body.properties.macAddress, /^60-45-BD(-[0-9A-F]{2}){3}$/);
    const pipId = nic.body.properties.ipConfigurations[0].properties.publicIPAddress.id;
    const pip = await armCall(app, 'GET', `${pipId}?api-version=2024-05-01`, vm);
    assert.equal(pip.body.properties.ipAddress, '20.61.15.42');
  });

  test('a change of the VM through the control path shows in ARM at once', async () => {
    app.state.machine.replace({
      ...app.state.machine.config,
      compute: { ...app.state.machine.config.compute, vmSize: 'Standard_D4s_v5' },
    });
    const res = await armCall(
      app,
      'GET',
      `${RG}/providers/Microsoft.Compute/virtualMachines/vm-app?api-version=2024-07-01`,
      vm,
    );
    assert.equal(res.body.properties.hardwareProfile.vmSize, 'Standard_D4s_v5');
  });

  test("PATCH of the VM's tags through ARM changes what IMDS serves; other changes are refused", async () => {
    const url = `${RG}/providers/Microsoft.Compute/virtualMachines/vm-app?api-version=2024-07-01`;
    const res = await armCall(app, 'PATCH', url, admin, { tags: { env: 'prod', owner: 'me' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.tags, { env: 'prod', owner: 'me' });
    assert.equal(app.state.machine.compute('tags'), 'env:prod;owner:me');
    assert.equal((await armCall(app, 'PUT', url, admin, { location: 'westeurope' })).status, 409);
    assert.equal((await armCall(app, 'DELETE', url, admin)).status, 409);
    assert.equal((await armCall(app, 'PATCH', url, vm, { tags: {} })).status, 403);
  });

  test("user-assigned identities: the resource and the VM's identity block agree with the tokens", async () => {
    const list = await armCall(
      app,
      'GET',
      `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version=2023-01-31`,
      vm,
    );
    const adminIdentity = app.state.identities.all().find((i) => i.name === 'id-admin');
    const item = list.body.value.find((r: { name: string }) => r.name === 'id-admin');
    assert.equal(item.properties.principalId, adminIdentity?.principalId);
    assert.equal(item.properties.clientId, adminIdentity?.clientId);
  });

  test('managedHSMs list is empty (az keyvault list)', async () => {
    const res = await armCall(
      app,
      'GET',
      `${RG}/providers/Microsoft.KeyVault/managedHSMs?api-version=2022-07-01`,
      vm,
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.value, []);
  });
});

describe('key vaults', () => {
  test('the configured vault: RBAC, vaultUri, tenant, soft delete', async () => {
    const res = await armCall(
      app,
      'GET',
      `${RG}/providers/Microsoft.KeyVault/vaults?api-version=2022-07-01`,
      vm,
    );
    assert.equal(res.status, 200);
    const [vault] = res.body.value;
    assert.equal(vault.name, 'kv-app');
    assert.equal(vault.properties.vaultUri, 'https://kv-app.vault.azure.net/');
    assert.equal(vault.properties.enableRbacAuthorization, true);
    assert.equal(vault.properties.tenantId, app.state.identities.tenantId);
    assert.equal(vault.properties.enableSoftDelete, true);
    const bySub = await armCall(
      app,
      'GET',
      `/subscriptions/${SUB}/providers/Microsoft.KeyVault/vaults?api-version=2022-07-01`,
      vm,
    );
    assert.equal(bySub.body.value.length, 1);
  });

  test("PUT creates a vault with Azure's defaults; access policies are added, replaced and removed (az keyvault set-policy)", async () => {
    const id = `/subscriptions/${SUB}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-policies`;
    const tenantId = app.state.identities.tenantId;
    const put = await armCall(app, 'PUT', `${id}?api-version=2023-07-01`, admin, {
      location: 'northeurope',
      properties: { tenantId, sku: { family: 'A', name: 'standard' }, accessPolicies: [] },
    });
    assert.equal(put.status, 201);
    assert.equal(put.body.properties.enableRbacAuthorization, false);
    assert.equal(put.body.properties.vaultUri, 'https://kv-policies.vault.azure.net/');
    const objectId = '0a0a0a0a-0000-4000-8000-000000000001';
    const add = await armCall(app, 'PUT', `${id}/accessPolicies/add?api-version=2023-07-01`, admin, {
      properties: { accessPolicies: [{ tenantId, objectId, permissions: { secrets: ['get'] } }] },
    });
    assert.equal(add.status, 200);
    assert.equal(add.body.type, 'Microsoft.KeyVault/vaults/accessPolicies');
    await armCall(app, 'PUT', `${id}/accessPolicies/add?api-version=2023-07-01`, admin, {
      properties: { accessPolicies: [{ tenantId, objectId, permissions: { secrets: ['list'] } }] },
    });
    assert.deepEqual(app.state.world.vaultByName('kv-policies')?.accessPolicies[0]?.permissions.secrets, [
      'get',
      'list',
    ]);
    await armCall(app, 'PUT', `${id}/accessPolicies/replace?api-version=2023-07-01`, admin, {
      properties: { accessPolicies: [{ tenantId, objectId, permissions: { secrets: ['set'] } }] },
    });
    assert.deepEqual(app.state.world.vaultByName('kv-policies')?.accessPolicies[0]?.permissions.secrets, [
      'set',
    ]);
    await armCall(app, 'PUT', `${id}/accessPolicies/remove?api-version=2023-07-01`, admin, {
      properties: { accessPolicies: [{ tenantId, objectId, permissions: { secrets: ['set'] } }] },
    });
    assert.deepEqual(app.state.world.vaultByName('kv-policies')?.accessPolicies, []);
    const refused = await armCall(
      app,
      'PUT',
      `${RG}/providers/Microsoft.KeyVault/vaults/kv-app/accessPolicies/add?api-version=2023-07-01`,
      vm,
      {
        properties: { accessPolicies: [{ tenantId, objectId, permissions: { secrets: ['get'] } }] },
      },
    );
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /Microsoft\.KeyVault\/vaults\/accessPolicies\/write/);
  });
});

describe('authorization: role definitions and role assignments', () => {
  const AUTH = 'providers/Microsoft.Authorization';

  test("role definitions: list, $filter=roleName eq, get by GUID with Azure's ids", async () => {
    const filtered = await armCall(
      app,
      'GET',
      `/subscriptions/${SUB}/${AUTH}/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'Key Vault Secrets User'")}&api-version=2022-04-01`,
      admin,
    );
    assert.equal(filtered.status, 200);
    assert.equal(filtered.body.value.length, 1);
    assert.equal(filtered.body.value[0].name, '4633458b-17de-408a-b874-0445c86b69e6');
    assert.equal(
      filtered.body.value[0].id,
      `/subscriptions/${SUB}/${AUTH}/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
    );
    assert.equal(filtered.body.value[0].properties.type, 'BuiltInRole');
    const reader = await armCall(
      app,
      'GET',
      `${RG}/${AUTH}/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7?api-version=2022-04-01`,
      vm,
    );
    assert.equal(reader.body.properties.roleName, 'Reader');
    assert.deepEqual(reader.body.properties.permissions[0].actions, ['*/read']);
    const missing = await armCall(
      app,
      'GET',
      `/subscriptions/${SUB}/${AUTH}/roleDefinitions/00000000-0000-4000-8000-000000000000?api-version=2022-04-01`,
      admin,
    );
    assert.equal(missing.body.error.code, 'RoleDefinitionDoesNotExist');
  });

  test('role assignments: PUT (201), RoleAssignmentExists (409), GET, list with filters, DELETE', async () => {
    const principal = app.state.identities.all().find((i) => i.name === 'id-none')?.principalId as string;
    const name = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    const url = `/subscriptions/${SUB}/resourceGroups/rg-data/${AUTH}/roleAssignments/${name}?api-version=2022-04-01`;
    const body = {
      properties: {
        roleDefinitionId: `/subscriptions/${SUB}/${AUTH}/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
        principalId: principal,
      },
    };
    // Reader cannot assign roles.
    const refused = await armCall(app, 'PUT', url, vm, body);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error.message, /Microsoft\.Authorization\/roleAssignments\/write/);
    const created = await armCall(app, 'PUT', url, admin, body);
    assert.equal(created.status, 201);
    assert.equal(created.body.name, name);
    assert.equal(created.body.type, 'Microsoft.Authorization/roleAssignments');
    assert.equal(created.body.properties.principalType, 'ServicePrincipal');
    assert.equal(created.body.properties.scope, `/subscriptions/${SUB}/resourceGroups/rg-data`);
    // The principal can now read the group.
    assert.equal(
      (await armCall(app, 'GET', `/subscriptions/${SUB}/resourceGroups/rg-data?${V}`, none)).status,
      200,
    );
    const duplicate = await armCall(
      app,
      'PUT',
      url.replace(name, '3f2504e0-4f89-41d3-9a0c-0305e82c3302'),
      admin,
      body,
    );
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.error.code, 'RoleAssignmentExists');
    assert.equal((await armCall(app, 'GET', url, admin)).body.properties.principalId, principal);
    const byPrincipal = await armCall(
      app,
      'GET',
      `/subscriptions/${SUB}/${AUTH}/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${principal}'`)}&api-version=2022-04-01`,
      admin,
    );
    assert.equal(byPrincipal.body.value.length, 1);
    const atScope = await armCall(
      app,
      'GET',
      `/subscriptions/${SUB}/${AUTH}/roleAssignments?$filter=atScope()&api-version=2022-04-01`,
      admin,
    );
    assert.ok(
      atScope.body.value.every(
        (a: { properties: { scope: string } }) => a.properties.scope === `/subscriptions/${SUB}`,
      ),
    );
    assert.equal((await armCall(app, 'DELETE', url, admin)).status, 200);
    assert.equal((await armCall(app, 'GET', url, admin)).body.error.code, 'RoleAssignmentNotFound');
    assert.equal((await armCall(app, 'DELETE', url, admin)).status, 204);
    assert.equal(
      (await armCall(app, 'GET', `/subscriptions/${SUB}/resourceGroups/rg-data?${V}`, none)).status,
      403,
    );
  });

  test('PrincipalNotFound for an unknown principal unless principalType is given; a non-GUID name is refused', async () => {
    const stranger = '12345678-1234-4234-8234-123456789012';
    const url = `/subscriptions/${SUB}/${AUTH}/roleAssignments/3f2504e0-4f89-41d3-9a0c-0305e82c3303?api-version=2022-04-01`;
    const properties = { roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', principalId: stranger };
    const res = await armCall(app, 'PUT', url, admin, { properties });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'PrincipalNotFound');
    assert.match(
      res.body.error.message,
      /^Principal 12345678123442348234123456789012 does not exist in the directory /,
    );
    assert.equal(
      (await armCall(app, 'PUT', url, admin, { properties: { ...properties, principalType: 'User' } }))
        .status,
      201,
    );
    const badName = await armCall(
      app,
      'PUT',
      url.replace('3f2504e0-4f89-41d3-9a0c-0305e82c3303', 'not-a-guid'),
      admin,
      { properties },
    );
    assert.equal(badName.body.error.code, 'InvalidRoleAssignmentId');
  });
});
