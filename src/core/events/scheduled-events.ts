import { randomUUID } from 'node:crypto';
import { DEFAULTS } from '../../config/defaults.js';
import { issuesText } from '../../config/issues.js';
import {
  type ScheduledEventInput,
  type ScheduledEventsConfig,
  scheduledEventSchema,
} from '../../config/scheduled-events.js';
import { AzimdsError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { eventsDocument } from './document.js';
import { parseNotBefore } from './time.js';
import { DEFAULT_DESCRIPTIONS, type EventSource, type EventType, type ScheduledEvent } from './types.js';

/** Azure's "disabled after 24 hours without a call": the next call pays the first-call delay again. */
const IDLE_DISABLE_MS = 24 * 3_600_000;

/** An event as stored; `startedAt` is set once it has started (observed by a read or an operation). */
interface StoredEvent {
  id: string;
  type: EventType;
  resources: string[];
  source: EventSource;
  description: string;
  durationInSeconds: number;
  notBefore: number;
  startedAt?: number;
  approved: boolean;
}

/** Result of `approve()`. */
export interface ApproveResult {
  /** Ids (as stored) of the events this call started. */
  readonly started: readonly string[];
  /** Ids that were already Started: accepted, nothing changes (Azure answers 200 for them too). */
  readonly alreadyStarted: readonly string[];
  /** Ids of no current event. When any id is unknown, nothing is approved. */
  readonly unknown: readonly string[];
}

/** The serialized GET body for one api-version at one incarnation. */
export interface EventsDocumentBytes {
  readonly incarnation: number;
  readonly body: Buffer;
}

export interface ScheduledEventsOptions {
  /** The emulator's clock; every transition is computed from it when the events are read. */
  clock: Clock;
  /** The VM's name, the default `Resources` of a new event (read when the event is added). */
  vmName: () => string;
  /** `config.scheduledEvents`. */
  config: ScheduledEventsConfig;
}

/**
 * The scheduled events of the emulated VM: what `/metadata/scheduledevents` serves, and what the
 * control API and the CLI change.
 *
 * Lifecycle, as on Azure: an event is **Scheduled** until its NotBefore passes or it is approved,
 * then **Started** (NotBefore `""`), then it disappears after DurationInSeconds (or `startedSeconds`
 * when that is -1 or 0). There are no timers: every read and every operation first applies the
 * transitions that the clock (`clock.now()`) has passed, so moving the emulator's clock in a test
 * (`state.clock.advance(ms)`) moves the events with it.
 *
 * `DocumentIncarnation` starts at 1 (the document at start-up, configured events included) and grows
 * by one for each change: every add, cancel, approval and reset, and every distinct instant at which
 * time started or removed events (events changing at the same instant are one change). It never
 * decreases. Moving the clock back does not undo transitions already observed.
 *
 * @example
 * ```ts
 * const reboot = state.scheduledEvents.add({ type: 'Reboot', notBefore: '+5m' });
 * state.clock.advance(5 * 60_000);                     // NotBefore reached: Started
 * state.scheduledEvents.get(reboot.id)?.status;        // 'Started'
 * state.clock.advance(60_000);                         // startedSeconds later: gone
 * ```
 */
export class ScheduledEvents {
  readonly #clock: Clock;
  readonly #vmName: () => string;
  readonly #config: ScheduledEventsConfig;
  /** Keyed by upper-case id: Azure's ids are GUIDs and compare without regard to case. */
  readonly #events = new Map<string, StoredEvent>();
  #incarnation = 1;
  #lastCallAt: number | undefined;
  readonly #bytes = new Map<string, EventsDocumentBytes>();

  constructor(options: ScheduledEventsOptions) {
    this.#clock = options.clock;
    this.#vmName = options.vmName;
    this.#config = options.config;
    for (const input of this.#config.events) this.#insert(input);
  }

  /** Current DocumentIncarnation (after applying the transitions the clock has passed). */
  get incarnation(): number {
    this.#sync();
    return this.#incarnation;
  }

  /** The current events, in the order they were added. */
  list(): ScheduledEvent[] {
    this.#sync();
    return [...this.#events.values()].map((e) => this.#view(e));
  }

  /** One current event by id (any case), or `undefined` when there is none (never was, cancelled, or finished). */
  get(id: string): ScheduledEvent | undefined {
    this.#sync();
    const event = this.#events.get(id.toUpperCase());
    return event && this.#view(event);
  }

  /**
   * Adds an event (one document change). Fields left out get Azure's defaults: NotBefore = now + the
   * type's minimum notice, Resources = [VM name], EventSource Platform, Azure's description,
   * DurationInSeconds 5 for Freeze and -1 otherwise. A NotBefore already past, or `status: 'Started'`,
   * adds it Started (like Azure after a host failure).
   * @throws AzimdsError `INVALID_INPUT` when the input is not a valid event or its id is taken.
   */
  add(input: ScheduledEventInput): ScheduledEvent {
    this.#sync();
    const parsed = scheduledEventSchema.safeParse(input);
    if (!parsed.success) {
      throw new AzimdsError('INVALID_INPUT', `invalid scheduled event: ${issuesText(parsed.error)}`);
    }
    if (parsed.data.id !== undefined && this.#events.has(parsed.data.id.toUpperCase())) {
      throw new AzimdsError(
        'INVALID_INPUT',
        `a scheduled event with EventId ${parsed.data.id} already exists`,
      );
    }
    const event = this.#insert(parsed.data);
    this.#changed();
    return this.#view(event);
  }

  /**
   * Removes an event, Scheduled or Started, as when Azure cancels an operation (one document change).
   * @returns the event as it was, or `undefined` when no current event has this id.
   */
  cancel(id: string): ScheduledEvent | undefined {
    this.#sync();
    const key = id.toUpperCase();
    const event = this.#events.get(key);
    if (!event) return undefined;
    const view = this.#view(event);
    this.#events.delete(key);
    this.#changed();
    return view;
  }

  /**
   * Starts events early, as a StartRequest (`POST /metadata/scheduledevents`) does: each Scheduled one
   * becomes Started now and is removed after its duration. All ids are checked first: if any is unknown
   * nothing changes. Already-Started ids are accepted without change. One document change per call
   * that started at least one event.
   */
  approve(ids: readonly string[]): ApproveResult {
    this.#sync();
    const unknown = ids.filter((id) => !this.#events.has(id.toUpperCase()));
    if (unknown.length > 0) return { started: [], alreadyStarted: [], unknown };
    const now = this.#clock.now();
    const started: string[] = [];
    const alreadyStarted: string[] = [];
    for (const id of new Set(ids.map((i) => i.toUpperCase()))) {
      const event = this.#events.get(id) as StoredEvent;
      if (event.startedAt !== undefined) {
        alreadyStarted.push(event.id);
        continue;
      }
      event.startedAt = now;
      event.approved = true;
      started.push(event.id);
    }
    if (started.length > 0) this.#changed();
    return { started, alreadyStarted, unknown: [] };
  }

  /**
   * Back to the configured events (relative NotBefore values count from now). One document change;
   * the incarnation keeps growing, so pollers see the reset.
   */
  reset(): void {
    this.#events.clear();
    for (const input of this.#config.events) this.#insert(input);
    this.#changed();
  }

  /** The GET document for a scheduled-events api-version (validated by the caller), as Azure's JSON. */
  document(version: string): ReturnType<typeof eventsDocument> {
    return eventsDocument(this.list(), this.#incarnation, version);
  }

  /** `document(version)` serialized, cached until the next change. */
  documentBytes(version: string): EventsDocumentBytes {
    this.#sync();
    let cached = this.#bytes.get(version);
    if (!cached) {
      cached = { incarnation: this.#incarnation, body: Buffer.from(JSON.stringify(this.document(version))) };
      this.#bytes.set(version, cached);
    }
    return cached;
  }

  /**
   * Records a call to the endpoint and returns how long (ms, real time) to hold this answer: the
   * configured first-call delay on the first call and after 24 h (emulator clock) without one; 0 otherwise.
   */
  noteCall(): number {
    const now = this.#clock.now();
    const idle = this.#lastCallAt === undefined || now - this.#lastCallAt > IDLE_DISABLE_MS;
    this.#lastCallAt = now;
    return idle ? this.#config.firstCallDelayMs : 0;
  }

  #insert(input: ScheduledEventInput): StoredEvent {
    const now = this.#clock.now();
    const type = input.type;
    const source = input.source ?? 'Platform';
    const requested =
      input.notBefore === undefined
        ? now + this.#config.minimumNoticeSeconds[type] * 1000
        : (parseNotBefore(input.notBefore, now) as number);
    // NotBefore is served to the second; round up so the event never starts before the time shown.
    const notBefore = Math.ceil(requested / 1000) * 1000;
    const event: StoredEvent = {
      id: input.id ?? randomUUID().toUpperCase(),
      type,
      resources: [...(input.resources ?? [this.#vmName()])],
      source,
      description: input.description ?? DEFAULT_DESCRIPTIONS[type][source],
      durationInSeconds: input.durationInSeconds ?? DEFAULTS.scheduledEvents.durationInSeconds[type],
      notBefore,
      approved: false,
    };
    if (input.status === 'Started' || notBefore <= now) event.startedAt = now;
    this.#events.set(event.id.toUpperCase(), event);
    return event;
  }

  /** Milliseconds a Started event stays in the document. */
  #startedMs(event: StoredEvent): number {
    const seconds = event.durationInSeconds > 0 ? event.durationInSeconds : this.#config.startedSeconds;
    return seconds * 1000;
  }

  /** Applies every transition the clock has passed; one incarnation per distinct instant. */
  #sync(): void {
    const now = this.#clock.now();
    const instants = new Set<number>();
    for (const [key, event] of this.#events) {
      if (event.startedAt === undefined && event.notBefore <= now) {
        event.startedAt = event.notBefore;
        instants.add(event.notBefore);
      }
      if (event.startedAt !== undefined) {
        const endsAt = event.startedAt + this.#startedMs(event);
        if (endsAt <= now) {
          this.#events.delete(key);
          instants.add(endsAt);
        }
      }
    }
    if (instants.size > 0) {
      this.#incarnation += instants.size;
      this.#bytes.clear();
    }
  }

  #changed(): void {
    this.#incarnation++;
    this.#bytes.clear();
  }

  #view(e: StoredEvent): ScheduledEvent {
    const started = e.startedAt !== undefined;
    return {
      id: e.id,
      type: e.type,
      status: started ? 'Started' : 'Scheduled',
      resourceType: 'VirtualMachine',
      resources: [...e.resources],
      notBefore: e.notBefore,
      ...(started ? { startedAt: e.startedAt, endsAt: (e.startedAt as number) + this.#startedMs(e) } : {}),
      approved: e.approved,
      source: e.source,
      description: e.description,
      durationInSeconds: e.durationInSeconds,
    };
  }
}
