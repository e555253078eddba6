import type { ManagedIdentity } from '../identities/identity.js';

/**
 * The seam between token endpoints and token sources. Every emulated platform (IMDS, Arc, App Service,
 * ...) asks a `TokenProvider` for `(identity, resource)` and renders the result in its own wire shape;
 * every source (the local issuer, a service principal, the az CLI, a static token) implements it.
 *
 * @example A source that hands out a fixed token
 * ```ts
 * const fixed: TokenProvider = {
 *   name: 'static',
 *   async getToken({ identity, resource }) {
 *     return { ok: true, token: { accessToken: 'eyJ…', resource, clientId: identity.clientId,
 *       tokenType: 'Bearer', notBefore: 1767225301, expiresOn: 1767312000, lifetimeSeconds: 86400 } };
 *   },
 * };
 * ```
 */
export interface TokenProvider {
  /** Short name for logs and errors (`local`, `service-principal`, ...). */
  readonly name: string;
  /**
   * A token for `request.identity` and `request.resource`. Expected failures (an unknown resource, an
   * upstream refusal) are returned as `{ ok: false }`; a thrown error is treated as an `upstream` failure.
   */
  getToken(request: TokenRequest): Promise<TokenResult>;
}

export interface TokenRequest {
  readonly identity: ManagedIdentity;
  /** The resource (audience) exactly as the client sent it; echoed back and, for local tokens, the `aud`. */
  readonly resource: string;
  /** A fresh token even if a cached one is still good (IMDS `bypass_cache=true`). */
  readonly bypassCache?: boolean;
  /**
   * MSAL's `token_sha256_to_refresh` (App Service, Service Fabric): the SHA-256 (hex) of a token the
   * client found revoked. A fresh token is fetched only when it names the cached one; else the cached
   * token is served.
   */
  readonly refreshIfSha256?: string;
}

/** An access token and what endpoints report about it. Times are epoch seconds. */
export interface AccessToken {
  /** The compact JWT. Never log it. */
  readonly accessToken: string;
  /** The resource as requested. */
  readonly resource: string;
  /** Client id of the identity the token is for. */
  readonly clientId: string;
  readonly tokenType: 'Bearer';
  /** `nbf` of the token (IMDS `not_before`). */
  readonly notBefore: number;
  /** `exp` of the token (IMDS `expires_on`). */
  readonly expiresOn: number;
  /** Lifetime as issued, in seconds (IMDS `ext_expires_in`). */
  readonly lifetimeSeconds: number;
}

/**
 * Why no token was issued; each platform maps the code to its own error body.
 * - `invalid-resource`: Entra does not know the resource (AADSTS500011);
 * - `upstream`: a real token source failed (network, refusal, timeout), `description` says why.
 */
export interface TokenFailure {
  readonly code: 'invalid-resource' | 'upstream';
  /** Text for the error body's description; never contains a secret. */
  readonly description: string;
  /** For `upstream`: what went wrong, for platforms whose error shape distinguishes it (see `UpstreamReason`). */
  readonly reason?: UpstreamReason;
  /** The configured source that failed (`sp-dev`, `azure-cli`, ...); absent for the local issuer. */
  readonly source?: string;
}

/**
 * Why a real token source failed:
 * - `timeout`: no answer within the source's timeout (the request was abandoned);
 * - `network`: the identity provider could not be reached (DNS, connection, TLS);
 * - `rejected`: it refused (bad credentials, no consent, `az login` needed) — retrying will not help;
 * - `unavailable`: it failed on its side (5xx, throttling, a tool that crashed) — a retry may succeed.
 */
export type UpstreamReason = 'timeout' | 'network' | 'rejected' | 'unavailable';

export type TokenResult =
  | { readonly ok: true; readonly token: AccessToken }
  | { readonly ok: false; readonly failure: TokenFailure };
