/**
 * The bench's small library: scenarios, a load generator, the two servers compared (azimds from
 * dist/ and a bare `node:http` server replaying azimds's exact response; `node:https` with azimds's
 * own certificate for its https surfaces), and start-up timers.
 *
 * Method (see docs/performance.md): each server runs in its own child process; the load generator
 * runs in this process on a fixed number of keep-alive connections (closed loop: each connection
 * sends its next request when the previous response is complete). After a warm-up, rounds
 * alternate bare/azimds in ABBA order so slow drift of the machine hits both alike. Each round is
 * bounded in time and in requests. The servers' own CPU time per request is read from the children,
 * so a saturated load generator cannot hide a difference.
 */
import { type ChildProcess, execFile, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { EmulatorOptions } from '../src/index.js';

// ---------------------------------------------------------------------------------------------
// Scenarios

/** One request shape to compare. Add a line to bench/scenarios.ts to bench a new one. */
export interface Scenario {
  /** Short name for the report. */
  name: string;
  /** Request path with its query string. */
  path: string;
  /** Default `GET`. */
  method?: string;
  /** Request headers; default `{ Metadata: 'true' }`. */
  headers?: Record<string, string>;
  /** Request body (sent with a Content-Length). */
  body?: string;
  /** Status every response must have; default 200. */
  status?: number;
  /** Which of the handle's `urls` to send to; default `imds`. An `https:` URL is loaded over TLS. */
  surface?: string;
  /**
   * Audience of a managed-identity token (e.g. `https://management.azure.com/`): azimds mints it on
   * its IMDS token endpoint once before the run, and every request sends `Authorization: Bearer <it>`.
   */
  token?: string;
  /** `startEmulator()` options (JSON-serializable) of the azimds child. */
  options?: EmulatorOptions;
  /** A headline figure (bold in docs/performance.md). */
  headline?: boolean;
  /**
   * The req/s ratio azimds/bare this scenario must reach on the closed loop at 32 connections (the
   * `target` load); undefined: reported only. `--check` fails the run when one is missed.
   */
  target?: number;
}

/** A scenario in one line: `scenario('instance', '/metadata/instance?api-version=…')`. */
export function scenario(name: string, path: string, more: Omit<Scenario, 'name' | 'path'> = {}): Scenario {
  return { name, path, ...more };
}

/**
 * One load a scenario is measured under: the load generator and its number of keep-alive connections.
 * `node`: the closed loop of this file (raw sockets; latency of every request). `wrk`: wrk itself
 * (`wrk -t1`, closed loop too; p50/p99 from its `--latency` report), or `node` where wrk is not installed.
 */
export interface Load {
  generator: 'node' | 'wrk';
  connections: number;
  /** The load targets are checked on. */
  target?: boolean;
}

/** `node c10`, `wrk c32`: how a load is named in the report. */
export function loadName(load: Load): string {
  return `${load.generator} c${load.connections}`;
}

/** How long and how hard to load the servers. */
export interface Settings {
  /** Measured rounds per server. */
  rounds: number;
  /** Length of one round (wrk rounds: whole seconds, at least 1). */
  roundMs: number;
  /** Unmeasured load per server before the rounds (JIT, caches). */
  warmupMs: number;
  /** The loads every scenario runs under, in this order. */
  loads: Load[];
  /** Upper bound of requests in one round of the node generator, whatever its length. */
  maxRequestsPerRound: number;
}

/** wrk when it is on PATH (checked once). */
export const HAVE_WRK = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    return (error as { status?: number }).status === 1;
  }
})();

export const DEFAULT_SETTINGS: Settings = {
  rounds: 5,
  roundMs: 2000,
  warmupMs: 1500,
  loads: [
    { generator: 'node', connections: 10 },
    { generator: HAVE_WRK ? 'wrk' : 'node', connections: 32, target: true },
    { generator: HAVE_WRK ? 'wrk' : 'node', connections: 64 },
  ],
  maxRequestsPerRound: 1_000_000,
};

