import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/**
 * Key Vault secret names: 1-127 characters, ASCII letters, digits and hyphens (Microsoft's "Azure Key
 * Vault keys, secrets and certificates overview": object names).
 */
export const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;

/** A date as ISO 8601 (`2030-01-01T00:00:00Z`) or unix seconds; becomes unix seconds. */
const unixSeconds = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a date (ISO 8601 or unix seconds)` });
    return z.NEVER;
  }
  return Math.floor(ms / 1000);
});

/**
 * One secret seeded into a vault at start (and after a reset): its value inline, from a file (read at
 * start, UTF-8) or from an environment variable (read at start). Exactly one of the three.
 */
export const seededSecretSchema = z
  .strictObject({
    name: z.string().regex(SECRET_NAME, 'a secret name is 1-127 letters, digits and hyphens'),
    value: z.string().optional(),
    valueFile: z.string().min(1).optional(),
    valueEnv: z.string().min(1).optional(),
    contentType: z.string().optional(),
    tags: z.record(z.string(), z.string()).optional(),
    enabled: z.boolean().optional(),
    /** Not before: ISO 8601 or unix seconds. */
    nbf: unixSeconds.optional(),
    /** Expires: ISO 8601 or unix seconds. */
    exp: unixSeconds.optional(),
  })
  .refine(
    (s) => [s.value, s.valueFile, s.valueEnv].filter((v) => v !== undefined).length === 1,
    'give exactly one of value, valueFile, valueEnv',
  );

/**
 * `keyVault`: the Key Vault data plane (docs/key-vault.md). Vaults themselves are resources of the
 * world; this section seeds their secrets and places the direct endpoint.
 */
export const keyVaultSchema = z.strictObject({
  /** The `key-vault` surface (served through the proxy as `https://<vault>.vault.azure.net`). */
  enabled: z.boolean().default(DEFAULTS.keyVault.enabled),
  /** Bind address of the direct endpoint; defaults to the top-level `host`. */
  host: z.string().min(1).optional(),
  /** Port of the direct endpoint (`<vault>.vault.localhost:<port>`, or the default vault on `127.0.0.1:<port>`); absent: proxy only. */
  port: z.coerce.number().int().min(0).max(65535).optional(),
  /**
   * Secrets per vault name (case-insensitive), seeded at start. Absent: the default vault holds
   * `DEFAULTS.keyVault.sampleSecret`. Given: exactly these (an empty object seeds nothing).
   */
  secrets: z.record(z.string(), z.array(seededSecretSchema)).optional(),
  /**
   * Refuse `get` of a secret outside its `nbf`/`exp` window (403 `SecretExpired`/`SecretNotYetValid`), as
   * Microsoft's docs describe. Off by default: Azure serves such secrets (see docs/key-vault.md).
   */
  enforceValidityPeriod: z.boolean().default(DEFAULTS.keyVault.enforceValidityPeriod),
});

export type KeyVaultConfig = z.output<typeof keyVaultSchema>;
export type SeededSecretConfig = z.output<typeof seededSecretSchema>;
