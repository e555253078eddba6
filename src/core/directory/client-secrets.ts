import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { AzimdsError } from '../../errors.js';
import { resolveDataDir, withFileLock, writePrivateFileAtomic } from '../data-dir.js';

/** File below `dataDir` holding generated client secrets (owner-only), keyed by `<clientId>/<keyId>`. */
export const CLIENT_SECRETS_FILE = 'entra-client-secrets.json';

const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-';

/**
 * A new client secret shaped like Entra's current ones: 40 characters, a three-character hint, then
 * `8Q~` (the marker Entra puts at positions 4-6 of secrets created since 2022), then 34 random
 * characters of `[A-Za-z0-9_.~-]`.
 */
export function newClientSecret(): string {
  const pick = (n: number) =>
    Array.from(randomBytes(n), (b) => SECRET_ALPHABET[b % SECRET_ALPHABET.length]).join('');
  return `${pick(3)}8Q~${pick(34)}`;
}

/** True when `presented` equals `expected` (constant time in the expected value's content). */
export function secretMatches(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Generated client secrets, kept like the platforms' generated secrets and the signing keys: in
 * `<dataDir>/entra-client-secrets.json` (owner-only) when `tokens.keys.store` is `file`, so
 * `azimds env --platform service-principal` and a running emulator agree and survive restarts; in
 * memory per process when it is `memory` (the library's default).
 */
export class GeneratedClientSecrets {
  readonly #config: Pick<Config, 'dataDir' | 'tokens'>;
  #values: Record<string, string> | undefined;

  constructor(config: Pick<Config, 'dataDir' | 'tokens'>) {
    this.#config = config;
  }

  /** `memory` or the file path. */
  get location(): string {
    return this.#config.tokens.keys.store === 'memory'
      ? 'memory'
      : join(resolveDataDir(this.#config.dataDir), CLIENT_SECRETS_FILE);
  }

  /**
   * The secret generated for `key` (`<clientId>/<keyId>`), generating and storing it on first use.
   * @throws AzimdsError `KEY_STORE` when it cannot be stored in `dataDir`.
   */
  get(key: string): string {
    this.#values ??= this.#read() ?? {};
    const known = this.#values[key];
    if (known !== undefined) return known;
    if (this.#config.tokens.keys.store === 'memory') {
      const fresh = newClientSecret();
      this.#values[key] = fresh;
      return fresh;
    }
    const file = this.location;
    try {
      // Another azimds (or `azimds env`) may create the file at this moment: decide under the lock.
      this.#values = withFileLock(file, () => {
        const current = this.#read() ?? {};
        if (current[key] === undefined) {
          current[key] = newClientSecret();
          writePrivateFileAtomic(file, `${JSON.stringify(current, null, 2)}\n`);
        }
        return current;
      });
    } catch (cause) {
      throw new AzimdsError(
        'KEY_STORE',
        `cannot store generated client secrets in ${file}: ${(cause as Error).message} (set dataDir to a writable directory, or give entra.applications[].secrets[].value)`,
        { cause },
      );
    }
    return this.#values[key] as string;
  }

  #read(): Record<string, string> | undefined {
    if (this.#config.tokens.keys.store === 'memory') return undefined;
    try {
      const parsed = JSON.parse(readFileSync(this.location, 'utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
      return Object.fromEntries(
        Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
    } catch {
      return undefined;
    }
  }
}
