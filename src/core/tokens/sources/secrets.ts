import { readFileSync, statSync } from 'node:fs';
import { AzimdsError } from '../../../errors.js';
import type { SourceLog } from './log.js';

/**
 * The secrets token sources hold (client secrets, private keys, static tokens). Every text that leaves a
 * source — error descriptions sent to clients, log lines — passes `scrub`, the last line of defence
 * behind never putting a secret in a message in the first place.
 */
export class SecretRegistry {
  readonly #values = new Set<string>();

  /** Registers `value` (and, for PEM text, each line of its body) and returns it. */
  add(value: string): string {
    if (value.length >= 6) this.#values.add(value);
    if (value.includes('-----BEGIN')) {
      for (const line of value.split(/\r?\n/))
        if (line.length >= 32 && !line.startsWith('-----')) this.add(line);
    }
    return value;
  }

  /** `text` with every registered secret replaced by `[redacted]`. */
  scrub(text: string): string {
    let out = text;
    for (const value of this.#values) if (out.includes(value)) out = out.replaceAll(value, '[redacted]');
    return out;
  }
}

/**
 * The secret in environment variable `name`, registered for scrubbing.
 * @throws AzimdsError `CONFIG_INVALID` when it is unset or empty (`what` says who needs it).
 */
export function secretFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  what: string,
  secrets: SecretRegistry,
): string {
  const value = env[name]?.trim();
  if (!value) throw new AzimdsError('CONFIG_INVALID', `${what}: environment variable ${name} is not set`);
  return secrets.add(value);
}

/**
 * The secret in `file` (trimmed), registered for scrubbing. Warns (once per call) when other users can
 * read the file: a secret file should be owner-only (`chmod 600`).
 * @throws AzimdsError `CONFIG_INVALID` when the file cannot be read or is empty.
 */
export function secretFromFile(file: string, what: string, secrets: SecretRegistry, log: SourceLog): string {
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (cause) {
    throw new AzimdsError('CONFIG_INVALID', `${what}: cannot read ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (!value) throw new AzimdsError('CONFIG_INVALID', `${what}: ${file} is empty`);
  warnIfExposed(file, what, log);
  return secrets.add(value);
}

/**
 * Warns when `file`, which holds a secret, is readable or writable by group or others (POSIX; Windows
 * ACLs are not checked). Returns whether it warned.
 */
export function warnIfExposed(file: string, what: string, log: SourceLog): boolean {
  if (process.platform === 'win32') return false;
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat || (stat.mode & 0o077) === 0) return false;
  log.warn(
    { file, mode: (stat.mode & 0o777).toString(8) },
    `${what}: ${file} holds a secret but other users can access it; run: chmod 600 ${file}`,
  );
  return true;
}
