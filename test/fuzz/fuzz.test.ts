/**
 * The fuzzer's quick run (issue 17 item 18): a few hundred seeded requests per surface against an
 * emulator in a child process (the built CLI). Every request is answered or, where its framing cannot
 * be read to the end, closed; no 5xx; every error in its surface's shape; the process survives.
 * `npm run fuzz` runs the same with 100,000 requests and RSS limits (docs/hardening.md).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertCliBuilt } from '../support/cli.js';
import { type EmulatorProcess, startEmulatorProcess } from './emulator-process.js';
import { runFuzz } from './engine.js';
import { FUZZ_SECRETS, SURFACES } from './surfaces.js';

let emulator: EmulatorProcess;
before(async () => {
  assertCliBuilt();
  emulator = await startEmulatorProcess();
});
after(() => emulator.stop());

test('quick fuzz: 0 crashes, 0 hangs, 0 5xx, 0 wrong-shape errors, every surface reached', async () => {
  assert.deepEqual(
    emulator.targets.map((t) => t.surface.name),
    SURFACES.map((s) => s.name),
  );
  const requests = 100 * emulator.targets.length;
  const report = await runFuzz({
    targets: emulator.targets,
    seed: 7,
    requests,
    maxSeconds: 240,
    concurrency: 16,
    hangMs: 20_000,
    secrets: FUZZ_SECRETS,
    alive: emulator.alive,
  });
  const findings = JSON.stringify(report.findings, null, 2);
  assert.equal(report.sent, requests, `all sent within the time bound (${report.seconds} s)`);
  assert.equal(report.crashed, false);
  assert.equal(report.hangs, 0, findings);
  assert.equal(report.serverErrors, 0, findings);
  assert.equal(report.wrongShape, 0, findings);
  assert.equal(report.closedUnanswered, 0, findings);
  // The mix reached handlers: successes and several kinds of refusal.
  for (const status of ['200', '400', '404', '405'])
    assert.ok(report.statuses[status], `some ${status}: ${JSON.stringify(report.statuses)}`);
});
