import type { Config } from '../config/schema.js';
import type { RequestLog } from '../server/request-log.js';
import type { EmulatorClock } from './clock.js';
import type { FaultSet } from './faults/fault-set.js';
import type { Machine } from './machines/machine.js';

/**
 * Everything an emulator instance knows, shared by its protocol plugins. Protocols read and change
 * the emulator only through this object; it holds no HTTP.
 */
export interface EmulatorState {
  /** The resolved configuration the emulator started with. */
  readonly config: Config;
  readonly clock: EmulatorClock;
  /** The VM whose metadata IMDS serves. */
  readonly machine: Machine;
  /** Fault-injection rules every surface applies (docs/faults.md). */
  readonly faults: FaultSet;
  /** The last requests the surfaces served (a ring buffer; plain data, written by the listeners). */
  readonly requestLog: RequestLog;
}
