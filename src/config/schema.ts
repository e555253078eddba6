import { z } from 'zod';
import { attestationSchema } from './attestation.js';
import { controlSchema, requestLogSchema } from './control-schema.js';
import { DEFAULTS } from './defaults.js';
import { entraSchema } from './entra.js';
import { faultsSchema } from './faults-schema.js';
import { fleetSchemaOf } from './fleet.js';
import { identitySchema, tokensSchema } from './identities.js';
import { keyVaultSchema } from './key-vault.js';
import { loadBalancerSchema } from './load-balancer.js';
import { platformsSchema } from './platforms.js';
import { proxySchema } from './proxy-schema.js';
import { scheduledEventsSchema } from './scheduled-events.js';
import { armSchema, worldSchema } from './world-schema.js';

/**
 * The config file's schema (YAML or JSON). Every key is optional; `configSchema.parse({})` is the
 * zero-config emulator. `azimds config schema` prints this as JSON Schema for editors.
 *
 * VM fields use IMDS's own names (`compute.vmSize`, `network.interface[0].macAddress`): what you write
 * is what IMDS serves. Values may be written as numbers or booleans; IMDS serves every one as a string.
 */

/** IMDS serves every primitive as a string; accept natural YAML scalars and convert. */
const imdsString = z
  .union([z.string(), z.number(), z.boolean()], {
    error: (issue) => `expected a string, number or boolean, received ${received(issue.input)}`,
  })
  .transform((v) => String(v));

/** A GUID (vmId, subscriptionId), as Azure writes them. */
const guid = z.uuid({ error: 'expected a GUID such as 6f1c2b52-9a0e-4c1f-8d43-0b7e2f9a1c11' });

const ipv4 = z.ipv4({ error: 'expected an IPv4 address such as 10.0.0.4' });

