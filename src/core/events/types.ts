/**
 * The vocabulary of Azure's scheduled events (learn.microsoft.com/azure/virtual-machines/linux/scheduled-events),
 * shared by the config schema, the core and the protocol.
 */

/** Expected impact of an event, as Azure names it. */
export const EVENT_TYPES = ['Freeze', 'Reboot', 'Redeploy', 'Preempt', 'Terminate'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** There is no "Completed": a finished event disappears from the document. */
export const EVENT_STATUSES = ['Scheduled', 'Started'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Who initiated the event: the platform (maintenance, eviction) or the user (restart, redeploy). */
export const EVENT_SOURCES = ['Platform', 'User'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/**
 * One scheduled event as the core sees it (times in epoch milliseconds of the emulator's clock). The
 * wire form (PascalCase names, RFC 1123 dates, per-version fields) is built from it by `eventsDocument`.
 */
export interface ScheduledEvent {
  /** Globally unique id; azimds generates upper-case GUIDs, as Azure's are. */
  readonly id: string;
  readonly type: EventType;
  readonly status: EventStatus;
  /** Always `VirtualMachine`. */
  readonly resourceType: 'VirtualMachine';
  /** Names of the affected VMs; defaults to this VM's name. */
  readonly resources: readonly string[];
  /** When the event was scheduled to start (whole seconds). Served as `NotBefore` while Scheduled, `""` once Started. */
  readonly notBefore: number;
  /** When it started (NotBefore reached, approval, or added as Started); absent while Scheduled. */
  readonly startedAt?: number;
  /** When it will disappear from the document; absent while Scheduled. */
  readonly endsAt?: number;
  /** True when it was started early by a StartRequest (POST) or `approve()`. */
  readonly approved: boolean;
  readonly source: EventSource;
  readonly description: string;
  /** Expected impact in seconds; -1 unknown, 0 no impact. */
  readonly durationInSeconds: number;
}

/**
 * Descriptions Azure puts on events it creates, by type and source (Microsoft's docs list these texts;
 * observed Preempt and Terminate events carry an empty one).
 */
export const DEFAULT_DESCRIPTIONS: Readonly<Record<EventType, Readonly<Record<EventSource, string>>>> = {
  Freeze: {
    Platform: 'Virtual machine is being paused because of a memory-preserving Live Migration operation.',
    User: 'Virtual machine is being paused because of a memory-preserving Live Migration operation.',
  },
  Reboot: {
    Platform: 'Host server is undergoing maintenance.',
    User: 'Virtual machine is going to be restarted as requested by authorized user.',
  },
  Redeploy: {
    Platform: 'Host server is undergoing maintenance.',
    User: 'Virtual machine is going to be redeployed as requested by authorized user.',
  },
  Preempt: { Platform: '', User: '' },
  Terminate: { Platform: '', User: '' },
};
