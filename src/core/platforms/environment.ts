import type { Config } from '../../config/schema.js';
import type { IdentityDirectory } from '../identities/directory.js';
import type { PlatformId, TokenPlatform } from './catalog.js';
import type { Platforms } from './platforms.js';

/**
 * Every variable by which the Azure SDKs pick a managed-identity source (protocols.md §7.0). A
 * platform's environment sets its own and unsets the others: msal-node, azure-identity and azidentity
 * check them in a fixed order, so a leftover IDENTITY_ENDPOINT would send code to App Service.
 */
export const MANAGED_IDENTITY_VARIABLES = [
  'AZURE_POD_IDENTITY_AUTHORITY_HOST',
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'IDENTITY_SERVER_THUMBPRINT',
  'IDENTITY_API_VERSION',
  'IMDS_ENDPOINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
  'DEFAULT_IDENTITY_CLIENT_ID',
] as const;

/** Hosts clients must reach without a proxy (Azure requires it for IMDS; the platforms are local too). */
export const NO_PROXY_HOSTS = '127.0.0.1,localhost,169.254.169.254';

/** Paths of the token endpoints the variables point at. */
export const TOKEN_PATHS = {
  arc: '/metadata/identity/oauth2/token',
  vmExtension: '/oauth2/token',
  cloudShell: '/oauth2/token',
  serviceFabric: '/metadata/identity/oauth2/token',
} as const;

/** Service Fabric's only api-version (IDENTITY_API_VERSION). */
export const SERVICE_FABRIC_API_VERSION = '2019-07-01-preview';

/** The environment of code running on a platform: variables to set, in order, and variables to unset. */
export interface PlatformEnvironment {
  readonly set: ReadonlyArray<readonly [string, string]>;
  readonly unset: readonly string[];
}

/**
 * The variables that make unmodified Azure SDK code get its tokens from azimds as if it ran on
 * `platform`, for an emulator whose listener for it is at `url` (e.g. `http://127.0.0.1:40342`).
 *
 * - `imds`: AZURE_POD_IDENTITY_AUTHORITY_HOST (the IMDS host of every SDK's IMDS source).
 * - `arc`: IDENTITY_ENDPOINT + IMDS_ENDPOINT.
 * - `vmExtension`: MSI_ENDPOINT, the variable legacy clients (msrestazure, the old az CLI) honour for
 *   the extension's URL; current SDKs take it for Cloud Shell, whose protocol the extension speaks.
 * - `appService`: IDENTITY_ENDPOINT + IDENTITY_HEADER and MSI_ENDPOINT + MSI_SECRET (both versions, as App Service sets).
 * - `cloudShell`: MSI_ENDPOINT.
 * - `serviceFabric`: IDENTITY_ENDPOINT, IDENTITY_HEADER, IDENTITY_SERVER_THUMBPRINT, IDENTITY_API_VERSION,
 *   and NODE_EXTRA_CA_CERTS so Node trusts the self-signed certificate (Node reads it at start-up only).
 * - `azureMl`: MSI_ENDPOINT + MSI_SECRET + DEFAULT_IDENTITY_CLIENT_ID (the default identity's client id).
 *
 * Every platform also gets NO_PROXY.
 */
export function platformEnvironment(
  platform: TokenPlatform,
  url: string,
  context: { config: Config; platforms: Platforms; identities: IdentityDirectory },
): PlatformEnvironment {
  const { config, platforms } = context;
  const set: Array<[string, string]> = [];
  switch (platform) {
    case 'imds':
      set.push(['AZURE_POD_IDENTITY_AUTHORITY_HOST', url]);
      break;
    case 'arc':
      set.push(['IDENTITY_ENDPOINT', `${url}${TOKEN_PATHS.arc}`], ['IMDS_ENDPOINT', url]);
      break;
    case 'vmExtension':
      set.push(['MSI_ENDPOINT', `${url}${TOKEN_PATHS.vmExtension}`]);
      break;
    case 'appService': {
      const endpoint = `${url}${config.platforms.appService.path}`;
      const secret = platforms.secrets.get('appService');
      set.push(
        ['IDENTITY_ENDPOINT', endpoint],
        ['IDENTITY_HEADER', secret],
        ['MSI_ENDPOINT', endpoint],
        ['MSI_SECRET', secret],
      );
      break;
    }
    case 'cloudShell':
      set.push(['MSI_ENDPOINT', `${url}${TOKEN_PATHS.cloudShell}`]);
      break;
    case 'serviceFabric': {
      const certificate = platforms.certificate();
      set.push(
        ['IDENTITY_ENDPOINT', `${url}${TOKEN_PATHS.serviceFabric}`],
        ['IDENTITY_HEADER', platforms.secrets.get('serviceFabric')],
        ['IDENTITY_SERVER_THUMBPRINT', certificate.thumbprint],
        ['IDENTITY_API_VERSION', SERVICE_FABRIC_API_VERSION],
        ['NODE_EXTRA_CA_CERTS', certificate.certFile],
      );
      break;
    }
    case 'azureMl': {
      set.push(
        ['MSI_ENDPOINT', `${url}${config.platforms.azureMl.path}`],
        ['MSI_SECRET', platforms.secrets.get('azureMl')],
      );
      const selection = context.identities.select([]);
      if (selection.ok) set.push(['DEFAULT_IDENTITY_CLIENT_ID', selection.identity.clientId]);
      break;
    }
  }
  set.push(['NO_PROXY', NO_PROXY_HOSTS]);
  const names = new Set(set.map(([name]) => name));
  return { set, unset: MANAGED_IDENTITY_VARIABLES.filter((name) => !names.has(name)) };
}

/** `set` and `unset` as one record: a value to set, or `undefined` for a variable to remove. */
export function environmentRecord(env: PlatformEnvironment): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of env.unset) out[name] = undefined;
  for (const [name, value] of env.set) out[name] = value;
  return out;
}

/** Base URL clients use for a listener bound to `host:port` (a wildcard bind is reached on loopback). */
export function listenerUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${scheme}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** IMDS's link-local address: on Azure only IMDS answers there. */
export const IMDS_LINK_LOCAL_ADDRESS = '169.254.169.254';

/**
 * The bind address of `platform`'s listener: `platforms.<id>.host`; else the top-level `host`, except
 * when that is IMDS's link-local address — only IMDS answers there on Azure, and every platform's token
 * service listens on localhost (the VM extension on `localhost:50342`, Arc's HIMDS on
 * `localhost:40342`, ...) — then loopback. So `--host 169.254.169.254` is the real VM's layout.
 */
export function platformHost(config: Config, platform: PlatformId): string {
  const own = config.platforms[platform].host;
  if (own !== undefined) return own;
  return config.host === IMDS_LINK_LOCAL_ADDRESS ? LOOPBACK : config.host;
}

const LOOPBACK = '127.0.0.1';

/** The base URL of `platform`'s listener as configured (what `azimds start` with this config serves). */
export function platformUrlFromConfig(config: Config, platform: PlatformId): string {
  const port = config.platforms[platform].port;
  return listenerUrl(platformHost(config, platform), port, platform === 'serviceFabric' ? 'https' : 'http');
}
