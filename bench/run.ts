/**
 * `npm run bench`: azimds (built, from dist/) against a bare node:http server returning the same
 * bytes (node:https with azimds's certificate for ARM and Key Vault), in one run; then start-up times
 * of the library and the CLI. Figures: docs/performance.md.
 *
 * Options (after `npm run bench --`):
 *   --quick            3 short rounds (a smoke run, not for the docs)
 *   --only TEXT        only the scenarios and sections whose name contains TEXT (any case), e.g.
 *                      `arm`, `key vault`, `instance`; the sections are `proxy`, `fleet`, `startup`,
 *                      `mint` and `memory`
 *   --processes N      fresh process pairs (azimds and bare) per scenario (default 5 for the headline
 *                      scenarios, 1 for the others); a scenario's ratio is the median over its pairs
 *   --rounds N         measured rounds per server (default 5)
 *   --round-ms N       length of a round (default 2000)
 *   --connections N    connections of the node closed loop (default 10)
 *   --loads LIST       the loads, e.g. `node:10,wrk:32,wrk:64` (default; wrk falls back to node when
 *                      not installed); the one at 32 connections is the one targets are checked on
 *   --no-startup       skip the start-up timings
 *   --no-mint          skip the managed-identity first-mint timings
 *   --no-proxy         skip the proxy ratio (bench/proxy.ts)
 *   --no-fleet         skip the fleet figures (bench/fleet.ts: 10,000 VMs vs one)
 *   --no-memory        skip the memory figures
 *   --no-mirrored      skip the headline scenarios against a mirrored bare server (Node's
 *                      optimizeEmptyRequests, the body written as one string with the head, as
 *                      azimds's listeners do): azimds's own work alone, report only
 *   --check            exit 1 when a target is missed
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { compareFleet, FLEET_SIZE, FLEET_TARGETS } from './fleet.js';
import {
  CORES,
  type Comparison,
  compare,
  DEFAULT_SETTINGS,
  HAVE_WRK,
  type Load,
  loadName,
  measureCliStart,
  measureLibraryStart,
  median,
  pin,
  type Settings,
  startBareServer,
} from './harness.js';
import { measureMemory } from './memory.js';
import { measureFirstMint } from './mint.js';
import { compareProxy, PROXY_TARGET } from './proxy.js';
import { scenarios } from './scenarios.js';

/** Targets: issue 3 (library start), issue 4 (first mint). Ratio targets are per scenario (scenarios.ts). */
const TARGETS = { libraryStartMs: 50, firstMintMs: 2 };

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    processes: { type: 'string' },
    rounds: { type: 'string' },
    'round-ms': { type: 'string' },
    connections: { type: 'string' },
    loads: { type: 'string' },
    'no-startup': { type: 'boolean', default: false },
    'no-mint': { type: 'boolean', default: false },
    'no-proxy': { type: 'boolean', default: false },
    'no-fleet': { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    'no-mirrored': { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
  },
});

const settings: Settings = values.quick
  ? { ...DEFAULT_SETTINGS, rounds: 3, roundMs: 1000, warmupMs: 500 }
  : { ...DEFAULT_SETTINGS };
if (values.rounds) settings.rounds = Number(values.rounds);
if (values['round-ms']) settings.roundMs = Number(values['round-ms']);
if (values.loads) {
  settings.loads = values.loads.split(',').map((item): Load => {
    const [generator, connections] = item.split(':');
    const kind = generator === 'wrk' && HAVE_WRK ? 'wrk' : 'node';
    return { generator: kind, connections: Number(connections), target: Number(connections) === 32 };
  });
}
if (values.connections) {
  settings.loads = settings.loads.map((l) =>
    // The node closed loop at 10 connections only (not a wrk load that fell back to node without wrk).
    l.generator === 'node' && l.connections === 10 && !l.target
      ? { ...l, connections: Number(values.connections) }
      : l,
  );
}

/** Whether `--only TEXT` selects a scenario or section (`proxy`, `fleet`, `startup`, `mint`, `memory`) by name, any case. */
const selected = (name: string) => !values.only || name.toLowerCase().includes(values.only.toLowerCase());

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
  `azimds from dist/ (built by npm run bench) vs bare node:http replaying its bytes ` +
    `(node:https with azimds's key and certificate for the https surfaces); ` +
    `loads ${settings.loads.map(loadName).join(', ')}${HAVE_WRK ? '' : ' (wrk not installed: node closed loop)'}, ` +
    `warm-up ${settings.warmupMs} ms, ` +
    `${settings.rounds} × ${settings.roundMs} ms rounds per server, alternating (ABBA); ` +
    (pinned
      ? `load generator pinned to CPU ${CORES.generator}, servers to CPU ${CORES.server}\n`
      : 'no CPU pinning (needs Linux, taskset and 2 cores)\n'),
);

let failed = false;
const results: Comparison[] = [];
const cell = (n: number, digits: number) => (Number.isFinite(n) ? fmt(n, digits) : '–');

