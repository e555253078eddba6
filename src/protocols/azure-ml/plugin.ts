import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SelectionError } from '../../core/identities/identity.js';
import type { EmulatorState } from '../../core/state.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { appServiceError, appServiceMessages, platformFaultError } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { JSON_CONTENT_TYPE, sendBytes, sendWireError } from '../../server/reply.js';
import { platformListenerSpec } from '../shared/listener.js';
import {
  isResource,
  mintToken,
  type Params,
  param,
  selectorsFrom,
  staticBody,
} from '../shared/token-request.js';

/** Azure ML's only api-version (App Service's 2017 protocol, which it descends from). */
export const AZURE_ML_API_VERSION = '2017-09-01';

const selectionMessages: Record<SelectionError, string> = {
  'identity-not-found': appServiceMessages.identityNotFound,
  'multiple-user-assigned': appServiceMessages.identityNotFound,
  'several-selectors': appServiceMessages.severalSelectors,
};

/**
 * Azure Machine Learning compute's token service (protocols.md §7.6; no public protocol doc, shape from
 * the SDKs): `GET {MSI_ENDPOINT}?api-version=2017-09-01&resource=...&clientid=...` with
 * `secret: <MSI_SECRET>`. The SDKs always send `clientid`: DEFAULT_IDENTITY_CLIENT_ID for the default
 * identity, or a user-assigned identity's client id (the only selector Azure ML takes). Body
 * `{access_token, expires_on, resource, token_type, client_id}` with `expires_on` a number — unlike
 * App Service's 2017 date string. Errors in App Service's shape.
 */
export const azureMlPlugin: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  const fail = (reply: FastifyReply, status: number, message: string) =>
    sendWireError(reply, appServiceError(status, message));

  app.all(state.config.platforms.azureMl.path, async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'GET') {
      reply.header('allow', 'GET');
      return fail(reply, 405, appServiceMessages.methodNotAllowed);
    }
    const query = request.query as Params;
    const version = param(query, 'api-version');
    if (version !== AZURE_ML_API_VERSION) {
      return fail(reply, 400, appServiceMessages.apiVersionInvalid(version, AZURE_ML_API_VERSION));
    }
    const secret = request.headers.secret;
    if (typeof secret !== 'string' || secret === '') {
      return fail(reply, 400, appServiceMessages.headerMissing('secret'));
    }
    if (!state.platforms.secrets.matches('azureMl', secret)) {
      return fail(reply, 401, appServiceMessages.headerInvalid('secret'));
    }
    const resource = param(query, 'resource');
    if (!isResource(resource)) return fail(reply, 400, appServiceMessages.resourceMissing);
    const selection = state.identities.select(selectorsFrom(query, [['clientid', 'clientId']]));
    if (!selection.ok) return fail(reply, 400, selectionMessages[selection.error]);
    const result = await mintToken(state, request, selection.identity, resource);
    if (!result.ok) {
      const status = result.failure.code === 'invalid-resource' ? 400 : 500;
      return fail(reply, status, appServiceMessages.tokenFailed(result.failure.description));
    }
    return sendBytes(reply, 200, JSON_CONTENT_TYPE, azureMlTokenBody(result.token));
  });
};

/** Azure ML's token body: `expires_on` an integer. */
export function azureMlTokenBody(token: AccessToken): Buffer {
  return staticBody(token, 'azure-ml', (t) => ({
    access_token: t.accessToken,
    expires_on: t.expiresOn,
    resource: t.resource,
    token_type: t.tokenType,
    client_id: t.clientId,
  }));
}

/** Azure ML's listener (default port 46808, path `/MSI/auth`). */
export function azureMlListenerSpec(state: EmulatorState): ListenerSpec {
  return platformListenerSpec('azureMl', state, azureMlPlugin as never, {
    notFound: () => appServiceError(404, 'The requested resource is not found.'),
    internal: () => appServiceError(500, 'An error occurred.'),
    fault: (_request, status, retryAfter) => platformFaultError('app-service', status, retryAfter),
  });
}
