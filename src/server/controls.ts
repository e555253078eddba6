import type { EmulatorClock } from '../core/clock.js';
import type { ScheduledEvents } from '../core/events/scheduled-events.js';
import type { FaultSet } from '../core/faults/fault-set.js';
import type { IdentityDirectory } from '../core/identities/directory.js';
import { patchMachine } from '../core/machines/patch.js';
import { resetState } from '../core/reset.js';
import type { EmulatorState } from '../core/state.js';
import { AzimdsError } from '../errors.js';
import type { RequestLog } from './request-log.js';

/**
 * What a test can do to a running emulator from the library, without the control API: the same
 * operations, on the same live state (a change is visible to the next request at once).
 */
export interface EmulatorControls {
  /**
   * Fault-injection rules (docs/faults.md): latency, an Azure error status, a connection reset or a
   * throttle, per surface and path, always, N times or with a probability.
   * @example
   * ```ts
   * handle.faults.add({ path: '/metadata/identity/oauth2/token', status: 429, times: 2 });
   * handle.faults.add({ path: '/metadata/instance*', latencyMs: 1500, probability: 0.5 });
   * handle.faults.list();   // with hit counters
   * handle.faults.clear();
   * ```
   */
  readonly faults: FaultSet;
  /**
   * The emulator's clock: token lifetimes, scheduled events, attested timestamps and throttles read it.
   * @example `handle.clock.advance(10 * 60_000)` moves every time-based behaviour ten minutes ahead.
   */
  readonly clock: EmulatorClock;
  /**
   * The scheduled events `/metadata/scheduledevents` serves; they move with `clock`.
   * @example
   * ```ts
   * const reboot = handle.events.add({ type: 'Reboot', notBefore: '+5m' });
   * handle.clock.advance(5 * 60_000);   // reboot is now Started
   * ```
   */
  readonly events: ScheduledEvents;
  /**
   * The VM's managed identities; attach and detach user-assigned ones at run time.
   * @example `handle.identities.addUserAssigned({ name: 'id-deploy' }).clientId`
   */
  readonly identities: IdentityDirectory;
  /**
   * The last requests the surfaces served (secrets redacted), oldest first.
   * @example `handle.requestLog.entries().entries.filter((e) => e.status === 429)`
   */
  readonly requestLog: RequestLog;
  /**
   * Changes the VM with a JSON merge patch in the config's `vm` shape; IMDS serves the change at once.
   * Tags merge into the current tags (`null` removes one).
   * @example `handle.patchVm({ compute: { tags: { team: 'payments' }, userData: btoa('hello') } })`
   * @throws AzimdsError `INVALID_INPUT` when the patched VM is not valid (the VM is left unchanged).
   */
  patchVm(patch: Record<string, unknown>): void;
  /** Back to the configured state: VM, identities, scheduled events, fault rules, clock. The request log is kept. */
  reset(): void;
}

/** The controls of an emulator's state. */
export function emulatorControls(state: EmulatorState): EmulatorControls {
  return {
    faults: state.faults,
    clock: state.clock,
    events: state.scheduledEvents,
    identities: state.identities,
    requestLog: state.requestLog,
    patchVm(patch) {
      const result = patchMachine(state.machine, patch);
      if (!result.ok) throw new AzimdsError('INVALID_INPUT', result.message);
    },
    reset: () => resetState(state),
  };
}
