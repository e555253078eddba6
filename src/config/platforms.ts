import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/**
 * `platforms:` in the config file: the managed-identity endpoints of Azure platforms other than IMDS,
 * each with its own handshake (docs/platforms/*.md). Every platform is off unless enabled here or with
 * `azimds start --platform arc,app-service,...`; each listens on its own port.
 *
 * ```yaml
 * platforms:
 *   arc:            { enabled: true }                  # HIMDS on :40342, challenge files in the agent's dir
 *   appService:     { enabled: true, secret: 0d3c... } # fixed IDENTITY_HEADER / MSI_SECRET
 *   serviceFabric:  { enabled: true, port: 2377 }
 *   azureMl:        { enabled: true }
 *   vmExtension:    { enabled: true }                  # legacy POST /oauth2/token on :50342
 *   cloudShell:     { enabled: true, port: 50343 }     # 50342 too by default: not with vmExtension
 * ```
 *
 * Secrets (`secret`) that are not given are generated once and kept like the signing keys: in
 * `dataDir` (owner-only) when `tokens.keys.store` is `file` (the CLI), in memory otherwise (the
 * library), so `azimds env` prints the values a running emulator with the same config checks.
 */

const port = z.coerce.number({ error: 'expected a port number (0-65535)' }).int().min(0).max(65535);

/** Bind address; default: the top-level `host`. */
const host = z.string().min(1).optional();

/** A header value: printable ASCII without spaces, so every shell and HTTP client carries it unchanged. */
const secret = z
  .string()
  .regex(
    /^[\x21-\x7e]{8,512}$/,
    'a secret is 8-512 printable ASCII characters without spaces (it travels in an HTTP header)',
  )
  .optional();

/** A URL path for a token endpoint. */
const path = z
  .string()
  .regex(/^\/[A-Za-z0-9._~/-]*$/, 'a URL path such as /msi/token (letters, digits, . _ ~ - /)');

const enabled = z.boolean().default(false);

export const arcSchema = z.strictObject({
  enabled,
  host,
  port: port.default(DEFAULTS.platforms.arc.port),
  /**
   * Directory for challenge files. Default: the real agent's (`/var/opt/azcmagent/tokens`,
   * `%ProgramData%\AzureConnectedMachineAgent\Tokens`), because the Azure SDKs accept a realm only
   * there; azimds must be able to write to it (docs/platforms/arc.md, one-time setup).
   */
  tokenDir: z.string().min(1).optional(),
  /** Seconds a challenge secret can be redeemed (emulator clock). */
  secretTtlSeconds: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(DEFAULTS.platforms.arc.secretTtlSeconds),
  /** Honour user-assigned selectors and echo the identity (current agents); `false`: an older agent. */
  userAssignedIdentities: z.boolean().default(DEFAULTS.platforms.arc.userAssignedIdentities),
  /** `compute.sku` of HIMDS's instance document (the OS name); default per the VM's osType. */
  osSku: z.string().min(1).optional(),
  /** `compute.version` of HIMDS's instance document (the OS version); default per the VM's osType. */
  osVersion: z.string().min(1).optional(),
});

export const vmExtensionSchema = z.strictObject({
  enabled,
  host,
  port: port.default(DEFAULTS.platforms.vmExtension.port),
});

export const appServiceSchema = z.strictObject({
  enabled,
  host,
  port: port.default(DEFAULTS.platforms.appService.port),
  /** Path of IDENTITY_ENDPOINT and MSI_ENDPOINT (both versions share it, as on App Service). */
  path: path.default(DEFAULTS.platforms.appService.path),
  /** IDENTITY_HEADER (sent as X-IDENTITY-HEADER) and MSI_SECRET (sent as `secret`); generated if absent. */
  secret,
});

export const cloudShellSchema = z.strictObject({
  enabled,
  host,
  port: port.default(DEFAULTS.platforms.cloudShell.port),
});

export const serviceFabricSchema = z.strictObject({
  enabled,
  host,
  port: port.default(DEFAULTS.platforms.serviceFabric.port),
  /** IDENTITY_HEADER, checked as the `secret` header; generated if absent. */
  secret,
  /**
   * The identity the application has (Service Fabric assigns it in the cluster, not per request):
   * the client id or name of a user-assigned identity, or `system`. Default: the system-assigned
   * identity if enabled, else the only user-assigned one.
   */
  identity: z.string().min(1).optional(),
  /**
   * The endpoint's TLS certificate and key (PEM files). Default: a self-signed certificate generated on
   * first use and kept in `dataDir` (owner-only); its SHA-1 thumbprint is IDENTITY_SERVER_THUMBPRINT.
   */
  certificate: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
});

export const azureMlSchema = z.strictObject({
  enabled,
  host,
  port: port.default(DEFAULTS.platforms.azureMl.port),
  /** Path of MSI_ENDPOINT. */
  path: path.default(DEFAULTS.platforms.azureMl.path),
  /** MSI_SECRET, checked as the `secret` header; generated if absent. */
  secret,
});

export const platformsSchema = z
  .strictObject({
    arc: arcSchema.default(arcSchema.parse({})),
    vmExtension: vmExtensionSchema.default(vmExtensionSchema.parse({})),
    appService: appServiceSchema.default(appServiceSchema.parse({})),
    cloudShell: cloudShellSchema.default(cloudShellSchema.parse({})),
    serviceFabric: serviceFabricSchema.default(serviceFabricSchema.parse({})),
    azureMl: azureMlSchema.default(azureMlSchema.parse({})),
  })
  .superRefine((v, ctx) => {
    // Two enabled platforms on one port would fail at start with "port in use"; say which and why here.
    const seen = new Map<string, string>();
    for (const [name, p] of Object.entries(v)) {
      if (!p.enabled || p.port === 0) continue;
      const key = `${p.host ?? ''}|${p.port}`;
      const other = seen.get(key);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: [name, 'port'],
          message: `port ${p.port} is also used by platforms.${other} (both are enabled); give one of them another port`,
        });
      } else seen.set(key, name);
    }
  });

export type PlatformsConfig = z.output<typeof platformsSchema>;
export type ArcConfig = z.output<typeof arcSchema>;
export type AppServiceConfig = z.output<typeof appServiceSchema>;
export type ServiceFabricConfig = z.output<typeof serviceFabricSchema>;
export type AzureMlConfig = z.output<typeof azureMlSchema>;
