import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { identitySchema } from './identities.js';
import type { vmSchema as VmSchema } from './schema.js';

/**
 * Config of a fleet of VMs served by one emulator (`fleet`, docs/fleet.md). Absent: the single VM of
 * `vm`, as before. Each member is a VM in `vm`'s shape (IMDS's field names) with its own identities
 * and placement; what a member does not give is generated from its name, as for the single VM.
 *
 * ```yaml
 * fleet:
 *   count: 3                         # azimds-vm-01..03 in vm's resource group, like `start --vms 3`
 *   vms:                             # and/or VMs spelled out
 *     - compute: { name: db-01, resourceGroupName: rg-data, zone: "2" }
 *       identity: { userAssigned: [{ name: id-db }] }
 *       availabilitySet: avset-db
 *   scaleSets:                       # the compact form: a count plus a template, as a scale set has
 *     - name: vmss-web
 *       count: 100
 *       template: { compute: { vmSize: Standard_B2s, tags: { role: web } } }
 * ```
 */

/** Azure's rule for a VM or scale set name: 1-64 letters, digits, `-`, `_`, `.`; not ending in `.` or `-`. */
const resourceName = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9_]$/,
    'a VM, scale set or availability set name: 1-64 letters, digits, "-", "_" or ".", not ending in "." or "-"',
  );

/**
 * The `fleet` schema over `vm`'s schema (passed in: schema.ts defines `vm` and imports this file, so a
 * value import back would be a cycle).
 */
export function fleetSchemaOf(vmSchema: typeof VmSchema) {
  /** One member of the fleet: a VM in `vm`'s shape, its identities (`identity`'s shape) and placement. */
  const member = vmSchema.extend({
    /** The member's managed identities; default: a system-assigned identity, as for the single VM. The tenant is `identity.tenantId`'s. */
    identity: identitySchema.optional(),
    /** Name of the availability set the VM belongs to (`Microsoft.Compute/availabilitySets`, same resource group). */
    availabilitySet: resourceName.optional(),
  });
  const scaleSet = z.strictObject({
    /** The scale set's name; instances are `<name>_<index>`, as Azure names Flexible-orchestration instances. */
    name: resourceName,
    /** Number of instances. */
    count: vmCount('instances'),
    /** What every instance shares (size, image, tags, identities); names, ids and IPs are generated per instance. */
    template: member.default(member.parse({})),
  });
  return z
    .strictObject({
      /** Zero-config VMs like `vm` (same resource group, size, image), named `<vm name without -NN>-01`, `-02`, ... */
      count: vmCount('VMs').optional(),
      /** VMs spelled out, each with its own name, ids, size, zone, NICs, tags and identities. */
      vms: z.array(member).optional(),
      scaleSets: z.array(scaleSet).optional(),
    })
    .superRefine((fleet, ctx) => {
      const total =
        (fleet.count ?? 0) +
        (fleet.vms?.length ?? 0) +
        (fleet.scaleSets ?? []).reduce((n, s) => n + s.count, 0);
      if (total > DEFAULTS.fleet.maxVms) {
        ctx.addIssue({
          code: 'custom',
          message: `a fleet holds at most ${DEFAULTS.fleet.maxVms} VMs (this one: ${total})`,
        });
      }
      fleet.vms?.forEach((vm, i) => {
        if (vm.compute.name === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['vms', i, 'compute', 'name'],
            message: 'each listed VM needs a name',
          });
        }
      });
    });
}

function vmCount(what: string) {
  return z.coerce
    .number({ error: `expected a number of ${what}` })
    .int(`expected a whole number of ${what}`)
    .min(1, `at least 1 of ${what}`)
    .max(DEFAULTS.fleet.maxVms, `at most ${DEFAULTS.fleet.maxVms} ${what}`);
}

export type FleetConfig = z.output<ReturnType<typeof fleetSchemaOf>>;
export type FleetVmConfig = NonNullable<FleetConfig['vms']>[number];
export type ScaleSetConfig = NonNullable<FleetConfig['scaleSets']>[number];
