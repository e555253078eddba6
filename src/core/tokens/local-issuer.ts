import type { Clock } from '../clock.js';
import { accessTokenClaims, isIssuableResource } from './claims.js';
import { signJwt } from './jwt.js';
import type { KeyStore } from './key-store.js';
import type { TokenProvider, TokenRequest, TokenResult } from './provider.js';

export interface LocalIssuerOptions {
  keys: KeyStore;
  /** The emulator's clock: `iat`/`nbf`/`exp` follow it, so tests can move time. */
  clock: Clock;
  lifetimeSeconds: number;
  /** `iss` template; `{tenantId}` is replaced by the identity's tenant. */
  issuer: string;
}

/**
 * The local token source: mints Entra-shaped managed-identity access tokens (see `accessTokenClaims`),
 * signed RS256 with the key store's signing key. Tokens verify against azimds's JWKS and nowhere else.
 */
export class LocalIssuer implements TokenProvider {
  readonly name = 'local';
  readonly #options: LocalIssuerOptions;

  constructor(options: LocalIssuerOptions) {
    this.#options = options;
  }

  /** `iss` of tokens for identities of `tenantId`. */
  issuerFor(tenantId: string): string {
    return this.#options.issuer.replaceAll('{tenantId}', tenantId);
  }

  /** Mints a token now (no cache). */
  async mint({ identity, resource }: TokenRequest): Promise<TokenResult> {
    if (!isIssuableResource(resource)) {
      return {
        ok: false,
        failure: {
          code: 'invalid-resource',
          description: `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${identity.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
        },
      };
    }
    const { keys, clock, lifetimeSeconds } = this.#options;
    const now = Math.floor(clock.now() / 1000);
    const claims = accessTokenClaims({
      identity,
      resource,
      issuer: this.issuerFor(identity.tenantId),
      now,
      lifetimeSeconds,
    });
    return {
      ok: true,
      token: {
        accessToken: await signJwt(keys.signingKey(), claims),
        resource,
        clientId: identity.clientId,
        tokenType: 'Bearer',
        notBefore: claims.nbf as number,
        expiresOn: claims.exp as number,
        lifetimeSeconds,
      },
    };
  }

  async getToken(request: TokenRequest): Promise<TokenResult> {
    await this.#options.keys.ready();
    return this.mint(request);
  }
}
