import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ManagedIdentity } from '../../core/identities/identity.js';
import { SERVICE_FABRIC_API_VERSION } from '../../core/platforms/environment.js';
import type { EmulatorState } from '../../core/state.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { platformFaultError, serviceFabricError, serviceFabricErrors, statusCode } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { requestVm } from '../../server/request-vm.js';
import { platformListenerSpec } from '../shared/listener.js';
import {
  foreignSelector,
  isResource,
  mintToken,
  type Params,
  param,
  staticBody,
} from '../shared/token-request.js';

type ErrorEntry = readonly [number, string, string];

/**
 * Service Fabric's managed identity token service (protocols.md §7.5), over HTTPS with the emulator's
 * certificate (IDENTITY_SERVER_THUMBPRINT is its SHA-1): `GET /metadata/identity/oauth2/token
 * ?api-version=2019-07-01-preview&resource=...` with `secret: <IDENTITY_HEADER>`. Checks in the
 * documented order — secret header (before the verb), api-version, resource — with Service Fabric's
 * error body `{"error":{"correlationId","code","message"}}`. The application's identity is set in the
 * cluster, not per request (`platforms.serviceFabric.identity`); a request naming an identity is
 * refused (ManagedIdentityNotFound) rather than answered with another's.
 * Body: `{token_type, access_token, expires_on, resource}` (`expires_on` an epoch string).
 */
export const serviceFabricPlugin: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const fail = (reply: FastifyReply, [status, code, message]: ErrorEntry) =>
    sendWireError(reply, serviceFabricError(status, code, message));

  const token = async (request: FastifyRequest, reply: FastifyReply) => {
    const secret = request.headers.secret;
    if (typeof secret !== 'string' || secret === '')
      return fail(reply, serviceFabricErrors.secretHeaderNotFound);
    if (!state.platforms.secrets.matches('serviceFabric', secret)) {
      return fail(reply, serviceFabricErrors.managedIdentityNotFound);
    }
    if (request.method !== 'GET') {
      return sendWireError(
        reply,
        serviceFabricError(405, 'MethodNotAllowed', 'The token service answers GET requests only.'),
        { Allow: 'GET' },
      );
    }
    const query = request.query as Params;
    const version = param(query, 'api-version');
    if (version !== SERVICE_FABRIC_API_VERSION)
      return fail(reply, serviceFabricErrors.invalidApiVersion(version));
    const resource = param(query, 'resource');
    if (!isResource(resource)) return fail(reply, serviceFabricErrors.argumentNullOrEmpty);
    // The application's identity is set in the cluster; a request naming one gets no token of another.
    if (foreignSelector(query, [])) return fail(reply, serviceFabricErrors.managedIdentityNotFound);
    const identity = applicationIdentity(state, requestVm(state, request.raw).identities);
    if (!identity) return fail(reply, serviceFabricErrors.managedIdentityNotFound);
    const refresh = param(query, 'token_sha256_to_refresh');
    const result = await mintToken(state, request, identity, resource, false, refresh);
    if (!result.ok) {
      return result.failure.code === 'invalid-resource'
        ? fail(reply, [400, 'InvalidResource', result.failure.description])
        : fail(reply, serviceFabricErrors.internalServerError);
    }
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, serviceFabricTokenBody(result.token));
  };
  app.all('/metadata/identity/oauth2/token', token);
};

/** The identity the application has: `platforms.serviceFabric.identity` (client id, name or `system`), else the default one. */
export function applicationIdentity(
  state: EmulatorState,
  identities: EmulatorState['identities'] = state.identities,
): ManagedIdentity | undefined {
  const wanted = state.config.platforms.serviceFabric.identity?.toLowerCase();
  if (wanted === undefined) {
    const selection = identities.select([]);
    return selection.ok ? selection.identity : undefined;
  }
  const { systemAssigned, userAssigned } = identities.current;
  if (wanted === 'system') return systemAssigned;
  return userAssigned.find((u) => u.clientId === wanted || u.name.toLowerCase() === wanted);
}

/** Service Fabric's token body, keys in its documented order. */
export function serviceFabricTokenBody(token: AccessToken): Buffer {
  return staticBody(token, 'service-fabric', (t) => ({
    token_type: t.tokenType,
    access_token: t.accessToken,
    expires_on: String(t.expiresOn),
    resource: t.resource,
  }));
}

/** Service Fabric's HTTPS listener (default port 2377) with the certificate of `state.platforms`. */
export function serviceFabricListenerSpec(state: EmulatorState): ListenerSpec {
  const certificate = state.platforms.certificate();
  return platformListenerSpec(
    'serviceFabric',
    state,
    serviceFabricPlugin as never,
    {
      notFound: () => serviceFabricError(404, 'NotFound', 'The requested resource is not found.'),
      internal: () => serviceFabricError(...serviceFabricErrors.internalServerError),
      fault: (_request, status, retryAfter) => platformFaultError('service-fabric', status, retryAfter),
      refused: (status, message) => serviceFabricError(status, statusCode(status), message),
    },
    { https: { key: certificate.keyPem, cert: certificate.certPem } },
  );
}
