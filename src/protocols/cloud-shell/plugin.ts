import type { FastifyPluginAsync } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { apiNotFound, jsonError, oauthRefusal } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { registerFormTokenRoutes } from '../shared/form-token.js';
import { platformListenerSpec } from '../shared/listener.js';

/**
 * Azure Cloud Shell's MSI endpoint (MSI_ENDPOINT=http://localhost:50342/oauth2/token): `POST` with
 * `Metadata: true` and a form `resource=...`, or `GET` with `resource` in the query (Cloud Shell answers
 * both: msal4j switched to GET, AzureAD/microsoft-authentication-library-for-java#814, and Microsoft's
 * PowerShell sample uses it), answered as the VM extension it descends from. Cloud Shell has one
 * identity per session: the default identity answers, and a request naming an identity is refused
 * (`Identity not found`) rather than answered with another's (docs/platforms/cloud-shell.md).
 */
export const cloudShellPlugin: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  registerFormTokenRoutes(app, { state, methods: ['GET', 'POST'], selectors: [] });
};

/** Cloud Shell's listener (default port 50342: not together with the VM extension on the same port). */
export function cloudShellListenerSpec(state: EmulatorState): ListenerSpec {
  return platformListenerSpec('cloudShell', state, cloudShellPlugin as never, {
    notFound: (request) => apiNotFound(request.url.split('?')[0] ?? '/', request.method),
    internal: () => jsonError(500, { error: 'unknown', error_description: 'Internal server error' }),
    refused: oauthRefusal,
  });
}
