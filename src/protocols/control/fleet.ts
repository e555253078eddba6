import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { FleetMember } from '../../core/fleet/members.js';
import type { VmState } from '../../core/fleet/vm-state.js';
import type { EmulatorState } from '../../core/state.js';
import { controlError } from '../../errors.js';
import { sendWireError } from '../../server/reply.js';

/**
 * The VM a control request acts on (docs/fleet.md): `?vm=NAME` (any case), else the default VM.
 * Undefined: the name is no VM of the fleet, and the 404 `VmNotFound` was sent.
 */
export function controlVm(
  state: EmulatorState,
  request: FastifyRequest,
  reply: FastifyReply,
): VmState | undefined {
  const name = (request.query as { vm?: unknown }).vm;
  if (typeof name !== 'string' || name === '') return state.fleet.context(state.fleet.defaultMember);
  const member = state.fleet.byName(name);
  if (member) return state.fleet.context(member);
  sendWireError(reply, vmNotFound(name));
  return undefined;
}

/**
 * The VMs a control request acts on: `?scaleSet=NAME` (every instance of a scale set),
 * `?availabilitySet=NAME` (every member of an availability set), else the one of `controlVm`.
 * Undefined: nothing matched, and the 404 was sent.
 */
export function controlVms(
  state: EmulatorState,
  request: FastifyRequest,
  reply: FastifyReply,
): VmState[] | undefined {
  const query = request.query as { scaleSet?: unknown; availabilitySet?: unknown };
  const set =
    typeof query.scaleSet === 'string'
      ? { key: 'scaleSet' as const, name: query.scaleSet }
      : typeof query.availabilitySet === 'string'
        ? { key: 'availabilitySet' as const, name: query.availabilitySet }
        : undefined;
  if (!set) {
    const one = controlVm(state, request, reply);
    return one ? [one] : undefined;
  }
  const wanted = set.name.toLowerCase();
  const members = state.fleet.members.filter((m) => m[set.key]?.toLowerCase() === wanted);
  if (members.length === 0) {
    sendWireError(
      reply,
      controlError(404, 'VmNotFound', `no VM of this emulator is in the ${set.key} "${set.name}"`),
    );
    return undefined;
  }
  return members.map((m) => state.fleet.context(m));
}

function vmNotFound(name: string) {
  return controlError(
    404,
    'VmNotFound',
    `no VM named "${name}" in this emulator's fleet (GET /vms lists them)`,
  );
}

/** A VM as `GET /vms` lists it: what routes requests to it, without creating its state. */
export function memberView(member: FleetMember) {
  return {
    name: member.name,
    resourceGroupName: member.resourceGroupName,
    privateIpAddress: member.privateIpAddress,
    ...(member.scaleSet ? { scaleSet: member.scaleSet } : {}),
    ...(member.availabilitySet ? { availabilitySet: member.availabilitySet } : {}),
    default: member.index === 0,
  };
}

/** Opens a VM's own listeners (docs/fleet.md, per-VM ports); set by the running emulator. */
export type VmListenerOpener = (member: FleetMember) => Promise<Record<string, string>>;

/**
 * `/vms`: the fleet (docs/fleet.md). `GET /vms` lists every VM (`?limit`/`?after` page through a large
 * fleet); `GET /vms/{name}` one VM's instance document; `POST /vms/{name}/listeners` opens (once) an
 * IMDS and a legacy-extension listener answering as that VM on free ports, for clients that cannot use
 * the proxy, and returns their URLs.
 */
export const controlFleetRoutes: FastifyPluginAsync<{
  state: EmulatorState;
  openListeners?: () => VmListenerOpener | undefined;
}> = async (app, { state, openListeners }) => {
  app.get('/vms', async (request) => {
    const { limit, after } = request.query as { limit?: string; after?: string };
    const start = after ? (state.fleet.byName(after)?.index ?? -1) + 1 : 0;
    const n = limit && /^\d+$/.test(limit) ? Number(limit) : state.fleet.size;
    return {
      count: state.fleet.size,
      vms: state.fleet.members.slice(start, start + n).map(memberView),
    };
  });
  app.get<{ Params: { name: string } }>('/vms/:name', async (request, reply) => {
    const member = state.fleet.byName(request.params.name);
    if (!member) return sendWireError(reply, vmNotFound(request.params.name));
    return { ...memberView(member), document: state.fleet.context(member).machine.document };
  });
  app.post<{ Params: { name: string } }>('/vms/:name/listeners', async (request, reply) => {
    const member = state.fleet.byName(request.params.name);
    if (!member) return sendWireError(reply, vmNotFound(request.params.name));
    const open = openListeners?.();
    if (!open) {
      return sendWireError(
        reply,
        controlError(
          409,
          'NotRunning',
          'per-VM listeners need a running emulator (azimds start, startEmulator)',
        ),
      );
    }
    return { name: member.name, urls: await open(member) };
  });
};