// ---------------------------------------------------------------------------------------------
// Load generator: raw keep-alive sockets, no HTTP client library in the way.

export interface LoadTarget {
  host: string;
  port: number;
  /** https: the CA certificate (PEM) the clients trust (wrk verifies nothing); absent: plain http. */
  tls?: { ca: string };
}

/** The host and port of a base URL (`https:` ones with `tls`, the CA to trust). */
export function targetOf(base: string | undefined, tls?: { ca: string }): LoadTarget {
  if (!base) throw new Error('the azimds child has no URL for this surface');
  const url = new URL(base);
  return { host: url.hostname, port: Number(url.port), ...(tls ? { tls } : {}) };
}

/** The connections of the load targets are checked on (32 by default): proxy and fleet run at it. */
export function targetConnections(settings: Settings): number {
  return settings.loads.find((l) => l.target)?.connections ?? 32;
}

export interface LoadResult {
  requests: number;
  /** Responses whose status was not the expected one, and broken connections. */
  errors: number;
  elapsedMs: number;
  /** Latency of every completed request, in ms (unsorted); wrk reports percentiles instead. */
  latencies?: Float64Array;
  /** wrk's p50 and p99, in ms. */
  p50?: number;
  p99?: number;
  /** CPU the load generator used, as a fraction of one core (near 1 means it limited the run); NaN for wrk. */
  clientCpu: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Serializes a scenario's request once; every request on every connection sends these bytes. */
export function requestBytes(target: LoadTarget, s: Scenario): Buffer {
  const headers = { Host: `${target.host}:${target.port}`, ...(s.headers ?? { Metadata: 'true' }) };
  let head = `${s.method ?? 'GET'} ${s.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (s.body !== undefined) head += `Content-Length: ${Buffer.byteLength(s.body)}\r\n`;
  return Buffer.from(`${head}\r\n${s.body ?? ''}`);
}

/**
 * Closed-loop load: `connections` sockets (TLS ones for an https target: one full handshake each, no
 * session reuse, then keep-alive), each sending the next request as soon as the previous response is
 * complete, until `durationMs` has passed or `maxRequests` were sent.
 */
export function runLoad(
  target: LoadTarget,
  s: Scenario,
  durationMs: number,
  connections: number,
  maxRequests: number,
): Promise<LoadResult> {
  const bytes = requestBytes(target, s);
  const expected = s.status ?? 200;
  const latencies = new Float64Array(maxRequests);
  let completed = 0;
  let issued = 0;
  let errors = 0;
  let open = connections;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;

  return new Promise((resolve) => {
    const finished = () => {
      if (--open > 0) return;
      const elapsedMs = performance.now() - start;
      const cpu = process.cpuUsage(cpuStart);
      resolve({
        requests: completed,
        errors,
        elapsedMs,
        latencies: latencies.slice(0, completed),
        clientCpu: (cpu.user + cpu.system) / 1000 / elapsedMs,
      });
    };
    for (let c = 0; c < connections; c++) {
      const socket = target.tls
        ? tlsConnect({ host: target.host, port: target.port, ca: target.tls.ca })
        : connect(target.port, target.host);
      socket.setNoDelay(true);
      let pending: Buffer | undefined;
      let bodyStart = -1;
      let total = -1;
      let sentAt = 0;
      let done = false;
      const next = () => {
        if (issued >= maxRequests || performance.now() >= deadline) {
          done = true;
          socket.end();
          return;
        }
        issued++;
        pending = undefined;
        bodyStart = -1;
        total = -1;
        sentAt = performance.now();
        socket.write(bytes);
      };
      socket.on(target.tls ? 'secureConnect' : 'connect', next);
      socket.on('data', (chunk: Buffer) => {
        pending = pending ? Buffer.concat([pending, chunk]) : chunk;
        if (bodyStart < 0) {
          const end = pending.indexOf(HEADER_END);
          if (end < 0) return;
          bodyStart = end + 4;
          const head = pending.toString('latin1', 0, end);
          const length = /\r\ncontent-length: *(\d+)/i.exec(head);
          if (!length) {
            errors++;
            socket.destroy();
            return;
          }
          total = bodyStart + Number(length[1]);
          if (Number(head.slice(9, 12)) !== expected) errors++;
        }
        if (pending.length < total) return;
        latencies[completed++] = performance.now() - sentAt;
        next();
      });
      socket.on('error', () => {
        if (!done) errors++;
      });
      socket.on('close', finished);
    }
  });
}

/** wrk's Lua script for a scenario: method, headers (none but Host unless given) and body. */
function wrkScript(s: Scenario): string {
  const lua = (v: string) => JSON.stringify(v); // a JSON string is a valid Lua string literal here
  let script = `wrk.method = ${lua(s.method ?? 'GET')}\nwrk.headers = {}\n`;
  for (const [name, value] of Object.entries(s.headers ?? { Metadata: 'true' })) {
    script += `wrk.headers[${lua(name)}] = ${lua(value)}\n`;
  }
  if (s.body !== undefined) script += `wrk.body = ${lua(s.body)}\n`;
  return script;
}

const WRK_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** A duration as wrk prints it (`312.00us`, `1.20ms`) in ms. */
function wrkMs(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  return m ? Number(m[1]) * (WRK_UNITS[m[2] as string] ?? Number.NaN) : Number.NaN;
}

/**
 * Closed-loop load with wrk (`-t1 -c<connections> --latency`) for whole seconds (https for a TLS
 * target: wrk's OpenSSL client, one handshake per connection, no verification). Errors: responses
 * whose status class differs from the expected one (wrk counts non-2xx/3xx) and socket errors.
 */
export async function runWrk(
  target: LoadTarget,
  s: Scenario,
  durationMs: number,
  connections: number,
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'azimds-bench-'));
  const script = join(dir, 'scenario.lua');
  // Owner-only: the script may carry a bearer token.
  writeFileSync(script, wrkScript(s), { mode: 0o600 });
  const seconds = Math.max(1, Math.round(durationMs / 1000));
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script];
  const url = `${target.tls ? 'https' : 'http'}://${target.host}:${target.port}${s.path}`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile('wrk', [...args, url], { encoding: 'utf8' }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
  const count = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out);
  if (!count) throw new Error(`cannot read wrk's report:\n${out}`);
  const requests = Number(count[1]);
  const elapsedMs = wrkMs(`${count[2]}${count[3]}`);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socket = socketErrors ? socketErrors.slice(1).reduce((n, v) => n + Number(v), 0) : 0;
  const expected = s.status ?? 200;
  const wrongStatus = expected >= 200 && expected < 400 ? non2xx : requests - non2xx;
  return {
    requests,
    errors: wrongStatus + socket,
    elapsedMs,
    p50: wrkMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99: wrkMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
    clientCpu: Number.NaN,
  };
}

