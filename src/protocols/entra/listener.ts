import type { FastifyRequest } from 'fastify';
import type { EmulatorState } from '../../core/state.js';
import { internalServerError, oauthRefusal } from '../../errors.js';
import type { ListenerSpec } from '../../server/listener.js';
import { oidcPlugin } from '../oidc/plugin.js';
import { PUBLIC_CLOUD_HOSTS } from './instance-discovery.js';
import { entraNotFound, entraPlugin } from './plugin.js';

/**
 * The origin of a request to the `entra` surface: `https://<host>` when it came for one of Entra's
 * public-cloud hosts (through the proxy), else the direct endpoint's own address: the Host header when it
 * names this socket (`localhost` or the local address, with the local port), otherwise the local address.
 * Document URLs therefore never name a host the client did not use to reach azimds, and the
 * per-origin document cache stays bounded whatever Host headers arrive.
 */
export function entraOrigin(request: FastifyRequest): string {
  const host = (request.headers.host ?? '').toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d+))?$/.exec(host);
  const name = m?.[1] ?? '';
  if ((PUBLIC_CLOUD_HOSTS as readonly string[]).includes(name)) return `https://${name}`;
  const address = request.socket.localAddress ?? '127.0.0.1';
  const port = request.socket.localPort;
  const local = address.includes(':') ? `[${address}]` : address;
  const scheme = request.protocol;
  const sameSocket =
    (name === 'localhost' || name === local) && (m?.[2] === undefined || Number(m[2]) === port);
  return sameSocket ? `${scheme}://${host}` : `${scheme}://${local}${port ? `:${port}` : ''}`;
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
    // Host guard, timeouts and parser-level refusals in OAuth's shape, as Entra answers.
    errors: { notFound: () => entraNotFound, internal: () => internalServerError, refused: oauthRefusal },
    ...(overrides.serverOptions ? { serverOptions: overrides.serverOptions } : {}),
  };
}
