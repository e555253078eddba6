import { generateKeyPair } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { AzimdsError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { createPrivateFileExclusive, withFileLock, writePrivateFileAtomic } from '../data-dir.js';
import {
  exportPrivateJwk,
  generateSigningKey,
  importPrivateKey,
  MODULUS_BITS,
  type SigningKey,
  signingKeyFrom,
} from './keys.js';

/**
 * Where the token signing keys live. The issuer signs with `signingKey()`; discovery publishes
 * `publicKeys()`; `rotate()` starts signing with a new key while the retired one stays published until
 * every token it signed has expired.
 */
export interface KeyStore {
  /** Where the keys come from, for messages (`memory`, a file path). */
  readonly location: string;
  /** The key that signs new tokens. */
  signingKey(): SigningKey;
  /** The signing key first, then retired keys whose tokens may still be valid, newest first. */
  publicKeys(): readonly SigningKey[];
  /** Generates a new signing key and retires the current one; returns the new key. */
  rotate(): SigningKey;
  /**
   * Resolves when the keys are at hand. A store may prepare them in the background (memory keys are
   * generated off the event loop so that `startEmulator()` stays fast); the synchronous methods still
   * work before, at the cost of generating in the foreground.
   */
  ready(): Promise<void>;
}

/** How long a retired key stays published: the longest a token it signed can live, plus a margin. */
export function retentionMs(lifetimeSeconds: number): number {
  return (lifetimeSeconds + 600) * 1000;
}

/** Keys published at `now`: the active key and retired keys within their retention. */
function published(keys: readonly SigningKey[], now: number, retention: number): SigningKey[] {
  return keys.filter((k) => k.retiredAt === undefined || now < k.retiredAt + retention);
}

/** Adds a new key in front and retires the previous signing key at `now`. */
function withRotation(keys: readonly SigningKey[], now: number, retention: number): SigningKey[] {
  const fresh = generateSigningKey(now);
  const retired = keys.map((k) =>
    k.retiredAt === undefined ? signingKeyFrom(k.privateKey, k.createdAt, now) : k,
  );
  return [fresh, ...published(retired, now, retention)];
}

// One key per process for in-memory stores: generating an RSA key takes tens of milliseconds, and a
// test suite may start many emulators. It is generated on the libuv thread pool, so starting an
// emulator does not wait for it. Rotation gives a store its own fresh key.
let processKey: SigningKey | undefined;
let processKeyPending: Promise<SigningKey> | undefined;

function processKeyInBackground(now: number): Promise<SigningKey> {
  processKeyPending ??= new Promise<SigningKey>((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: MODULUS_BITS }, (error, _publicKey, privateKey) => {
      if (error) return reject(error);
      // A foreground generation (a key needed before this finished) may have set it meanwhile.
      processKey ??= signingKeyFrom(privateKey, now);
      resolve(processKey);
    });
  });
  return processKeyPending;
}

/** Keys that live and die with the process; nothing is written. */
export class MemoryKeyStore implements KeyStore {
  readonly location = 'memory';
  #keys: SigningKey[] | undefined;
  readonly #ready: Promise<void>;
  readonly #clock: Clock;
  readonly #retention: number;

