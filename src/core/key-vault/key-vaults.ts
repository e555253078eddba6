import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../../config/defaults.js';
import type { KeyVaultConfig, SeededSecretConfig } from '../../config/key-vault.js';
import { AzimdsError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { authorizeSecretOperation, type VaultCaller, type VaultDecision } from './authorization.js';
import { type SecretInput, VaultSecrets } from './secrets.js';
import type { DataActionChecker, SecretOperation, VaultCatalog, VaultRecord } from './vault.js';

/** A seeded secret with its value read (from config, a file or the environment). */
export interface ResolvedSeed extends SecretInput {
  readonly name: string;
}

/**
 * Reads the values of configured secrets: inline, `valueFile` (UTF-8, read now) or `valueEnv` (read now).
 * @throws AzimdsError `CONFIG_INVALID` when a file cannot be read or a variable is not set.
 */
export function resolveSeeds(
  secrets: Readonly<Record<string, readonly SeededSecretConfig[]>>,
  env: NodeJS.ProcessEnv = process.env,
): Map<string, ResolvedSeed[]> {
  const out = new Map<string, ResolvedSeed[]>();
  for (const [vault, list] of Object.entries(secrets)) {
    const resolved = list.map((s): ResolvedSeed => {
      let value = s.value;
      if (s.valueFile !== undefined) {
        try {
          value = readFileSync(s.valueFile, 'utf8');
        } catch (cause) {
          throw new AzimdsError(
            'CONFIG_INVALID',
            `keyVault.secrets.${vault}: cannot read valueFile of secret "${s.name}" (${(cause as Error).message})`,
            { cause },
          );
        }
      }
      if (s.valueEnv !== undefined) {
        value = env[s.valueEnv];
        if (value === undefined) {
          throw new AzimdsError(
            'CONFIG_INVALID',
            `keyVault.secrets.${vault}: secret "${s.name}" reads environment variable ${s.valueEnv}, which is not set`,
          );
        }
      }
      return {
        name: s.name,
        value: value as string,
        ...(s.contentType === undefined ? {} : { contentType: s.contentType }),
        ...(s.tags === undefined ? {} : { tags: s.tags }),
        ...(s.enabled === undefined ? {} : { enabled: s.enabled }),
        ...(s.nbf === undefined ? {} : { nbf: s.nbf }),
        ...(s.exp === undefined ? {} : { exp: s.exp }),
      };
    });
    out.set(vault.toLowerCase(), [...(out.get(vault.toLowerCase()) ?? []), ...resolved]);
  }
  return out;
}

/** What a vault holds, for the control API: names and versions with attributes, never values. */
export interface VaultSummary {
  readonly name: string;
  readonly resourceId: string;
  readonly vaultUri: string;
  readonly enableRbacAuthorization: boolean;
  readonly secrets: ReadonlyArray<{
    readonly name: string;
    readonly versions: ReadonlyArray<{
      readonly version: string;
      readonly enabled: boolean;
      readonly created: number;
      readonly updated: number;
      readonly contentType?: string;
    }>;
  }>;
  readonly deletedSecrets: readonly string[];
}

/**
 * The Key Vault core of one emulator: the vaults (from a `VaultCatalog`), their secrets (seeded from
 * config on first use and after `reset()`), and the per-vault authorization rule (RBAC data actions
 * through a `DataActionChecker`, or access policies). The catalog and the checker are narrow seams: the
 * lead swaps in the world and RBAC with `useCatalog` / `useChecker`.
 */
export class KeyVaults {
  #catalog: VaultCatalog;
  #checker: DataActionChecker;
  readonly #clock: Clock;
  readonly #seeds: Map<string, ResolvedSeed[]> | undefined;
  readonly #stores = new Map<string, VaultSecrets>();
  /** Refuse `get` outside nbf/exp (config `keyVault.enforceValidityPeriod`). */
  readonly enforceValidityPeriod: boolean;

  constructor(options: {
    config: KeyVaultConfig;
    clock: Clock;
    catalog: VaultCatalog;
    checker: DataActionChecker;
    env?: NodeJS.ProcessEnv;
  }) {
    this.#catalog = options.catalog;
    this.#checker = options.checker;
    this.#clock = options.clock;
    this.enforceValidityPeriod = options.config.enforceValidityPeriod;
    this.#seeds = options.config.secrets ? resolveSeeds(options.config.secrets, options.env) : undefined;
  }

  get catalog(): VaultCatalog {
    return this.#catalog;
  }

  /** Replaces the vault source (e.g. the world's `Microsoft.KeyVault/vaults`); stored secrets are kept by vault name. */
  useCatalog(catalog: VaultCatalog): void {
    this.#catalog = catalog;
  }

  get checker(): DataActionChecker {
    return this.#checker;
  }

  /** Replaces the data-action check (e.g. `state.rbac`). */
  useChecker(checker: DataActionChecker): void {
    this.#checker = checker;
  }

  /** The vault named `name` (case-insensitive). */
  vault(name: string): VaultRecord | undefined {
    return this.#catalog.lookup(name);
  }

  /** The secrets of `vault`, seeded from config the first time. */
  secrets(vault: VaultRecord): VaultSecrets {
    const key = vault.name.toLowerCase();
    let store = this.#stores.get(key);
    if (!store) {
      store = new VaultSecrets(() => this.#catalog.lookup(key) ?? vault, this.#clock);
      this.#stores.set(key, store);
      for (const seed of this.#seedsFor(vault)) store.set(seed.name, seed);
    }
    return store;
  }

  #seedsFor(vault: VaultRecord): readonly ResolvedSeed[] {
    if (this.#seeds) return this.#seeds.get(vault.name.toLowerCase()) ?? [];
    const sample = DEFAULTS.keyVault.sampleSecret;
    return this.#catalog.defaultVault()?.name.toLowerCase() === vault.name.toLowerCase() ? [sample] : [];
  }

  /** The vault's rule for `operation` by `caller` (on one secret, or the vault for lists). */
  authorize(
    vault: VaultRecord,
    caller: VaultCaller,
    operation: SecretOperation,
    secretName?: string,
  ): VaultDecision {
    return authorizeSecretOperation(vault, caller, operation, this.#checker, secretName);
  }

  /** Every vault with its secrets' names and versions (no values), for the control API. */
  summaries(): VaultSummary[] {
    return this.#catalog.list().map((vault) => {
      const store = this.secrets(vault);
      return {
        name: vault.name,
        resourceId: vault.resourceId,
        vaultUri: vault.vaultUri,
        enableRbacAuthorization: vault.enableRbacAuthorization,
        secrets: store.list().map((s) => ({
          name: s.name,
          versions: store.versions(s.name).map((v) => ({
            version: v.version,
            enabled: v.attributes.enabled,
            created: v.attributes.created,
            updated: v.attributes.updated,
            ...(v.contentType === undefined ? {} : { contentType: v.contentType }),
          })),
        })),
        deletedSecrets: store.listDeleted().map((d) => d.name),
      };
    });
  }

  /** Vault names of `keyVault.secrets` that the catalog does not know (lower-case), for a start-up warning. */
  seededVaultsNotFound(): string[] {
    return [...(this.#seeds?.keys() ?? [])].filter((name) => this.#catalog.lookup(name) === undefined);
  }

  /** Forgets every secret; vaults are seeded again from config on next use. */
  reset(): void {
    this.#stores.clear();
  }
}
