/**
 * `npm run fuzz [-- --requests 100000 --seed 1 --max-seconds 1800 --concurrency 32]`: the fuzzer
 * against an emulator in a child process with every surface on. Prints the counts and the RSS, and
 * exits 1 unless there were 0 crashes, 0 hangs, 0 5xx, 0 wrong-shape errors, 0 unanswered closes of
 * well-framed requests and the RSS at the end stayed within +20% of the RSS after warm-up.
 */
import { parseArgs } from 'node:util';
import { startEmulatorProcess } from './emulator-process.js';
import { runFuzz } from './engine.js';
import { FUZZ_SECRETS } from './surfaces.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    'max-seconds': { type: 'string', default: '1800' },
    concurrency: { type: 'string', default: '32' },
    'hang-ms': { type: 'string', default: '20000' },
  },
});
const requests = Number(values.requests);
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

const emulator = await startEmulatorProcess();
try {
  const common = {
    targets: emulator.targets,
    concurrency: Number(values.concurrency),
    hangMs: Number(values['hang-ms']),
    secrets: FUZZ_SECRETS,
    alive: emulator.alive,
  };
  // Warm-up with other seeds (JIT, key generation, the bounded stores filled to their bounds: token
  // cache, request log, rendered documents; and V8 sizing its heap for this allocation rate, which
  // alone takes the RSS from ~200 to ~300 MiB over the first 20,000–40,000 fuzzed requests while the
  // live old space stays ~26 MB), then the baseline RSS: growth after it is what abuse costs.
  // The warm-up runs in chunks until the RSS settles (a chunk grows it less than 5%), at most
  // half the run's size: a baseline taken while V8 is still growing its heap would count that growth.
  const chunk = Math.max(1000, Math.min(10_000, requests / 10));
  let warmed = 0;
  let settled = false;
  for (let before = emulator.rss(); !settled && warmed < Math.max(chunk, requests / 2); ) {
    await runFuzz({ ...common, seed: 999_999 - warmed, requests: chunk, maxSeconds: 600 });
    warmed += chunk;
    const now = emulator.rss();
    settled = now < before * 1.05;
    before = now;
  }
  process.stderr.write(
    `  warm-up: ${warmed} requests, RSS ${mib(emulator.rss())}${settled ? '' : ' (not settled)'}\n`,
  );
  const baseline = emulator.rss();
  let peak = baseline;
  const started = Date.now();
  const report = await runFuzz({
    ...common,
    seed: Number(values.seed),
    requests,
    maxSeconds: Number(values['max-seconds']),
    sampleEvery: 5000,
    onProgress: (done) => {
      peak = Math.max(peak, emulator.rss());
      process.stderr.write(
        `  ${done} requests, ${((Date.now() - started) / 1000).toFixed(0)} s, RSS ${mib(emulator.rss())}\n`,
      );
    },
  });
  const end = emulator.rss();
  peak = Math.max(peak, end);
  const growth = baseline > 0 ? (end - baseline) / baseline : 0;
  const summary = {
    seed: Number(values.seed),
    surfaces: emulator.targets.map((t) => t.surface.name),
    sent: report.sent,
    seconds: report.seconds,
    requestsPerSecond: Math.round(report.sent / report.seconds),
    crashes: report.crashed ? 1 : 0,
    hangs: report.hangs,
    serverErrors: report.serverErrors,
    wrongShape: report.wrongShape,
    closedUnanswered: report.closedUnanswered,
    closedOnBadFraming: report.closedOnBadFraming,
    statuses: report.statuses,
    warmUpRequests: warmed,
    rss: { baseline: mib(baseline), end: mib(end), peak: mib(peak), growth: `${(growth * 100).toFixed(1)}%` },
    findings: report.findings,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  const ok =
    !report.crashed &&
    report.hangs === 0 &&
    report.serverErrors === 0 &&
    report.wrongShape === 0 &&
    report.closedUnanswered === 0 &&
    report.sent === requests &&
    growth <= 0.2;
  process.exitCode = ok ? 0 : 1;
} finally {
  await emulator.stop();
}
