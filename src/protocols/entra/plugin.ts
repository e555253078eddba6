import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { jwksKey } from '../../core/tokens/keys.js';
import { entraError, entraErrors, jsonError } from '../../errors.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { publicBaseUrl } from '../oidc/plugin.js';
import { instanceDiscovery, PUBLIC_CLOUD_HOSTS } from './instance-discovery.js';
import { clientCredentialsToken, type EndpointVersion } from './token-endpoint.js';

export interface EntraPluginOptions {
  state: EmulatorState;
  /**
   * The origin clients reach this listener at, for a request (the OIDC plugin's `baseUrl` too).
   * Default: the IMDS listener's address (`publicBaseUrl`).
   */
  baseUrl?: (request: FastifyRequest) => string;
  /** Serve azimds's workload-identity issuer (discovery + JWKS) and learn its URL when listening (the IMDS listener). */
  workloadIssuer?: boolean;
}

/** Entra's headers on token responses (never cached), and on its errors. */
const TOKEN_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store, no-cache',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
};

const DISCOVERY_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'max-age=86400, private',
  'access-control-allow-origin': '*',
};

type TenantParams = { tenant: string };

/**
 * Microsoft Entra ID's endpoints for app-only tokens (docs/entra.md), beside the OIDC plugin's
 * discovery and JWKS:
 *
 * - `GET /common/discovery/instance` — instance discovery (MSAL asks it before trusting an authority);
 * - `POST /{tenant}/oauth2/token` (v1, `resource=`) and `POST /{tenant}/oauth2/v2.0/token` (v2.0,
 *   `scope=<resource>/.default`) — `grant_type=client_credentials` with a client secret (form or HTTP
 *   Basic), a certificate assertion or a federated assertion; other verbs get AADSTS900561;
 * - with `workloadIssuer`: `GET /workload-identity/.well-known/openid-configuration` and
 *   `GET /workload-identity/openid/v1/jwks` — azimds's cluster service-account issuer.
 *
 * `{tenant}` is the tenant id, its `<name>.onmicrosoft.com` domain, `organizations` or `common`.
 */
export const entraPlugin: FastifyPluginAsync<EntraPluginOptions> = async (app, options) => {
  const { state } = options;
  const baseUrl = options.baseUrl ?? (() => publicBaseUrl(app, state));

  app.get('/common/discovery/instance', (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const body = Buffer.from(JSON.stringify(instanceDiscovery(query.authorization_endpoint)));
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, body, DISCOVERY_HEADERS);
  });

  const token =
    (version: EndpointVersion) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const { tenant } = request.params as TenantParams;
      const correlationId = correlationOf(request);
      const headers = {
        ...TOKEN_HEADERS,
        'client-request-id': correlationId,
        'x-ms-request-id': randomUUID(),
      };
      if (request.method !== 'POST') {
        return sendWireError(
          reply,
          entraError(entraErrors.postOnly(request.method), state.clock.now(), correlationId),
          headers,
        );
      }
      const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
      const origin = baseUrl(request);
      const result = await clientCredentialsToken(state, {
        version,
        tenant,
        form: new URLSearchParams(body),
        authorization: request.headers.authorization,
        isTokenEndpoint: (audience) => isTokenEndpoint(audience, origin, state),
      });
      if (!result.ok)
        return sendWireError(reply, entraError(result.failure, state.clock.now(), correlationId), headers);
      return sendBytes(reply, 200, JSON_CONTENT_TYPE, Buffer.from(JSON.stringify(result.body)), headers);
    };
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
  app.route({ method: methods, url: '/:tenant/oauth2/token', handler: token('v1') });
  app.route({ method: methods, url: '/:tenant/oauth2/v2.0/token', handler: token('v2') });

  if (options.workloadIssuer) {
    const { workloadIssuer } = state.directory;
    app.addHook('onListen', async () => {
      if (!state.config.entra.workloadIssuer.url) workloadIssuer.bind(publicBaseUrl(app, state));
    });
    app.get('/workload-identity/.well-known/openid-configuration', (_request, reply) =>
      sendBytes(
        reply,
        200,
        JSON_CONTENT_TYPE,
        Buffer.from(JSON.stringify(workloadIssuer.discovery())),
        DISCOVERY_HEADERS,
      ),
    );
    app.get('/workload-identity/openid/v1/jwks', async (_request, reply) => {
      await state.tokens.keys.ready();
      const keys = state.tokens.keys.publicKeys().map((k) => {
        const { kty, use, kid, n, e } = jwksKey(k);
        return { kty, use, kid, alg: 'RS256', n, e };
      });
      return sendBytes(
        reply,
        200,
        JSON_CONTENT_TYPE,
        Buffer.from(JSON.stringify({ keys })),
        DISCOVERY_HEADERS,
      );
    });
  }
};

/** The client's correlation id (`client-request-id` header or query, as MSAL sends it), else a new one. */
function correlationOf(request: FastifyRequest): string {
  const header = request.headers['client-request-id'];
  const query = (request.query as Record<string, string | undefined>)['client-request-id'];
  const value = (Array.isArray(header) ? header[0] : header) ?? query;
  return value && /^[0-9A-Za-z-]{1,64}$/.test(value) ? value : randomUUID();
}

/**
 * Whether a certificate assertion's `aud` names this tenant's token endpoint: `https://<host>/<tenant>/oauth2[/v2.0]/token`
 * (or the v2.0 issuer `https://<host>/<tenant>/v2.0`, which MSAL libraries also use), where `<host>`
 * is one of Entra's public-cloud hosts or the origin this listener is reached at, and `<tenant>` is this tenant.
 */
export function isTokenEndpoint(audience: string, origin: string, state: EmulatorState): boolean {
  let url: URL;
  try {
    url = new URL(audience);
  } catch {
    return false;
  }
  const host = url.host.toLowerCase();
  const own = new URL(origin).host.toLowerCase();
  if (!(PUBLIC_CLOUD_HOSTS as readonly string[]).includes(host) && host !== own) return false;
  const m = /^\/([^/]+)\/(?:oauth2\/(?:v2\.0\/)?token|v2\.0)\/?$/.exec(url.pathname);
  return m !== null && state.directory.resolveTenant(m[1] as string) !== undefined;
}

/** 404 of the `entra` surface for a path it does not serve (Entra answers unknown paths with a 404 page; azimds with JSON). */
export const entraNotFound = jsonError(404, {
  error: 'not_found',
  error_description:
    'The requested endpoint is not served by this Microsoft Entra ID emulator (docs/entra.md).',
});
