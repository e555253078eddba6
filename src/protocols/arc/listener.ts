import { ArcChallenges } from '../../core/platforms/arc-challenges.js';
import { platformHost } from '../../core/platforms/environment.js';
import type { EmulatorState } from '../../core/state.js';
import { apiNotFound, faultError, internalServerError } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { IMDS_HEADERS, imdsPlugin } from '../imds/plugin.js';
import { localTokenWarning } from '../shared/listener.js';
import { ArcMachine } from './instance.js';
import { arcTokenPlugin } from './plugin.js';

/**
 * Azure Arc's HIMDS listener (default port 40342): the token endpoint with its challenge handshake,
 * and instance metadata as an Arc-enabled server serves it, through the IMDS plugin over the Arc
 * view of the machine. Errors and headers are IMDS's, as HIMDS mirrors IMDS.
 */
export function arcListenerSpec(state: EmulatorState): ListenerSpec {
  const arc = state.config.platforms.arc;
  const challenges = new ArcChallenges({
    dir: state.platforms.arcTokenDir(),
    ttlSeconds: arc.secretTtlSeconds,
    clock: state.clock,
  });
  const arcState: EmulatorState = { ...state, machine: new ArcMachine(state.machine, arc) };
  return {
    name: 'arc',
    host: platformHost(state.config, 'arc'),
    port: arc.port,
    plugins: [
      { plugin: localTokenWarning },
      { plugin: imdsPlugin as never, options: { state: arcState } },
      { plugin: arcTokenPlugin as never, options: { state, arc, challenges } },
    ],
    errors: {
      notFound: (request) => apiNotFound(request.url.split('?')[0] ?? '/', request.method),
      internal: () => internalServerError,
      fault: (request, status, retryAfter) =>
        faultError(
          request.url.startsWith('/metadata/identity') ? 'identity' : 'metadata',
          status,
          retryAfter,
        ),
    },
    headers: IMDS_HEADERS,
  };
}
