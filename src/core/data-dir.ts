import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
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
import { AzimdsError } from '../errors.js';

/** Expands a leading `~` and makes the path absolute. */
export function resolveDataDir(dir: string): string {
  return resolve(dir === '~' ? homedir() : dir.startsWith('~/') ? join(homedir(), dir.slice(2)) : dir);
}

/** Creates `dir` (and parents) if needed and makes it owner-only (0700). Returns the absolute path. */
export function ensurePrivateDir(dir: string): string {
  const path = resolveDataDir(dir);
  makeDirectories(path, 0o700);
  if (process.platform !== 'win32') chmodSync(path, 0o700);
  return path;
}

/**
 * `mkdir -p` one level at a time. Node's recursive mkdirSync never returns for a path below /proc
 * (it retries the ENOENT forever); this fails at once with the first directory that cannot be made.
 */
export function makeDirectories(path: string, mode: number): void {
  const missing: string[] = [];
  for (let dir = resolve(path); !existsSync(dir); dir = dirname(dir)) {
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
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

/**
 * Makes sure the data directory can hold azimds's files: creates it owner-only if missing, then writes
 * and deletes a probe file. Run before anything is stored, so a bad `dataDir` is one message instead of
 * a stack trace from whichever store touches it first (or a lock loop on a file system such as /proc).
 * @throws AzimdsError `CONFIG_INVALID` naming `dataDir`, the path and why.
 */
export function requireWritableDataDir(dir: string): string {
  const path = resolveDataDir(dir);
  const probe = join(path, `.azimds-probe-${randomBytes(6).toString('hex')}`);
  try {
    ensurePrivateDir(path);
    writeFileSync(probe, '', { mode: 0o600, flag: 'wx' });
    rmSync(probe, { force: true });
  } catch (cause) {
    const error = cause as NodeJS.ErrnoException;
    throw new AzimdsError(
      'CONFIG_INVALID',
      `dataDir: cannot write to ${path} (${error.code ?? error.message}); give --data-dir (or dataDir, AZIMDS_DATA_DIR) a directory this user can write`,
      { cause },
    );
  }
  return path;
}
