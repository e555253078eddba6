import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

/**
 * Creates `file` owner-only with `data` unless it already exists; false when another process created it
 * first. The content appears complete or not at all (written aside, then hard-linked into place), so two
 * processes starting at once agree on one file.
 */
export function createPrivateFileExclusive(file: string, data: string | Buffer): boolean {
  ensurePrivateDir(dirname(file));
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  try {
    linkSync(tmp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
    // File systems without hard links: an exclusive create (readers retry on a partial file).
    try {
      writeFileSync(file, data, { mode: 0o600, flag: 'wx' });
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw inner;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Runs `fn` while holding `<file>.lock` (created exclusively), so read-modify-write cycles of `file` by
 * several processes do not lose each other's changes. A lock older than `staleMs` is taken over.
 */
export function withFileLock<T>(file: string, fn: () => T, timeoutMs = 5000, staleMs = 30_000): T {
  const lock = `${file}.lock`;
  ensurePrivateDir(dirname(file));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleMs) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is held by another process`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
