/**
 * `npm run bench`: azimds (built, from dist/) against a bare node:http server returning the same
 * bytes, in one run; then start-up times of the library and the CLI. Figures: docs/performance.md.
 *
 * Options (after `npm run bench --`):
 *   --quick            3 short rounds (a smoke run, not for the docs)
 *   --only TEXT        only scenarios whose name contains TEXT
 *   --rounds N         measured rounds per server (default 5)
 *   --round-ms N       length of a round (default 2000)
 *   --connections N    concurrent keep-alive connections (default 10)
 *   --no-startup       skip the start-up timings
 *   --no-mint          skip the managed-identity first-mint timings
 *   --no-proxy         skip the proxy ratio (bench/proxy.ts)
 *   --check            exit 1 when a target is missed
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  CORES,
  type Comparison,
  compare,
  DEFAULT_SETTINGS,
  measureCliStart,
  measureLibraryStart,
  pin,
  type Settings,
  startBareServer,
} from './harness.js';
import { measureFirstMint } from './mint.js';
import { compareProxy, PROXY_TARGET } from './proxy.js';
import { scenarios } from './scenarios.js';

/** Targets: issue 3 (ratio, library start), issue 4 (first mint; the MI token scenario has its own ratio). */
const TARGETS = { ratio: 0.85, libraryStartMs: 50, firstMintMs: 2 };

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    'round-ms': { type: 'string' },
    connections: { type: 'string' },
    'no-startup': { type: 'boolean', default: false },
    'no-mint': { type: 'boolean', default: false },
    'no-proxy': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
  },
});

const settings: Settings = values.quick
  ? { ...DEFAULT_SETTINGS, rounds: 3, roundMs: 1000, warmupMs: 500 }
  : { ...DEFAULT_SETTINGS };
if (values.rounds) settings.rounds = Number(values.rounds);
if (values['round-ms']) settings.roundMs = Number(values['round-ms']);
if (values.connections) settings.connections = Number(values.connections);

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pass = (ok: boolean) => (ok ? 'ok' : 'BELOW TARGET');

const pinned = pin(process.pid, CORES.generator);
const cpu = cpus();
const load = () => loadavg()[0]?.toFixed(2) ?? '?';
console.log(`azimds bench — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}`);
// Other work on the machine shows up as noise (a 2-core runner has no spare core): say how busy it was.
console.log(
  `load average at start: ${load()}${Number(load()) > 0.7 ? ' (busy: figures will be noisy)' : ''}`,
);
console.log(
  `azimds from dist/ (built by npm run bench) vs bare node:http replaying its bytes; ` +
    `${settings.connections} keep-alive connections, warm-up ${settings.warmupMs} ms, ` +
    `${settings.rounds} × ${settings.roundMs} ms rounds per server, alternating (ABBA); ` +
    (pinned
      ? `load generator pinned to CPU ${CORES.generator}, servers to CPU ${CORES.server}\n`
      : 'no CPU pinning (needs Linux, taskset and 2 cores)\n'),
);

let failed = false;
const results: Comparison[] = [];
const bare = await startBareServer();
try {
  for (const s of scenarios) {
    if (values.only && !s.name.includes(values.only)) continue;
    const c = await compare(s, bare, settings);
    results.push(c);
    console.log(
      `${s.name}: ${s.method ?? 'GET'} ${s.path} → ${c.response.status}, ${c.response.bytes} B body`,
    );
    console.log(
      '           req/s     p50 ms   p99 ms   server CPU µs/req   requests   errors   load gen CPU',
    );
    for (const [name, f] of [
      ['bare', c.bare],
      ['azimds', c.azimds],
    ] as const) {
      console.log(
        `  ${name.padEnd(7)} ${fmt(f.rps).padStart(8)}  ${fmt(f.p50, 3).padStart(7)}  ${fmt(f.p99, 3).padStart(7)}` +
          `   ${fmt(f.cpuPerRequestUs, 1).padStart(17)}   ${fmt(f.requests).padStart(8)}   ${String(f.errors).padStart(6)}   ${fmt(f.clientCpu * 100).padStart(8)} %`,
      );
    }
    const target = s.target ?? (s.headline ? TARGETS.ratio : undefined);
    const ok = target === undefined || c.ratio >= target;
    if (!ok) failed = true;
    console.log(
      `  ratio azimds/bare: ${fmt(c.ratio, 3)} (paired rounds ${fmt(c.pairedRatio, 3)}, CPU per request ${fmt(c.cpuRatio, 3)})` +
        `${target !== undefined ? `  target ≥ ${target}: ${pass(ok)}` : ''}`,
    );
    const client = Math.max(c.bare.clientCpu, c.azimds.clientCpu);
    if (client > 0.9) {
      console.log(
        `  note: the load generator used ${fmt(client * 100)} % of a core; the rps ratio may understate the difference, see the CPU ratio`,
      );
    }
    if (c.bare.errors + c.azimds.errors > 0) failed = true;
    console.log('');
  }
} finally {
  await bare.stop();
}

