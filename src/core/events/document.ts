import {
  EVENT_FIELD_INTRODUCED_IN,
  EVENT_TYPE_INTRODUCED_IN,
  UNPREFIXED_RESOURCES_SINCE,
} from './api-versions.js';
import { rfc1123 } from './time.js';
import type { ScheduledEvent } from './types.js';

/** One event on the wire: Azure's names, in the order real responses list them. */
export interface WireEvent {
  EventId: string;
  EventStatus: string;
  EventType: string;
  ResourceType: string;
  Resources: string[];
  NotBefore: string;
  Description?: string;
  EventSource?: string;
  DurationInSeconds?: number;
}

/** The GET body of `/metadata/scheduledevents`. */
export interface WireEventsDocument {
  DocumentIncarnation: number;
  Events: WireEvent[];
}

/**
 * Azure's document for `version` (a scheduled-events api-version): Description from 2019-04-01,
 * EventSource from 2019-08-01, DurationInSeconds from 2020-07-01; events of a type newer than the
 * version are left out; 2017-03-01 prefixes VM names with `_`. NotBefore is RFC 1123, `""` once Started.
 * Key order follows observed responses (EventId, EventStatus, EventType, ResourceType, Resources, ...).
 */
export function eventsDocument(
  events: readonly ScheduledEvent[],
  incarnation: number,
  version: string,
): WireEventsDocument {
  const since = (v: string) => version >= v;
  const prefix = since(UNPREFIXED_RESOURCES_SINCE) ? '' : '_';
  const visible = events.filter((e) => since(EVENT_TYPE_INTRODUCED_IN[e.type] ?? ''));
  return {
    DocumentIncarnation: incarnation,
    Events: visible.map((e) => {
      const wire: WireEvent = {
        EventId: e.id,
        EventStatus: e.status,
        EventType: e.type,
        ResourceType: e.resourceType,
        Resources: e.resources.map((r) => prefix + r),
        NotBefore: e.status === 'Scheduled' ? rfc1123(e.notBefore) : '',
      };
      if (since(EVENT_FIELD_INTRODUCED_IN.Description)) wire.Description = e.description;
      if (since(EVENT_FIELD_INTRODUCED_IN.EventSource)) wire.EventSource = e.source;
      if (since(EVENT_FIELD_INTRODUCED_IN.DurationInSeconds)) wire.DurationInSeconds = e.durationInSeconds;
      return wire;
    }),
  };
}
