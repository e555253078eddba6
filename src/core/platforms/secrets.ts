import { randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { AzimdsError } from '../../errors.js';
import { resolveDataDir, withFileLock, writePrivateFileAtomic } from '../data-dir.js';

/** Platforms whose endpoint checks a shared secret header. */
export type SecretPlatform = 'appService' | 'serviceFabric' | 'azureMl';

const SECRET_PLATFORMS: readonly SecretPlatform[] = ['appService', 'serviceFabric', 'azureMl'];

/** File below `dataDir` holding generated secrets (owner-only). */
export const SECRETS_FILE = 'platform-secrets.json';

/**
 * The secrets the platforms' clients present (App Service's IDENTITY_HEADER / MSI_SECRET, Service
 * Fabric's IDENTITY_HEADER, Azure ML's MSI_SECRET). A secret given in config is used as is; otherwise
 * one is generated (a GUID, as the platforms issue) and kept like the signing keys: in
 * `<dataDir>/platform-secrets.json` when `tokens.keys.store` is `file`, so `azimds env` and a running
 * emulator with the same config agree and shells keep working across restarts; in memory per process
 * when it is `memory` (the library's default).
 */
export class PlatformSecrets {
  readonly #config: Pick<Config, 'platforms' | 'dataDir' | 'tokens'>;
  #generated: Record<SecretPlatform, string> | undefined;

  constructor(config: Pick<Config, 'platforms' | 'dataDir' | 'tokens'>) {
    this.#config = config;
  }

  /** Where generated secrets are kept (`memory` or the file path). */
  get location(): string {
    return this.#config.tokens.keys.store === 'memory'
      ? 'memory'
      : join(resolveDataDir(this.#config.dataDir), SECRETS_FILE);
  }

  /**
   * The secret of `platform`.
   * @throws AzimdsError `KEY_STORE` when a generated secret cannot be stored in `dataDir`.
   */
  get(platform: SecretPlatform): string {
    const fixed = this.#config.platforms[platform].secret;
    if (fixed !== undefined) return fixed;
    this.#generated ??= this.#load();
    return this.#generated[platform];
  }

  /** True when `presented` is the secret of `platform` (constant time in the secret's content). */
  matches(platform: SecretPlatform, presented: string): boolean {
    const secret = this.get(platform);
    let kept = this.#bytes.get(platform);
    if (kept === undefined || kept.secret !== secret) {
      const expected = Buffer.from(secret);
      kept = { secret, expected, scratch: Buffer.alloc(expected.length) };
      this.#bytes.set(platform, kept);
    }
    // Every request of a platform's token route asks this: the secret's bytes are kept and the
    // presented value is written into a reused buffer of the same length, so no Buffer is allocated.
    if (Buffer.byteLength(presented) !== kept.expected.length) return false;
    kept.scratch.write(presented);
    return timingSafeEqual(kept.scratch, kept.expected);
  }

  // The bytes of each platform's secret (rebuilt if the secret changes) and a buffer of its length.
  readonly #bytes = new Map<SecretPlatform, { secret: string; expected: Buffer; scratch: Buffer }>();

  #load(): Record<SecretPlatform, string> {
    const fresh = () => Object.fromEntries(SECRET_PLATFORMS.map((p) => [p, randomUUID()]));
    if (this.#config.tokens.keys.store === 'memory') return fresh() as Record<SecretPlatform, string>;
    const file = this.location;
    const complete = (v: unknown): v is Record<SecretPlatform, string> =>
      typeof v === 'object' &&
      v !== null &&
      SECRET_PLATFORMS.every((p) => typeof (v as Record<string, unknown>)[p] === 'string');
    const read = (): unknown => {
      // Like the key file: secrets other users can read are refused, not used (platform.secret is unaffected).
      const stat = statSync(file, { throwIfNoEntry: false });
      if (stat && process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        throw new AzimdsError(
          'KEY_STORE',
          `${file} holds the platforms' secrets but other users can access it (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
        );
      }
      try {
        return JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        return undefined;
      }
    };
    const existing = read();
    if (complete(existing)) return existing;
    try {
      // Another azimds (or `azimds env`) may create the file at this moment: decide under the lock.
      return withFileLock(file, () => {
        const again = read();
        if (complete(again)) return again;
        const merged = { ...fresh(), ...(typeof again === 'object' && again ? again : {}) };
        writePrivateFileAtomic(file, `${JSON.stringify(merged, null, 2)}\n`);
        return merged as Record<SecretPlatform, string>;
      });
    } catch (cause) {
      if (cause instanceof AzimdsError) throw cause;
      throw new AzimdsError(
        'KEY_STORE',
        `cannot store the platforms' generated secrets in ${file}: ${(cause as Error).message} (set dataDir to a writable directory, or give platforms.<name>.secret)`,
        { cause },
      );
    }
  }
}
