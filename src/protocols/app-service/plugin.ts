import type { FastifyPluginAsync } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import type { ListenerSpec } from '../../server/listener.js';
import {
  type AppServiceTokenVersion,
  appServiceSurfaceErrors,
  registerAppServiceTokenRoute,
} from '../shared/app-service-token.js';
import { platformListenerSpec } from '../shared/listener.js';
import { staticBody } from '../shared/token-request.js';

/** The two versions of App Service's protocol: header, selectors, and `expires_on` of each. */
const VERSIONS: Readonly<Record<string, AppServiceTokenVersion>> = {
  '2019-08-01': {
    header: 'x-identity-header',
    headerName: 'X-IDENTITY-HEADER',
    // principal_id and object_id are aliases (Go sends the first, msal the second): both at once are two.
    selectors: [
      ['client_id', 'clientId'],
      ['principal_id', 'principalId'],
      ['object_id', 'principalId'],
      ['mi_res_id', 'resourceId'],
    ],
    body: (token) =>
      staticBody(token, 'app-service-2019', (t) => ({
        access_token: t.accessToken,
        expires_on: String(t.expiresOn),
        resource: t.resource,
        token_type: t.tokenType,
        client_id: t.clientId,
      })),
  },
  '2017-09-01': {
    header: 'secret',
    headerName: 'secret',
    selectors: [['clientid', 'clientId']],
    body: (token, state) => {
      const windows = state.machine.compute('osType') === 'Windows';
      return staticBody(token, windows ? 'app-service-2017-windows' : 'app-service-2017-linux', (t) => ({
        access_token: t.accessToken,
        expires_on: appServiceDate(t.expiresOn, windows),
        resource: t.resource,
        token_type: t.tokenType,
      }));
    },
  },
};

/**
 * App Service's (and Functions', Container Apps') local token service (protocols.md §7.1, §7.2), both
 * versions on one path as App Service serves them:
 *
 * - `api-version=2019-08-01`: `X-IDENTITY-HEADER: <IDENTITY_HEADER>`; selectors `client_id`,
 *   `principal_id` / `object_id`, `mi_res_id`; body `{access_token, expires_on, resource, token_type,
 *   client_id}` with `expires_on` an epoch string.
 * - `api-version=2017-09-01`: `secret: <MSI_SECRET>`; selector `clientid`; `expires_on` a date string
 *   as App Service on Windows (`1/16/2020 5:24:12 AM +00:00`) or Linux (`01/16/2020 05:24:12 +00:00`)
 *   writes it, following the VM's `osType`.
 *
 * Errors are `{statusCode, message, correlationId}`. `token_sha256_to_refresh` (MSAL's revocation
 * signal) fetches a fresh token.
 */
export const appServicePlugin: FastifyPluginAsync<{ state: EmulatorState }> = async (app, { state }) => {
  registerAppServiceTokenRoute(app, {
    state,
    platform: 'appService',
    versions: VERSIONS,
    honourRefresh: true,
  });
};

/** App Service's listener (default port 42356, path `/msi/token`). */
export function appServiceListenerSpec(state: EmulatorState): ListenerSpec {
  return platformListenerSpec('appService', state, appServicePlugin as never, appServiceSurfaceErrors);
}

/**
 * `expires_on` of the 2017-09-01 protocol: the UTC time in .NET's en-US general format, as App
 * Service writes it — Windows `M/d/yyyy h:mm:ss AM +00:00`, Linux `MM/dd/yyyy HH:mm:ss +00:00`.
 */
export function appServiceDate(epochSeconds: number, windows: boolean): string {
  const d = new Date(epochSeconds * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const month = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const year = d.getUTCFullYear();
  const time = `${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  if (!windows) return `${two(month)}/${two(day)}/${year} ${two(d.getUTCHours())}:${time} +00:00`;
  const hours = d.getUTCHours();
  const h12 = hours % 12 === 0 ? 12 : hours % 12;
  return `${month}/${day}/${year} ${h12}:${time} ${hours < 12 ? 'AM' : 'PM'} +00:00`;
}
