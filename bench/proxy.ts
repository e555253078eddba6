/**
 * Issue 10's benchmark: the IMDS instance document fetched through azimds's proxy (absolute-form
 * `GET http://169.254.169.254/metadata/instance?...` to the proxy's port, as curl, Go and Python send
 * it with HTTP_PROXY set) as a ratio of the same GET sent straight to the IMDS listener, from one azimds
 * child (dist/) in the same run: rounds alternate direct/proxied (ABBA) after a warm-up of each.
 * Target: ≥ 0.8.
 */
import {
  CORES,
  measurePair,
  pin,
  round,
  type ServerFigures,
  ServerProcess,
  type Settings,
  scenario,
  targetConnections,
  targetOf,
} from './harness.js';

const PATH = '/metadata/instance?api-version=2025-04-07';

export interface ProxyComparison {
  /** Medians of each way of asking (azimds's CPU per request: the proxy and the surface are one process). */
  direct: ServerFigures;
  proxied: ServerFigures;
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
    const direct = targetOf(urls.imds);
    const proxied = targetOf(urls.proxy);
    // The node closed loop (it sends the absolute-form request line a proxy takes) at the load targets
    // are checked on: 32 connections by default.
    const load = { generator: 'node', connections: targetConnections(settings) } as const;
    const pair = await measurePair(
      settings,
      (ms) => round(azimds, direct, proxyScenarios.direct, ms, settings, load),
      (ms) => round(azimds, proxied, proxyScenarios.proxied, ms, settings, load),
    );
    return {
      direct: pair.a,
      proxied: pair.b,
      ratio: pair.ratio,
      pairedRatio: pair.pairedRatio,
      cpuRatio: pair.cpuRatio,
    };
  } finally {
    await azimds.stop();
  }
}
