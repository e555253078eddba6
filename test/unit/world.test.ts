/**
 * The world: one source of truth with IMDS and the tokens, zero-config roles and vault, config seeding,
 * and bearer verification against the emulator's own keys.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ROLE_IDS } from '../../src/core/rbac/built-in-roles.js';
import { verifyBearer } from '../../src/core/tokens/bearer.js';
import { createState, libraryConfig } from '../../src/server/emulator.js';

function state(options: Parameters<typeof libraryConfig>[0] = {}) {
  return createState(libraryConfig(options));
}

describe('zero config', () => {
  test('the VM identity holds Reader on its group and Key Vault Secrets User on the vault of that group', () => {
    const s = state();
    const principalId = s.identities.current.systemAssigned?.principalId as string;
    const group = `/subscriptions/${s.machine.compute('subscriptionId')}/resourceGroups/${s.machine.compute('resourceGroupName')}`;
    const [vault] = s.world.vaults();
    assert.ok(vault);
    assert.equal(vault.enableRbacAuthorization, true);
    assert.match(vault.name, /^kv-azimds-[0-9a-f]{8}$/);
    assert.equal(vault.vaultUri, `https://${vault.name}.vault.azure.net/`);
    assert.equal(vault.resourceGroup, s.machine.compute('resourceGroupName'));
    assert.equal(
      s.rbac.check({ principalId, scope: group, action: 'Microsoft.Compute/virtualMachines/read' }).allowed,
      true,
    );
    assert.equal(
      s.rbac.check({ principalId, scope: group, action: 'Microsoft.Compute/virtualMachines/write' }).allowed,
      false,
    );
    assert.equal(
      s.rbac.check({
        principalId,
        scope: `${vault.resourceId}/secrets/x`,
        dataAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      }).allowed,
      true,
    );
    assert.deepEqual(
      s.rbac
        .assignments()
        .filter((a) => a.principalId === principalId)
        .map((a) => a.roleDefinitionName)
        .sort(),
      [ROLE_IDS.keyVaultSecretsUser, ROLE_IDS.reader].sort(),
    );
  });

  test('the zero-config app registration holds Reader on the VM resource group, and only that', () => {
    const s = state();
    const [app] = s.directory.servicePrincipals();
    assert.ok(app);
    const group = `/subscriptions/${s.machine.compute('subscriptionId')}/resourceGroups/${s.machine.compute('resourceGroupName')}`;
    const roles = s.rbac.assignments().filter((a) => a.principalId === app.principalId);
    assert.deepEqual(
      roles.map((a) => [a.roleDefinitionName, a.scope.toLowerCase()]),
      [[ROLE_IDS.reader, group.toLowerCase()]],
    );
    assert.equal(
      s.rbac.check({ principalId: app.principalId, scope: group, action: 'x/read' }).allowed,
      true,
    );
    assert.equal(
      s.rbac.check({ principalId: app.principalId, scope: group, action: 'x/write' }).allowed,
      false,
    );
  });

  test('an identity attached later holds the default roles too', () => {
    const s = state();
    const added = s.identities.addUserAssigned({ name: 'id-late' });
    const group = `/subscriptions/${s.machine.compute('subscriptionId')}/resourceGroups/${s.machine.compute('resourceGroupName')}`;
    assert.equal(
      s.rbac.check({ principalId: added.principalId, scope: group, action: 'x/read' }).allowed,
      true,
    );
  });

  test('`roleAssignments: []` turns the defaults off; `keyVault: false` removes the vault', () => {
    const s = state({ world: { roleAssignments: [], keyVault: false } });
    assert.deepEqual(s.rbac.assignments(), []);
    assert.deepEqual(s.world.vaults(), []);
  });
});

describe('one source of truth', () => {
  test("ARM's VM, NIC and public IP agree with the instance document and the tokens", () => {
    const s = state({
      vm: { compute: { name: 'web-01', tags: { a: 'b' } } },
      identity: { userAssigned: [{ name: 'id-app' }] },
    });
    const [derived] = s.world.vms();
    assert.ok(derived);
    const doc = s.machine.document as {
      network: {
        interface: Array<{ macAddress: string; ipv4: { ipAddress: Array<{ privateIpAddress: string }> } }>;
      };
    };
    assert.equal(derived.vm.id, s.machine.compute('resourceId'));
    assert.equal(derived.vm.name, 'web-01');
    assert.deepEqual(derived.vm.tags, { a: 'b' });
    assert.equal(derived.vm.properties.vmId, s.machine.compute('vmId'));
    assert.equal(derived.vm.identity?.principalId, s.identities.current.systemAssigned?.principalId);
    const uami = s.identities.current.userAssigned[0];
    assert.deepEqual(
      (derived.vm.identity?.userAssignedIdentities as Record<string, unknown> | undefined)?.[
        uami?.resourceId as string
      ],
      {
        principalId: uami?.principalId,
        clientId: uami?.clientId,
      },
    );
    const nic = s.world.resources({ type: 'Microsoft.Network/networkInterfaces' })[0];
    const config = (
      nic?.properties.ipConfigurations as Array<{ properties: { privateIPAddress: string } }> | undefined
    )?.[0];
    assert.equal(
      config?.properties.privateIPAddress,
      doc.network.interface[0]?.ipv4.ipAddress[0]?.privateIpAddress,
    );
    assert.equal(
      String(nic?.properties.macAddress).replaceAll('-', ''),
      doc.network.interface[0]?.macAddress,
    );
    assert.equal(s.world.resource(uami?.resourceId as string)?.properties.clientId, uami?.clientId);
  });

  test('a change of the VM shows in the world at once; reset restores stored resources', () => {
    const s = state();
    s.machine.replace({ ...s.machine.config, compute: { ...s.machine.config.compute, name: 'renamed' } });
    assert.equal(s.world.vms()[0]?.vm.name, 'renamed');
    const sub = s.machine.compute('subscriptionId');
    assert.ok(s.world.putResourceGroup(sub, 'rg-extra', { location: 'westeurope' })?.created);
    s.world.reset();
    assert.equal(s.world.resourceGroup(sub, 'rg-extra'), undefined);
  });

  test('config seeds groups, resources of any type, custom roles and assignments by identity name', () => {
    const s = state({
      world: {
        resourceGroups: [{ name: 'rg-data' }],
        resources: [
          {
            resourceGroup: 'rg-data',
            type: 'Microsoft.Sql/servers/databases',
            name: 'srv/db1',
            properties: { a: 1 },
          },
        ],
        roleDefinitions: [{ roleName: 'Db Reader', permissions: [{ actions: ['Microsoft.Sql/*/read'] }] }],
        roleAssignments: [{ identity: 'azimds-vm-01', role: 'Db Reader', scope: '/subscriptions/x' }],
      },
    });
    const db = s.world.resources({ type: 'Microsoft.Sql/servers/databases' })[0];
    assert.equal(db?.name, 'db1');
    assert.match(
      db?.id ?? '',
      /\/resourceGroups\/rg-data\/providers\/Microsoft\.Sql\/servers\/srv\/databases\/db1$/,
    );
    assert.equal(db?.properties.provisioningState, 'Succeeded');
    const principalId = s.identities.current.systemAssigned?.principalId as string;
    assert.equal(
      s.rbac.check({
        principalId,
        scope: '/subscriptions/x/resourceGroups/a',
        action: 'Microsoft.Sql/servers/read',
      }).allowed,
      true,
    );
  });

  test('an assignment naming an unknown identity is a config error', () => {
    assert.throws(
      () => state({ world: { roleAssignments: [{ identity: 'nope', role: 'Reader' }] } }),
      /no identity named "nope"/,
    );
  });
});

