import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { startEmulator } from '../../src/server/emulator.js';

test('the library without a dataDir keeps files in a private temp directory and removes it on close', async () => {
  const azimds = await startEmulator();
  const dir = azimds.config.dataDir;
  assert.ok(dir.startsWith(tmpdir()), `${dir} is under the OS temp directory`);
  const res = await fetch(`${azimds.urls.imds}/metadata/attested/document?api-version=2021-02-01`, {
    headers: { Metadata: 'true' },
  });
  assert.equal(res.status, 200);
  assert.ok(azimds.state.attestation.caFile?.startsWith(dir), 'the CA file is in that directory');
  assert.ok(existsSync(azimds.state.attestation.caFile ?? ''));
  await azimds.close();
  assert.equal(existsSync(dir), false);
});

test('the library with a dataDir uses it and leaves it in place', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const dataDir = mkdtempSync(`${tmpdir()}/azimds-given-`);
  try {
    const azimds = await startEmulator({ dataDir });
    assert.equal(azimds.config.dataDir, dataDir);
    await azimds.close();
    assert.ok(existsSync(dataDir));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
