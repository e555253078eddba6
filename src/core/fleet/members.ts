import { DEFAULTS } from '../../config/defaults.js';
import type { FleetConfig, FleetVmConfig } from '../../config/fleet.js';
import type { IdentityConfig } from '../../config/identities.js';
import type { VmConfig } from '../../config/schema.js';
import { AzimdsError } from '../../errors.js';
import { stableUuid } from '../ids.js';

/**
 * One VM of the fleet, as cheap as possible to hold ten thousand of: the facts requests are routed by
 * (name, private address) and a recipe for its full config, built only when the VM is first used.
 */
export interface FleetMember {
  /** Position in the fleet, 0-based; the first member is the default VM (the single VM of `vm`). */
  readonly index: number;
  /** The VM's name (`compute.name`); unique in the fleet, compared case-insensitively. */
  readonly name: string;
  readonly resourceGroupName: string;
  /** Private IPv4 address of the primary NIC: how a request from a network namespace finds its VM. */
  readonly privateIpAddress: string;
  /** The scale set it is an instance of, if any. */
  readonly scaleSet?: string;
  /** The availability set it belongs to, if any. */
  readonly availabilitySet?: string;
  /** The VM's config in `vm`'s shape, every routed fact written in (allocates: build once per VM). */
  vmConfig(): VmConfig;
  /** The member's own identity config; `undefined`: the top-level `identity`'s. */
  readonly identity: IdentityConfig | undefined;
}

/** Zones a generated member is spread over, round-robin, as a zone-balanced scale set does. */
const ZONES = ['1', '2', '3'];
/** Fault and update domains of an availability set (Azure's defaults: 2 and 5). */
const FAULT_DOMAINS = 2;
const UPDATE_DOMAINS = 5;

/**
 * The fleet's members from config: `vm` alone when there is no `fleet` (the single-VM emulator), else
 * `count` generated VMs, then the listed `vms`, then each scale set's instances. Private addresses come
 * from one pool (10.0.0.4, 10.0.0.5, ...; a /24 subnet up to 251 VMs, else a /16) unless a member's
 * config gives them.
 * @throws AzimdsError `CONFIG_INVALID` when two members share a name or a private address.
 */
export function fleetMembers(vm: VmConfig, fleet: FleetConfig | undefined): FleetMember[] {
  if (!fleet) return [fixed(0, vm, undefined, undefined)];
  const total =
    (fleet.count ?? 0) + (fleet.vms?.length ?? 0) + (fleet.scaleSets ?? []).reduce((n, s) => n + s.count, 0);
  const pool = new AddressPool(total);
  const members: FleetMember[] = [];
  const baseName = (vm.compute.name ?? DEFAULTS.vm.name).replace(/-\d+$/, '');
  const width = Math.max(2, String(fleet.count ?? 0).length);
  for (let i = 0; i < (fleet.count ?? 0); i++) {
    const name = `${baseName}-${String(i + 1).padStart(width, '0')}`;
    members.push(
      generated(members.length, vm, name, pool.next(), { zone: ZONES[i % ZONES.length] as string }),
    );
  }
  for (const entry of fleet.vms ?? []) {
    const own = entry.network.interface?.[0]?.ipv4?.ipAddress?.[0]?.privateIpAddress;
    const config = own ? entry : withAddress(entry, pool.next(), pool.prefix);
    members.push(fixed(members.length, config, entry.identity, entry.availabilitySet));
  }
  for (const set of fleet.scaleSets ?? []) {
    for (let i = 0; i < set.count; i++) {
      members.push(
        generated(members.length, set.template, `${set.name}_${i}`, pool.next(), {
          zone: set.template.compute.zone ?? (ZONES[i % ZONES.length] as string),
          scaleSet: set.name,
          identity: set.template.identity,
          availabilitySet: set.template.availabilitySet,
        }),
      );
    }
  }
  checkUnique(members);
  return members;

  function generated(
    index: number,
    template: VmConfig,
    name: string,
    address: string,
    extra: {
      zone: string;
      scaleSet?: string;
      identity?: IdentityConfig;
      availabilitySet?: string | undefined;
    },
  ): FleetMember {
    const resourceGroupName =
      template.compute.resourceGroupName ?? vm.compute.resourceGroupName ?? DEFAULTS.vm.resourceGroupName;
    return {
      index,
      name,
      resourceGroupName,
      privateIpAddress: address,
      ...(extra.scaleSet ? { scaleSet: extra.scaleSet } : {}),
      ...(extra.availabilitySet ? { availabilitySet: extra.availabilitySet } : {}),
      identity: extra.identity,
      vmConfig: () => {
        const compute = { ...vm.compute, ...template.compute, name, resourceGroupName, zone: extra.zone };
        // A generated member is not the built-in VM: its computer name and public address are its own.
        delete compute.osProfile;
        if (template.compute.osProfile) compute.osProfile = template.compute.osProfile;
        if (extra.scaleSet) {
          const subscriptionId = compute.subscriptionId ?? stableUuid('subscription');
          compute.vmScaleSetName = extra.scaleSet;
          compute.virtualMachineScaleSet = {
            id: `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.Compute/virtualMachineScaleSets/${extra.scaleSet}`,
          };
        }
        if (extra.availabilitySet) placeInAvailabilitySet(compute, index);
        return withAddress({ compute, network: template.network }, address, pool.prefix, true);
      },
    };
  }
}

