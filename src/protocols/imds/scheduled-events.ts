import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  isScheduledEventsApiVersion,
  NEWEST_SCHEDULED_EVENTS_VERSIONS,
} from '../../core/events/api-versions.js';
import type { EmulatorState } from '../../core/state.js';
import { apiVersionInvalid, scheduledEventsErrors, unknownEventId, type WireError } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendEmpty, sendWireError } from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { IMDS_HEADERS, imdsGuard } from './plugin.js';
import type { Query } from './request-checks.js';

export interface ScheduledEventsPluginOptions {
  state: EmulatorState;
}

const apiVersionError = apiVersionInvalid(NEWEST_SCHEDULED_EVENTS_VERSIONS);

/**
 * `/metadata/scheduledevents` (api-versions of its own, 2017-03-01 … 2020-07-01):
 * - `GET`: `{"DocumentIncarnation":N,"Events":[...]}` for the requested version, with an `ETag`
 *   (the incarnation); `If-None-Match` with the current one gets 304, as Microsoft's own poller expects;
 * - `POST` `{"StartRequests":[{"EventId":"..."}]}`: approves events (200, empty body); 400 for a body
 *   that is not JSON, not that shape, or names an event that is not current.
 * The first call waits `scheduledEvents.firstCallDelayMs` (Azure enables the service on first use).
 */
export const scheduledEventsPlugin: FastifyPluginAsync<ScheduledEventsPluginOptions> = async (
  app,
  { state },
) => {
  const guard = imdsGuard(state);

  // Clients POST with any Content-Type or none (Microsoft's curl sample sends form-urlencoded, its
  // Python sample none): take the bytes as they come and parse them here.

  app.all('/metadata/scheduledevents', async (request: FastifyRequest, reply: FastifyReply) => {
    const rejected = guard(request, reply, 'GET, POST');
    if (rejected) return rejected;
    const version = (request.query as Query)['api-version'];
    if (typeof version !== 'string' || !isScheduledEventsApiVersion(version)) {
      return sendWireError(reply, apiVersionError, IMDS_HEADERS);
    }
    const events = requestVm(state, request.raw).scheduledEvents;
    const delay = events.noteCall();
    if (delay > 0) await sleep(delay);

    if (request.method === 'POST') {
      const ids = startRequestIds(request.body);
      if (!Array.isArray(ids)) return sendWireError(reply, ids, IMDS_HEADERS);
      const result = events.approve(ids);
      if (result.unknown.length > 0) {
        return sendWireError(reply, unknownEventId(result.unknown[0] as string), IMDS_HEADERS);
      }
      return sendEmpty(reply, 200, IMDS_HEADERS);
    }

    const { incarnation, body } = events.documentBytes(version);
    const etag = `"${incarnation}"`;
    const headers = { ...IMDS_HEADERS, ETag: etag };
    if (matchesEtag(request.headers['if-none-match'], incarnation)) {
      return sendEmpty(reply, 304, headers);
    }
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, body, headers);
  });
};

/** The EventIds of a StartRequests body, or the 400 to answer. */
function startRequestIds(body: unknown): string[] | WireError {
  if (!Buffer.isBuffer(body) || body.length === 0) return scheduledEventsErrors.startRequestsMalformed;
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return scheduledEventsErrors.bodyNotJson;
  }
  const requests = isObject(json) ? json.StartRequests : undefined;
  if (!Array.isArray(requests)) return scheduledEventsErrors.startRequestsMalformed;
  const ids: string[] = [];
  for (const item of requests) {
    const id = isObject(item) ? item.EventId : undefined;
    if (typeof id !== 'string' || id === '') return scheduledEventsErrors.startRequestsMalformed;
    ids.push(id);
  }
  return ids;
}

/** `If-None-Match` naming the current incarnation, quoted or not (Microsoft's sample starts with a bare `0`), or `*`. */
function matchesEtag(header: string | undefined, incarnation: number): boolean {
  if (!header) return false;
  const current = String(incarnation);
  return header.split(',').some((tag) => {
    const t = tag.trim().replace(/^W\//, '');
    return t === '*' || t === current || t === `"${current}"`;
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