describe('verifyBearer', () => {
  /** A fresh state and `Bearer <token>` of its system-assigned identity for ARM. */
  async function armBearer() {
    const s = state();
    const identity = s.identities.current.systemAssigned;
    assert.ok(identity);
    await s.tokens.keys.ready();
    const minted = await s.tokens.local.mint({ identity, resource: 'https://management.azure.com' });
    assert.ok(minted.ok);
    return { s, identity, header: `Bearer ${minted.token.accessToken}` };
  }

  test("accepts the emulator's own token and reports each failure", async () => {
    const { s, identity, header } = await armBearer();
    const ok = await verifyBearer(s, header, ['https://management.azure.com/']);
    assert.ok(ok.ok);
    assert.equal(ok.bearer.principalId, identity.principalId);
    assert.equal(ok.bearer.appId, identity.clientId);
    assert.equal(ok.bearer.tenantId, s.identities.tenantId);
    assert.equal((await verifyBearer(s, undefined, [])).ok, false);
    const failure = async (h: string | undefined, aud: string[]) => {
      const r = await verifyBearer(s, h, aud);
      return r.ok ? 'ok' : r.failure;
    };
    assert.equal(await failure(undefined, []), 'missing');
    assert.equal(await failure('Basic x', []), 'malformed');
    assert.equal(await failure(`${header}x`, ['https://management.azure.com']), 'invalid-signature');
    assert.equal(await failure(header, ['https://vault.azure.net']), 'wrong-audience');
    s.clock.advance(-3600_000);
    assert.equal(await failure(header, ['https://management.azure.com']), 'not-yet-valid');
    s.clock.advance(3600_000 + 2 * 86_400_000);
    assert.equal(await failure(header, ['https://management.azure.com']), 'expired');
  });

  test('a token verified before is refused once its signing key is no longer published', async () => {
    const { s, header } = await armBearer();
    const audience = ['https://management.azure.com'];
    assert.ok((await verifyBearer(s, header, audience)).ok);
    assert.ok(
      (await verifyBearer(s, header, audience)).ok,
      'the second check (remembered signature) passes too',
    );
    s.tokens.rotateKeys();
    assert.ok((await verifyBearer(s, header, audience)).ok, 'a retired key stays published');
    // Past the retired key's retention: it is unpublished, so the remembered signature no longer counts.
    s.clock.advance(2 * 86_400_000);
    const late = await verifyBearer(s, header, audience);
    assert.equal(late.ok ? 'ok' : late.failure, 'invalid-signature');
  });
});
