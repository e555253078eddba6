import { DEFAULTS } from '../../config/defaults.js';
import type { Config } from '../../config/schema.js';
import type { EmulatorState } from '../../core/state.js';
import { armError, armErrors, armFaultError, statusCode } from '../../errors.js';
import { lazyPlugin } from '../../server/lazy-surface.js';
import type { ListenerSpec } from '../../server/listener.js';

/**
 * The direct endpoint's port for a resolved config: `arm.port`, else the IMDS port + 3 (a port past
 * 65535: a free one); none when IMDS has port 0 (the library), where the proxy serves ARM unless
 * `arm.port` asks for a direct endpoint too (its TLS costs a CA and a key at start).
 */
export function armPort(config: Config): number | undefined {
  if (config.arm.port !== undefined) return config.arm.port;
  if (config.imds.port === 0) return undefined;
  const derived = config.imds.port + DEFAULTS.arm.portOffset;
  return derived > 65535 ? 0 : derived;
}

/**
 * The `arm` surface (docs/arm.md): Azure Resource Manager over the world and its RBAC. The proxy routes
 * `management.azure.com` and `management.core.windows.net` here; `host`/`port` are the direct endpoint.
 */
export function armListenerSpec(state: EmulatorState): ListenerSpec {
  const { config } = state;
  const port = armPort(config);
  const host = config.arm.host ?? config.host;
  return {
    name: 'arm',
    host,
    ...(port === undefined ? {} : { port }),
    // Loaded when the surface's app is built (through the proxy: on its first request).
    plugins: [
      {
        plugin: lazyPlugin(() => import('./plugin.js').then((m) => m.armPlugin)) as never,
        options: { state },
      },
    ],
    errors: {
      notFound: (request) => armErrors.noRoute(request.method, request.url.split('?')[0] ?? '/'),
      internal: () => armError500,
      fault: (_request, status, retryAfter) => armFaultError(status, retryAfter),
      // Host guard, timeouts and parser-level refusals in ARM's shape.
      refused: (status, message) => armError(status, statusCode(status), message),
    },
    // The direct endpoint speaks TLS with the local CA's leaf (any name by SNI; `host` without SNI).
    serverOptions: {
      routerOptions: { maxParamLength: 4096 },
      ...(port === undefined ? {} : { https: state.localCa.serverOptions(host) }),
    },
  };
}

const armError500 = armError(
  500,
  'InternalServerError',
  'Encountered internal server error. Please try again.',
);
