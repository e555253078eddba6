/**
 * Issue 10's benchmark: the IMDS instance document fetched through azimds's proxy (absolute-form
 * `GET http://169.254.169.254/metadata/instance?...` to the proxy's port, as curl, Go and Python send
 * it with HTTP_PROXY set) as a ratio of the same GET sent straight to the IMDS listener, from one azimds
 * child (dist/) in the same run: rounds alternate direct/proxied (ABBA) after a warm-up of each.
 * Target: ≥ 0.8.
 */
import {
  CORES,
  median,
  pin,
  runLoad,
  type Scenario,
  ServerProcess,
  type Settings,
  scenario,
} from './harness.js';

const PATH = '/metadata/instance?api-version=2025-04-07';

/** Median figures of one way of asking. */
export interface ProxyFigures {
  rps: number;
  /** azimds's CPU per request (the proxy and the surface are one process), µs. */
  cpuPerRequestUs: number;
  requests: number;
  errors: number;
}

export interface ProxyComparison {
  direct: ProxyFigures;
  proxied: ProxyFigures;
  /** proxied rps / direct rps (medians). */
  ratio: number;
  /** Median of the per-round-pair ratios. */
  pairedRatio: number;
  /** direct CPU per request / proxied CPU per request. */
  cpuRatio: number;
}

export const PROXY_TARGET = 0.8;

/** The two request shapes: origin-form to the IMDS port, absolute-form to the proxy's port. */
export const proxyScenarios = {
  direct: scenario('instance document, direct', PATH),
  proxied: scenario('instance document, through the proxy', `http://169.254.169.254${PATH}`, {
    headers: { Host: '169.254.169.254', Metadata: 'true' },
  }),
};

export async function compareProxy(settings: Settings): Promise<ProxyComparison> {
  if (process.pid) pin(process.pid, CORES.generator);
  const azimds = await ServerProcess.start('./servers/azimds.ts', ['{}']);
  try {
    const urls = azimds.ready.urls as Record<string, string>;
    const target = (base: string | undefined) => {
      if (!base) throw new Error('the azimds child has no IMDS or proxy URL');
      const url = new URL(base);
      return { host: url.hostname, port: Number(url.port) };
    };
    const direct = target(urls.imds);
    const proxied = target(urls.proxy);
    // The node closed loop (it sends the absolute-form request line a proxy takes) at the load targets
    // are checked on: 32 connections by default.
    const connections = settings.loads.find((l) => l.target)?.connections ?? 32;
    const round = async (to: { host: string; port: number }, s: Scenario, ms: number) => {
      const before = await azimds.cpuMicros();
      const r = await runLoad(to, s, ms, connections, settings.maxRequestsPerRound);
      const after = await azimds.cpuMicros();
      return {
        rps: (r.requests / r.elapsedMs) * 1000,
        cpuPerRequestUs: (after - before) / Math.max(1, r.requests),
        requests: r.requests,
        errors: r.errors,
      };
    };
    await round(direct, proxyScenarios.direct, settings.warmupMs);
    await round(proxied, proxyScenarios.proxied, settings.warmupMs);
    const d: ProxyFigures[] = [];
    const p: ProxyFigures[] = [];
    for (let i = 0; i < settings.rounds; i++) {
      // ABBA: direct, proxied, proxied, direct, ...
      if (i % 2 === 0) {
        d.push(await round(direct, proxyScenarios.direct, settings.roundMs));
        p.push(await round(proxied, proxyScenarios.proxied, settings.roundMs));
      } else {
        p.push(await round(proxied, proxyScenarios.proxied, settings.roundMs));
        d.push(await round(direct, proxyScenarios.direct, settings.roundMs));
      }
    }
    const summary = (rounds: ProxyFigures[]): ProxyFigures => ({
      rps: median(rounds.map((r) => r.rps)),
      cpuPerRequestUs: median(rounds.map((r) => r.cpuPerRequestUs)),
      requests: rounds.reduce((n, r) => n + r.requests, 0),
      errors: rounds.reduce((n, r) => n + r.errors, 0),
    });
    const ds = summary(d);
    const ps = summary(p);
    return {
      direct: ds,
      proxied: ps,
      ratio: ps.rps / ds.rps,
      pairedRatio: median(p.map((r, i) => r.rps / (d[i]?.rps ?? Number.NaN))),
      cpuRatio: ds.cpuPerRequestUs / ps.cpuPerRequestUs,
    };
  } finally {
    await azimds.stop();
  }
}
