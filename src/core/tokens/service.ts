import { resolve } from 'node:path';
import type { Config } from '../../config/schema.js';
import type { Clock } from '../clock.js';
import { resolveDataDir } from '../data-dir.js';
import { FileKeyStore, type KeyStore, MemoryKeyStore, StaticKeyStore } from './key-store.js';
import type { SigningKey } from './keys.js';
import { LocalIssuer } from './local-issuer.js';
import type { AccessToken, TokenProvider, TokenRequest, TokenResult } from './provider.js';
import { CachingTokenProvider } from './token-cache.js';

/**
 * Token issuing for one emulator: the signing keys, the local issuer, and the cached provider every
 * token endpoint calls. Real token sources (service principal, az CLI, ...) plug in with `useProvider`.
 */
export class TokenService {
  readonly keys: KeyStore;
  /** The local issuer (also the default provider). */
  readonly local: LocalIssuer;
  readonly #clock: Clock;
  readonly #config: Config['tokens'];
  #provider: CachingTokenProvider;
  #mintsLocally = true;

  constructor(
    config: Pick<Config, 'tokens' | 'dataDir'>,
    clock: Clock,
    keys: KeyStore = createKeyStore(config, clock),
  ) {
    this.keys = keys;
    this.#clock = clock;
    this.#config = config.tokens;
    this.local = new LocalIssuer({
      keys,
      clock,
      lifetimeSeconds: config.tokens.lifetimeSeconds,
      issuer: config.tokens.issuer,
    });
    this.#provider = this.#cached(this.local);
  }

  /** A token for `(identity, resource)`: cached per pair, re-fetched near expiry or on `bypassCache`. */
  getToken(request: TokenRequest): Promise<TokenResult> {
    return this.#provider.getToken(request);
  }

  /** The cached token for `request` when one is still good, synchronously (the hot path); else undefined. */
  cachedToken(request: TokenRequest): AccessToken | undefined {
    return this.#provider.peek(request);
  }

  /**
   * Replaces the token source (wrapped in the same cache); cached tokens of the old source are dropped.
   * `mintsLocally`: whether the new source can still hand out local tokens (see `mintsLocally`).
   */
  useProvider(provider: TokenProvider, mintsLocally = provider === this.local): void {
    this.#provider = this.#cached(provider);
    this.#mintsLocally = mintsLocally;
  }

  /** Whether some request can get a locally minted token (false when every token comes from a real source). */
  get mintsLocally(): boolean {
    return this.#mintsLocally;
  }

  /** Starts signing with a new key; tokens signed by the old one stay verifiable until they expire. */
  rotateKeys(): SigningKey {
    return this.keys.rotate();
  }

  /** `iss` of v1 tokens (the default) and of the v2 discovery document, for `tenantId`. */
  issuers(tenantId: string): { v1: string; v2: string } {
    const v1 = this.local.issuerFor(tenantId);
    const v2 =
      this.#config.issuer === 'https://sts.windows.net/{tenantId}/'
        ? `https://login.microsoftonline.com/${tenantId}/v2.0`
        : `${v1.replace(/\/+$/, '')}/v2.0`;
    return { v1, v2 };
  }

  #cached(provider: TokenProvider): CachingTokenProvider {
    return new CachingTokenProvider(provider, {
      clock: this.#clock,
      refreshBeforeSeconds: this.#config.refreshBeforeSeconds,
    });
  }
}

/** The key store the config asks for: a PEM file, memory, or the key file in `dataDir`. */
export function createKeyStore(config: Pick<Config, 'tokens' | 'dataDir'>, clock: Clock): KeyStore {
  const { keys, lifetimeSeconds } = config.tokens;
  if (keys.privateKeyFile) return new StaticKeyStore(resolveDataDirPath(keys.privateKeyFile), clock.now());
  if (keys.store === 'memory') return new MemoryKeyStore(clock, lifetimeSeconds);
  return new FileKeyStore(keyFilePath(config), clock, lifetimeSeconds);
}

/** Absolute path of the key file (`tokens.keys.file`, relative to `dataDir`). */
export function keyFilePath(config: Pick<Config, 'tokens' | 'dataDir'>): string {
  return resolve(resolveDataDir(config.dataDir), resolveDataDirPath(config.tokens.keys.file));
}

/** `~` expansion for paths in config. */
function resolveDataDirPath(path: string): string {
  return path === '~' || path.startsWith('~/') ? resolveDataDir(path) : path;
}
