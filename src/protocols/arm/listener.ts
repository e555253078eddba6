import { DEFAULTS } from '../../config/defaults.js';
import type { Config } from '../../config/schema.js';
import type { EmulatorState } from '../../core/state.js';
import { armError, armErrors, armFaultError } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { armPlugin } from './plugin.js';

/** The direct endpoint's port for a resolved config (`arm.port`, else the IMDS port + 2; 0 stays 0). */
export function armPort(config: Config): number {
  if (config.arm.port !== undefined) return config.arm.port;
  const derived = config.imds.port === 0 ? 0 : config.imds.port + DEFAULTS.arm.portOffset;
  return derived > 65535 ? 0 : derived;
}

/**
 * TLS for the direct endpoint: the one seam the proxy branch's local CA fills (seams.md §1). Until it is
 * wired, the direct endpoint serves plain HTTP (the Azure SDKs refuse to send bearer tokens over it;
 * curl, `az rest` and the SDKs with `allowInsecureConnection` work).
 */
export function armServerOptions(_state: EmulatorState): Record<string, unknown> {
  return {};
}

/**
 * The `arm` surface (docs/arm.md): Azure Resource Manager over the world and its RBAC. The proxy routes
 * `management.azure.com` and `management.core.windows.net` here; `host`/`port` are the direct endpoint.
 */
export function armListenerSpec(state: EmulatorState): ListenerSpec {
  const { config } = state;
  return {
    name: 'arm',
    host: config.arm.host ?? config.host,
    port: armPort(config),
    plugins: [{ plugin: armPlugin as never, options: { state } }],
    errors: {
      notFound: (request) => armErrors.noRoute(request.method, request.url.split('?')[0] ?? '/'),
      internal: () => armError500,
      fault: (_request, status, retryAfter) => armFaultError(status, retryAfter),
    },
    serverOptions: { routerOptions: { maxParamLength: 4096 }, ...armServerOptions(state) },
  };
}

const armError500 = armError(
  500,
  'InternalServerError',
  'Encountered internal server error. Please try again.',
);
