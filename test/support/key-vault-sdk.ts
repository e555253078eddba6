/**
 * The scenarios of the real `@azure/keyvault-secrets` SecretClient against azimds, as functions any
 * transport can call: the direct https endpoint (test/clients/key-vault-sdk.test.ts) and, after the
 * proxy is merged, `https://<vault>.vault.azure.net` through the proxy (call them with such a client).
 * The SDK is used unchanged, its challenge-resource verification left on.
 */
import assert from 'node:assert/strict';
import type { RestError } from '@azure/core-rest-pipeline';
import type { SecretClient } from '@azure/keyvault-secrets';

/** Poll fast: the emulator answers at once (the pollers' default waits 2 s between polls). */
const POLL = { intervalInMs: 10 };

/** Awaits `promise` and returns the RestError it rejects with. */
async function restError(promise: Promise<unknown>): Promise<RestError> {
  try {
    await promise;
  } catch (error) {
    return error as RestError;
  }
  assert.fail('expected the call to fail');
}

/**
 * Reads `name` and checks its value: the seed lab's and most apps' only call.
 */
export async function readSecret(client: SecretClient, name: string, expected: string): Promise<void> {
  const secret = await client.getSecret(name);
  assert.equal(secret.value, expected);
  assert.equal(secret.name, name);
  assert.match(secret.properties.version ?? '', /^[0-9a-f]{32}$/);
}

/**
 * Every secret operation with an identity allowed to do them all (Key Vault Secrets Officer or an
 * access policy with every secret permission): set (new versions), get latest and by version, list
 * (paged) and list versions, update, the disabled-secret and not-found errors, soft delete, get/list
 * deleted, recover, purge. `prefix` keeps names unique per run.
 */
export async function exerciseEverySecretOperation(client: SecretClient, prefix: string): Promise<void> {
  const name = `${prefix}-db`;
  const first = await client.setSecret(name, 'one', { contentType: 'text/plain', tags: { env: 'test' } });
  const second = await client.setSecret(name, 'two');
  assert.notEqual(first.properties.version, second.properties.version);
  assert.equal(first.properties.contentType, 'text/plain');
  assert.deepEqual(first.properties.tags, { env: 'test' });
  assert.equal((await client.getSecret(name)).value, 'two');
  assert.equal((await client.getSecret(name, { version: first.properties.version as string })).value, 'one');

  for (const n of ['a', 'b', 'c']) await client.setSecret(`${prefix}-list-${n}`, n);
  const names: string[] = [];
  for await (const page of client.listPropertiesOfSecrets().byPage({ maxPageSize: 2 })) {
    assert.ok(page.length <= 2);
    for (const p of page) names.push(p.name);
  }
  for (const n of ['a', 'b', 'c']) assert.ok(names.includes(`${prefix}-list-${n}`), names.join());
  const versions: string[] = [];
  for await (const p of client.listPropertiesOfSecretVersions(name)) versions.push(p.version as string);
  assert.deepEqual(versions.sort(), [first.properties.version, second.properties.version].sort());

  const updated = await client.updateSecretProperties(name, second.properties.version as string, {
    enabled: false,
    tags: { changed: 'yes' },
  });
  assert.equal(updated.enabled, false);
  assert.deepEqual(updated.tags, { changed: 'yes' });
  const disabled = await restError(client.getSecret(name));
  assert.equal(disabled.statusCode, 403);
  assert.equal(disabled.code, 'Forbidden');
  assert.equal(disabled.message, 'Operation get is not allowed on a disabled secret.');

  const missing = await restError(client.getSecret(`${prefix}-missing`));
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.code, 'SecretNotFound');

  const deleted = await (await client.beginDeleteSecret(name, POLL)).pollUntilDone();
  assert.equal(deleted.name, name);
  assert.ok(deleted.properties.recoveryId?.endsWith(`/deletedsecrets/${name}`));
  assert.ok(deleted.properties.scheduledPurgeDate instanceof Date);
  assert.equal((await client.getDeletedSecret(name)).name, name);
  const deletedNames: string[] = [];
  for await (const d of client.listDeletedSecrets()) deletedNames.push(d.name);
  assert.ok(deletedNames.includes(name));
  const conflict = await restError(client.setSecret(name, 'three'));
  assert.equal(conflict.statusCode, 409);

  await (await client.beginRecoverDeletedSecret(name, POLL)).pollUntilDone();
  assert.equal((await client.getSecret(name, { version: first.properties.version as string })).value, 'one');

  await (await client.beginDeleteSecret(name, POLL)).pollUntilDone();
  await client.purgeDeletedSecret(name);
  const purged = await restError(client.getDeletedSecret(name));
  assert.equal(purged.statusCode, 404);
}

/**
 * An identity that may read but not write (Key Vault Secrets User): setSecret fails as Azure's RBAC
 * refuses it (403 Forbidden, ForbiddenByRbac, the setSecret data action named).
 */
export async function assertWriteForbiddenByRbac(client: SecretClient, name: string): Promise<void> {
  const error = await restError(client.setSecret(name, 'nope'));
  assert.equal(error.statusCode, 403);
  assert.equal(error.code, 'Forbidden');
  assert.match(error.message, /Caller is not authorized to perform action on resource/);
  assert.match(error.message, /Microsoft\.KeyVault\/vaults\/secrets\/setSecret\/action/);
}

/**
 * An identity without any role on the vault: even getSecret fails as Azure's RBAC refuses it (403
 * Forbidden, ForbiddenByRbac, the getSecret data action named).
 */
export async function assertReadForbiddenByRbac(client: SecretClient, name: string): Promise<void> {
  const error = await restError(client.getSecret(name));
  assert.equal(error.statusCode, 403);
  assert.equal(error.code, 'Forbidden');
  // The body's inner error, as the SDK deserializes it (`innerError` in its model).
  assert.match(JSON.stringify(error.details), /"code":"ForbiddenByRbac"/);
  assert.match(error.message, /Microsoft\.KeyVault\/vaults\/secrets\/getSecret\/action/);
}
