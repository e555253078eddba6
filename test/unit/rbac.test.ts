/** Azure RBAC evaluation: wildcards, notActions, data actions, inheritance down the scope tree, case. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILT_IN_ROLES, ROLE_IDS } from '../../src/core/rbac/built-in-roles.js';
import { Rbac, type RoleAssignment } from '../../src/core/rbac/rbac.js';
import { operationMatches, scopeCovers } from '../../src/core/rbac/scope.js';

const P = 'aaaaaaaa-0000-4000-8000-000000000001';
const SUB = '/subscriptions/11111111-1111-4111-8111-111111111111';
const RG = `${SUB}/resourceGroups/rg1`;
const VAULT = `${RG}/providers/Microsoft.KeyVault/vaults/kv1`;

function assignment(role: string, scope: string, name = crypto.randomUUID()): RoleAssignment {
  return {
    name,
    scope,
    roleDefinitionName: role,
    principalId: P,
    principalType: 'ServicePrincipal',
    createdOn: '',
    updatedOn: '',
  };
}

function rbac(...assignments: RoleAssignment[]): Rbac {
  const r = new Rbac({ assignments, now: () => '2026-01-01T00:00:00Z' });
  r.addPrincipalSource(() => [{ principalId: P, principalType: 'ServicePrincipal' }]);
  return r;
}

describe('operation patterns', () => {
  test('`*` matches across segments; `*/read` matches every read; case is ignored', () => {
    assert.ok(operationMatches('*', 'Microsoft.Compute/virtualMachines/write'));
    assert.ok(operationMatches('*/read', 'Microsoft.Compute/virtualMachines/read'));
    assert.ok(!operationMatches('*/read', 'Microsoft.Compute/virtualMachines/write'));
    assert.ok(operationMatches('Microsoft.Compute/*', 'microsoft.compute/VIRTUALMACHINES/start/action'));
    assert.ok(operationMatches('Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/vaults/secrets/read'));
    assert.ok(!operationMatches('Microsoft.Compute/*', 'Microsoft.ComputeX/a/read'));
  });

  test('scopes cover themselves and everything below, not siblings with a common prefix', () => {
    assert.ok(scopeCovers('/', RG));
    assert.ok(scopeCovers(SUB, RG));
    assert.ok(scopeCovers(RG.toUpperCase(), `${RG}/`));
    assert.ok(!scopeCovers(RG, `${SUB}/resourceGroups/rg10`));
    assert.ok(!scopeCovers(RG, SUB));
  });
});

describe('check()', () => {
  test('Reader on a group grants reads below it and nothing above or beside it', () => {
    const r = rbac(assignment(ROLE_IDS.reader, RG));
    assert.deepEqual(r.check({ principalId: P, scope: VAULT, action: 'Microsoft.KeyVault/vaults/read' }), {
      allowed: true,
    });
    assert.equal(
      r.check({ principalId: P, scope: VAULT, action: 'Microsoft.KeyVault/vaults/write' }).allowed,
      false,
    );
    assert.equal(
      r.check({ principalId: P, scope: SUB, action: 'Microsoft.Resources/subscriptions/resourceGroups/read' })
        .allowed,
      false,
    );
    assert.equal(
      r.check({ principalId: P, scope: `${SUB}/resourceGroups/rg2`, action: 'x/read' }).allowed,
      false,
    );
  });

  test('Contributor writes but its notActions keep role assignments out', () => {
    const r = rbac(assignment(ROLE_IDS.contributor, SUB));
    assert.equal(
      r.check({ principalId: P, scope: RG, action: 'Microsoft.Resources/subscriptions/resourceGroups/write' })
        .allowed,
      true,
    );
    assert.equal(
      r.check({ principalId: P, scope: RG, action: 'Microsoft.Authorization/roleAssignments/write' }).allowed,
      false,
    );
    assert.equal(
      r.check({ principalId: P, scope: RG, action: 'Microsoft.Authorization/roleAssignments/read' }).allowed,
      true,
    );
  });

  test('roles add up: Contributor plus User Access Administrator may assign roles', () => {
    const r = rbac(assignment(ROLE_IDS.contributor, SUB), assignment(ROLE_IDS.userAccessAdministrator, RG));
    assert.equal(
      r.check({ principalId: P, scope: RG, action: 'Microsoft.Authorization/roleAssignments/write' }).allowed,
      true,
    );
    assert.equal(
      r.check({ principalId: P, scope: SUB, action: 'Microsoft.Authorization/roleAssignments/write' })
        .allowed,
      false,
    );
  });

  test('data actions come only from dataActions: Owner cannot read secrets, Secrets User can', () => {
    const owner = rbac(assignment(ROLE_IDS.owner, SUB));
    assert.equal(
      owner.check({
        principalId: P,
        scope: VAULT,
        dataAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      }).allowed,
      false,
    );
    const user = rbac(assignment(ROLE_IDS.keyVaultSecretsUser, VAULT));
    assert.equal(
      user.check({
        principalId: P,
        scope: `${VAULT}/secrets/s1`,
        dataAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      }).allowed,
      true,
    );
    assert.equal(
      user.check({
        principalId: P,
        scope: VAULT,
        dataAction: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
      }).allowed,
      false,
    );
    const officer = rbac(assignment(ROLE_IDS.keyVaultSecretsOfficer, RG));
    assert.equal(
      officer.check({
        principalId: P,
        scope: VAULT,
        dataAction: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
      }).allowed,
      true,
    );
  });

  test('custom roles with notDataActions; a refusal says why', () => {
    const custom = {
      name: 'bbbbbbbb-0000-4000-8000-000000000001',
      roleName: 'Secrets but not purge',
      type: 'CustomRole' as const,
      description: '',
      assignableScopes: [SUB],
      permissions: [
        {
          actions: [],
          notActions: [],
          dataActions: ['Microsoft.KeyVault/vaults/secrets/*'],
          notDataActions: ['Microsoft.KeyVault/vaults/secrets/purge/action'],
        },
      ],
    };
    const r = new Rbac({ customRoles: [custom], assignments: [assignment(custom.name, SUB)], now: () => '' });
    assert.equal(
      r.check({ principalId: P, scope: VAULT, dataAction: 'Microsoft.KeyVault/vaults/secrets/delete' })
        .allowed,
      true,
    );
    const denied = r.check({
      principalId: P,
      scope: VAULT,
      dataAction: 'Microsoft.KeyVault/vaults/secrets/purge/action',
    });
    assert.equal(denied.allowed, false);
    assert.match((denied as { reason: string }).reason, /purge/);
    assert.equal(r.roleDefinitionByName('secrets BUT not purge')?.name, custom.name);
  });

  test('principal ids and scopes compare case-insensitively', () => {
    const r = rbac(assignment(ROLE_IDS.reader, RG.toLowerCase()));
    assert.equal(
      r.check({ principalId: P.toUpperCase(), scope: RG.toUpperCase(), action: 'a/read' }).allowed,
      true,
    );
  });
});

describe('assignments', () => {
  test('createAssignment: exists under another GUID, unknown principal, bad name, idempotent same GUID', () => {
    const r = rbac();
    const input = {
      name: 'cccccccc-0000-4000-8000-000000000001',
      scope: RG,
      roleDefinitionId: `${SUB}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_IDS.reader}`,
      principalId: P,
    };
    const first = r.createAssignment(input);
    assert.ok(first.ok && first.created);
    const again = r.createAssignment(input);
    assert.ok(again.ok && !again.created);
    assert.deepEqual(r.createAssignment({ ...input, name: 'cccccccc-0000-4000-8000-000000000002' }), {
      ok: false,
      error: 'role-assignment-exists',
      existing: (first as { assignment: RoleAssignment }).assignment,
    });
    assert.equal((r.createAssignment({ ...input, name: 'x' }) as { error: string }).error, 'invalid-name');
    const stranger = {
      ...input,
      name: 'cccccccc-0000-4000-8000-000000000003',
      principalId: 'dddddddd-0000-4000-8000-000000000001',
    };
    assert.equal((r.createAssignment(stranger) as { error: string }).error, 'principal-not-found');
    assert.ok(r.createAssignment({ ...stranger, principalType: 'User' }).ok);
    assert.equal(
      (
        r.createAssignment({
          ...input,
          name: 'cccccccc-0000-4000-8000-000000000004',
          roleDefinitionId: 'eeeeeeee-0000-4000-8000-000000000000',
        }) as { error: string }
      ).error,
      'role-definition-not-found',
    );
  });

  test('default assignments can be deleted, and reset brings them back', () => {
    const d = assignment(ROLE_IDS.reader, RG, 'ffffffff-0000-4000-8000-000000000001');
    const r = new Rbac({ defaultAssignments: () => [d], now: () => '' });
    assert.equal(r.check({ principalId: P, scope: RG, action: 'a/read' }).allowed, true);
    assert.ok(r.deleteAssignment(d.name));
    assert.equal(r.check({ principalId: P, scope: RG, action: 'a/read' }).allowed, false);
    r.reset();
    assert.equal(r.assignments().length, 1);
  });

  test("built-in roles carry Azure's ids", () => {
    const byName = Object.fromEntries(BUILT_IN_ROLES.map((r) => [r.roleName, r.name]));
    assert.equal(byName.Owner, '8e3af657-a8ff-443c-a75c-2fe8c4bcb635');
    assert.equal(byName.Contributor, 'b24988ac-6180-42a0-ab88-20f7382dd24c');
    assert.equal(byName['User Access Administrator'], '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9');
    assert.equal(byName['Virtual Machine Contributor'], '9980e02c-c2be-4d73-94e8-173b1dc7cf3c');
    assert.equal(byName['Key Vault Secrets User'], '4633458b-17de-408a-b874-0445c86b69e6');
    assert.equal(new Set(BUILT_IN_ROLES.map((r) => r.name)).size, BUILT_IN_ROLES.length);
  });
});