/**
 * How many fresh process pairs a scenario gets. One process of a server can be several percent faster
 * or slower than another of the same code for its whole life (memory layout, which core's caches it
 * shares), which alternating rounds cannot cancel: the headline ratios are medians over fresh pairs.
 */
const processesOf = (s: (typeof scenarios)[number]) =>
  values.processes ? Math.max(1, Number(values.processes)) : s.headline ? 5 : 1;

/** The comparison whose req/s ratio is the median of `list` (its figures are printed as the scenario's). */
function medianComparison(list: readonly Comparison[]): Comparison {
  const sorted = [...list].sort((x, y) => x.ratio - y.ratio);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)] as Comparison;
  return {
    ...middle,
    ratio: median(list.map((c) => c.ratio)),
    pairedRatio: median(list.map((c) => c.pairedRatio)),
    cpuRatio: median(list.map((c) => c.cpuRatio)),
  };
}

/**
 * Runs scenario `s` in its fresh process pairs under `loads`, printing each pair's figures, and returns
 * one comparison per load (the median over the pairs). `mirrored`: the bare server does what azimds's
 * listeners do to make Node's own work cheaper (`startBareServer(true)`).
 */
async function measureScenario(
  s: (typeof scenarios)[number],
  loads: readonly Load[],
  mirrored: boolean,
): Promise<Comparison[]> {
  const processes = processesOf(s);
  const perProcess: Comparison[] = [];
  const baseline = mirrored ? 'mirrored bare' : 'bare';
  let first = true;
  for (let pair = 1; pair <= processes; pair++) {
    const bare = await startBareServer(mirrored);
    try {
      await compare(s, bare, { ...settings, loads: [...loads] }, (c) => {
        perProcess.push(c);
        if (first) {
          const scheme = c.response.https ? ' (https)' : '';
          console.log(
            `${s.name}${mirrored ? ` vs ${baseline}` : ''}: ${s.method ?? 'GET'} ${s.path}${scheme} → ${c.response.status}, ${c.response.bytes} B body` +
              (processes > 1 ? `; ${processes} fresh process pairs` : ''),
          );
          first = false;
        }
        const label = processes > 1 ? `${loadName(c.load)} #${pair}` : loadName(c.load);
        console.log(
          `  ${label.padEnd(9)}   req/s     p50 ms   p99 ms   server CPU µs/req   requests   errors   load gen CPU`,
        );
        for (const [name, f] of [
          ['bare', c.bare],
          ['azimds', c.azimds],
        ] as const) {
          console.log(
            `    ${name.padEnd(7)} ${fmt(f.rps).padStart(8)}  ${cell(f.p50, 3).padStart(7)}  ${cell(f.p99, 3).padStart(7)}` +
              `   ${fmt(f.cpuPerRequestUs, 1).padStart(17)}   ${fmt(f.requests).padStart(8)}   ${String(f.errors).padStart(6)}   ${Number.isFinite(f.clientCpu) ? `${fmt(f.clientCpu * 100).padStart(8)} %` : '       –'}`,
          );
        }
        console.log(
          `    ratio azimds/${baseline} ${fmt(c.ratio, 3)} (paired rounds ${fmt(c.pairedRatio, 3)}, CPU per request ${fmt(c.cpuRatio, 3)})`,
        );
        if (c.bare.errors + c.azimds.errors > 0) failed = true;
      });
    } finally {
      await bare.stop();
    }
  }
  const combined: Comparison[] = [];
  for (const load of loads) {
    const list = perProcess.filter((c) => c.load === load);
    if (list.length === 0) continue;
    const median = medianComparison(list);
    combined.push(median);
    if (processes > 1) {
      console.log(
        `  ${loadName(load)}: median over ${list.length} process pairs ${fmt(median.ratio, 3)} ` +
          `(pairs ${list.map((c) => fmt(c.ratio, 3)).join(', ')}; CPU per request ${fmt(median.cpuRatio, 3)})`,
      );
    }
  }
  console.log('');
  return combined;
}

/** Ratios of azimds against itself or another baseline (proxied / direct, 10,000 VMs / one), for the one table below. */
const otherRatios: Array<{ name: string; ratio: number; cpuRatio?: number; target?: number }> = [];

for (const s of scenarios) {
  if (!selected(s.name)) continue;
  results.push(...(await measureScenario(s, settings.loads, false)));
}

// The headline scenarios again, at the target load, against a bare server that makes Node's own work
// as cheap as azimds's listeners do: azimds's own work alone (report only).
const targetLoad = settings.loads.find((l) => l.target);
if (!values['no-mirrored'] && targetLoad) {
  for (const s of scenarios) {
    if (!s.headline || !selected(s.name)) continue;
    const [m] = await measureScenario(s, [targetLoad], true);
    if (m) otherRatios.push({ name: `${s.name} / mirrored bare`, ratio: m.ratio, cpuRatio: m.cpuRatio });
  }
}