// ---------------------------------------------------------------------------------------------
// CPU pinning: the load generator on one core, the server under test on another, so neither
// steals the other's core and rounds are comparable. Linux with `taskset` only; a no-op elsewhere.

/** The core the load generator (this process) runs on, and the one servers run on. */
export const CORES = { generator: 0, server: 1 };

let pinning: boolean | undefined;

/**
 * Pins every thread of `pid` to `core` (`'all'`: every core again); returns false when pinning is not
 * available here. Children inherit their parent's pinning: start-up timings unpin this process first,
 * since a real start-up has the whole machine (the key generation of the token issuer runs on a
 * worker thread).
 */
export function pin(pid: number, core: number | 'all'): boolean {
  if (pinning === undefined) {
    pinning = process.platform === 'linux' && availableParallelism() >= 2;
    if (pinning) {
      try {
        execFileSync('taskset', ['--version'], { stdio: 'ignore' });
      } catch {
        pinning = false;
      }
    }
  }
  if (!pinning) return false;
  // cpus(), not availableParallelism(): the latter counts only the cores this process is pinned to.
  const list = core === 'all' ? `0-${cpus().length - 1}` : String(core);
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', list, String(pid)], {
    stdio: 'ignore',
  });
  return true;
}

// ---------------------------------------------------------------------------------------------
// Servers under test: child processes.

