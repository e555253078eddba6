import type { FastifyPluginAsync } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { apiNotFound, jsonError, oauthRefusal } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { registerFormTokenRoutes } from '../shared/form-token.js';
import { platformListenerSpec } from '../shared/listener.js';

/**
 * The legacy managed identity VM extension (ManagedIdentityExtensionForLinux/Windows), deprecated in
 * favour of IMDS: `POST /oauth2/token` with `Metadata: true` and a form `resource=...` (scripts also
 * sent it as a GET query), optionally `client_id`, `object_id` or `msi_res_id` for a user-assigned
 * identity, answered with the extension's body (docs/platforms/vm-extension.md).
 */
export const vmExtensionPlugin: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  registerFormTokenRoutes(app, {
    state,
    methods: ['GET', 'POST'],
    selectors: [
      ['client_id', 'clientId'],
      ['object_id', 'principalId'],
      ['msi_res_id', 'resourceId'],
    ],
  });
};

/** The extension's listener (default port 50342, its `settings.port`). */
export function vmExtensionListenerSpec(state: EmulatorState): ListenerSpec {
  return platformListenerSpec('vmExtension', state, vmExtensionPlugin as never, {
    notFound: (request) => apiNotFound(request.url.split('?')[0] ?? '/', request.method),
    internal: () => jsonError(500, { error: 'unknown', error_description: 'Internal server error' }),
    refused: oauthRefusal,
  });
}
