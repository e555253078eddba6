/**
 * Issue 13's benchmark: the IMDS instance document served by an azimds child with 10,000 VMs configured
 * (`fleet.count`), as a ratio of the same GET to an azimds child with one VM, in the same run (rounds
 * alternate ABBA after a warm-up of each); twice: straight to IMDS (the default VM), and through the
 * proxy as a VM named in `Proxy-Authorization` (the fleet's 5,000th VM vs the single VM's proxy).
 * Also the fleet child's start time (`startEmulator()` → resolved, in the child) and idle RSS.
 * Target: ratio ≥ 0.95 (no lower than with one VM, within noise); start < 2 s; idle RSS < 150 MB.
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
export const FLEET_SIZE = 10_000;
export const FLEET_TARGETS = { ratio: 0.95, startMs: 2000, idleRssMb: 150 };

export interface FleetComparison {
  /** rps with 10,000 VMs / rps with one, straight to IMDS (medians). */
  directRatio: number;
  /** The same through the proxy, a named VM of the fleet vs the single VM. */
  proxiedRatio: number;
  singleRps: number;
  fleetRps: number;
  startMs: number;
  idleRssMb: number;
  errors: number;
}

const named = (name: string) => `Basic ${Buffer.from(`${name}:`).toString('base64')}`;

export async function compareFleet(settings: Settings): Promise<FleetComparison> {
  if (process.pid) pin(process.pid, CORES.generator);
  const single = await ServerProcess.start('./servers/azimds.ts', [JSON.stringify({ proxy: { port: 0 } })]);
  const fleet = await ServerProcess.start('./servers/azimds.ts', [
    JSON.stringify({ proxy: { port: 0 }, fleet: { count: FLEET_SIZE } }),
  ]);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const memory = (await fleet.ask('memory', 'memory')) as unknown as { rss: number };
    const target = (server: ServerProcess, surface: 'imds' | 'proxy') => {
      const url = new URL((server.ready.urls as Record<string, string>)[surface] ?? '');
      return { host: url.hostname, port: Number(url.port) };
    };
    const connections = settings.loads.find((l) => l.target)?.connections ?? 32;
    let errors = 0;
    const round = async (to: { host: string; port: number }, s: Scenario, ms: number) => {
      const r = await runLoad(to, s, ms, connections, settings.maxRequestsPerRound);
      errors += r.errors;
      return (r.requests / r.elapsedMs) * 1000;
    };
    const compare = async (a: () => Promise<number>, b: () => Promise<number>) => {
      const as: number[] = [];
      const bs: number[] = [];
      for (let i = 0; i < settings.rounds; i++) {
        if (i % 2 === 0) {
          as.push(await a());
          bs.push(await b());
        } else {
          bs.push(await b());
          as.push(await a());
        }
      }
      return { a: median(as), b: median(bs) };
    };
    const direct = scenario('instance document', PATH);
    const proxied = (vm: string) =>
      scenario(`instance document as ${vm}`, `http://169.254.169.254${PATH}`, {
        headers: { Host: '169.254.169.254', Metadata: 'true', 'Proxy-Authorization': named(vm) },
      });
    const fleetVm = `azimds-vm-${String(FLEET_SIZE / 2).padStart(String(FLEET_SIZE).length, '0')}`;
    await round(target(single, 'imds'), direct, settings.warmupMs);
    await round(target(fleet, 'imds'), direct, settings.warmupMs);
    const d = await compare(
      () => round(target(single, 'imds'), direct, settings.roundMs),
      () => round(target(fleet, 'imds'), direct, settings.roundMs),
    );
    const plain = scenario('instance document through the proxy', `http://169.254.169.254${PATH}`, {
      headers: { Host: '169.254.169.254', Metadata: 'true' },
    });
    await round(target(single, 'proxy'), plain, settings.warmupMs);
    await round(target(fleet, 'proxy'), proxied(fleetVm), settings.warmupMs);
    const p = await compare(
      () => round(target(single, 'proxy'), plain, settings.roundMs),
      () => round(target(fleet, 'proxy'), proxied(fleetVm), settings.roundMs),
    );
    return {
      directRatio: d.b / d.a,
      proxiedRatio: p.b / p.a,
      singleRps: d.a,
      fleetRps: d.b,
      startMs: Number(fleet.ready.startMs),
      idleRssMb: memory.rss / 1e6,
      errors,
    };
  } finally {
    await Promise.all([single.stop(), fleet.stop()]);
  }
}
