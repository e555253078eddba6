import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { DEFAULTS } from '../../config/defaults.js';
import type { Config } from '../../config/schema.js';
import { AzimdsError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { listenerUrl } from '../platforms/environment.js';
import type { KeyStore } from '../tokens/key-store.js';
import { jwksKey } from '../tokens/keys.js';
import { GeneratedClientSecrets, secretMatches } from './client-secrets.js';
import { resolveServicePrincipals, type ServicePrincipal } from './service-principal.js';
import { WorkloadIssuer } from './workload-issuer.js';

/** Tenant segments Entra accepts for any tenant (multi-tenant apps); client credentials resolve them to ours. */
const MULTI_TENANT = new Set(['common', 'organizations']);

/**
 * An RBAC principal the directory contributes (seams.md §3/§5): a service principal, in the shape
 * ARM's role assignments name principals (`principalType: ServicePrincipal`).
 */
export interface DirectoryPrincipal {
  readonly principalId: string;
  readonly principalType: 'ServicePrincipal';
  readonly displayName: string;
  /** The application (client) id. */
  readonly appId: string;
  readonly tenantId: string;
}

/** What checking a client secret found. */
export type SecretCheck = 'ok' | 'invalid' | 'expired';

/**
 * The local Entra tenant's directory: app registrations / service principals with their secrets,
 * certificates and federated credentials (config `entra`), the federated issuers' keys, and azimds's
 * workload-identity issuer. No HTTP here; the token endpoints (protocols/entra) ask it.
 */
export class EntraDirectory {
  readonly workloadIssuer: WorkloadIssuer;
  readonly generatedSecrets: GeneratedClientSecrets;
  readonly #config: Config['entra'];
  readonly #tenantId: () => string;
  readonly #keys: KeyStore;
  readonly #clock: Clock;
  readonly #issuerKeys = new Map<string, readonly JWK[]>();
  #principals: ServicePrincipal[] | undefined;
  #principalsTenant = '';

  /**
   * @param tenantId the tenant of the VM's identities (config `identity.tenantId` or generated): one tenant.
   * @throws AzimdsError `CONFIG_INVALID` when a federated issuer's JWKS file cannot be read.
   */
  constructor(
    config: Pick<Config, 'entra' | 'dataDir' | 'tokens' | 'imds' | 'host'>,
    tenantId: () => string,
    keys: KeyStore,
    clock: Clock,
  ) {
    this.#config = config.entra;
    this.#tenantId = tenantId;
    this.#keys = keys;
    this.#clock = clock;
    this.generatedSecrets = new GeneratedClientSecrets(config);
    const base =
      config.tokens.publicUrl?.replace(/\/+$/, '') ??
      listenerUrl(config.imds.host ?? config.host, config.imds.port);
    this.workloadIssuer = new WorkloadIssuer({
      keys,
      clock,
      configuredUrl: config.entra.workloadIssuer.url,
      baseUrl: base,
      path: DEFAULTS.entra.workloadIssuer.path,
      lifetimeSeconds: config.entra.workloadIssuer.tokenLifetimeSeconds,
      audience: DEFAULTS.entra.federatedAudience,
    });
    for (const issuer of config.entra.federatedIssuers) {
      const jwks = issuer.jwks ?? readJwksFile(issuer.jwksFile as string);
      this.#issuerKeys.set(issuer.issuer, jwks.keys as JWK[]);
    }
  }

  get tenantId(): string {
    return this.#tenantId();
  }

  /** The tenant's `<name>.onmicrosoft.com` domain. */
  get domain(): string {
    return this.#config.domain.toLowerCase();
  }

  /**
   * The tenant id a URL's tenant segment denotes: the tenant id, the domain, `common` or
   * `organizations` (any case); undefined for any other tenant (AADSTS90002).
   */
  resolveTenant(segment: string): string | undefined {
    const lower = segment.toLowerCase();
    return lower === this.tenantId || lower === this.domain || MULTI_TENANT.has(lower)
      ? this.tenantId
      : undefined;
  }

  /** Every service principal (resolved on first use, again if the tenant changes). */
  servicePrincipals(): readonly ServicePrincipal[] {
    const tenant = this.tenantId;
    if (!this.#principals || this.#principalsTenant !== tenant) {
      this.#principals = resolveServicePrincipals(this.#config, tenant, this.generatedSecrets);
      this.#principalsTenant = tenant;
    }
    return this.#principals;
  }

  /** The service principal whose application (client) id is `clientId` (any case). */
  byClientId(clientId: string): ServicePrincipal | undefined {
    const k = clientId.toLowerCase();
    return this.servicePrincipals().find((p) => p.clientId === k);
  }

  /** The service principal whose object id is `principalId` (any case). */
  byPrincipalId(principalId: string): ServicePrincipal | undefined {
    const k = principalId.toLowerCase();
    return this.servicePrincipals().find((p) => p.principalId === k);
  }

  /** The service principals as RBAC principals (for state.rbac's principal source). */
  principals(): DirectoryPrincipal[] {
    return this.servicePrincipals().map((p) => ({
      principalId: p.principalId,
      principalType: 'ServicePrincipal',
      displayName: p.displayName,
      appId: p.clientId,
      tenantId: p.tenantId,
    }));
  }

  /** Object ids of the zero-config app registration(s): none once `entra.applications` is configured. */
  zeroConfigPrincipalIds(): readonly string[] {
    return this.#config.applications === undefined ? this.servicePrincipals().map((p) => p.principalId) : [];
  }

  /**
   * Checks a presented client secret against the principal's secrets (constant time per secret):
   * `expired` when it matches one whose `expiresOn` has passed (AADSTS7000222), `invalid` otherwise.
   */
  checkSecret(principal: ServicePrincipal, presented: string): SecretCheck {
    const now = this.#clock.now();
    let expired = false;
    for (const secret of principal.secrets) {
      let value: string;
      try {
        value = secret.value();
      } catch {
        continue;
      }
      if (!secretMatches(value, presented)) continue;
      if (secret.expiresOn !== undefined && secret.expiresOn <= now) expired = true;
      else return 'ok';
    }
    return expired ? 'expired' : 'invalid';
  }

  /** The JWKS keys of a configured federated issuer, or undefined. */
  issuerKeys(issuer: string): readonly JWK[] | undefined {
    return this.#issuerKeys.get(issuer);
  }

  /** The keys that verify azimds's own tokens (workload issuer and Entra alike): the published key store keys. */
  async ownKeys(): Promise<readonly JWK[]> {
    await this.#keys.ready();
    return this.#keys.publicKeys().map((k) => ({ ...jwksKey(k), alg: 'RS256' }) as JWK);
  }

  /** Resources whose tokens are v2.0 (`entra.v2Resources`, compared ignoring one trailing slash and case). */
  wantsV2(resource: string): boolean {
    const norm = (r: string) => r.replace(/\/$/, '').toLowerCase();
    return this.#config.v2Resources.some((r) => norm(r) === norm(resource));
  }

  /** Lifetime of app-only tokens, seconds. */
  get tokenLifetimeSeconds(): number {
    return this.#config.tokenLifetimeSeconds;
  }
}

function readJwksFile(file: string): { keys: unknown[] } {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error('not a JWKS document ({"keys":[...]})');
    return { keys: parsed.keys };
  } catch (cause) {
    throw new AzimdsError('CONFIG_INVALID', `entra.federatedIssuers: ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
