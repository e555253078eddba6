/**
 * The control API's `/key-vault` routes (docs/control-api.md): vaults with secret names and versions,
 * never values; setting a secret that the data plane then serves (as https://<vault>.vault.azure.net
 * through the proxy).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VaultSummary } from '../../src/core/key-vault/key-vaults.js';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { tokenFor } from '../support/key-vault.js';
import { viaAzure } from '../support/proxy.js';

describe('control API /key-vault', () => {
  let azimds: EmulatorHandle;
  let vault: string;
  before(async () => {
    azimds = await startEmulator();
    vault = azimds.state.keyVaults.catalog.defaultVault()?.name as string;
  });
  after(() => azimds.close());

  const control = (method: string, path: string, body?: unknown) =>
    fetch(`${azimds.urls.control}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });

  test('lists the default vault with the sample secret name and version, never its value', async () => {
    const res = await control('GET', '/key-vault/vaults');
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes('Hello from azimds'));
    const { vaults } = JSON.parse(text) as { vaults: VaultSummary[] };
    assert.equal(vaults.length, 1);
    assert.equal(vaults[0]?.name, vault);
    assert.equal(vaults[0]?.enableRbacAuthorization, true);
    assert.equal(vaults[0]?.secrets[0]?.name, 'sample-secret');
    assert.match(vaults[0]?.secrets[0]?.versions[0]?.version ?? '', /^[0-9a-f]{32}$/);
  });

  test('sets a secret without a token; the data plane serves it to a reader; the value is not echoed', async () => {
    const res = await control('PUT', `/key-vault/vaults/${vault.toUpperCase()}/secrets/from-control`, {
      value: 'c0ntrol',
      contentType: 'text/plain',
      tags: { by: 'control' },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.value, undefined);
    assert.equal(body.name, 'from-control');
    assert.match(body.version as string, /^[0-9a-f]{32}$/);
    const read = await viaAzure(
      azimds,
      'GET',
      `https://${vault}.vault.azure.net/secrets/from-control?api-version=7.4`,
      { token: await tokenFor(azimds.state) },
    );
    assert.equal(read.status, 200);
    assert.equal(read.json.value, 'c0ntrol');
    const shown = (await (await control('GET', `/key-vault/vaults/${vault}`)).json()) as VaultSummary;
    assert.ok(shown.secrets.some((s) => s.name === 'from-control'));
  });

  test('answers 404 for an unknown vault and 400 for a bad name or body', async () => {
    assert.equal((await control('GET', '/key-vault/vaults/nope')).status, 404);
    assert.equal((await control('PUT', '/key-vault/vaults/nope/secrets/x', { value: 'v' })).status, 404);
    assert.equal(
      (await control('PUT', `/key-vault/vaults/${vault}/secrets/bad_name`, { value: 'v' })).status,
      400,
    );
    assert.equal((await control('PUT', `/key-vault/vaults/${vault}/secrets/ok`, { value: 1 })).status, 400);
  });
});
