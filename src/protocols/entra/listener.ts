import type { FastifyRequest } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { internalServerError } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { oidcPlugin } from '../oidc/plugin.js';
import { PUBLIC_CLOUD_HOSTS } from './instance-discovery.js';
import { entraNotFound, entraPlugin } from './plugin.js';

/**
 * The origin of a request to the `entra` surface: `https://<host>` when it came for one of Entra's
 * public-cloud hosts (through the proxy), else `<scheme>://<Host header>` of the direct endpoint.
 * The Host header is trusted only to choose among these: URLs in documents never name another host
 * than one a client used to reach azimds.
 */
export function entraOrigin(request: FastifyRequest): string {
  const scheme = request.protocol;
  const host = (request.headers.host ?? '').toLowerCase();
  const name = host.replace(/:\d+$/, '');
  if ((PUBLIC_CLOUD_HOSTS as readonly string[]).includes(name)) return `https://${name}`;
  const address = request.socket.localAddress ?? '127.0.0.1';
  const port = request.socket.localPort;
  const fallback = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  return `${scheme}://${/^[a-z0-9.-]+(:\d+)?$|^\[[0-9a-f:.]+\](:\d+)?$/.test(host) ? host : fallback}`;
}

/**
 * The `entra` surface (seams.md §1): Microsoft Entra ID's discovery, JWKS, instance discovery and token
 * endpoints, for `login.microsoftonline.com`, `login.windows.net` and `sts.windows.net` through the
 * proxy, or on a direct HTTPS endpoint. `port` 0 and no `serverOptions`: the proxy (or the caller,
 * e.g. a test giving `serverOptions.https`) decides where it listens. Document URLs follow the host the
 * client asked for, so msal's issuer and assertion-audience checks pass either way.
 */
export function entraListenerSpec(
  state: EmulatorState,
  overrides: Partial<Pick<ListenerSpec, 'host' | 'port' | 'serverOptions'>> = {},
): ListenerSpec {
  const baseUrl = entraOrigin;
  return {
    name: 'entra',
    host: overrides.host ?? state.config.host,
    port: overrides.port ?? 0,
    plugins: [
      { plugin: oidcPlugin as never, options: { state, baseUrl } },
      { plugin: entraPlugin as never, options: { state, baseUrl } },
    ],
    errors: { notFound: () => entraNotFound, internal: () => internalServerError },
    ...(overrides.serverOptions ? { serverOptions: overrides.serverOptions } : {}),
  };
}
