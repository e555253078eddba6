import type { FastifyPluginAsync } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { controlError, statusCode } from '../../errors.js';
import { lazyPlugin } from '../../server/lazy-surface.js';
import type { ListenerSpec } from '../../server/listener.js';
import { controlGuard } from './guard.js';

/** The control API's own listener, at `address` (see address.ts). */
export function controlListenerSpec(
  state: EmulatorState,
  address: { host: string; port: number },
): ListenerSpec {
  return {
    name: 'control',
    host: address.host,
    port: address.port,
    plugins: [
      // First: refuse foreign Host headers and cross-site changes on every route, 404s included.
      { plugin: guardPlugin(address.host, state.config.control.allowedHosts) as never },
      // Their modules load when the app is built: on the first request (server/lazy-surface.ts).
      {
        plugin: lazyPlugin(() => import('./plugin.js').then((m) => m.controlPlugin)) as never,
        options: { state },
      },
      // The dashboard page and its assets (docs/dashboard.md).
      {
        plugin: lazyPlugin(() => import('../dashboard/plugin.js').then((m) => m.dashboardPlugin)) as never,
        options: { state },
      },
    ],
    bodies: 'fastify',
    errors: {
      notFound: (request) =>
        controlError(
          404,
          'NotFound',
          `no control API operation ${request.method} ${request.url.split('?')[0]} (see docs/control-api.md)`,
        ),
      internal: () => controlError(500, 'InternalError', 'the emulator failed to handle this request'),
      refused: (status, message) => controlError(status, statusCode(status), message),
    },
    // The control listener's Host/Origin rules are its own (the dashboard's), not the Azure surfaces'.
    hostGuard: false,
  };
}

/** The guard as a root-level plugin (`skip-override`: its hook covers the whole listener). */
function guardPlugin(host: string, allowedHosts: readonly string[]): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onRequest', controlGuard(host, allowedHosts));
  };
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true });
}