/** A member whose config is given whole (the single VM, or one of `fleet.vms`). */
function fixed(
  index: number,
  vm: VmConfig | FleetVmConfig,
  identity: IdentityConfig | undefined,
  availabilitySet: string | undefined,
): FleetMember {
  const config: VmConfig = { compute: vm.compute, network: vm.network };
  if (availabilitySet) {
    config.compute = { ...config.compute };
    placeInAvailabilitySet(config.compute, index);
  }
  return {
    index,
    name: vm.compute.name ?? DEFAULTS.vm.name,
    resourceGroupName: vm.compute.resourceGroupName ?? DEFAULTS.vm.resourceGroupName,
    privateIpAddress:
      vm.network.interface?.[0]?.ipv4?.ipAddress?.[0]?.privateIpAddress ?? DEFAULTS.vm.privateIpAddress,
    ...(availabilitySet ? { availabilitySet } : {}),
    identity,
    vmConfig: () => config,
  };
}

/** Fault and update domains as an availability set spreads its VMs (IMDS `platformFaultDomain`/`platformUpdateDomain`). */
function placeInAvailabilitySet(compute: VmConfig['compute'], index: number): void {
  compute.platformFaultDomain ??= String(index % FAULT_DOMAINS);
  compute.platformUpdateDomain ??= String(index % UPDATE_DOMAINS);
  // Availability sets and zones exclude each other on Azure.
  compute.zone = '';
}

/**
 * `vm` with `address` as the first private IPv4 of its primary NIC and no public address (generated
 * members sit behind a load balancer, as a scale set's instances do), keeping any other NIC settings.
 */
function withAddress(vm: VmConfig, address: string, prefix: string, replace = false): VmConfig {
  const [primary = {}, ...others] = vm.network.interface ?? [];
  const given = primary.ipv4?.ipAddress;
  if (given?.length && !replace) return vm;
  const subnetAddress =
    prefix === '24' ? address.replace(/\.\d+$/, '.0') : address.replace(/\.\d+\.\d+$/, '.0.0');
  return {
    compute: vm.compute,
    network: {
      interface: [
        {
          ...primary,
          ipv4: {
            ipAddress: [{ privateIpAddress: address, publicIpAddress: '' }, ...(given?.slice(1) ?? [])],
            subnet: primary.ipv4?.subnet ?? [{ address: subnetAddress, prefix }],
          },
        },
        ...others,
      ],
    },
  };
}

/** Sequential private addresses from 10.0.0.4 (Azure reserves .0-.3 and the broadcast address of a subnet). */
class AddressPool {
  readonly prefix: string;
  #next = 4;
  constructor(total: number) {
    this.prefix = total <= 251 ? '24' : '16';
  }
  next(): string {
    const n = this.#next++;
    return `10.0.${n >> 8}.${n & 255}`;
  }
}

function checkUnique(members: readonly FleetMember[]): void {
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  for (const m of members) {
    const sameName = names.get(m.name.toLowerCase());
    if (sameName !== undefined) {
      throw new AzimdsError(
        'CONFIG_INVALID',
        `fleet: two VMs are named "${m.name}" (VMs ${sameName + 1} and ${m.index + 1})`,
      );
    }
    names.set(m.name.toLowerCase(), m.index);
    const sameAddress = addresses.get(m.privateIpAddress);
    if (sameAddress !== undefined) {
      throw new AzimdsError(
        'CONFIG_INVALID',
        `fleet: VMs ${sameAddress + 1} and ${m.index + 1} (${m.name}) have the same private address ${m.privateIpAddress}`,
      );
    }
    addresses.set(m.privateIpAddress, m.index);
  }
}
