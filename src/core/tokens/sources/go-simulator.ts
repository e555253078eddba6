import type { TokenProvider, TokenRequest, TokenResult } from '../provider.js';
import type { ServicePrincipalSource } from './service-principal.js';

/**
 * The Go simulator's service principals as one source: a request for the identity whose client id is a
 * service principal's gets that service principal's token; any other (the system-assigned identity, an
 * identity attached later) gets the first one's, as the Go tool used its first entry when the request
 * named no client_id. config/go-simulator.ts gives each service principal its identity.
 */
export class GoServicePrincipals implements TokenProvider {
  readonly name = 'service-principal';
  readonly #byClientId: ReadonlyMap<string, ServicePrincipalSource>;
  readonly #first: ServicePrincipalSource;

  /** `principals`: client id → source, in the file's order (the first is the default). */
  constructor(principals: ReadonlyArray<readonly [string, ServicePrincipalSource]>) {
    const first = principals[0];
    if (!first) throw new Error('no service principals');
    this.#first = first[1];
    this.#byClientId = new Map(principals.map(([id, source]) => [id.toLowerCase(), source]));
  }

  getToken(request: TokenRequest): Promise<TokenResult> {
    const source = this.#byClientId.get(request.identity.clientId.toLowerCase()) ?? this.#first;
    return source.getToken(request);
  }
}
