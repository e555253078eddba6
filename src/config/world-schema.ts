import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/**
 * The `world` config key: what Azure Resource Manager shows around the emulated VM (docs/arm.md).
 * The VM's subscription, resource group, VM, NICs, public IP, disks and identities come from `vm` and
 * `identity`; this key adds to them.
 *
 * ```yaml
 * world:
 *   subscriptions: [{ subscriptionId: 2f0c…, displayName: Prod }]
 *   resourceGroups: [{ name: rg-data, location: northeurope, tags: { team: data } }]
 *   resources:
 *     - { resourceGroup: rg-data, type: Microsoft.Storage/storageAccounts, name: stdata01, kind: StorageV2 }
 *     - { resourceGroup: rg-data, type: Microsoft.KeyVault/vaults, name: kv-data,
 *         properties: { enableRbacAuthorization: false, accessPolicies: [...] } }
 *   roleDefinitions: [{ roleName: VM Reader, permissions: [{ actions: [Microsoft.Compute/*\/read] }] }]
 *   roleAssignments:                       # given: replaces the zero-config assignments ([] = none)
 *     - { identity: azimds-vm-01, role: Contributor }                 # the VM's RG by default
 *     - { principalId: 0a1b…, role: Reader, scope: /subscriptions/… }
 * ```
 */

const tags = z.record(z.string(), z.string());
const looseObject = z.record(z.string(), z.unknown());

export const worldSubscriptionSchema = z.strictObject({
  subscriptionId: z.uuid(),
  displayName: z.string().min(1).optional(),
});

export const worldResourceGroupSchema = z.strictObject({
  name: z.string().regex(/^[-\w._()]{1,90}$/, 'a resource group name is 1-90 letters, digits, _ - . ( )'),
  /** Defaults to the VM's subscription. */
  subscriptionId: z.uuid().optional(),
  /** Defaults to the VM's location. */
  location: z.string().min(1).optional(),
  tags: tags.optional(),
  managedBy: z.string().optional(),
});

/** A resource of any type: by `id`, or by `resourceGroup` + `type` + `name` (subscription: the VM's). */
export const worldResourceSchema = z
  .strictObject({
    id: z.string().startsWith('/subscriptions/').optional(),
    subscriptionId: z.uuid().optional(),
    resourceGroup: z.string().min(1).optional(),
    /** `Microsoft.Storage/storageAccounts`; child types too (`Microsoft.Network/virtualNetworks/subnets`, with `name` `vnet/subnet`). */
    type: z
      .string()
      .regex(/^[\w.]+\/[\w./]+$/, 'a resource type is Namespace/type')
      .optional(),
    name: z.string().min(1).optional(),
    location: z.string().min(1).optional(),
    tags: tags.optional(),
    kind: z.string().optional(),
    sku: looseObject.optional(),
    identity: looseObject.optional(),
    zones: z.array(z.string()).optional(),
    properties: looseObject.optional(),
  })
  .refine((r) => r.id !== undefined || (r.resourceGroup && r.type && r.name), {
    message: 'a resource needs an id, or resourceGroup, type and name',
  });

const permission = z.strictObject({
  actions: z.array(z.string()).default([]),
  notActions: z.array(z.string()).default([]),
  dataActions: z.array(z.string()).default([]),
  notDataActions: z.array(z.string()).default([]),
});

export const worldRoleDefinitionSchema = z.strictObject({
  /** The GUID; generated from `roleName` when absent. */
  name: z.uuid().optional(),
  roleName: z.string().min(1),
  description: z.string().default(''),
  permissions: z.array(permission).min(1),
  assignableScopes: z.array(z.string()).optional(),
});

export const worldRoleAssignmentSchema = z
  .strictObject({
    /** The GUID; generated when absent. */
    name: z.uuid().optional(),
    /** The principal's object id ... */
    principalId: z.uuid().optional(),
    /** ... or the name of one of the VM's identities (the VM's name for its system-assigned identity). */
    identity: z.string().min(1).optional(),
    principalType: z.enum(['ServicePrincipal', 'User', 'Group', 'ForeignGroup', 'Device']).optional(),
    /** A role name (`Reader`), a role definition GUID or its full id. */
    role: z.string().min(1),
    /** Defaults to the VM's resource group. */
    scope: z.string().startsWith('/').optional(),
    description: z.string().optional(),
  })
  .refine((a) => (a.principalId === undefined) !== (a.identity === undefined), {
    message: 'a role assignment names exactly one of principalId and identity',
  });

export const worldSchema = z.strictObject({
  /** Subscriptions besides the VM's (same tenant). */
  subscriptions: z.array(worldSubscriptionSchema).default([]),
  resourceGroups: z.array(worldResourceGroupSchema).default([]),
  resources: z.array(worldResourceSchema).default([]),
  /**
   * The zero-config key vault in the VM's resource group (RBAC; the VM's identities hold Key Vault
   * Secrets User on it). `false`: none.
   */
  keyVault: z
    .union([
      z.literal(false),
      z.strictObject({
        name: z
          .string()
          .regex(
            /^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/,
            'a vault name is 3-24 letters, digits and hyphens',
          )
          .optional(),
        enableRbacAuthorization: z.boolean().default(true),
      }),
    ])
    .default({ enableRbacAuthorization: true }),
  roleDefinitions: z.array(worldRoleDefinitionSchema).default([]),
  /**
   * Role assignments. Absent: the zero-config ones (each VM identity: Reader on the VM's resource group,
   * Key Vault Secrets User on the zero-config vault). Given (even `[]`): exactly these.
   */
  roleAssignments: z.array(worldRoleAssignmentSchema).optional(),
});

/** The ARM surface: on through the proxy, and a direct endpoint (`arm.port`). */
export const armSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.arm.enabled),
  /** Bind address of the direct endpoint; defaults to the top-level `host`. */
  host: z.string().min(1).optional(),
  /** Port of the direct (HTTPS) endpoint; default: the IMDS port + 3 (8172); in the library none unless set (0: a free port). */
  port: z.coerce.number().int().min(0).max(65535).optional(),
});

export type WorldConfig = z.output<typeof worldSchema>;
export type WorldResourceConfig = z.output<typeof worldResourceSchema>;
export type ArmConfig = z.output<typeof armSchema>;
