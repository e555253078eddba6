import type { EmulatorState } from '../../core/state.js';
import { controlError, statusCode } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { controlPlugin } from './plugin.js';

/** The control API's own listener, at `address` (see address.ts). */
export function controlListenerSpec(
  state: EmulatorState,
  address: { host: string; port: number },
): ListenerSpec {
  return {
    name: 'control',
    host: address.host,
    port: address.port,
    plugins: [{ plugin: controlPlugin as never, options: { state } }],
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
