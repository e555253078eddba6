import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync } from 'fastify';
import {
  isScheduledEventsApiVersion,
  NEWEST_SCHEDULED_EVENTS_VERSIONS,
} from '../../core/events/api-versions.js';
import type { ScheduledEvents } from '../../core/events/scheduled-events.js';
import type { EmulatorState } from '../../core/state.js';
import { apiVersionInvalid, scheduledEventsErrors, unknownEventId, type WireError } from '../../errors.js';
import { type Exchange, fastRoute } from '../../server/fast-path.js';
import { JSON_CONTENT_TYPE, type PreparedResponse, prepareResponse } from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { IMDS_HEADERS, imdsCheck } from './plugin.js';

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
  const check = imdsCheck(state);
  // The 200 of each document's bytes (`documentBytes` keeps them per incarnation and version): the
  // header object with its ETag is built once per document, not per poll.
  const prepared = new WeakMap<Buffer, PreparedResponse>();

  // Clients POST with any Content-Type or none (Microsoft's curl sample sends form-urlencoded, its
  // Python sample none): take the bytes as they come and parse them here. A GET (every poll) is
  // served on the fast path (server/fast-path.ts), a POST through fastify's router: one handler.
  const events = (exchange: Exchange): undefined | Promise<undefined> => {
    const rejected = check(exchange, 'GET, POST');
    if (rejected) return exchange.fail(rejected, IMDS_HEADERS);
    const version = exchange.query['api-version'];
    if (typeof version !== 'string' || !isScheduledEventsApiVersion(version)) {
      return exchange.fail(apiVersionError, IMDS_HEADERS);
    }
    const vmEvents = requestVm(state, exchange.raw).scheduledEvents;
    const delay = vmEvents.noteCall();
    if (delay > 0) return sleep(delay).then(() => answer(exchange, vmEvents, version));
    return answer(exchange, vmEvents, version);
  };

  const answer = (exchange: Exchange, vmEvents: ScheduledEvents, version: string): undefined => {
    if (exchange.method === 'POST') {
      const ids = startRequestIds(exchange.body);
      if (!Array.isArray(ids)) return exchange.fail(ids, IMDS_HEADERS);
      const result = vmEvents.approve(ids);
      if (result.unknown.length > 0) {
        return exchange.fail(unknownEventId(result.unknown[0] as string), IMDS_HEADERS);
      }
      return exchange.sendEmpty(200, IMDS_HEADERS);
    }
    const { incarnation, body } = vmEvents.documentBytes(version);
    if (matchesEtag(exchange.headers['if-none-match'], incarnation)) {
      return exchange.sendEmpty(304, { ...IMDS_HEADERS, ETag: `"${incarnation}"` });
    }
    let response = prepared.get(body);
    if (response === undefined) {
      response = prepareResponse(200, JSON_CONTENT_TYPE, body, IMDS_HEADERS, { ETag: `"${incarnation}"` });
      prepared.set(body, response);
    }
    return exchange.send(response);
  };

  fastRoute(app, '/metadata/scheduledevents', events);
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
