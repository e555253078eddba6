import type { IncomingMessage } from 'node:http';
import type { FleetMember } from '../core/fleet/members.js';
import type { VmState } from '../core/fleet/vm-state.js';
import { decodePercentOrKeep } from '../core/percent-decoding.js';
import type { EmulatorState } from '../core/state.js';

/**
 * How a request finds its VM in a fleet (docs/fleet.md), in this order, each an O(1) lookup:
 * 1. the VM the request was marked with: the proxy marks a request or tunnel socket with the VM named in
 *    the proxy URL's user part (`http://NAME@127.0.0.1:8171`, sent as `Proxy-Authorization: Basic
 *    base64(NAME:)`); a per-VM listener marks each socket it accepts;
 * 2. with `imds.vmBySourceAddress`, the VM whose private IP is the client's source address (a fleet in
 *    network namespaces);
 * 3. otherwise the default VM (member 0).
 * Marks are weak: they go with the request or socket.
 */
const marks = new WeakMap<object, FleetMember>();

/** Marks a request (absolute-form through the proxy) or a socket (a tunnel, a per-VM listener's connection). */
export function markRequestVm(target: object, member: FleetMember): void {
  marks.set(target, member);
}

/**
 * The name of the VM `raw` was addressed to, for the request log: the proxy's or a per-VM port's mark,
 * or the VM its source address picked; `undefined` for the default VM (no lookup: two WeakMap reads).
 */
export function requestVmName(raw: IncomingMessage): string | undefined {
  return (marks.get(raw) ?? marks.get(raw.socket))?.name;
}

/** Gives `to` (a TLS socket over a tunnel) the VM `from` (the tunnel's socket) was marked with, if any. */
export function copyRequestVm(from: object, to: object): void {
  const member = marks.get(from);
  if (member !== undefined) marks.set(to, member);
}

/** The VM `raw` (a request's IncomingMessage, fastify's `request.raw`) is addressed to; see above. */
export function requestMember(state: EmulatorState, raw: IncomingMessage): FleetMember {
  const fleet = state.fleet;
  const marked = marks.get(raw) ?? marks.get(raw.socket);
  if (marked !== undefined) return marked;
  if (fleet.size > 1 && state.config.imds.vmBySourceAddress) {
    const address = raw.socket?.remoteAddress;
    const found = address === undefined ? undefined : fleet.byAddress(address);
    if (found !== undefined) {
      // Marked, so the request log names the VM too (requestVmName).
      marks.set(raw, found);
      return found;
    }
  }
  return fleet.defaultMember;
}

/** The live state (machine, identities, events, ...) of the VM `raw` is addressed to. */
export function requestVm(state: EmulatorState, raw: IncomingMessage): VmState {
  const member = requestMember(state, raw);
  return member.index === 0 ? defaultVm(state) : state.fleet.context(member);
}

/**
 * The default VM as `state`'s own fields say (`state.machine`, `state.identities`, ...): the fleet's
 * member 0, unless a surface serves a view of it (the Arc listener's state has an ArcMachine).
 */
const defaults = new WeakMap<EmulatorState, VmState>();

function defaultVm(state: EmulatorState): VmState {
  let vm = defaults.get(state);
  if (vm === undefined) {
    const own = state.fleet.context(state.fleet.defaultMember);
    vm =
      own.machine === state.machine
        ? own
        : {
            ...own,
            machine: state.machine,
            identities: state.identities,
            scheduledEvents: state.scheduledEvents,
            attestation: state.attestation,
            loadBalancer: state.loadBalancer,
          };
    defaults.set(state, vm);
  }
  return vm;
}

/**
 * The VM named in a proxy request's credentials: `Proxy-Authorization: Basic base64(NAME:)` (what a
 * client sends for a proxy URL `http://NAME@host:port`; a password, if any, is ignored). `undefined`:
 * no credentials, an empty name, or a single-VM emulator (the default VM); a string: the name given,
 * which is no VM of the fleet.
 */
export function proxyAuthorizationMember(
  state: EmulatorState,
  header: string | undefined,
): FleetMember | string | undefined {
  // One VM: credentials name nothing (as before fleets), whatever a client's proxy URL carries.
  if (header === undefined || state.fleet.size === 1) return undefined;
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return header.split(/\s/)[0] ?? '';
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // Percent-encoded as a URL's user part is; a name that does not decode counts as sent.
  const name = decodePercentOrKeep(colon < 0 ? decoded : decoded.slice(0, colon));
  if (name === '') return undefined;
  return state.fleet.byName(name) ?? name;
}
