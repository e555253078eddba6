import type { FleetMember } from './members.js';

/**
 * The VMs one emulator serves, with O(1) lookups by the keys requests carry: the VM's name (a proxy
 * user name, `--vm`, a control-API path) and its private address (the source address of a request
 * from the VM's network namespace). Each VM's live state (`C`: its Machine, identities, scheduled
 * events, ...) is created on first use, so ten thousand configured VMs cost only their members.
 */
export class Fleet<C> {
  readonly #members: readonly FleetMember[];
  readonly #byName = new Map<string, FleetMember>();
  readonly #byAddress = new Map<string, FleetMember>();
  readonly #contexts: (C | undefined)[];
  readonly #create: (member: FleetMember) => C;

  /** `members` must be non-empty (see `fleetMembers`); `create` builds a VM's state on first use. */
  constructor(members: readonly FleetMember[], create: (member: FleetMember) => C) {
    if (members.length === 0) throw new RangeError('a fleet has at least one VM');
    this.#members = members;
    this.#create = create;
    this.#contexts = new Array<C | undefined>(members.length);
    for (const m of members) {
      this.#byName.set(m.name.toLowerCase(), m);
      this.#byAddress.set(m.privateIpAddress, m);
    }
  }

  /** Number of VMs. */
  get size(): number {
    return this.#members.length;
  }

  /** Every VM, in config order; the first is the default VM. */
  get members(): readonly FleetMember[] {
    return this.#members;
  }

  /** The VM requests go to when nothing names another one. */
  get defaultMember(): FleetMember {
    return this.#members[0] as FleetMember;
  }

  /** The VM named `name` (any case), or `undefined`. */
  byName(name: string): FleetMember | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** The VM whose primary private IPv4 address is `address` (an IPv4-mapped IPv6 form is accepted), or `undefined`. */
  byAddress(address: string): FleetMember | undefined {
    return this.#byAddress.get(address.startsWith('::ffff:') ? address.slice(7) : address);
  }

  /** The live state of `member` (created on first use and kept). */
  context(member: FleetMember): C {
    let c = this.#contexts[member.index];
    if (c === undefined) {
      c = this.#create(member);
      this.#contexts[member.index] = c;
    }
    return c;
  }

  /** The states created so far (the VMs that have been used), in fleet order. */
  *started(): IterableIterator<[FleetMember, C]> {
    for (const m of this.#members) {
      const c = this.#contexts[m.index];
      if (c !== undefined) yield [m, c];
    }
  }
}
