import type { FastifyPluginAsync } from 'fastify';
import type { PlatformId } from '../../core/platforms/catalog.js';
import { platformHost } from '../../core/platforms/environment.js';
import type { EmulatorState } from '../../core/state.js';
import { warnLocalTokensOnce } from '../../core/tokens/local-warning.js';
import type { ListenerSpec, SurfaceErrors } from '../../server/listener.js';

/**
 * The listener of a token-only platform: its own port, bound to `platformHost` (`platforms.<id>.host`,
 * else the top-level `host` unless that is IMDS's link-local address). Paths match whatever their case and trailing slash (`/MSI/token/` on Windows App Service is
 * `/msi/token` on Linux; msal-node appends a slash to some endpoints).
 */
export function platformListenerSpec(
  id: PlatformId,
  state: EmulatorState,
  plugin: FastifyPluginAsync<never>,
  errors: SurfaceErrors,
  serverOptions: Record<string, unknown> = {},
): ListenerSpec {
  const config = state.config.platforms[id];
  return {
    name: id,
    host: platformHost(state.config, id),
    port: config.port,
    plugins: [{ plugin: localTokenWarning }, { plugin, options: { state } }],
    errors,
    serverOptions: {
      routerOptions: { maxParamLength: 4096, caseSensitive: false, ignoreTrailingSlash: true },
      ...serverOptions,
    },
  };
}

/** Warns once per process that tokens are minted locally (as the IMDS token endpoint does), whichever surface starts first. */
export const localTokenWarning: FastifyPluginAsync<never> = async (app) => {
  warnLocalTokensOnce(app.log);
};
