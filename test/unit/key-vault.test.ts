/**
 * The Key Vault core (src/core/key-vault): secret versions and soft delete on the emulator clock,
 * recovery levels, the per-vault rule, config seeding, the default vault and its assignments, and the
 * host rules of the challenge.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { keyVaultSchema } from '../../src/config/key-vault.js';
import { EmulatorClock } from '../../src/core/clock.js';
import { authorizeSecretOperation, type VaultCaller } from '../../src/core/key-vault/authorization.js';
import { resolveSeeds } from '../../src/core/key-vault/key-vaults.js';
import { recoveryLevel, VaultSecrets } from '../../src/core/key-vault/secrets.js';
import type { DataActionChecker, VaultRecord } from '../../src/core/key-vault/vault.js';
import { verifyBearer } from '../../src/core/tokens/bearer.js';
import { defaultVaultName } from '../../src/core/world/key-vault.js';
import { challengeHeader, vaultAddress } from '../../src/protocols/key-vault/host.js';
import { createState, libraryConfig } from '../../src/server/emulator.js';
import { strangerIdentity, tokenFor } from '../support/key-vault.js';

const VAULT: VaultRecord = {
  name: 'kv-unit',
  resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-unit',
  location: 'westeurope',
  tenantId: 't1',
  vaultUri: 'https://kv-unit.vault.azure.net/',
  enableRbacAuthorization: true,
  accessPolicies: [],
  enableSoftDelete: true,
  softDeleteRetentionInDays: 7,
  enablePurgeProtection: false,
};
const CALLER: VaultCaller = {
  principalId: 'OID-1',
  tenantId: 'T1',
  appId: 'app',
  issuer: 'https://sts.windows.net/t1/',
};
const deny: DataActionChecker = { check: () => ({ allowed: false }) };

describe('VaultSecrets', () => {
  test('names are case-insensitive and keep the case they were created with; versions are 32 hex', () => {
    const clock = new EmulatorClock();
    const store = new VaultSecrets(() => VAULT, clock);
    const a = store.set('Db-Password', { value: 'one' });
    const b = store.set('db-password', { value: 'two' });
    assert.ok(a.ok && b.ok);
    assert.match(a.value.version, /^[0-9a-f]{32}$/);
    assert.equal(b.value.name, 'Db-Password');
    const got = store.get('DB-PASSWORD');
    assert.ok(got.ok);
    assert.equal(got.value.value, 'two');
    assert.equal(store.versions('db-password').length, 2);
  });

  test('times are unix seconds on the emulator clock; update moves `updated` only', () => {
    const clock = new EmulatorClock();
    clock.set(Date.UTC(2030, 0, 1));
    const store = new VaultSecrets(() => VAULT, clock);
    const set = store.set('s', { value: 'v' });
    assert.ok(set.ok);
    assert.equal(set.value.attributes.created, Date.UTC(2030, 0, 1) / 1000);
    clock.advance(60_000);
    const updated = store.update('s', undefined, { tags: { a: 'b' } });
    assert.ok(updated.ok);
    assert.equal(updated.value.attributes.created, Date.UTC(2030, 0, 1) / 1000);
    assert.equal(updated.value.attributes.updated, Date.UTC(2030, 0, 1) / 1000 + 60);
  });

  test('soft delete schedules the purge at retention days; it happens by itself on the clock', () => {
    const clock = new EmulatorClock();
    const store = new VaultSecrets(() => VAULT, clock);
    store.set('s', { value: 'v' });
    const deleted = store.delete('s');
    assert.ok(deleted.ok && 'scheduledPurgeDate' in deleted.value);
    assert.equal(
      (deleted.value as { scheduledPurgeDate: number; deletedDate: number }).scheduledPurgeDate,
      (deleted.value as { deletedDate: number }).deletedDate + 7 * 86_400,
    );
    assert.equal(store.listDeleted().length, 1);
    clock.advance(7 * 86_400_000);
    assert.equal(store.listDeleted().length, 0);
    assert.ok(store.set('s', { value: 'again' }).ok);
  });

  test('recovery levels follow soft delete, retention and purge protection', () => {
    assert.deepEqual(recoveryLevel({ ...VAULT, softDeleteRetentionInDays: 90 }), {
      level: 'Recoverable+Purgeable',
      days: 90,
    });
    assert.deepEqual(recoveryLevel(VAULT), { level: 'CustomizedRecoverable+Purgeable', days: 7 });
    assert.deepEqual(
      recoveryLevel({ ...VAULT, softDeleteRetentionInDays: 90, enablePurgeProtection: true }),
      {
        level: 'Recoverable',
        days: 90,
      },
    );
    assert.deepEqual(recoveryLevel({ ...VAULT, enablePurgeProtection: true }), {
      level: 'CustomizedRecoverable',
      days: 7,
    });
    assert.deepEqual(recoveryLevel({ ...VAULT, enableSoftDelete: false }), { level: 'Purgeable' });
  });

  test('get refuses a disabled version but update and versions still see it', () => {
    const store = new VaultSecrets(() => VAULT, new EmulatorClock());
    store.set('s', { value: 'v', enabled: false });
    assert.deepEqual(store.get('s'), { ok: false, failure: { kind: 'disabled' } });
    assert.equal(store.versions('s').length, 1);
    assert.ok(store.update('s', undefined, { enabled: true }).ok);
    assert.ok(store.get('s').ok);
  });
});

describe('authorizeSecretOperation', () => {
  test('RBAC vaults ask the checker and report the data action and scope of a denial', () => {
    const decision = authorizeSecretOperation(VAULT, CALLER, 'get', deny, 's1');
    assert.deepEqual(decision, {
      allowed: false,
      model: 'rbac',
      dataAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
      scope: `${VAULT.resourceId}/secrets/s1`,
    });
  });

  test('access-policy vaults match object id and tenant (any case) and the permission or `all`', () => {
    const policyVault: VaultRecord = {
      ...VAULT,
      enableRbacAuthorization: false,
      accessPolicies: [
        { tenantId: 't1', objectId: 'oid-1', permissions: { secrets: ['Get'] } },
        { tenantId: 't1', objectId: 'oid-2', permissions: { secrets: ['all'] } },
        { tenantId: 'other', objectId: 'oid-3', permissions: { secrets: ['all'] } },
      ],
    };
    assert.deepEqual(authorizeSecretOperation(policyVault, CALLER, 'get', deny), { allowed: true });
    assert.deepEqual(authorizeSecretOperation(policyVault, CALLER, 'update', deny), {
      allowed: false,
      model: 'policy',
      permission: 'set',
    });
    assert.deepEqual(
      authorizeSecretOperation(policyVault, { ...CALLER, principalId: 'oid-2' }, 'purge', deny),
      {
        allowed: true,
      },
    );
    assert.equal(
      authorizeSecretOperation(policyVault, { ...CALLER, principalId: 'oid-3' }, 'get', deny).allowed,
      false,
    );
  });
});

describe('keyVault config and seeding', () => {
  test('a seeded secret takes exactly one of value, valueFile, valueEnv', () => {
    const one = (s: object) => keyVaultSchema.safeParse({ secrets: { kv: [{ name: 'n', ...s }] } }).success;
    assert.equal(one({ value: 'v' }), true);
    assert.equal(one({}), false);
    assert.equal(one({ value: 'v', valueEnv: 'X' }), false);
    assert.equal(
      keyVaultSchema.safeParse({ secrets: { kv: [{ name: 'bad_name', value: 'v' }] } }).success,
      false,
    );
  });

  test('dates may be ISO 8601 or unix seconds', () => {
    const parsed = keyVaultSchema.parse({
      secrets: { kv: [{ name: 'n', value: 'v', nbf: '2030-01-01T00:00:00Z', exp: 1_900_000_000 }] },
    });
    assert.equal(parsed.secrets?.kv?.[0]?.nbf, Date.UTC(2030, 0, 1) / 1000);
    assert.equal(parsed.secrets?.kv?.[0]?.exp, 1_900_000_000);
  });

  test('values come from files and the environment; a missing one is a config error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'azimds-kv-'));
    const file = join(dir, 'value.txt');
    writeFileSync(file, 'from-file');
    const seeds = resolveSeeds({ KV: [{ name: 'f', valueFile: file }] }, {});
    assert.equal(seeds.get('kv')?.[0]?.value, 'from-file');
    assert.equal(
      resolveSeeds({ kv: [{ name: 'e', valueEnv: 'V' }] }, { V: 'from-env' }).get('kv')?.[0]?.value,
      'from-env',
    );
    assert.throws(() => resolveSeeds({ kv: [{ name: 'e', valueEnv: 'UNSET' }] }, {}), {
      code: 'CONFIG_INVALID',
    });
    assert.throws(() => resolveSeeds({ kv: [{ name: 'f', valueFile: join(dir, 'missing') }] }, {}), {
      code: 'CONFIG_INVALID',
    });
  });
});

describe('the default vault', () => {
  test('is named kv-azimds-<first 8 hex of the subscription> in the VM resource group, RBAC', () => {
    assert.equal(defaultVaultName('1A2B3C4D-0000-4000-8000-000000000000'), 'kv-azimds-1a2b3c4d');
    const state = createState(
      libraryConfig({
        vm: {
          compute: { subscriptionId: '1a2b3c4d-0000-4000-8000-000000000000', resourceGroupName: 'rg-x' },
        },
      }),
    );
    const vault = state.keyVaults.catalog.defaultVault();
    assert.equal(vault?.name, 'kv-azimds-1a2b3c4d');
    assert.equal(
      vault?.resourceId,
      '/subscriptions/1a2b3c4d-0000-4000-8000-000000000000/resourceGroups/rg-x/providers/Microsoft.KeyVault/vaults/kv-azimds-1a2b3c4d',
    );
    assert.equal(vault?.vaultUri, 'https://kv-azimds-1a2b3c4d.vault.azure.net/');
    assert.equal(vault?.enableRbacAuthorization, true);
    assert.equal(state.keyVaults.vault('KV-AZIMDS-1A2B3C4D')?.name, vault?.name);
  });

  test('names the configured vaults that do not exist (start warns about them)', () => {
    const state = createState(
      libraryConfig({ keyVault: { secrets: { 'kv-typo': [{ name: 'a', value: 'b' }] } } }),
    );
    assert.deepEqual(state.keyVaults.seededVaultsNotFound(), ['kv-typo']);
  });

  test('the VM identities hold Secrets User on it and nothing more', () => {
    const state = createState(libraryConfig({ identity: { userAssigned: [{ name: 'id-app' }] } }));
    const vault = state.keyVaults.catalog.defaultVault() as VaultRecord;
    for (const identity of state.identities.all()) {
      const caller = { ...CALLER, principalId: identity.principalId, tenantId: identity.tenantId };
      assert.equal(state.keyVaults.authorize(vault, caller, 'get', 'x').allowed, true);
      assert.equal(state.keyVaults.authorize(vault, caller, 'list').allowed, true);
      assert.equal(state.keyVaults.authorize(vault, caller, 'set', 'x').allowed, false);
      assert.equal(state.keyVaults.authorize(vault, caller, 'delete', 'x').allowed, false);
    }
    const stranger = strangerIdentity(state);
    assert.equal(
      state.keyVaults.authorize(vault, { ...CALLER, principalId: stranger.principalId }, 'get', 'x').allowed,
      false,
    );
  });
});

describe('vault hosts and the challenge', () => {
  test('maps hosts to vaults and challenge resources', () => {
    assert.deepEqual(vaultAddress('KV-1.vault.azure.net', 'http'), {
      vaultName: 'kv-1',
      resource: 'https://vault.azure.net',
      origin: 'https://kv-1.vault.azure.net',
    });
    assert.deepEqual(vaultAddress('kv-1.vault.localhost:8443', 'https'), {
      vaultName: 'kv-1',
      resource: 'https://vault.localhost:8443',
      origin: 'https://kv-1.vault.localhost:8443',
    });
    assert.deepEqual(vaultAddress('127.0.0.1:8443', 'https'), {
      vaultName: undefined,
      resource: 'https://0.0.1:8443',
      origin: 'https://127.0.0.1:8443',
    });
    assert.equal(vaultAddress('localhost:8443', 'http').resource, 'https://vault.azure.net');
    assert.equal(
      challengeHeader('t', 'https://vault.azure.net'),
      'Bearer authorization="https://login.microsoftonline.com/t", resource="https://vault.azure.net"',
    );
  });
});

describe('verifyBearer', () => {
  test('accepts azimds tokens for the audience (slash-insensitive) and names each failure', async () => {
    const state = createState(libraryConfig({}));
    const token = await tokenFor(state, 'https://vault.azure.net/');
    const ok = await verifyBearer(state, `Bearer ${token}`, ['https://vault.azure.net']);
    assert.ok(ok.ok);
    assert.equal(ok.bearer.principalId, state.identities.all()[0]?.principalId);
    assert.equal(ok.bearer.appId, state.identities.all()[0]?.clientId);
    assert.equal((await verifyBearer(state, undefined, ['x'])).ok, false);
    const failure = async (header: string | undefined, audiences: string[]) => {
      const r = await verifyBearer(state, header, audiences);
      return r.ok ? 'ok' : r.failure;
    };
    assert.equal(await failure(undefined, ['x']), 'missing');
    assert.equal(await failure(`Basic ${token}`, ['x']), 'malformed');
    assert.equal(await failure('Bearer nonsense', ['x']), 'malformed');
    assert.equal(await failure(`Bearer ${token}`, ['https://management.azure.com/']), 'wrong-audience');
    const [h, p] = token.split('.');
    assert.equal(await failure(`Bearer ${h}.${p}.AAAA`, ['https://vault.azure.net']), 'invalid-signature');
    state.clock.advance(2 * 86_400_000);
    assert.equal(await failure(`Bearer ${token}`, ['https://vault.azure.net']), 'expired');
  });
});
