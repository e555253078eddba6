import type { ManagedIdentity } from '../../identities/identity.js';
import type { TokenProvider, TokenRequest, TokenResult } from '../provider.js';
import type { SourceLog } from './log.js';
import type { SecretRegistry } from './secrets.js';

/** A configured source, ready: its name, the provider, and how long a call may take. */
export interface NamedSource {
  readonly name: string;
  readonly provider: TokenProvider;
  /** Longest a call may take before the client gets a `timeout` failure; absent for the local issuer. */
  readonly timeoutMs?: number;
}

/** A routing rule, compiled: the first one whose tests both pass picks the source. */
export interface CompiledRule {
  readonly identity?: (identity: ManagedIdentity) => boolean;
  readonly resource?: (resource: string) => boolean;
  readonly source: NamedSource;
}

/** Extra time a source gets past its own timeout before the router gives up on it (its own timer fires first). */
const BACKSTOP_GRACE_MS = 1000;

/**
 * Picks the token source of each request (the first matching rule, else the default) and makes every
 * real source safe to call: a call that throws or outlives its timeout becomes a typed `upstream`
 * failure, failures are logged (scrubbed of secrets), and descriptions never carry a secret. The local
 * issuer is called directly, without any of that, so the default setup costs nothing.
 */
export class TokenSourceRouter implements TokenProvider {
  readonly name: string;
  readonly #rules: readonly CompiledRule[];
  readonly #fallback: NamedSource;
  readonly #local: TokenProvider;
  readonly #secrets: SecretRegistry;
  readonly #log: SourceLog;

  constructor(options: {
    rules: readonly CompiledRule[];
    fallback: NamedSource;
    local: TokenProvider;
    secrets: SecretRegistry;
    log: SourceLog;
  }) {
    this.#rules = options.rules;
    this.#fallback = options.fallback;
    this.#local = options.local;
    this.#secrets = options.secrets;
    this.#log = options.log;
    this.name = options.fallback.name;
  }

  /** Whether any request can reach the local issuer (the one-time "tokens are local" warning depends on it). */
  get mintsLocally(): boolean {
    return (
      this.#fallback.provider === this.#local || this.#rules.some((r) => r.source.provider === this.#local)
    );
  }

  /** The source a request goes to. */
  route(identity: ManagedIdentity, resource: string): NamedSource {
    for (const rule of this.#rules) {
      if ((!rule.identity || rule.identity(identity)) && (!rule.resource || rule.resource(resource))) {
        return rule.source;
      }
    }
    return this.#fallback;
  }

  getToken(request: TokenRequest): Promise<TokenResult> {
    const source = this.route(request.identity, request.resource);
    if (source.provider === this.#local) return this.#local.getToken(request);
    return this.#call(source, request);
  }

  async #call(source: NamedSource, request: TokenRequest): Promise<TokenResult> {
    const fields = { source: source.name, identity: request.identity.clientId, resource: request.resource };
    let timer: NodeJS.Timeout | undefined;
    let result: TokenResult;
    try {
      const call = source.provider.getToken(request);
      result =
        source.timeoutMs === undefined
          ? await call
          : await Promise.race([
              call,
              new Promise<TokenResult>((resolve) => {
                timer = setTimeout(
                  () =>
                    resolve({
                      ok: false,
                      failure: {
                        code: 'upstream',
                        reason: 'timeout',
                        description: `token source ${source.name} did not answer within ${source.timeoutMs} ms`,
                      },
                    }),
                  (source.timeoutMs as number) + BACKSTOP_GRACE_MS,
                );
              }),
            ]);
    } catch (error) {
      result = {
        ok: false,
        failure: {
          code: 'upstream',
          reason: 'unavailable',
          description: `token source ${source.name} failed: ${(error as Error)?.message ?? String(error)}`,
        },
      };
    } finally {
      clearTimeout(timer);
    }
    if (result.ok) {
      this.#log.debug({ ...fields, expiresOn: result.token.expiresOn }, 'token from an upstream source');
      return result;
    }
    const failure = {
      ...result.failure,
      description: this.#secrets.scrub(result.failure.description),
      source: source.name,
    };
    this.#log.warn(
      { ...fields, code: failure.code, reason: failure.reason },
      `token source ${source.name} failed: ${failure.description}`,
    );
    return { ok: false, failure };
  }
}

/**
 * A rule's identity test: `system-assigned` / `user-assigned`, or a name, client id, principal id or
 * resource id of the identity (any letter case).
 */
export function identityMatcher(value: string): (identity: ManagedIdentity) => boolean {
  const wanted = value.toLowerCase();
  if (wanted === 'system-assigned' || wanted === 'user-assigned') return (i) => i.kind === wanted;
  return (i) => [i.name, i.clientId, i.principalId, i.resourceId].some((v) => v.toLowerCase() === wanted);
}

/**
 * A rule's resource test: each pattern matches a resource exactly, or with `*` standing for any
 * characters; letter case and a trailing slash do not matter (`https://vault.azure.net` matches
 * `https://vault.azure.net/` and `https://VAULT.azure.net`).
 */
export function resourceMatcher(patterns: string | readonly string[]): (resource: string) => boolean {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  const regexes = list.map(
    (p) =>
      new RegExp(
        `^${normalize(p)
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
        'i',
      ),
  );
  return (resource) => {
    const r = normalize(resource);
    return regexes.some((re) => re.test(r));
  };
}

function normalize(resource: string): string {
  return resource.trim().replace(/\/+$/, '');
}
