import type { FastifyPluginAsync } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import type { AccessToken } from '../../core/tokens/provider.js';
import { azureMlSecretRejected } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { appServiceSurfaceErrors, registerAppServiceTokenRoute } from '../shared/app-service-token.js';
import { platformListenerSpec } from '../shared/listener.js';
import { staticBody } from '../shared/token-request.js';

/** Azure ML's only api-version (App Service's 2017 protocol, which it descends from). */
export const AZURE_ML_API_VERSION = '2017-09-01';

/**
 * Azure Machine Learning compute's token service (protocols.md §7.6; no public protocol doc, shape from
 * the SDKs): `GET {MSI_ENDPOINT}?api-version=2017-09-01&resource=...&clientid=...` with
 * `secret: <MSI_SECRET>`. The SDKs always send `clientid`: DEFAULT_IDENTITY_CLIENT_ID for the default
 * identity, or a user-assigned identity's client id (the only selector Azure ML takes). Body
 * `{access_token, expires_on, resource, token_type, client_id}` with `expires_on` a number — unlike
 * App Service's 2017 date string. Errors in App Service's shape, except a missing or wrong secret,
 * refused first (before the verb) in Azure ML's plain text `Invalid secret token header: <received>`.
 */
export const azureMlPlugin: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  registerAppServiceTokenRoute(app, {
    state,
    platform: 'azureMl',
    versions: {
      [AZURE_ML_API_VERSION]: {
        header: 'secret',
        headerName: 'secret',
        selectors: [['clientid', 'clientId']],
        body: azureMlTokenBody,
      },
    },
    honourRefresh: false,
    secretRefused: azureMlSecretRejected,
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
  return platformListenerSpec('azureMl', state, azureMlPlugin as never, appServiceSurfaceErrors);
}