if (!values['no-proxy'] && (!values.only || 'proxy'.includes(values.only))) {
  // Issue 10: the instance document through the proxy (absolute-form) vs straight to IMDS, same azimds.
  const p = await compareProxy(settings);
  const ok = p.ratio >= PROXY_TARGET;
  if (!ok || p.direct.errors + p.proxied.errors > 0) failed = true;
  console.log(
    'proxy: GET http://169.254.169.254/metadata/instance through the proxy vs straight to IMDS (one azimds)',
  );
  console.log('           req/s   server CPU µs/req   requests   errors');
  for (const [name, f] of [
    ['direct', p.direct],
    ['proxied', p.proxied],
  ] as const) {
    console.log(
      `  ${name.padEnd(7)} ${fmt(f.rps).padStart(8)}   ${fmt(f.cpuPerRequestUs, 1).padStart(17)}   ${fmt(f.requests).padStart(8)}   ${String(f.errors).padStart(6)}`,
    );
  }
  console.log(
    `  ratio proxied/direct: ${fmt(p.ratio, 3)} (paired rounds ${fmt(p.pairedRatio, 3)}, CPU per request ${fmt(p.cpuRatio, 3)})  target ≥ ${PROXY_TARGET}: ${pass(ok)}\n`,
  );
}

if (!values['no-startup']) {
  // The children below inherit this process's pinning; a start-up has every core.
  if (pinned) pin(process.pid, 'all');
  const lib = await measureLibraryStart('/metadata/instance?api-version=2025-04-07');
  const libOk = lib.coldMs < TARGETS.libraryStartMs;
  if (!libOk) failed = true;
  console.log('start-up (fresh process each; client warmed first)');
  console.log(
    `  import('azimds')                                   ${fmt(lib.importMs, 1).padStart(7)} ms (median of 5 processes)`,
  );
  console.log(
    `  startEmulator() → first answer, first call          ${fmt(lib.coldMs, 1).padStart(7)} ms (median; max ${fmt(lib.coldMaxMs, 1)})` +
      `  target < ${TARGETS.libraryStartMs} ms: ${pass(libOk)}`,
  );
  console.log(
    `  startEmulator() → first answer, later calls         ${fmt(lib.warmMs, 1).padStart(7)} ms (median)`,
  );
  const cli = await measureCliStart(5);
  console.log(
    `  spawn azimds start --port 0 → banner URL answers    ${fmt(cli.medianMs, 1).padStart(7)} ms (median of 5; min ${fmt(cli.minMs, 1)}, max ${fmt(cli.maxMs, 1)})`,
  );
}

if (!values['no-mint']) {
  // Issue 4: minting a managed-identity token for an (identity, resource) not asked before.
  const mint = await measureFirstMint();
  const mintOk = mint.coldMs < TARGETS.firstMintMs;
  if (!mintOk) failed = true;
  console.log('managed-identity token mint (fresh process each; key ready; after 3 instance requests)');
  console.log(
    `  first token request of the process                 ${fmt(mint.coldMs, 2).padStart(7)} ms (median of 5; max ${fmt(mint.coldMaxMs, 2)})` +
      `  target < ${TARGETS.firstMintMs} ms: ${pass(mintOk)}`,
  );
  console.log(
    `  later first mints (new resource), over HTTP        ${fmt(mint.mintMs, 2).padStart(7)} ms (median)`,
  );
  console.log(
    `  cached token, over HTTP                            ${fmt(mint.cachedMs, 2).padStart(7)} ms (median)`,
  );
  console.log(
    `  LocalIssuer.mint() alone (claims + RS256)          ${fmt(mint.coreMs, 2).padStart(7)} ms (median)`,
  );
}

console.log(`\nload average at end: ${load()} (includes this run)`);
if (values.check && failed) process.exitCode = 1;
