/**
 * Which identity a token request gets (protocols.md §6.2) and how identities are resolved from config:
 * generated ids are stable, resource ids follow the VM's subscription and group, the Go simulator's
 * tenant feeds the tenant id.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { generatedIdentityConfig, IdentityDirectory } from '../../src/core/identities/directory.js';
import type { IdentitySelector } from '../../src/core/identities/identity.js';
import { Machine } from '../../src/core/machines/machine.js';
import { AzimdsError } from '../../src/errors.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function directory(input: ConfigInput | Record<string, unknown>): IdentityDirectory {
  const config = resolveConfig(input);
  return new IdentityDirectory(config, new Machine(config.vm));
}

const byClient = (value: string): IdentitySelector => ({ by: 'clientId', value });
const byPrincipal = (value: string): IdentitySelector => ({ by: 'principalId', value });
const byResource = (value: string): IdentitySelector => ({ by: 'resourceId', value });

describe('identity resolution', () => {
  test('gives the VM a system-assigned identity by default, with generated GUIDs and the VM as xms_mirid', () => {
    const { systemAssigned, userAssigned, tenantId } = directory({}).current;
    assert.ok(systemAssigned);
    assert.match(systemAssigned.clientId, GUID);
    assert.match(systemAssigned.principalId, GUID);
    assert.notEqual(systemAssigned.clientId, systemAssigned.principalId);
    assert.match(tenantId, GUID);
    assert.equal(systemAssigned.tenantId, tenantId);
    assert.match(
      systemAssigned.resourceId,
      /^\/subscriptions\/[0-9a-f-]{36}\/resourcegroups\/rg-azimds\/providers\/Microsoft\.Compute\/virtualMachines\/azimds-vm-01$/,
    );
    assert.deepEqual(userAssigned, []);
  });

  test('generates the same ids on every run', () => {
    const input = { identity: { userAssigned: [{ name: 'id-app' }] } };
    assert.deepEqual(directory(input).all(), directory(input).all());
  });

  test('derives a user-assigned identity resource id from the VM subscription and resource group', () => {
    const d = directory({
      vm: {
        compute: { subscriptionId: '11111111-2222-4333-8444-555555555555', resourceGroupName: 'rg-web' },
      },
      identity: { userAssigned: [{ name: 'id-web' }] },
    });
    const [u] = d.current.userAssigned;
    assert.equal(
      u?.resourceId,
      '/subscriptions/11111111-2222-4333-8444-555555555555/resourcegroups/rg-web/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-web',
    );
    assert.equal(u?.kind, 'user-assigned');
    assert.match(u?.clientId ?? '', GUID);
  });

  test('keeps configured ids (lower-cased) and accepts objectId as an alias of principalId', () => {
    const d = directory({
      identity: {
        systemAssigned: { clientId: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE' },
        userAssigned: [
          {
            resourceId:
              '/subscriptions/x/resourceGroups/rg-other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ext',
            objectId: '01234567-89ab-4cde-8f01-23456789abcd',
          },
        ],
      },
    });
    assert.equal(d.current.systemAssigned?.clientId, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    const [u] = d.current.userAssigned;
    assert.equal(u?.name, 'id-ext');
    assert.equal(u?.principalId, '01234567-89ab-4cde-8f01-23456789abcd');
    assert.equal(
      u?.resourceId,
      '/subscriptions/x/resourceGroups/rg-other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ext',
    );
  });

  test("takes the tenant from the Go simulator's tenantID, unless identity.tenantId is set", () => {
    const go = { tenantID: '72F988BF-86F1-41AF-91AB-2D7CD011DB47', servicePrincipals: {} };
    assert.equal(directory(go).tenantId, '72f988bf-86f1-41af-91ab-2d7cd011db47');
    const config = resolveConfig(go);
    const own = new IdentityDirectory(
      { ...config, identity: { ...config.identity, tenantId: '00000000-1111-4222-8333-444444444444' } },
      new Machine(config.vm),
    );
    assert.equal(own.tenantId, '00000000-1111-4222-8333-444444444444');
  });

  test('follows a change of the VM (new resource ids after the VM is renamed)', () => {
    const config = resolveConfig({});
    const machine = new Machine(config.vm);
    const d = new IdentityDirectory(config, machine);
    const before = d.current.systemAssigned?.resourceId;
    machine.replace({ ...config.vm, compute: { ...config.vm.compute, name: 'renamed-vm' } });
    assert.notEqual(d.current.systemAssigned?.resourceId, before);
    assert.match(d.current.systemAssigned?.resourceId ?? '', /virtualMachines\/renamed-vm$/);
  });

  test('rejects duplicate names and client ids, and a name that contradicts the resource id', () => {
    const bad = (identity: ConfigInput['identity']) =>
      assert.throws(
        () => resolveConfig({ identity }),
        (e: unknown) => e instanceof AzimdsError && e.code === 'CONFIG_INVALID',
      );
    bad({ userAssigned: [{ name: 'id-a' }, { name: 'ID-A' }] });
    const clientId = '01234567-89ab-4cde-8f01-23456789abcd';
    bad({
      userAssigned: [
        { name: 'id-a', clientId },
        { name: 'id-b', clientId },
      ],
    });
    bad({
      userAssigned: [
        {
          name: 'id-a',
          resourceId:
            '/subscriptions/s/resourcegroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-b',
        },
      ],
    });
    bad({ userAssigned: [{}] });
    bad({ userAssigned: [{ name: 'id-a', resourceId: '/subscriptions/s/resourcegroups/g' }] });
  });

  test('writes out generated ids (print-config) so that loading them gives the same identities', () => {
    const config = resolveConfig({ identity: { userAssigned: [{ name: 'id-a' }, { name: 'id-b' }] } });
    const machine = new Machine(config.vm);
    const written = generatedIdentityConfig(config, machine);
    assert.match(
      written.systemAssigned && 'clientId' in written.systemAssigned
        ? String(written.systemAssigned.clientId)
        : '',
      GUID,
    );
    const reloaded = resolveConfig({ identity: written });
    assert.deepEqual(
      new IdentityDirectory(reloaded, machine).all(),
      new IdentityDirectory(config, machine).all(),
    );
  });

  test('accepts systemAssigned: false', () => {
    assert.equal(directory({ identity: { systemAssigned: false } }).current.systemAssigned, undefined);
  });
});

describe('identity selection (§6.2)', () => {
  const two = { identity: { userAssigned: [{ name: 'id-one' }, { name: 'id-two' }] } };

  test('gives the system-assigned identity when no selector is given', () => {
    const d = directory(two);
    const s = d.select([]);
    assert.ok(s.ok);
    assert.equal(s.identity.kind, 'system-assigned');
  });

  test('selects a user-assigned identity by client id, principal id or resource id, in any letter case', () => {
    const d = directory(two);
    const target = d.current.userAssigned[1];
    assert.ok(target);
    for (const selector of [
      byClient(target.clientId.toUpperCase()),
      byPrincipal(target.principalId),
      byResource(target.resourceId.toUpperCase()),
    ]) {
      const s = d.select([selector]);
      assert.ok(s.ok, selector.by);
      assert.equal(s.identity, target);
    }
  });

  test('selects the system-assigned identity by its client or principal id but not by the VM resource id', () => {
    const d = directory(two);
    const sa = d.current.systemAssigned;
    assert.ok(sa);
    assert.equal(d.select([byClient(sa.clientId)]).ok, true);
    assert.equal(d.select([byPrincipal(sa.principalId)]).ok, true);
    assert.deepEqual(d.select([byResource(sa.resourceId)]), { ok: false, error: 'identity-not-found' });
  });

  test('answers identity-not-found for a selector that matches no assigned identity', () => {
    assert.deepEqual(directory(two).select([byClient('00000000-0000-4000-8000-000000000000')]), {
      ok: false,
      error: 'identity-not-found',
    });
  });

  test('answers several-selectors when two selectors are given, even if they name the same identity', () => {
    const d = directory(two);
    const u = d.current.userAssigned[0];
    assert.ok(u);
    assert.deepEqual(d.select([byClient(u.clientId), byPrincipal(u.principalId)]), {
      ok: false,
      error: 'several-selectors',
    });
  });

  test('without a system-assigned identity, gives the only user-assigned one when there is exactly one', () => {
    const d = directory({ identity: { systemAssigned: false, userAssigned: [{ name: 'id-only' }] } });
    const s = d.select([]);
    assert.ok(s.ok);
    assert.equal(s.identity.name, 'id-only');
  });

  test('without a system-assigned identity and several user-assigned ones, asks for a selector', () => {
    const d = directory({ identity: { ...two.identity, systemAssigned: false } });
    assert.deepEqual(d.select([]), { ok: false, error: 'multiple-user-assigned' });
  });

  test('answers identity-not-found when the VM has no identity at all', () => {
    const d = directory({ identity: { systemAssigned: false } });
    assert.deepEqual(d.select([]), { ok: false, error: 'identity-not-found' });
    assert.deepEqual(d.select([byClient('00000000-0000-4000-8000-000000000000')]), {
      ok: false,
      error: 'identity-not-found',
    });
  });
});
