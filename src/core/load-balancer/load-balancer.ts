import { DEFAULTS } from '../../config/defaults.js';
import type { LoadBalancerConfig } from '../../config/load-balancer.js';
import type { JsonObject } from '../machines/json.js';
import type { Machine } from '../machines/machine.js';

/**
 * The load balancer in front of the VM, as `/metadata/loadbalancer` serves it. `undefined` config (or a
 * Basic SKU) is a VM without Standard load balancer: no document.
 */
export class LoadBalancer {
  #config: LoadBalancerConfig | undefined;
  readonly #machine: Machine;
  #cached: { revision: number; body: Buffer } | undefined;

  constructor(config: LoadBalancerConfig | undefined, machine: Machine) {
    this.#config = config;
    this.#machine = machine;
  }

  /** The configured load balancer (`undefined`: none). */
  get config(): LoadBalancerConfig | undefined {
    return this.#config;
  }

  /** Replaces the load balancer (control API); `undefined` removes it. */
  replace(config: LoadBalancerConfig | undefined): void {
    this.#config = config;
    this.#cached = undefined;
  }

  /**
   * Azure's document `{"loadbalancer":{publicIpAddresses, inboundRules, outboundRules}}`, or
   * `undefined` when the VM has no Standard load balancer. Missing `privateIpAddress` values are the
   * VM's primary private address.
   */
  document(): JsonObject | undefined {
    const lb = this.#config;
    if (lb?.sku !== 'Standard') return undefined;
    const primary = this.#primaryPrivateIp();
    const pair = (r: { frontendIpAddress: string; privateIpAddress?: string | undefined }) => ({
      frontendIpAddress: r.frontendIpAddress,
      privateIpAddress: r.privateIpAddress ?? primary,
    });
    return {
      loadbalancer: {
        publicIpAddresses: lb.publicIpAddresses.map(pair),
        inboundRules: lb.inboundRules.map((r) => ({
          frontendIpAddress: r.frontendIpAddress,
          protocol: r.protocol,
          frontendPort: r.frontendPort,
          backendPort: r.backendPort,
          privateIpAddress: r.privateIpAddress ?? primary,
        })),
        outboundRules: lb.outboundRules.map(pair),
      },
    };
  }

  /** `document()` serialized, cached until the load balancer or the VM changes. */
  documentBytes(): Buffer | undefined {
    if (this.#config?.sku !== 'Standard') return undefined;
    const revision = this.#machine.revision;
    if (this.#cached?.revision !== revision) {
      this.#cached = { revision, body: Buffer.from(JSON.stringify(this.document())) };
    }
    return this.#cached.body;
  }

  #primaryPrivateIp(): string {
    const network = this.#machine.document.network as { interface?: JsonObject[] };
    const ipv4 = network.interface?.[0]?.ipv4 as
      | { ipAddress?: Array<{ privateIpAddress?: string }> }
      | undefined;
    return ipv4?.ipAddress?.[0]?.privateIpAddress ?? DEFAULTS.vm.privateIpAddress;
  }
}