/** What a config value is, for error messages: `number`, `array`, `object`, `null`, ... */
function received(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

const port = z.coerce.number({ error: 'expected a port number (0-65535)' }).int().min(0).max(65535);

const idOnly = z.strictObject({ id: imdsString.optional() });

const diskEncryption = z.strictObject({
  enabled: imdsString.optional(),
  diskEncryptionKey: z
    .strictObject({ sourceVault: idOnly.optional(), secretUrl: imdsString.optional() })
    .optional(),
  keyEncryptionKey: z
    .strictObject({ sourceVault: idOnly.optional(), keyUrl: imdsString.optional() })
    .optional(),
});

const diskFields = {
  caching: imdsString.optional(),
  createOption: imdsString.optional(),
  diffDiskSettings: z.strictObject({ option: imdsString.optional() }).optional(),
  diskSizeGB: imdsString.optional(),
  encryptionSettings: diskEncryption.optional(),
  image: z.strictObject({ uri: imdsString.optional() }).optional(),
  managedDisk: z
    .strictObject({ id: imdsString.optional(), storageAccountType: imdsString.optional() })
    .optional(),
  name: imdsString.optional(),
  vhd: z.strictObject({ uri: imdsString.optional() }).optional(),
  writeAcceleratorEnabled: imdsString.optional(),
};

const osDisk = z.strictObject({ ...diskFields, osType: imdsString.optional() });

const dataDisk = z.strictObject({
  ...diskFields,
  lun: imdsString.optional(),
  isUltraDisk: imdsString.optional(),
  bytesPerSecondThrottle: imdsString.optional(),
  diskCapacityBytes: imdsString.optional(),
  isSharedDisk: imdsString.optional(),
  opsPerSecondThrottle: imdsString.optional(),
});

/** `tags` as IMDS's `k:v;k2:v2` string or as a map. */
const tags = z.union([z.string(), z.record(z.string(), imdsString)], {
  error: (issue) =>
    `expected a map of tag names to values ({ env: ci }) or IMDS's "name:value;name2:value2" string, received ${received(issue.input)}`,
});

/**
 * Azure's rules for a VM's name (learn.microsoft.com/azure/azure-resource-manager/management/
 * resource-name-rules, Microsoft.Compute/virtualMachines): 1-64 characters on Linux, 1-15 on Windows;
 * no spaces, control characters or any of `~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \ | ; : ' " , < > / ?`;
 * periods only on Linux and not at the end; no hyphen at the end. `undefined` when the name is valid,
 * else what is expected.
 */
export function vmNameProblem(name: string, osType: 'Linux' | 'Windows'): string | undefined {
  const windows = osType === 'Windows';
  const max = windows ? 15 : 64;
  const expected = `a VM name is 1-${max} letters, digits, hyphens${windows ? '' : ' and periods'} (Azure's rule for ${osType} VMs)`;
  if (name.length === 0 || name.length > max) return `${expected}; this one has ${name.length} characters`;
  const bad = /[\s\p{Cc}~!@#$%^&*()=+_[\]{}\\|;:'",<>/?]/u.exec(name);
  if (bad) return `${expected}; ${JSON.stringify(bad[0])} is not allowed`;
  if (windows && name.includes('.')) return `${expected}; a Windows VM name cannot contain a period`;
  if (/[.-]$/.test(name)) return `${expected}; it cannot end with a period or a hyphen`;
  return undefined;
}

/** The `compute` category: any subset of IMDS's fields; the rest is generated (see docs/configuration.md). */
export const computeSchema = z
  .strictObject({
    azEnvironment: imdsString.optional(),
    additionalCapabilities: z.strictObject({ hibernationEnabled: imdsString.optional() }).optional(),
    customData: imdsString.optional(),
    evictionPolicy: imdsString.optional(),
    extendedLocation: z.strictObject({ type: imdsString.optional(), name: imdsString.optional() }).optional(),
    host: idOnly.optional(),
    hostGroup: idOnly.optional(),
    isHostCompatibilityLayerVm: imdsString.optional(),
    licenseType: imdsString.optional(),
    location: imdsString.optional(),
    name: imdsString.optional(),
    offer: imdsString.optional(),
    osProfile: z
      .strictObject({
        adminUsername: imdsString.optional(),
        computerName: imdsString.optional(),
        disablePasswordAuthentication: imdsString.optional(),
      })
      .optional(),
    osType: z.enum(['Linux', 'Windows']).optional(),
    physicalZone: imdsString.optional(),
    placementGroupId: imdsString.optional(),
    plan: z
      .strictObject({
        name: imdsString.optional(),
        product: imdsString.optional(),
        publisher: imdsString.optional(),
      })
      .optional(),
    platformFaultDomain: imdsString.optional(),
    platformSubFaultDomain: imdsString.optional(),
    platformUpdateDomain: imdsString.optional(),
    priority: imdsString.optional(),
    provider: imdsString.optional(),
    publicKeys: z.array(z.strictObject({ keyData: imdsString, path: imdsString })).optional(),
    publisher: imdsString.optional(),
    resourceGroupName: imdsString.optional(),
    resourceId: imdsString.optional(),
    securityProfile: z
      .strictObject({
        secureBootEnabled: imdsString.optional(),
        virtualTpmEnabled: imdsString.optional(),
        encryptionAtHost: imdsString.optional(),
        securityType: imdsString.optional(),
      })
      .optional(),
    sku: imdsString.optional(),
    storageProfile: z
      .strictObject({
        dataDisks: z.array(dataDisk).optional(),
        imageReference: z
          .strictObject({
            id: imdsString.optional(),
            offer: imdsString.optional(),
            publisher: imdsString.optional(),
            sku: imdsString.optional(),
            version: imdsString.optional(),
            communityGalleryImageId: imdsString.optional(),
            sharedGalleryImageId: imdsString.optional(),
            exactVersion: imdsString.optional(),
          })
          .optional(),
        osDisk: osDisk.optional(),
        resourceDisk: z.strictObject({ size: imdsString.optional() }).optional(),
      })
      .optional(),
    subscriptionId: guid.optional(),
    tags: tags.optional(),
    /** Ignored when `tags` is given: IMDS derives `tagsList` from the tags. */
    tagsList: z.array(z.strictObject({ name: imdsString, value: imdsString })).optional(),
    /** base64, exactly as given to ARM at VM create; IMDS serves it as-is. */
    userData: z.base64({ error: 'expected base64 (the userData as given to ARM at VM create)' }).optional(),
    version: imdsString.optional(),
    virtualMachineScaleSet: idOnly.optional(),
    vmId: guid.optional(),
    vmScaleSetName: imdsString.optional(),
    vmSize: imdsString.optional(),
    zone: imdsString.optional(),
  })
  .superRefine(
    (compute, ctx) => {
      // Also when other keys have errors: every problem of a config is reported at once.
      const name: unknown = compute.name;
      if (typeof name !== 'string') return;
      const os = compute.osType === 'Windows' ? 'Windows' : 'Linux';
      const problem = vmNameProblem(name, os);
      if (problem) ctx.addIssue({ code: 'custom', path: ['name'], message: problem, input: name });
    },
    { when: () => true },
  );

const ipv4Address = z.strictObject({
  privateIpAddress: ipv4,
  publicIpAddress: z.union([ipv4, z.literal('')], { error: 'expected an IPv4 address or ""' }).optional(),
});

/** One NIC; missing parts are generated (MAC from the VM name, subnet /24 around the first address). */
export const interfaceSchema = z.strictObject({
  ipv4: z
    .strictObject({
      ipAddress: z.array(ipv4Address).optional(),
      subnet: z.array(z.strictObject({ address: imdsString, prefix: imdsString })).optional(),
    })
    .optional(),
  ipv6: z
    .strictObject({
      ipAddress: z
        .array(z.strictObject({ privateIpAddress: z.ipv6({ error: 'expected an IPv6 address' }) }))
        .optional(),
    })
    .optional(),
  macAddress: z
    .string()
    .regex(/^[0-9A-Fa-f]{12}$/, 'a MAC address is 12 hex digits without separators, as IMDS serves it')
    .optional(),
});

export const vmSchema = z.strictObject({
  compute: computeSchema.default({}),
  network: z
    .strictObject({
      interface: z
        .array(interfaceSchema)
        .min(1, {
          error:
            'a VM has at least one network interface (Azure requires one): list one, or leave `interface` out for the generated NIC',
        })
        .optional(),
    })
    .default({}),
});

export const rateLimitSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.imds.rateLimit.enabled),
  requestsPerSecond: z.number().positive().default(DEFAULTS.imds.rateLimit.requestsPerSecond),
  burst: z.number().int().positive().default(DEFAULTS.imds.rateLimit.burst),
  /** The managed-identity category's own bucket (Azure: 20 requests per second). */
  identity: z
    .strictObject({
      requestsPerSecond: z.number().positive().default(DEFAULTS.imds.rateLimit.identity.requestsPerSecond),
      burst: z.number().int().positive().default(DEFAULTS.imds.rateLimit.identity.burst),
    })
    .default(DEFAULTS.imds.rateLimit.identity),
});

