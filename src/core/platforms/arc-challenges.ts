import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { accessSync, chmodSync, constants, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULTS } from '../../config/defaults.js';
import { AzimdsError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { makeDirectories, resolveDataDir } from '../data-dir.js';

/** A challenge just issued: the file the client reads (the `realm`), and nothing else. */
export interface IssuedChallenge {
  /** Absolute path of the `.key` file; goes in `WWW-Authenticate: Basic realm=<path>`. */
  readonly path: string;
}

/** Why a presented secret was turned away (the client gets a fresh challenge either way). */
export type RedeemResult = 'ok' | 'unknown' | 'expired';

interface Outstanding {
  readonly path: string;
  readonly expiresAt: number;
}

/**
 * The secret files of Azure Arc's HIMDS handshake (protocols.md §7.3). A token request without
 * `Authorization` gets a challenge: a fresh random secret written to `<dir>/<uuid>.key`, owner-only,
 * whose path is the `realm`; the retry with `Authorization: Basic <secret>` redeems it. A secret is
 * single-use and short-lived: redeemed, expired and (at close) outstanding secrets are deleted with
 * their files. Only a SHA-256 of each secret is kept in memory, so lookups reveal nothing by timing.
 *
 * Outstanding secrets are bounded (`maxOutstanding`, ~300 bytes of memory and one small file each): when
 * the bound is reached, `issue` refuses new challenges until some expire or are redeemed, rather than
 * evicting pending ones, so a flood of unauthenticated requests never invalidates the challenge a
 * legitimate client is about to redeem.
 */
export class ArcChallenges {
  readonly dir: string;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #max: number;
  readonly #outstanding = new Map<string, Outstanding>();
  #nextExpiry = Number.POSITIVE_INFINITY;
  /** Deletes expired files when no request comes to do it (unref'd: never keeps the process alive). */
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { dir: string; ttlSeconds: number; clock: Clock; maxOutstanding?: number }) {
    this.dir = resolve(options.dir);
    this.#ttlMs = options.ttlSeconds * 1000;
    this.#clock = options.clock;
    this.#max = options.maxOutstanding ?? 10_000;
  }

  /** Number of secrets issued and not yet redeemed, expired or evicted. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /**
   * Makes sure challenge files can be written: creates the directory (owner-only) if it is missing
   * and writes and deletes a probe file.
   * @throws AzimdsError `ARC_TOKEN_DIR` with the one-time setup that fixes it.
   */
  prepare(): void {
    const probe = join(this.dir, `.azimds-probe-${randomUUID()}`);
    try {
      if (!isDirectory(this.dir)) {
        makeDirectories(this.dir, 0o700);
        if (process.platform !== 'win32') chmodSync(this.dir, 0o700);
      }
      accessSync(this.dir, constants.W_OK);
      writeFileSync(probe, '', { mode: 0o600, flag: 'wx' });
      rmSync(probe, { force: true });
    } catch (cause) {
      throw new AzimdsError('ARC_TOKEN_DIR', arcTokenDirMessage(this.dir, cause as NodeJS.ErrnoException), {
        cause,
      });
    }
  }

  /**
   * A new challenge: writes a random secret to a new `.key` file, owner-only. Undefined when
   * `maxOutstanding` secrets are pending (the client should retry later: HIMDS answers 429).
   * @throws Error when the file cannot be written (the directory vanished, the disk is full).
   */
  issue(): IssuedChallenge | undefined {
    this.sweep();
    if (this.#outstanding.size >= this.#max) return undefined;
    const secret = randomBytes(32).toString('hex');
    const path = join(this.dir, `${randomUUID()}.key`);
    writeFileSync(path, secret, { mode: 0o600, flag: 'wx' });
    const expiresAt = this.#clock.now() + this.#ttlMs;
    this.#outstanding.set(digest(secret), { path, expiresAt });
    this.#nextExpiry = Math.min(this.#nextExpiry, expiresAt);
    this.#scheduleSweep();
    return { path };
  }

  /** Redeems `secret` (the `Authorization: Basic` value): single use; its file is deleted either way. */
  redeem(secret: string): RedeemResult {
    const key = digest(secret.trim());
    const entry = this.#outstanding.get(key);
    if (!entry) return 'unknown';
    this.#outstanding.delete(key);
    removeQuietly(entry.path);
    return entry.expiresAt > this.#clock.now() ? 'ok' : 'expired';
  }

  /** Deletes expired secrets and their files. Cheap when nothing has expired. */
  sweep(): void {
    const now = this.#clock.now();
    if (now < this.#nextExpiry) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [key, entry] of this.#outstanding) {
      if (entry.expiresAt <= now) {
        this.#outstanding.delete(key);
        removeQuietly(entry.path);
      } else next = Math.min(next, entry.expiresAt);
    }
    this.#nextExpiry = next;
  }

  /** Deletes every outstanding secret file (at shutdown). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const entry of this.#outstanding.values()) removeQuietly(entry.path);
    this.#outstanding.clear();
    this.#nextExpiry = Number.POSITIVE_INFINITY;
  }

  #scheduleSweep(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.sweep();
      if (this.#outstanding.size > 0) this.#scheduleSweep();
    }, this.#ttlMs + 1000);
    this.#timer.unref();
  }
}

/**
 * The challenge directory for this system: `platforms.arc.tokenDir`, else the real agent's directory
 * (Linux, Windows), else `<dataDir>/arc-tokens`.
 */
export function arcTokenDir(
  configured: string | undefined,
  dataDir: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (configured) return resolveDataDir(configured);
  const agentDir = DEFAULTS.platforms.arc.tokenDir[platform];
  if (!agentDir) return join(resolveDataDir(dataDir), 'arc-tokens');
  return agentDir.replace('%ProgramData%', env.ProgramData ?? 'C:\\ProgramData');
}

/** The directories the Azure SDKs accept a realm in, per OS (they reject any other). */
export function sdkAcceptedArcDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const agentDir = DEFAULTS.platforms.arc.tokenDir[platform];
  return agentDir?.replace('%ProgramData%', env.ProgramData ?? 'C:\\ProgramData');
}

function arcTokenDirMessage(dir: string, cause: NodeJS.ErrnoException): string {
  const why = cause.code === 'EACCES' || cause.code === 'EPERM' ? 'permission denied' : cause.message;
  const setup =
    process.platform === 'win32'
      ? `create it once from an elevated prompt and give your user write access: mkdir "${dir}" && icacls "${dir}" /grant "%USERNAME%":(OI)(CI)F`
      : `create it once, owned by the user that runs azimds: sudo mkdir -p ${dir} && sudo chown "$(id -un)" ${dir} && sudo chmod 700 ${dir}`;
  return (
    `Azure Arc: cannot write challenge files to ${dir} (${why}). The Azure SDKs read the challenge ` +
    `only from the Arc agent's token directory, so azimds must be able to write there: ${setup}. ` +
    `Or set platforms.arc.tokenDir to another directory (curl and your own clients work; the SDKs do not). ` +
    'See docs/platforms/arc.md.'
  );
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Already gone or not ours to delete any more: nothing to do.
  }
}
