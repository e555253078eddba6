import { z } from 'zod';
import { isNotBeforeInput } from '../core/events/time.js';
import { EVENT_SOURCES, EVENT_STATUSES, EVENT_TYPES, type EventType } from '../core/events/types.js';
import { DEFAULTS } from './defaults.js';

/**
 * `scheduledEvents:` in the config file: how `/metadata/scheduledevents` behaves and the events the
 * emulator starts with. See docs/scheduled-events.md.
 */

/**
 * One event, as written in the config file or passed to `ScheduledEvents.add()` (control API, CLI,
 * library). Everything but `type` has Azure's default.
 */
export const scheduledEventSchema = z.strictObject({
  /** Freeze | Reboot | Redeploy | Preempt | Terminate. */
  type: z.enum(EVENT_TYPES),
  /**
   * When the event may start: `+5m` (from the moment it is added; for config events, from start-up),
   * an RFC 1123 or ISO 8601 date, or epoch milliseconds. Default: now + the type's minimum notice.
   * A time already past makes the event Started at once.
   */
  notBefore: z
    .union([z.string(), z.number(), z.date()])
    .refine(isNotBeforeInput, {
      message: 'expected +5m-style time from now, an RFC 1123 or ISO 8601 date, or epoch milliseconds',
    })
    .optional(),
  /** EventId; default a new upper-case GUID. Letters, digits and `-`. */
  id: z
    .string()
    .regex(/^[0-9A-Za-z-]{1,64}$/, 'an EventId is 1-64 letters, digits or "-" (Azure uses GUIDs)')
    .optional(),
  /** `Started` adds the event already started, as Azure does after a host failure. Default Scheduled. */
  status: z.enum(EVENT_STATUSES).optional(),
  /** Affected VM names; default this VM's name. */
  resources: z.array(z.string().min(1)).min(1).optional(),
  /** Platform (default) or User. */
  source: z.enum(EVENT_SOURCES).optional(),
  /** Default: Azure's text for the type and source. */
  description: z.string().optional(),
  /** Expected impact in seconds, -1 unknown, 0 none. Default 5 for Freeze, -1 otherwise. */
  durationInSeconds: z.number().int().min(-1).optional(),
});

const noticeSeconds = z.number().int().min(0);
const notice = DEFAULTS.scheduledEvents.minimumNoticeSeconds;
const minimumNotice = z.strictObject(
  Object.fromEntries(EVENT_TYPES.map((t) => [t, noticeSeconds.default(notice[t])])) as Record<
    EventType,
    z.ZodDefault<typeof noticeSeconds>
  >,
);

export const scheduledEventsSchema = z.strictObject({
  /** Delay of the first answer (ms, real time), like Azure enabling the service on first use. */
  firstCallDelayMs: z.number().int().min(0).max(600_000).default(DEFAULTS.scheduledEvents.firstCallDelayMs),
  /** Seconds a Started event stays when its DurationInSeconds is -1 or 0; otherwise it stays DurationInSeconds. */
  startedSeconds: z.number().int().min(1).default(DEFAULTS.scheduledEvents.startedSeconds),
  /** Per-type minimum notice (seconds) used when an event is added without NotBefore. */
  minimumNoticeSeconds: minimumNotice.default(minimumNotice.parse({})),
  /** Events present when the emulator starts (and after a reset). */
  events: z
    .array(scheduledEventSchema)
    .default([])
    .superRefine((events, ctx) => {
      const seen = new Set<string>();
      events.forEach((e, i) => {
        const id = e.id?.toUpperCase();
        if (id === undefined) return;
        if (seen.has(id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate EventId "${e.id}"` });
        seen.add(id);
      });
    }),
});

/** One event as given (every field but `type` optional). */
export type ScheduledEventInput = z.input<typeof scheduledEventSchema>;
export type ScheduledEventsConfig = z.output<typeof scheduledEventsSchema>;
