import { proxyEnvironment } from '../cli/sdk-environment.js';
import type { FleetMember } from '../core/fleet/members.js';
import type { VmState } from '../core/fleet/vm-state.js';
import type { EmulatorState } from '../core/state.js';
import { AzimdsError } from '../errors.js';

/** One VM of a running emulator's fleet, as the library exposes it (`handle.vm(name)`, docs/fleet.md). */
export interface EmulatorVm {
  /** The VM's name (`compute.name`). */
  readonly name: string;
  /** What routes requests to it: resource group, private IP, scale set / availability set. */
  readonly member: FleetMember;
  /** Its live state: machine (instance document), identities, scheduled events, attestation, load balancer. */
  readonly state: VmState;
  /** The proxy URL that makes a client this VM: the VM's name in the user part, `http://NAME@127.0.0.1:8171`. */
  readonly proxyUrl: string;
  /** Opens (once) its own IMDS and legacy-extension listeners; resolves to their URLs (`imds`, `vmExtension`). */
  listen(): Promise<Record<string, string>>;
  /**
   * The environment of a process that is this VM (what `azimds env --vm NAME` prints): the proxy block
   * with `proxyUrl`, and AZURE_POD_IDENTITY_AUTHORITY_HOST at the VM's own IMDS port (opened now: msal-node,
   * hence @azure/identity, reads that variable and ignores proxies).
   */
  env(): Promise<Record<string, string>>;
}

/**
 * `handle.vm(name)`.
 * @throws AzimdsError `INVALID_INPUT` when no VM of the fleet has that name, `NOT_RUNNING` from `env()` when the proxy is off.
 */
export function emulatorVm(
  state: EmulatorState,
  urls: Readonly<Record<string, string>>,
  name: string,
): EmulatorVm {
  const member = state.fleet.byName(name);
  if (!member) throw new AzimdsError('INVALID_INPUT', `no VM named "${name}" in this emulator's fleet`);
  const proxyUrl = urls.proxy ? vmProxyUrl(urls.proxy, member.name) : '';
  const listen = () => {
    if (!state.vmListeners) throw new AzimdsError('NOT_RUNNING', 'the emulator is not running');
    return state.vmListeners(member);
  };
  return {
    name: member.name,
    member,
    state: state.fleet.context(member),
    proxyUrl,
    listen,
    env: async () => {
      const own = await listen();
      const vars = proxyEnvironment(
        { ...urls, ...(proxyUrl ? { proxy: proxyUrl } : {}), ...(own.imds ? { imds: own.imds } : {}) },
        { certFile: state.localCa.certFile(), bundleFile: state.localCa.bundleFile() },
      );
      return Object.fromEntries(vars);
    },
  };
}

/** `http://127.0.0.1:8171` with `name` as its user part: `http://NAME@127.0.0.1:8171` (percent-encoded). */
export function vmProxyUrl(proxy: string, name: string): string {
  const url = new URL(proxy);
  url.username = encodeURIComponent(name);
  return url.toString().replace(/\/$/, '');
}
