import { resetVmState } from './fleet/vm-state.js';
import type { EmulatorState } from './state.js';

/**
 * Puts an emulator back in its configured state: the VM as configured, the configured fault rules
 * (counters at zero), the clock at real time, the configured scheduled events, user-assigned identities and
 * load balancer, the world and its role assignments. The request log is kept (clear it on its own).
 * load balancer, the Key Vault secrets as seeded. The request log is kept (clear it on its own).
 */
export function resetState(state: EmulatorState): void {
  state.faults.replace(state.config.faults);
  state.clock.reset();
  // After the clock: relative NotBefore values of configured events count from the real time again.
  // Every VM of the fleet used so far (the default VM's state is `state.machine`, ...).
  for (const [, vm] of state.fleet.started()) resetVmState(vm, state.config);
  state.world.reset();
  state.rbac.reset();
  state.keyVaults.reset();
}