  constructor(clock: Clock, lifetimeSeconds: number) {
    this.#clock = clock;
    this.#retention = retentionMs(lifetimeSeconds);
    if (processKey) this.#keys = [processKey];
    this.#ready = processKey
      ? Promise.resolve()
      : processKeyInBackground(clock.now()).then(
          (key) => {
            this.#keys ??= [key];
          },
          // Surfaces (synchronously) from #current() when a key is needed.
          () => {},
        );
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  signingKey(): SigningKey {
    return this.#current()[0] as SigningKey;
  }

  publicKeys(): readonly SigningKey[] {
    return published(this.#current(), this.#clock.now(), this.#retention);
  }

  rotate(): SigningKey {
    this.#keys = withRotation(this.#current(), this.#clock.now(), this.#retention);
    return this.signingKey();
  }

  /** The keys; generated in the foreground if asked for before the background generation finished. */
  #current(): SigningKey[] {
    if (!this.#keys) {
      processKey ??= generateSigningKey(this.#clock.now());
      this.#keys = [processKey];
    }
    return this.#keys;
  }
}

/** One key given as a PEM file in config; azimds never changes it. */
export class StaticKeyStore implements KeyStore {
  readonly location: string;
  readonly #key: SigningKey;

  constructor(pemFile: string, now: number) {
    this.location = pemFile;
    try {
      this.#key = signingKeyFrom(importPrivateKey(readFileSync(pemFile, 'utf8')), now);
    } catch (cause) {
      throw new AzimdsError(
        'KEY_STORE',
        `tokens.keys.privateKeyFile ${pemFile}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  signingKey(): SigningKey {
    return this.#key;
  }

  publicKeys(): readonly SigningKey[] {
    return [this.#key];
  }

  rotate(): SigningKey {
    throw new AzimdsError(
      'KEY_STORE',
      `the signing key comes from tokens.keys.privateKeyFile (${this.location}); rotate it by replacing that file and restarting`,
    );
  }
}

/** The key file's content. Times are ISO strings; private keys are JWKs. */
interface KeyFile {
  format: 'azimds-token-signing-keys';
  version: 1;
  keys: Array<{ kid: string; createdAt: string; retiredAt?: string; privateKey: Record<string, unknown> }>;
}

/**
 * Keys kept in a file owner-only (0600, in an 0700 directory). The first process to need keys creates
 * the file; one that starts at the same moment reads the winner's keys. A running emulator notices
 * changes made by another process (`azimds keys rotate`) within a second.
 */
export class FileKeyStore implements KeyStore {
  readonly location: string;
  readonly #clock: Clock;
  readonly #retention: number;
  readonly #reloadIntervalMs: number;
  #keys: SigningKey[];
  #stamp: string;
  #checkedAt = performance.now();

  /** `reloadIntervalMs`: how often to look for changes by other processes (a stat; default 1 s). */
  constructor(file: string, clock: Clock, lifetimeSeconds: number, reloadIntervalMs = 1000) {
    this.location = file;
    this.#clock = clock;
    this.#retention = retentionMs(lifetimeSeconds);
    this.#reloadIntervalMs = reloadIntervalMs;
    let loaded = this.#read(true);
    if (!loaded) {
      // Nobody has created the file yet: try to be first; if another process won, use its keys.
      createPrivateFileExclusive(file, serialize([generateSigningKey(clock.now())]));
      loaded = this.#read(true);
      if (!loaded) throw new AzimdsError('KEY_STORE', `${file}: created but cannot be read back`);
    }
    this.#keys = loaded.keys;
    this.#stamp = loaded.stamp;
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  signingKey(): SigningKey {
    this.#reloadIfChanged();
    return this.#keys[0] as SigningKey;
  }

  publicKeys(): readonly SigningKey[] {
    this.#reloadIfChanged();
    return published(this.#keys, this.#clock.now(), this.#retention);
  }

  rotate(): SigningKey {
    return withFileLock(this.location, () => {
      const current = this.#read(false)?.keys ?? this.#keys;
      const keys = withRotation(current, this.#clock.now(), this.#retention);
      writePrivateFileAtomic(this.location, serialize(keys));
      const reread = this.#read(false);
      this.#keys = reread?.keys ?? keys;
      this.#stamp = reread?.stamp ?? '';
      return this.#keys[0] as SigningKey;
    });
  }

  /** Re-reads the file when it changed since the last look (throttled: a stat on a hot path). */
  #reloadIfChanged(): void {
    const t = performance.now();
    if (t - this.#checkedAt < this.#reloadIntervalMs) return;
    this.#checkedAt = t;
    const stat = statSync(this.location, { throwIfNoEntry: false });
    if (!stat || stampOf(stat) === this.#stamp) return;
    try {
      const loaded = this.#read(false);
      if (loaded) {
        this.#keys = loaded.keys;
        this.#stamp = loaded.stamp;
      }
    } catch {
      // A file edited into something unreadable: keep signing with the keys we have.
    }
  }

  /** Reads and parses the file; undefined when it does not exist. */
  #read(checkMode: boolean): { keys: SigningKey[]; stamp: string } | undefined {
    const file = this.location;
    // A file system without hard links creates the file in place: a reader may see it half written.
    for (let attempt = 0; ; attempt++) {
      const stat = statSync(file, { throwIfNoEntry: false });
      if (!stat) return undefined;
      if (checkMode && process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
        throw new AzimdsError(
          'KEY_STORE',
          `${file} holds private keys but other users can access it (mode ${(stat.mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
        );
      }
      try {
        return { keys: parse(readFileSync(file, 'utf8')), stamp: stampOf(stat) };
      } catch (cause) {
        if (attempt < 5 && cause instanceof SyntaxError) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
          continue;
        }
        throw new AzimdsError(
          'KEY_STORE',
          `${file}: not a valid azimds key file: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      }
    }
  }
}

function stampOf(stat: { mtimeMs: number; size: number; ino: number }): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

function serialize(keys: readonly SigningKey[]): string {
  const file: KeyFile = {
    format: 'azimds-token-signing-keys',
    version: 1,
    keys: keys.map((k) => ({
      kid: k.kid,
      createdAt: new Date(k.createdAt).toISOString(),
      ...(k.retiredAt !== undefined ? { retiredAt: new Date(k.retiredAt).toISOString() } : {}),
      privateKey: exportPrivateJwk(k),
    })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

function parse(text: string): SigningKey[] {
  const file = JSON.parse(text) as Partial<KeyFile>;
  if (file.format !== 'azimds-token-signing-keys' || file.version !== 1 || !Array.isArray(file.keys)) {
    throw new Error('unknown format (expected azimds-token-signing-keys version 1)');
  }
  const keys = file.keys.map((k) =>
    signingKeyFrom(
      importPrivateKey(k.privateKey),
      Date.parse(k.createdAt),
      k.retiredAt ? Date.parse(k.retiredAt) : undefined,
    ),
  );
  // The signing key is the newest one not retired; keep it first.
  keys.sort(
    (a, b) =>
      Number(a.retiredAt !== undefined) - Number(b.retiredAt !== undefined) || b.createdAt - a.createdAt,
  );
  if (keys[0] === undefined || keys[0].retiredAt !== undefined) throw new Error('no active signing key');
  return keys;
}
