import type { JwksKey } from '../../core/tokens/keys.js';

/** The issuers and URLs a discovery document names. */
export interface DiscoveryInput {
  /** Base URL where azimds serves discovery (config `tokens.publicUrl`, else the listener's address). */
  baseUrl: string;
  /** Tenant segment as requested (`<tenant id>`, `common`, `organizations`). */
  tenant: string;
  /** `issuer` of the document. */
  issuer: string;
}

const AUTH_METHODS = ['client_secret_post', 'private_key_jwt', 'client_secret_basic'];
const RESPONSE_TYPES = ['code', 'id_token', 'code id_token', 'id_token token'];
const CLAIMS = ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'appid', 'azp', 'idtyp', 'xms_mirid'];

/**
 * Entra's v1 discovery document (`/{tenant}/.well-known/openid-configuration`), with azimds's URLs.
 * What verifiers read: `issuer` and `jwks_uri`. Endpoints such as `token_endpoint` are listed because
 * OpenID Connect Discovery requires them; azimds does not serve them.
 */
export function discoveryV1({ baseUrl, tenant, issuer }: DiscoveryInput): Record<string, unknown> {
  return {
    token_endpoint: `${baseUrl}/${tenant}/oauth2/token`,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    jwks_uri: `${baseUrl}/common/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: RESPONSE_TYPES,
    scopes_supported: ['openid'],
    issuer,
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${baseUrl}/${tenant}/oauth2/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${baseUrl}/${tenant}/oauth2/logout`,
    claims_supported: CLAIMS,
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/** Entra's v2.0 discovery document (`/{tenant}/v2.0/.well-known/openid-configuration`). */
export function discoveryV2({ baseUrl, tenant, issuer }: DiscoveryInput): Record<string, unknown> {
  return {
    token_endpoint: `${baseUrl}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    jwks_uri: `${baseUrl}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: RESPONSE_TYPES,
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${baseUrl}/${tenant}/oauth2/v2.0/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${baseUrl}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: CLAIMS,
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/** A JWKS document. */
export function jwks(keys: readonly JwksKey[]): { keys: readonly JwksKey[] } {
  return { keys };
}
