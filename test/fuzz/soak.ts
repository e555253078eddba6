/**
 * `npm run soak [-- --duration 600 --rate 1000]`: well-behaved mixed traffic (the `soak` requests of
 * every surface in surfaces.ts, plus Arc's full challenge handshake) at a steady rate over keep-alive
 * connections against an emulator in a child process. Prints the achieved rate, errors (an unexpected
 * status or a failed request) and RSS after warm-up (once it has settled) and at the end; exits 1 unless
 * there were 0 errors and the RSS grew less than 10%.
 */

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { startEmulatorProcess } from './emulator-process.js';
import { FUZZ_SECRETS } from './surfaces.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '600' },
    rate: { type: 'string', default: '1000' },
    'max-in-flight': { type: 'string', default: '256' },
  },
});
const duration = Number(values.duration);
const rate = Number(values.rate);
const maxInFlight = Number(values['max-in-flight']);
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

interface Job {
  port: number;
  path: string;
  method: string;
  headers: Record<string, string>;
  expect: readonly number[];
  arc?: boolean;
}

const emulator = await startEmulatorProcess();
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const jobs: Job[] = [];
for (const target of emulator.targets) {
  for (const request of target.surface.soak ?? []) {
    jobs.push({
      port: target.port,
      path: request.path,
      method: request.method ?? 'GET',
      headers: target.surface.clientHeaders(FUZZ_SECRETS),
      expect: request.expect,
      arc: target.surface.name === 'arc' && request.expect.includes(401),
    });
  }
}

function send(
  job: Job,
  headers: Record<string, string> = {},
): Promise<http.IncomingMessage & { text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: job.port,
        path: job.path,
        method: job.method,
        agent,
        headers: { ...job.headers, ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve(Object.assign(res, { text })));
        res.on('error', reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', reject);
    req.end();
  });
}

let sent = 0;
let errors = 0;
let inFlight = 0;
let skipped = 0;
const firstErrors: string[] = [];
const fail = (what: string) => {
  errors++;
  if (firstErrors.length < 10) firstErrors.push(what);
};

async function run(job: Job): Promise<void> {
  try {
    const res = await send(job);
    if (!job.expect.includes(res.statusCode ?? 0))
      return fail(`${job.path}: ${res.statusCode} ${res.text.slice(0, 200)}`);
    if (job.arc) {
      // The Arc handshake: read the challenge file named in the realm and retry with its secret.
      const realm = /realm=(.+)$/i.exec(String(res.headers['www-authenticate']))?.[1];
      if (!realm) return fail('arc: no realm');
      const secret = readFileSync(realm, 'utf8');
      const token = await send(job, { Authorization: `Basic ${secret}` });
      if (token.statusCode !== 200) fail(`arc with secret: ${token.statusCode} ${token.text.slice(0, 200)}`);
    }
  } catch (error) {
    fail(`${job.path}: ${(error as Error).message}`);
  }
}

const started = Date.now();
// Warm-up: at least a tenth of the run (at most 60 s), then until the RSS has settled (three samples
// in a row within 2% of each other), at most a third of the run. V8 grows its heap in steps under a
// steady allocation rate (a run of 2026-11-30: 190 → 241 MiB between 60 and 70 s, then 241–249 MiB
// for 530 s): the baseline is the first settled sample, so growth after it is a trend, not a step.
const minWarmUpMs = Math.min(60_000, (duration * 1000) / 10);
const maxWarmUpMs = (duration * 1000) / 3;
let baseline = 0;
let warmUpSeconds = 0;
const samples: Array<{ second: number; rss: number }> = [];
const settled = () => {
  const last = samples.slice(-3).map((s) => s.rss);
  return last.length === 3 && Math.max(...last) <= Math.min(...last) * 1.02;
};
const sampler = setInterval(() => {
  const second = Math.round((Date.now() - started) / 1000);
  samples.push({ second, rss: emulator.rss() });
  const elapsed = Date.now() - started;
  if (!baseline && elapsed >= minWarmUpMs && (settled() || elapsed >= maxWarmUpMs)) {
    baseline = emulator.rss();
    warmUpSeconds = second;
    process.stderr.write(`  warm-up over at ${second} s${settled() ? '' : ' (RSS not settled)'}\n`);
  }
  process.stderr.write(`  ${second} s: ${sent} sent, ${errors} errors, RSS ${mib(emulator.rss())}\n`);
}, 10_000);

// Every 10 ms, the requests due so far (rate per second), unless too many are still in flight.
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const elapsed = Date.now() - started;
    if (elapsed >= duration * 1000) {
      clearInterval(tick);
      resolve();
      return;
    }
    const due = Math.floor((elapsed / 1000) * rate) - sent - skipped;
    for (let i = 0; i < due; i++) {
      if (inFlight >= maxInFlight) {
        skipped += due - i;
        break;
      }
      const job = jobs[(sent + skipped) % jobs.length] as Job;
      sent++;
      inFlight++;
      void run(job).finally(() => {
        inFlight--;
      });
    }
  }, 10);
});
while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 50));
clearInterval(sampler);
const end = emulator.rss();
if (!baseline) baseline = samples[0]?.rss ?? end;
const growth = (end - baseline) / baseline;
const alive = emulator.alive();
await emulator.stop();
agent.destroy();
const summary = {
  duration,
  targetRate: rate,
  sent,
  achievedRate: Math.round(sent / duration),
  skippedWhileSaturated: skipped,
  errors,
  crashed: !alive,
  warmUpSeconds,
  rss: { afterWarmUp: mib(baseline), end: mib(end), growth: `${(growth * 100).toFixed(1)}%` },
  samples: samples.map((s) => `${s.second}s ${mib(s.rss)}`),
  firstErrors,
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exitCode = errors === 0 && alive && growth < 0.1 ? 0 : 1;
