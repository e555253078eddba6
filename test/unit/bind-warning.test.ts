import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { startEmulator } from '../../src/server/emulator.js';
import { staysOnThisMachine } from '../../src/server/listener.js';

test('loopback and IMDS link-local addresses count as this machine only; wildcard and LAN ones do not', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '169.254.169.254']) {
    assert.equal(staysOnThisMachine(host), true, host);
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.4', '192.168.1.20'])
    assert.equal(staysOnThisMachine(host), false, host);
});

test('binding beyond loopback warns once per listener that other machines can get tokens', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const azimds = await startEmulator({
    host: '0.0.0.0',
    // The library has ARM's direct endpoint only when asked for (the proxy serves ARM otherwise).
    arm: { port: 0 },
    logLevel: 'warn',
    logger: pino({ level: 'warn' }, sink),
  });
  await azimds.close();
  const warnings = lines
    .map((l) => JSON.parse(l) as { msg: string; listener?: string })
    .filter((l) => /other machines/.test(l.msg));
  assert.deepEqual(
    warnings.map((w) => w.listener),
    ['imds', 'arm'],
    'IMDS and ARM warn; the control API stays on loopback whatever the host',
  );
});