if (!values['no-proxy'] && selected('proxy')) {
  // Issue 10: the instance document through the proxy (absolute-form) vs straight to IMDS, same azimds.
  const p = await compareProxy(settings);
  const ok = p.ratio >= PROXY_TARGET;
  otherRatios.push({ name: 'proxied / direct', ratio: p.ratio, cpuRatio: p.cpuRatio, target: PROXY_TARGET });
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

if (!values['no-fleet'] && selected('fleet')) {
  // Issue 13: 10,000 VMs configured vs one (docs/fleet.md).
  const f = await compareFleet(settings);
  const ok =
    f.directRatio >= FLEET_TARGETS.ratio &&
    f.startMs < FLEET_TARGETS.startMs &&
    f.idleRssMb < FLEET_TARGETS.idleRssMb &&
    f.errors === 0;
  if (!ok) failed = true;
  otherRatios.push({ name: `${FLEET_SIZE} VMs / one VM`, ratio: f.directRatio, target: FLEET_TARGETS.ratio });
  console.log(`fleet: ${FLEET_SIZE} VMs in one azimds vs one VM (instance document)`);
  console.log(
    `  direct to IMDS: ${fmt(f.fleetRps)} vs ${fmt(f.singleRps)} req/s, ratio ${fmt(f.directRatio, 3)}  target ≥ ${FLEET_TARGETS.ratio}`,
  );
  console.log(`  through the proxy as a named VM vs the single VM's proxy: ratio ${fmt(f.proxiedRatio, 3)}`);
  console.log(
    `  startEmulator() ${fmt(f.startMs, 0)} ms (target < ${FLEET_TARGETS.startMs}); idle RSS ${fmt(f.idleRssMb, 0)} MB (target < ${FLEET_TARGETS.idleRssMb}); errors ${f.errors}: ${pass(ok)}\n`,
  );
}

// Every ratio in one table: a row per scenario, a column per load (req/s ratio; CPU-per-request ratio
// in brackets), then the target, checked on the load at 32 connections; then the proxy's and the
// fleet's ratios (azimds against itself, measured at the target load).
if (results.length > 0 || otherRatios.length > 0) {
  const loads = settings.loads.map(loadName);
  const nameWidth = Math.max(
    8,
    ...results.map((r) => r.scenario.name.length),
    ...otherRatios.map((o) => o.name.length),
  );
  console.log('ratios azimds/bare: req/s (server CPU per request)');
  console.log(`  ${'scenario'.padEnd(nameWidth)}  ${loads.map((l) => l.padStart(15)).join('')}   target`);
  for (const s of scenarios) {
    const rows = results.filter((r) => r.scenario === s);
    if (rows.length === 0) continue;
    const cells = settings.loads.map((load) => {
      const r = rows.find((x) => x.load === load);
      return (r ? `${fmt(r.ratio, 2)} (${fmt(r.cpuRatio, 2)})` : '–').padStart(15);
    });
    const checked = rows.find((r) => r.load.target);
    let verdict = '';
    if (s.target !== undefined && checked) {
      const ok = checked.ratio >= s.target;
      if (!ok) failed = true;
      verdict = `≥ ${s.target} at ${loadName(checked.load)}: ${pass(ok)}`;
    } else if (s.target === undefined) verdict = 'report only';
    console.log(`  ${s.name.padEnd(nameWidth)}  ${cells.join('')}   ${verdict}`);
  }
  for (const o of otherRatios) {
    const cells = settings.loads.map((load) =>
      (load.target
        ? `${fmt(o.ratio, 2)}${o.cpuRatio === undefined ? '' : ` (${fmt(o.cpuRatio, 2)})`}`
        : '–'
      ).padStart(15),
    );
    const verdict = o.target === undefined ? 'report only' : `≥ ${o.target}: ${pass(o.ratio >= o.target)}`;
    console.log(`  ${o.name.padEnd(nameWidth)}  ${cells.join('')}   ${verdict}`);
  }
  console.log('');
}

if (!values['no-startup'] && selected('startup')) {
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

if (!values['no-mint'] && selected('mint')) {
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

if (!values['no-memory'] && selected('memory')) {
  const m = await measureMemory(values.quick ? 20_000 : 100_000);
  const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 1)} MiB`;
  console.log(`\nmemory of the azimds process (RSS; request log: default 1000 entries, 4 MiB)`);
  console.log(`  idle after start                                   ${mb(m.idleRss).padStart(9)}`);
  console.log(
    `  after ${fmt(m.requests)} instance requests                   ${mb(m.afterRequestsRss).padStart(9)}`,
  );
  console.log(
    `  after ${fmt(m.requests)} more, each a different ${fmt(m.largeUrlLength)}-char URL ${mb(m.afterLargeRss).padStart(9)}` +
      `  (request log: ${fmt(m.logEntries)} entries, ${mb(m.logBytes)})`,
  );
}

console.log(`\nload average at end: ${load()} (includes this run)`);
if (values.check && failed) process.exitCode = 1;
