/**
 * Issue 13's benchmark: the IMDS instance document served by an azimds child with 10,000 VMs configured
 * (`fleet.count`), as a ratio of the same GET to an azimds child with one VM, in the same run (rounds
 * alternate ABBA after a warm-up of each); twice: straight to IMDS (the default VM), and through the
 * proxy as a VM named in `Proxy-Authorization` (the fleet's 5,000th VM vs the single VM's proxy).
 * Also the fleet child's start time (`startEmulator()` → resolved, in the child) and idle RSS.
 * Target: ratio ≥ 0.95 (no lower than with one VM, within noise); start < 2 s; idle RSS < 150 MB.
 */
import {
  alternate,
  CORES,
  median,
  pin,
  round,
  type Scenario,
  ServerProcess,
  type Settings,
  scenario,
  targetConnections,
  targetOf,
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
    const load = { generator: 'node', connections: targetConnections(settings) } as const;
    let errors = 0;
    /** req/s of one round of `s` sent to `server`'s IMDS or proxy listener. */
    const rps = async (server: ServerProcess, surface: 'imds' | 'proxy', s: Scenario, ms: number) => {
      const to = targetOf((server.ready.urls as Record<string, string>)[surface]);
      const r = await round(server, to, s, ms, settings, load);
      errors += r.errors;
      return r.rps;
    };
    const compare = async (a: () => Promise<number>, b: () => Promise<number>) => {
      const { a: as, b: bs } = await alternate(settings.rounds, a, b);
      return { a: median(as), b: median(bs) };
    };
    const direct = scenario('instance document', PATH);
    const proxied = (vm: string) =>
      scenario(`instance document as ${vm}`, `http://169.254.169.254${PATH}`, {
        headers: { Host: '169.254.169.254', Metadata: 'true', 'Proxy-Authorization': named(vm) },
      });
    const fleetVm = `azimds-vm-${String(FLEET_SIZE / 2).padStart(String(FLEET_SIZE).length, '0')}`;
    await rps(single, 'imds', direct, settings.warmupMs);
    await rps(fleet, 'imds', direct, settings.warmupMs);
    const d = await compare(
      () => rps(single, 'imds', direct, settings.roundMs),
      () => rps(fleet, 'imds', direct, settings.roundMs),
    );
    const plain = scenario('instance document through the proxy', `http://169.254.169.254${PATH}`, {
      headers: { Host: '169.254.169.254', Metadata: 'true' },
    });
    await rps(single, 'proxy', plain, settings.warmupMs);
    await rps(fleet, 'proxy', proxied(fleetVm), settings.warmupMs);
    const p = await compare(
      () => rps(single, 'proxy', plain, settings.roundMs),
      () => rps(fleet, 'proxy', proxied(fleetVm), settings.roundMs),
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
