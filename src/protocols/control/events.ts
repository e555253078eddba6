import type { FastifyPluginAsync } from 'fastify';
import type { ScheduledEvent } from '../../core/events/types.js';
import type { EmulatorState } from '../../core/state.js';
import { controlError } from '../../errors.js';
import { sendWireError } from '../../server/reply.js';
import { controlVm, controlVms } from './fleet.js';

/** A scheduled event as the control API shows it: the core's fields, times as ISO 8601. */
export interface ScheduledEventView extends Omit<ScheduledEvent, 'notBefore' | 'startedAt' | 'endsAt'> {
  notBefore: string;
  startedAt?: string;
  endsAt?: string;
}

export function eventView(e: ScheduledEvent): ScheduledEventView {
  const iso = (ms: number) => new Date(ms).toISOString();
  const { notBefore, startedAt, endsAt, ...rest } = e;
  return {
    ...rest,
    notBefore: iso(notBefore),
    ...(startedAt === undefined ? {} : { startedAt: iso(startedAt) }),
    ...(endsAt === undefined ? {} : { endsAt: iso(endsAt) }),
  };
}

/**
 * `/events`: the scheduled events `/metadata/scheduledevents` serves (list, add, cancel, approve).
 * Adding takes the config file's event shape (`{"type":"Reboot","notBefore":"+5m"}`).
 */
export const controlEventsRoutes: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const notFound = (id: string) =>
    controlError(404, 'EventNotFound', `no current scheduled event with id "${id}"`);

  // `?vm=NAME` picks a VM of the fleet (fleet.ts); POST also takes `?scaleSet=` / `?availabilitySet=`:
  // the event is added to every member (each VM gets its own copy and EventId, as Azure's are per VM).
  app.get('/events', async (request, reply) => {
    const events = controlVm(state, request, reply)?.scheduledEvents;
    if (!events) return reply;
    return { incarnation: events.incarnation, events: events.list().map(eventView) };
  });
  app.post('/events', async (request, reply) => {
    const vms = controlVms(state, request, reply);
    if (!vms) return reply;
    const added = vms.map((vm) => vm.scheduledEvents.add(structuredClone(request.body ?? {}) as never));
    const query = request.query as { scaleSet?: unknown; availabilitySet?: unknown };
    if (query.scaleSet === undefined && query.availabilitySet === undefined) {
      return reply.code(201).send(eventView(added[0] as ScheduledEvent));
    }
    return reply.code(201).send({
      events: added.map((event, i) => ({
        vm: (vms[i] as (typeof vms)[number]).member.name,
        ...eventView(event),
      })),
    });
  });
  app.get<{ Params: { id: string } }>('/events/:id', async (request, reply) => {
    const events = controlVm(state, request, reply)?.scheduledEvents;
    if (!events) return reply;
    const event = events.get(request.params.id);
    return event ? eventView(event) : sendWireError(reply, notFound(request.params.id));
  });
  app.delete<{ Params: { id: string } }>('/events/:id', async (request, reply) => {
    const events = controlVm(state, request, reply)?.scheduledEvents;
    if (!events) return reply;
    if (events.cancel(request.params.id)) return reply.code(204).send();
    return sendWireError(reply, notFound(request.params.id));
  });
  app.post<{ Params: { id: string } }>('/events/:id/approve', async (request, reply) => {
    const events = controlVm(state, request, reply)?.scheduledEvents;
    if (!events) return reply;
    const result = events.approve([request.params.id]);
    if (result.unknown.length > 0) return sendWireError(reply, notFound(request.params.id));
    return eventView(events.get(request.params.id) as ScheduledEvent);
  });
};
