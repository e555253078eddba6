import { z } from 'zod';

/**
 * `loadBalancer:` in the config file: the Standard load balancer in front of the VM, served by
 * `/metadata/loadbalancer`. Absent (the default) means no load balancer, and IMDS answers 404 as Azure
 * does for a VM without one. See docs/load-balancer.md.
 */

const ip = z.union([z.ipv4(), z.ipv6()]);
const portNumber = z.number().int().min(0).max(65_535);

/** `privateIpAddress` defaults to the VM's primary private address (first NIC, first IPv4). */
const frontend = {
  frontendIpAddress: ip,
  privateIpAddress: ip.optional(),
};

export const loadBalancerSchema = z.strictObject({
  /**
   * `Standard` (default) is served; `Basic` answers 404 like a VM without load balancer (IMDS serves
   * load-balancer metadata for Standard SKUs only).
   */
  sku: z.enum(['Standard', 'Basic']).default('Standard'),
  /** Instance-level public IPs (or the LB frontend) of this VM. */
  publicIpAddresses: z.array(z.strictObject(frontend)).default([]),
  /** Load-balancing rules and inbound NAT rules that send traffic to this VM. Ports are JSON numbers. */
  inboundRules: z
    .array(
      z.strictObject({
        ...frontend,
        protocol: z.enum(['tcp', 'udp', 'all']).default('tcp'),
        frontendPort: portNumber,
        backendPort: portNumber,
      }),
    )
    .default([]),
  /** Outbound rules by which the VM reaches the internet. */
  outboundRules: z.array(z.strictObject(frontend)).default([]),
});

export type LoadBalancerConfig = z.output<typeof loadBalancerSchema>;
