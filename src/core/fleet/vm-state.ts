import type { Config } from '../../config/schema.js';
import { Attestation } from '../attestation/attestation.js';
import type { EmulatorClock } from '../clock.js';
import { ScheduledEvents } from '../events/scheduled-events.js';
import { IdentityDirectory } from '../identities/directory.js';
import { LoadBalancer } from '../load-balancer/load-balancer.js';
import { Machine } from '../machines/machine.js';
import type { RateLimiter } from '../rate-limit.js';
import type { FleetMember } from './members.js';

/**
 * Everything that is one VM's own in a fleet: its instance document, identities, scheduled events,
 * attested data, load balancer and IMDS rate-limit buckets. Tokens, keys, faults, the clock and the
 * request log are the emulator's, shared by every VM (token caches are keyed by identity already).
 */
export interface VmState {
  readonly member: FleetMember;
  readonly machine: Machine;
  readonly identities: IdentityDirectory;
  readonly scheduledEvents: ScheduledEvents;
  readonly attestation: Attestation;
  readonly loadBalancer: LoadBalancer;
  /** IMDS's token buckets of this VM, one per limit (`imds.rateLimit`, `imds.rateLimit.identity`): Azure limits per VM. */
  readonly rateLimiters: Map<object, RateLimiter>;
}

/** Builds the state of `member` from config (the VM's config, its identities or the top-level ones). */
export function createVmState(member: FleetMember, config: Config, clock: EmulatorClock): VmState {
  const machine = new Machine(member.vmConfig());
  const identityConfig = member.identity
    ? { ...member.identity, tenantId: config.identity.tenantId }
    : config.identity;
  return {
    member,
    machine,
    identities: new IdentityDirectory({ identity: identityConfig, goSimulator: config.goSimulator }, machine),
    scheduledEvents: new ScheduledEvents({
      clock,
      vmName: () => machine.compute('name'),
      // Configured events are the default VM's; the others start with none.
      config: member.index === 0 ? config.scheduledEvents : { ...config.scheduledEvents, events: [] },
    }),
    attestation: new Attestation({ clock, machine, config: config.attestation, dataDir: config.dataDir }),
    loadBalancer: new LoadBalancer(member.index === 0 ? config.loadBalancer : undefined, machine),
    rateLimiters: new Map(),
  };
}

/** Puts one VM back in its configured state (the clock is reset by the caller, before this). */
export function resetVmState(vm: VmState, config: Config): void {
  vm.machine.replace(vm.member.vmConfig());
  vm.scheduledEvents.reset();
  vm.identities.reset();
  vm.loadBalancer.replace(vm.member.index === 0 ? config.loadBalancer : undefined);
  vm.rateLimiters.clear();
}
