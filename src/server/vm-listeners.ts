import type { Logger } from 'pino';
import type { FleetMember } from '../core/fleet/members.js';
import type { EmulatorState } from '../core/state.js';
import { vmExtensionListenerSpec } from '../protocols/vm-extension/plugin.js';
import { type ListenerSpec, type RunningListener, startListener } from './listener.js';
import { markRequestVm } from './request-vm.js';

/**
 * Per-VM ports (docs/fleet.md), for clients that cannot use the proxy (msal-node reads
 * AZURE_POD_IDENTITY_AUTHORITY_HOST and ignores proxies; the legacy extension's clients call
 * localhost:50342): opens, once per VM, an IMDS listener and a legacy VM-extension listener on free
 * ports whose every connection is that VM's. Returns `(member) → { imds, vmExtension }` URLs; the
 * listeners are added to `running` (closed with the emulator).
 * `imdsSpec` is the emulator's IMDS ListenerSpec builder (undefined when IMDS is off).
 */
export function vmListenerOpener(
  state: EmulatorState,
  imdsSpec: () => ListenerSpec | undefined,
  running: RunningListener[],
  log: Logger,
): (member: FleetMember) => Promise<Record<string, string>> {
  const opened = new Map<number, Promise<Record<string, string>>>();
  const open = async (member: FleetMember): Promise<Record<string, string>> => {
    const specs: ListenerSpec[] = [];
    const imds = imdsSpec();
    if (imds) specs.push(imds);
    const extension = vmExtensionListenerSpec(state);
    extension.instrument ??= { faults: state.faults, requestLog: state.requestLog };
    extension.allowedHosts ??= state.config.allowedHosts;
    specs.push(extension);
    const urls: Record<string, string> = {};
    for (const spec of specs) {
      const listener = await startListener({ ...spec, port: 0 }, log);
      // Every connection of this listener is the VM's (request-vm.ts), before its first byte is read.
      listener.app.server.on('connection', (socket: object) => markRequestVm(socket, member));
      running.push(listener);
      urls[spec.name] = listener.url;
    }
    return urls;
  };
  return (member) => {
    let urls = opened.get(member.index);
    if (!urls) {
      urls = open(member);
      opened.set(member.index, urls);
      urls.catch(() => opened.delete(member.index));
    }
    return urls;
  };
}