interface CpuUsage {
  user: number;
  system: number;
}

/** A server child process (bench/servers/*.ts), run by Node alone (no loader), talked to over IPC. */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly ready: Record<string, unknown>,
  ) {}

  static async start(file: string, args: string[] = []): Promise<ServerProcess> {
    const child = fork(new URL(file, import.meta.url), args, { execArgv: [], stdio: 'inherit' });
    if (child.pid) pin(child.pid, CORES.server);
    const ready = await ServerProcess.#await(child, 'ready');
    return new ServerProcess(child, ready);
  }

  static #await(child: ChildProcess, type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type?: string }) => {
        if (message?.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as Record<string, unknown>);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`bench server exited (${code}) before '${type}'`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }

  /** Sends a message and waits for the reply of type `reply`. */
  ask(message: unknown, reply: string): Promise<Record<string, unknown>> {
    const answer = ServerProcess.#await(this.child, reply);
    this.child.send(message as string);
    return answer;
  }

  /** Total CPU time this process used so far, in µs. */
  async cpuMicros(): Promise<number> {
    const { usage } = (await this.ask('cpu', 'cpu')) as unknown as { usage: CpuUsage };
    return usage.user + usage.system;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send('close');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Capturing a response exactly, for the bare server and for the equality check.

export interface CapturedResponse {
  status: number;
  /** Raw header names and values in wire order. */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Headers Node's HTTP server adds itself (the bare server gets them the same way). */
const NODE_ADDED = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** Sends a scenario's request once and returns the response as it came over the wire. */
export function capture(target: LoadTarget, s: Scenario): Promise<CapturedResponse> {
  return new Promise((resolve, reject) => {
    const req = (target.tls ? httpsRequest : httpRequest)(
      {
        host: target.host,
        port: target.port,
        path: s.path,
        method: s.method ?? 'GET',
        headers: s.headers ?? { Metadata: 'true' },
        ...(target.tls ? { ca: target.tls.ca, agent: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Array<[string, string]> = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            headers.push([res.rawHeaders[i] ?? '', res.rawHeaders[i + 1] ?? '']);
          }
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on('error', reject);
    req.end(s.body);
  });
}

/**
 * What an azimds child answers to `{ type: 'tls', host }` (bench/servers/azimds.ts): the key and
 * certificate chain (PEM) its https listeners serve to `host` (the local CA's leaf, then the CA), and
 * the CA certificate. The bare https server serves the same, so TLS costs both sides the same.
 */
export interface ServerTls {
  key: string;
  cert: string;
  ca: string;
}

/** The message that makes the bare server replay `response` (over https with `tls`). */
function serveMessage(response: CapturedResponse, tls?: ServerTls) {
  const keepAlive = response.headers.find(([n]) => n.toLowerCase() === 'keep-alive')?.[1];
  const seconds = keepAlive ? Number(/timeout=(\d+)/.exec(keepAlive)?.[1]) : undefined;
  return {
    type: 'serve',
    response: {
      status: response.status,
      headers: response.headers.filter(([n]) => !NODE_ADDED.has(n.toLowerCase())),
      body: response.body.toString('base64'),
      keepAliveSeconds: seconds,
    },
    ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}),
  };
}

/** A managed-identity token azimds mints for `audience` on its IMDS token endpoint. */
async function mintedToken(imds: LoadTarget, audience: string): Promise<string> {
  const path = `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(audience)}`;
  const r = await capture(imds, scenario('token', path));
  const token =
    r.status === 200
      ? (JSON.parse(r.body.toString('utf8')) as { access_token?: unknown }).access_token
      : undefined;
  if (typeof token !== 'string') throw new Error(`no token for ${audience}: IMDS answered ${r.status}`);
  return token;
}

/** Throws unless two responses have the same status, headers (Date's value aside) and body bytes. */
export function assertSameResponse(a: CapturedResponse, b: CapturedResponse): void {
  const show = (r: CapturedResponse) =>
    JSON.stringify([r.status, r.headers.map(([n, v]) => (n.toLowerCase() === 'date' ? [n, '*'] : [n, v]))]);
  if (show(a) !== show(b) || !a.body.equals(b.body)) {
    throw new Error(`bare server does not mirror azimds:\n  azimds ${show(a)}\n  bare   ${show(b)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison of one scenario.

export interface ServerFigures {
  /** Median over rounds. */
  rps: number;
  /** Over every request of every round, in ms. */
  p50: number;
  p99: number;
  /** Median over rounds of the server's CPU time per request, in µs. */
  cpuPerRequestUs: number;
  /** Highest load-generator CPU share seen in a round. */
  clientCpu: number;
  requests: number;
  errors: number;
}

export interface Comparison {
  scenario: Scenario;
  load: Load;
  /** azimds's answer: status, body size, whether it came over https (the bare server's then too). */
  response: { status: number; bytes: number; https: boolean };
  bare: ServerFigures;
  azimds: ServerFigures;
  /** azimds rps / bare rps (medians). */
  ratio: number;
  /** Median of the per-round-pair ratios (less sensitive to drift). */
  pairedRatio: number;
  /** bare CPU per request / azimds CPU per request. */
  cpuRatio: number;
}

export interface RoundFigures {
  rps: number;
  cpuPerRequestUs: number;
  clientCpu: number;
  latencies?: Float64Array;
  p50?: number;
  p99?: number;
  requests: number;
  errors: number;
}

/**
 * One measured round against one server: the load, and the server's CPU time around it (IPC).
 * Also what bench/proxy.ts and bench/fleet.ts measure their rounds with.
 */
export async function round(
  server: ServerProcess,
  target: LoadTarget,
  s: Scenario,
  ms: number,
  settings: Settings,
  load: Load,
): Promise<RoundFigures> {
  const cpuBefore = await server.cpuMicros();
  const r =
    load.generator === 'wrk'
      ? await runWrk(target, s, ms, load.connections)
      : await runLoad(target, s, ms, load.connections, settings.maxRequestsPerRound);
  const cpuAfter = await server.cpuMicros();
  return {
    ...r,
    rps: (r.requests / r.elapsedMs) * 1000,
    cpuPerRequestUs: (cpuAfter - cpuBefore) / Math.max(1, r.requests),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The `p` quantile (0..1) of an ascending array (nearest rank). */
export function quantile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * `rounds` rounds of `a` and `b` alternating in ABBA order (a, b, b, a, a, b, ...: `a` first on even
 * rounds) so slow drift of the machine hits both alike; each side's results in round order.
 */
async function alternate<T>(
  rounds: number,
  a: () => Promise<T>,
  b: () => Promise<T>,
): Promise<{ a: T[]; b: T[] }> {
  const as: T[] = [];
  const bs: T[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  return { a: as, b: bs };
}

/** Medians (req/s, CPU per request), latency quantiles and totals of one server's rounds. */
function summarize(rounds: RoundFigures[]): ServerFigures {
  let p50: number;
  let p99: number;
  if (rounds.every((r) => r.latencies !== undefined)) {
    const all = new Float64Array(rounds.reduce((n, r) => n + (r.latencies?.length ?? 0), 0));
    let offset = 0;
    for (const r of rounds) {
      all.set(r.latencies ?? [], offset);
      offset += r.latencies?.length ?? 0;
    }
    all.sort();
    p50 = quantile(all, 0.5);
    p99 = quantile(all, 0.99);
  } else {
    // wrk reports percentiles per round: their medians.
    p50 = median(rounds.map((r) => r.p50 ?? Number.NaN));
    p99 = median(rounds.map((r) => r.p99 ?? Number.NaN));
  }
  return {
    rps: median(rounds.map((r) => r.rps)),
    p50,
    p99,
    cpuPerRequestUs: median(rounds.map((r) => r.cpuPerRequestUs)),
    clientCpu: Math.max(...rounds.map((r) => r.clientCpu)),
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
  };
}

/** Two ways of being served, measured against each other by `measurePair()`. */
export interface PairFigures {
  a: ServerFigures;
  b: ServerFigures;
  /** b rps / a rps (medians). */
  ratio: number;
  /** Median of the per-round-pair ratios b/a (less sensitive to drift). */
  pairedRatio: number;
  /** a CPU per request / b CPU per request. */
  cpuRatio: number;
}

/**
 * The method of every comparison of the bench (scenarios vs bare, proxied vs direct, 10,000 VMs vs
 * one): a warm-up round of `a`, then of `b` (`settings.warmupMs` each), then `settings.rounds`
 * rounds of each alternating ABBA (`settings.roundMs` each); medians and ratios. `a` and `b` run one
 * round of the given length (`round()`).
 */
export async function measurePair(
  settings: Settings,
  a: (ms: number) => Promise<RoundFigures>,
  b: (ms: number) => Promise<RoundFigures>,
): Promise<PairFigures> {
  await a(settings.warmupMs);
  await b(settings.warmupMs);
  const rounds = await alternate(
    settings.rounds,
    () => a(settings.roundMs),
    () => b(settings.roundMs),
  );
  const af = summarize(rounds.a);
  const bf = summarize(rounds.b);
  return {
    a: af,
    b: bf,
    ratio: bf.rps / af.rps,
    pairedRatio: median(rounds.b.map((r, i) => r.rps / (rounds.a[i]?.rps ?? Number.NaN))),
    cpuRatio: af.cpuPerRequestUs / bf.cpuPerRequestUs,
  };
}

/**
 * A bare server child (http, and https once a scenario needs it). `mirror`: doing what azimds's
 * listeners do to make Node's own work per request cheaper (`optimizeEmptyRequests`, Node ≥ 24.12,
 * and the body written as one string with the head; bench/servers/bare.ts),
 * so the comparison shows azimds's own work alone; default: Node's defaults, what `http.createServer`
 * gives anyone.
 */
export function startBareServer(mirror = false): Promise<ServerProcess> {
  return ServerProcess.start('./servers/bare.ts', mirror ? ['--mirror'] : []);
}

/**
 * Compares azimds with the bare server on one scenario under each of `settings.loads`: starts azimds
 * with the scenario's options, mints the scenario's token if it has one, captures azimds's response,
 * makes the bare server replay it (over https with azimds's own key and certificate chain when the
 * surface is https) and checks it does, byte for byte; then per load warms both up and runs
 * alternating rounds. `onResult` sees each load's comparison as soon as it is measured.
 */
export async function compare(
  s: Scenario,
  bare: ServerProcess,
  settings: Settings,
  onResult: (comparison: Comparison) => void = () => {},
): Promise<Comparison[]> {
  const azimds = await ServerProcess.start('./servers/azimds.ts', [JSON.stringify(s.options ?? {})]);
  try {
    const urls = azimds.ready.urls as Record<string, string>;
    const base = urls[s.surface ?? 'imds'];
    if (!base) throw new Error(`scenario ${s.name}: surface ${s.surface ?? 'imds'} is not enabled`);
    const url = new URL(base);
    const tls =
      url.protocol === 'https:'
        ? ((await azimds.ask({ type: 'tls', host: url.hostname }, 'tls')) as unknown as ServerTls)
        : undefined;
    const clientTls = tls ? { ca: tls.ca } : undefined;
    const azimdsTarget = targetOf(base, clientTls);
    // The request as sent: with the token azimds minted, when the scenario asks for one.
    const request: Scenario = s.token
      ? {
          ...s,
          headers: {
            ...s.headers,
            Authorization: `Bearer ${await mintedToken(targetOf(urls.imds), s.token)}`,
          },
        }
      : s;

    const response = await capture(azimdsTarget, request);
    if (response.status !== (s.status ?? 200)) {
      throw new Error(`scenario ${s.name}: azimds answered ${response.status}, expected ${s.status ?? 200}`);
    }
    const serving = await bare.ask(serveMessage(response, tls), 'serving');
    const bareTarget = targetOf(`${url.protocol}//127.0.0.1:${serving.port as number}`, clientTls);
    assertSameResponse(response, await capture(bareTarget, request));

    const results: Comparison[] = [];
    for (const load of settings.loads) {
      const pair = await measurePair(
        settings,
        (ms) => round(bare, bareTarget, request, ms, settings, load),
        (ms) => round(azimds, azimdsTarget, request, ms, settings, load),
      );
      const comparison: Comparison = {
        scenario: s,
        load,
        response: { status: response.status, bytes: response.body.length, https: tls !== undefined },
        bare: pair.a,
        azimds: pair.b,
        ratio: pair.ratio,
        pairedRatio: pair.pairedRatio,
        cpuRatio: pair.cpuRatio,
      };
      results.push(comparison);
      onResult(comparison);
    }
    return results;
  } finally {
    await azimds.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up times.

export interface LibraryStart {
  /** `import('azimds')` in a fresh process, median over processes (ms). */
  importMs: number;
  /** First `startEmulator()` of a fresh process until its first answered request, median (ms). */
  coldMs: number;
  coldMaxMs: number;
  /** Later calls in the same process, median (ms). */
  warmMs: number;
}

/** Runs bench/servers/startup.ts in `processes` fresh processes. */
export async function measureLibraryStart(path: string, processes = 5, repeats = 20): Promise<LibraryStart> {
  const results: Array<{ importMs: number; coldMs: number; warmMs: number[] }> = [];
  for (let i = 0; i < processes; i++) {
    const child = fork(new URL('./servers/startup.ts', import.meta.url), [path, String(repeats)], {
      execArgv: [],
      stdio: 'inherit',
    });
    const result = await new Promise<{ importMs: number; coldMs: number; warmMs: number[] }>(
      (resolve, reject) => {
        child.on('message', (m: { type?: string }) => {
          if (m.type === 'startup') resolve(m as never);
        });
        child.once('exit', (code) => code !== 0 && reject(new Error(`startup child exited ${code}`)));
      },
    );
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(0)));
    results.push(result);
  }
  return {
    importMs: median(results.map((r) => r.importMs)),
    coldMs: median(results.map((r) => r.coldMs)),
    coldMaxMs: Math.max(...results.map((r) => r.coldMs)),
    warmMs: median(results.flatMap((r) => r.warmMs)),
  };
}

export interface CliStart {
  /** Spawn until the banner's URL answered 200, median (ms). */
  medianMs: number;
  minMs: number;
  maxMs: number;
}

/** GET with `Metadata: true`; resolves with the status, or 0 when the connection fails. */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { headers: { Metadata: 'true' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Spawns `node dist/cli/main.js start --port 0` `times` times; each run is stopped with SIGTERM. */
export async function measureCliStart(times = 5): Promise<CliStart> {
  const main = new URL('../dist/cli/main.js', import.meta.url).pathname;
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    const child = spawn(process.execPath, [main, 'start', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, AZIMDS_LOG_LEVEL: 'error' },
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /(http:\/\/\S+\/metadata\/instance\?\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      void exited.then((code) =>
        reject(new Error(`azimds start exited (${code}) before its banner:\n${out}`)),
      );
    });
    const deadline = start + 10_000;
    while ((await statusOf(url)) !== 200) {
      if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within 10 s`);
    }
    durations.push(performance.now() - start);
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw new Error(`azimds start exited ${code} on SIGTERM`);
  }
  return { medianMs: median(durations), minMs: Math.min(...durations), maxMs: Math.max(...durations) };
}
