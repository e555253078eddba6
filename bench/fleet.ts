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
  measurePair,
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
    /** One round of `s` sent to `server`'s IMDS or proxy listener. */
    const on = (server: ServerProcess, surface: 'imds' | 'proxy', s: Scenario) => (ms: number) =>
      round(server, targetOf((server.ready.urls as Record<string, string>)[surface]), s, ms, settings, load);
    const direct = scenario('instance document', PATH);
    const proxied = (vm: string) =>
      scenario(`instance document as ${vm}`, `http://169.254.169.254${PATH}`, {
        headers: { Host: '169.254.169.254', Metadata: 'true', 'Proxy-Authorization': named(vm) },
      });
    const fleetVm = `azimds-vm-${String(FLEET_SIZE / 2).padStart(String(FLEET_SIZE).length, '0')}`;
    const d = await measurePair(settings, on(single, 'imds', direct), on(fleet, 'imds', direct));
    const plain = scenario('instance document through the proxy', `http://169.254.169.254${PATH}`, {
      headers: { Host: '169.254.169.254', Metadata: 'true' },
    });
    const p = await measurePair(settings, on(single, 'proxy', plain), on(fleet, 'proxy', proxied(fleetVm)));
    return {
      directRatio: d.ratio,
      proxiedRatio: p.ratio,
      singleRps: d.a.rps,
      fleetRps: d.b.rps,
      startMs: Number(fleet.ready.startMs),
      idleRssMb: memory.rss / 1e6,
      errors: d.a.errors + d.b.errors + p.a.errors + p.b.errors,
    };
  } finally {
    await Promise.all([single.stop(), fleet.stop()]);
  }
}
