import type { EventType } from './types.js';

/**
 * api-versions of `/metadata/scheduledevents`, newest first. Scheduled events keep their own list,
 * separate from the other IMDS categories (Microsoft's "Version and region availability" table).
 * `{latest}`, accepted by early previews, is not.
 */
export const SCHEDULED_EVENTS_API_VERSIONS = [
  '2020-07-01',
  '2019-08-01',
  '2019-04-01',
  '2019-01-01',
  '2017-11-01',
  '2017-08-01',
  '2017-03-01',
] as const;

/** The three newest, newest first, quoted in the api-version error of this category. */
export const NEWEST_SCHEDULED_EVENTS_VERSIONS: readonly string[] = SCHEDULED_EVENTS_API_VERSIONS.slice(0, 3);

const supported: ReadonlySet<string> = new Set(SCHEDULED_EVENTS_API_VERSIONS);

/** True when `/metadata/scheduledevents` accepts `version`. */
export function isScheduledEventsApiVersion(version: string): boolean {
  return supported.has(version);
}

/** Version that added each optional event field; older versions do not serve it. */
export const EVENT_FIELD_INTRODUCED_IN = {
  Description: '2019-04-01',
  EventSource: '2019-08-01',
  DurationInSeconds: '2020-07-01',
} as const;

/**
 * Version that added each event type. A client asking with an older version was written before the
 * type existed; azimds leaves such events out of its document rather than serve a value its parser
 * may reject (Azure does not document what it does).
 */
export const EVENT_TYPE_INTRODUCED_IN: Readonly<Partial<Record<EventType, string>>> = {
  Preempt: '2017-11-01',
  Terminate: '2019-01-01',
};

/** Until 2017-08-01, IaaS VM names in `Resources` carried a leading underscore. */
export const UNPREFIXED_RESOURCES_SINCE = '2017-08-01';
