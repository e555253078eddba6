import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Expands a leading `~` and makes the path absolute. */
export function resolveDataDir(dir: string): string {
  return resolve(dir === '~' ? homedir() : dir.startsWith('~/') ? join(homedir(), dir.slice(2)) : dir);
}

/** Creates `dir` (and parents) if needed and makes it owner-only (0700). Returns the absolute path. */
export function ensurePrivateDir(dir: string): string {
  const path = resolveDataDir(dir);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32') chmodSync(path, 0o700);
  return path;
}

/**
 * Writes `data` to `file` owner-only (0600) and atomically: readers (another azimds process starting
 * at the same moment) see the old file or the new one, never half of it.
 */
export function writePrivateFileAtomic(file: string, data: string | Buffer): void {
  ensurePrivateDir(dirname(file));
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, file);
}
