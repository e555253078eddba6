import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { jwksKey } from '../../core/tokens/keys.js';
import { tenantNotFound } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { type DiscoveryInput, discoveryV1, discoveryV2, jwks } from './documents.js';

export interface OidcPluginOptions {
  state: EmulatorState;
  /** The origin clients reach this listener at, per request (the `entra` surface); default `publicBaseUrl`. */
  baseUrl?: (request: FastifyRequest) => string;
}

/** Entra's headers on discovery responses: browsers may fetch them, verifiers may cache them for a day. */
const HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'max-age=86400, private',
  'access-control-allow-origin': '*',
};

/** Tenant segments Entra accepts besides a tenant id; their documents carry a `{tenantid}` placeholder. */
const MULTI_TENANT = new Set(['common', 'organizations']);

type TenantParams = { tenant: string };

/**
 * OpenID Connect discovery for the local issuer, so any JWT library verifies azimds's tokens the way
 * it verifies Entra's: point its authority (metadata URL) at azimds instead of login.microsoftonline.com.
 *
 * - `GET /{tenant}/.well-known/openid-configuration` (v1; `issuer` = the tokens' `iss`)
 * - `GET /{tenant}/v2.0/.well-known/openid-configuration` (v2.0)
 * - `GET /{tenant}/discovery/keys`, `GET /{tenant}/discovery/v2.0/keys` (JWKS: the signing key and
 *   retired keys whose tokens may still be valid)
 *
 * `{tenant}` is the configured tenant id, its domain (`entra.domain`), `common` or `organizations`. URLs
 * in the documents come from `tokens.publicUrl` or the address the listener is bound to, never from the
 * request's Host header; the `entra` surface passes `baseUrl`, which picks among Entra's hosts and its
 * own address only (protocols/entra/listener.ts).
 */
export const oidcPlugin: FastifyPluginAsync<OidcPluginOptions> = async (
  app,
  { state, baseUrl: originOf },
) => {
  const documents = new Map<string, Buffer>();
  let keysSignature = '';
  let keysBody = Buffer.alloc(0);

  /** The tenant segment as served, or undefined for a tenant azimds does not have. */
  const tenantOf = (request: FastifyRequest): string | undefined => {
    const { tenant } = request.params as TenantParams;
    const lower = tenant.toLowerCase();
    if (lower === state.identities.tenantId || MULTI_TENANT.has(lower)) return lower;
    // The tenant's domain (`<name>.onmicrosoft.com`) names it too; documents then carry the tenant id.
    return state.directory.resolveTenant(lower);
  };

  const discovery =
    (version: 'v1' | 'v2') =>
    (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
      const tenant = tenantOf(request);
      if (!tenant) return sendWireError(reply, tenantNotFound((request.params as TenantParams).tenant));
      const baseUrl = originOf?.(request) ?? publicBaseUrl(app, state);
      const key = `${version}|${tenant}|${baseUrl}|${state.identities.tenantId}`;
      let body = documents.get(key);
      if (!body) {
        const issuers = state.tokens.issuers(MULTI_TENANT.has(tenant) ? '{tenantid}' : tenant);
        const input: DiscoveryInput = { baseUrl, tenant, issuer: issuers[version] };
        body = Buffer.from(JSON.stringify(version === 'v1' ? discoveryV1(input) : discoveryV2(input)));
        documents.set(key, body);
      }
      return sendBytes(reply, 200, JSON_CONTENT_TYPE, body, HEADERS);
    };

  const keys = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (!tenantOf(request))
      return sendWireError(reply, tenantNotFound((request.params as TenantParams).tenant));
    // Memory keys may still be generating in the background right after start.
    await state.tokens.keys.ready();
    const published = state.tokens.keys.publicKeys();
    const signature = published.map((k) => k.kid).join(',');
    if (signature !== keysSignature) {
      keysBody = Buffer.from(JSON.stringify(jwks(published.map(jwksKey))));
      keysSignature = signature;
    }
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, keysBody, HEADERS);
  };

  app.get('/:tenant/.well-known/openid-configuration', discovery('v1'));
  app.get('/:tenant/v2.0/.well-known/openid-configuration', discovery('v2'));
  app.get('/:tenant/discovery/keys', keys);
  app.get('/:tenant/discovery/v2.0/keys', keys);
};

/**
 * Where clients reach this listener: `tokens.publicUrl` if set, else the bound address (a wildcard
 * bind is reached on loopback), else (not listening, as in `inject()` tests) the configured IMDS address.
 */
export function publicBaseUrl(app: FastifyInstance, state: EmulatorState): string {
  const configured = state.config.tokens.publicUrl;
  if (configured) return configured.replace(/\/+$/, '');
  const address = app.server.address();
  const { imds, host } = state.config;
  const ip = address && typeof address === 'object' ? address.address : (imds.host ?? host);
  const port = address && typeof address === 'object' ? address.port : imds.port;
  const reachable = ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
