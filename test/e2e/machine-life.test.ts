/**
 * Issue 7's "done means", as one story against ONE emulator: a test suite schedules a Reboot and
 * watches its application acknowledge it through IMDS, verifies an attested document, and proves the
 * application's token code survives IMDS throttling. Each step uses only what a user has: the library
 * handle, plain HTTP, openssl and @azure/identity.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManagedIdentityCredential } from '@azure/identity';
import { type EmulatorHandle, startEmulator } from '../../src/server/emulator.js';
import { isolateSdkEnvironment } from '../support/sdk-env.js';

const EVENTS = '/metadata/scheduledevents?api-version=2020-07-01';
const METADATA = { Metadata: 'true' };

interface EventsDocument {
  DocumentIncarnation: number;
  Events: Array<{ EventId: string; EventType: string; EventStatus: string; NotBefore: string }>;
}

let azimds: EmulatorHandle;
let restoreEnv: () => void;
const work = mkdtempSync(join(tmpdir(), 'azimds-life-'));

before(async () => {
  azimds = await startEmulator();
  restoreEnv = isolateSdkEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: azimds.urls.imds ?? '' });
});

after(async () => {
  restoreEnv();
  await azimds.close();
  rmSync(work, { recursive: true, force: true });
});

/** What the application under test does: poll scheduled events the way Microsoft's samples do. */
async function pollEvents(): Promise<EventsDocument> {
  const res = await fetch(`${azimds.urls.imds}${EVENTS}`, { headers: METADATA });
  assert.equal(res.status, 200);
  return (await res.json()) as EventsDocument;
}

describe('the life of one emulated machine', () => {
  test('a scheduled Reboot is seen, approved by the application, starts, and is gone after it ran', async () => {
    const reboot = azimds.events.add({ type: 'Reboot', notBefore: '+15m' });
    const seen = await pollEvents();
    const event = seen.Events.find((e) => e.EventId === reboot.id);
    assert.equal(event?.EventType, 'Reboot');
    assert.equal(event?.EventStatus, 'Scheduled');
    assert.match(event?.NotBefore ?? '', /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);

    // The application drains its work and acknowledges, as Azure's docs tell it to.
    const ack = await fetch(`${azimds.urls.imds}${EVENTS}`, {
      method: 'POST',
      headers: { ...METADATA, 'content-type': 'application/json' },
      body: JSON.stringify({ StartRequests: [{ EventId: reboot.id }] }),
    });
    assert.equal(ack.status, 200);
    const started = await pollEvents();
    assert.equal(started.Events.find((e) => e.EventId === reboot.id)?.EventStatus, 'Started');
    assert.ok(started.DocumentIncarnation > seen.DocumentIncarnation);

    azimds.clock.advance(60 * 60_000);
    const after = await pollEvents();
    assert.equal(
      after.Events.find((e) => e.EventId === reboot.id),
      undefined,
    );
    assert.ok(after.DocumentIncarnation > started.DocumentIncarnation);
  });

  test('an attested document verifies with openssl against the emulator CA and carries the nonce and vmId', async (t) => {
    if (spawnSync('openssl', ['version']).status !== 0) {
      t.skip('openssl is not installed');
      return;
    }
    const res = await fetch(
      `${azimds.urls.imds}/metadata/attested/document?api-version=2021-02-01&nonce=4242424242`,
      { headers: METADATA },
    );
    assert.equal(res.status, 200);
    const { encoding, signature } = (await res.json()) as { encoding: string; signature: string };
    assert.equal(encoding, 'pkcs7');
    writeFileSync(join(work, 'signature.der'), Buffer.from(signature, 'base64'));
    writeFileSync(join(work, 'ca.pem'), await azimds.state.attestation.caCertificatePem());
    const verified = spawnSync(
      'openssl',
      ['smime', '-verify', '-inform', 'DER', '-in', 'signature.der', '-CAfile', 'ca.pem', '-purpose', 'any'],
      { cwd: work, encoding: 'utf8' },
    );
    assert.equal(verified.status, 0, verified.stderr);
    const signed = JSON.parse(verified.stdout) as { nonce: string; vmId: string };
    assert.equal(signed.nonce, '4242424242');
    assert.equal(signed.vmId, azimds.state.machine.compute('vmId'));
  });

  test("the application's ManagedIdentityCredential gets its token through two throttled answers", async () => {
    const path = '/metadata/identity/oauth2/token';
    azimds.faults.add({ path, status: 429, times: 2, retryAfter: 0 });
    const credential = new ManagedIdentityCredential({
      retryOptions: { retryDelayInMs: 5, maxRetryDelayInMs: 20, maxRetries: 3 },
    });
    const token = await credential.getToken('https://vault.azure.net/.default');
    assert.ok(token.token.split('.').length === 3, 'a JWT');
    const statuses = azimds.requestLog
      .entries()
      .entries.filter((e) => e.path.replace(/\/$/, '') === path)
      .map((e) => e.status);
    assert.deepEqual(statuses.slice(-3), [429, 429, 200]);
  });
});