export const imdsSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.imds.enabled),
  /** Bind address of the IMDS listener; defaults to the top-level `host`. */
  host: z.string().min(1).optional(),
  port: port.default(DEFAULTS.imds.port),
  strictMetadataHeader: z.boolean().default(DEFAULTS.imds.strictMetadataHeader),
  /** A fleet in network namespaces: the VM answering is the one whose private IP is the client's address (docs/fleet.md). */
  vmBySourceAddress: z.boolean().default(DEFAULTS.imds.vmBySourceAddress),
  rateLimit: rateLimitSchema.default(rateLimitSchema.parse({})),
});

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The whole config file. */
export const configSchema = z.strictObject({
  /** Default bind address of every listener. */
  host: z.string().min(1).default(DEFAULTS.host),
  logLevel: z.enum(logLevels).default(DEFAULTS.logLevel),
  /** Where keys and certificates are kept (owner-only); see DEFAULTS.dataDir. */
  dataDir: z.string().min(1).default(DEFAULTS.dataDir),
  imds: imdsSchema.default(imdsSchema.parse({})),
  vm: vmSchema.default(vmSchema.parse({})),
  /** Several VMs in one emulator, each its own IMDS and identities (config/fleet.ts, docs/fleet.md); absent: `vm` alone. */
  fleet: fleetSchemaOf(vmSchema).optional(),
  /** `/metadata/scheduledevents`: behaviour and the events present at start (config/scheduled-events.ts). */
  scheduledEvents: scheduledEventsSchema.default(scheduledEventsSchema.parse({})),
  /** `/metadata/attested/document`: the signing CA and certificate (config/attestation.ts). */
  attestation: attestationSchema.default(attestationSchema.parse({})),
  /** `/metadata/loadbalancer`: the VM's Standard load balancer; absent means none (config/load-balancer.ts). */
  loadBalancer: loadBalancerSchema.optional(),
  /** The control API's listener (docs/control-api.md). */
  control: controlSchema.default(controlSchema.parse({})),
  /** The local proxy and CA that serve Azure's own host names (docs/proxy.md). */
  proxy: proxySchema.default(proxySchema.parse({})),
  /**
   * More host names (`Host` header values without port) the Azure surfaces answer to, e.g. a compose
   * service name; `*.example.com` allows a family. Others are refused (DNS rebinding; docs/hardening.md).
   */
  allowedHosts: z.array(z.string().min(1)).default(DEFAULTS.allowedHosts),
  /** The in-memory request log (size 0: off). */
  requestLog: requestLogSchema.default(requestLogSchema.parse({})),
  /** Fault-injection rules active from start and restored by a reset (docs/faults.md). */
  faults: faultsSchema.default([]),
  /** The VM's managed identities and their tenant (see config/identities.ts). */
  /** Managed-identity platforms other than IMDS: Arc, App Service, Service Fabric, ... (config/platforms.ts). */
  platforms: platformsSchema.default(platformsSchema.parse({})),
  identity: identitySchema.default(identitySchema.parse({})),
  /** What Azure Resource Manager shows: subscriptions, resource groups, resources, roles (config/world-schema.ts). */
  world: worldSchema.default(worldSchema.parse({})),
  /** The ARM surface and its direct endpoint (docs/arm.md). */
  arm: armSchema.default(armSchema.parse({})),
  /** Tokens azimds issues: lifetime, issuer, signing keys (see config/identities.ts). */
  tokens: tokensSchema.default(tokensSchema.parse({})),
  /** Key Vault: secrets seeded per vault, the direct endpoint (config/key-vault.ts, docs/key-vault.md). */
  keyVault: keyVaultSchema.default(keyVaultSchema.parse({})),
  /** The local Microsoft Entra ID: app registrations, token endpoints, workload issuer (config/entra.ts). */
  entra: entraSchema.default(entraSchema.parse({})),
  /**
   * Set when the file is the Go IMDS simulator's `config.json` (see go-simulator.ts): its tenant and
   * its map of service-principal client ids to secrets, the first one used when no client_id is given.
   */
  goSimulator: z
    .strictObject({
      tenantId: z.string().min(1).optional(),
      servicePrincipals: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

/** Config as written (every key optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** Config after defaults (what the emulator runs with). */
export type Config = z.output<typeof configSchema>;
export type VmConfig = z.output<typeof vmSchema>;
export type ComputeConfig = z.output<typeof computeSchema>;
export type InterfaceConfig = z.output<typeof interfaceSchema>;

/** JSON Schema of the config file (input shape), for editors and `azimds config schema`. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
