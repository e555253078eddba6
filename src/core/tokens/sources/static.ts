import { readFileSync } from 'node:fs';
import type { Clock } from '../../clock.js';
import type { TokenProvider, TokenRequest, TokenResult } from '../provider.js';
import { upstreamAccessToken } from './access-token.js';
import type { SourceLog } from './log.js';
import { type SecretRegistry, warnIfExposed } from './secrets.js';

export type StaticTokenOrigin =
  | { readonly kind: 'env'; readonly name: string; readonly value: string }
  | { readonly kind: 'file'; readonly path: string };

export interface StaticSourceOptions {
  /** The configured source name, for messages. */
  name: string;
  origin: StaticTokenOrigin;
  clock: Clock;
  /** Lifetime assumed for a token that is not a readable JWT (no `exp`). */
  fallbackLifetimeSeconds: number;
  secrets: SecretRegistry;
  log: SourceLog;
}

/**
 * A fixed token, handed out for whatever identity and resource the rules route here: from an environment
 * variable (read once, at start) or a file (read again whenever the cache needs a token, so a process
 * that refreshes the file is followed). Times come from the token's own `exp`/`nbf` when it is a JWT.
 */
export class StaticSource implements TokenProvider {
  readonly name = 'static';
  readonly #options: StaticSourceOptions;
  #warnedExpired = false;

  constructor(options: StaticSourceOptions) {
    this.#options = options;
    if (options.origin.kind === 'env') options.secrets.add(options.origin.value);
    else warnIfExposed(options.origin.path, `static token source ${options.name}`, options.log);
  }

  async getToken({ identity, resource }: TokenRequest): Promise<TokenResult> {
    const { origin, clock, name } = this.#options;
    let accessToken: string;
    if (origin.kind === 'env') {
      accessToken = origin.value;
    } else {
      try {
        accessToken = readFileSync(origin.path, 'utf8').trim();
      } catch (error) {
        return {
          ok: false,
          failure: {
            code: 'upstream',
            reason: 'unavailable',
            description: `static token (source ${name}): cannot read ${origin.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
          },
        };
      }
      if (!accessToken) {
        return {
          ok: false,
          failure: {
            code: 'upstream',
            reason: 'unavailable',
            description: `static token (source ${name}): ${origin.path} is empty`,
          },
        };
      }
    }
    const nowSeconds = Math.floor(clock.now() / 1000);
    const token = upstreamAccessToken({
      accessToken,
      resource,
      identity,
      nowSeconds,
      fallbackLifetimeSeconds: this.#options.fallbackLifetimeSeconds,
    });
    if (token.expiresOn <= nowSeconds && !this.#warnedExpired) {
      this.#warnedExpired = true;
      this.#options.log.warn(
        { source: name, expiresOn: token.expiresOn },
        `static token (source ${name}) has expired; clients will reject it`,
      );
    }
    return { ok: true, token };
  }
}
