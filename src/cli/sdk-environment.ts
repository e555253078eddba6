import type { Config } from '../config/schema.js';
import { NO_PROXY_HOSTS } from '../core/platforms/environment.js';
import { AzimdsError } from '../errors.js';
import { controlUrl } from '../protocols/control/address.js';
import type { EmulatorUrls } from '../server/emulator.js';
import { proxyAddress } from '../server/proxy/address.js';

/**
 * The environment variables that send unmodified Azure SDKs to a running azimds, in order.
 * IMDS: `AZURE_POD_IDENTITY_AUTHORITY_HOST` replaces 169.254.169.254 for the token path in
 * @azure/identity, msal-node, azure-identity (Python) and msal-python; `NO_PROXY` keeps proxies out,
 * as Azure requires for IMDS.
 */
export function sdkEnvironment(urls: EmulatorUrls): Array<[string, string]> {
  const vars: Array<[string, string]> = [];
  if (urls.imds) vars.push(['AZURE_POD_IDENTITY_AUTHORITY_HOST', urls.imds]);
  vars.push(['NO_PROXY', NO_PROXY_HOSTS]);
  return vars;
}

/** Loopback names clients reach directly in proxy mode; 169.254.169.254 is NOT among them (it goes through the proxy). */
export const PROXY_NO_PROXY_HOSTS = '127.0.0.1,localhost,::1';

/** The local CA's files the proxy block points at (LocalCa.certFile() and LocalCa.bundleFile()). */
export interface CaFiles {
  /** The CA certificate alone (NODE_EXTRA_CA_CERTS adds to Node's store). */
  readonly certFile: string;
  /** System roots + the CA (for variables that replace the system store). */
  readonly bundleFile: string;
}

/**
 * The proxy block (docs/proxy.md): every client that honours the standard proxy variables sends
 * Azure's host names to azimds's proxy and trusts its CA; nothing else changes for them (other hosts
 * are tunnelled). In order:
 *
 * - `HTTP_PROXY`, `HTTPS_PROXY` and the lower-case twins (curl reads only `http_proxy` lower-case;
 *   Go, Python requests, @azure/core-rest-pipeline read both), `NO_PROXY`/`no_proxy`: loopback only.
 * - `NODE_USE_ENV_PROXY=1`: Node's own `fetch()` (Node ≥ 24.0 / 22.21) and `node:http`/`https`
 *   (Node ≥ 24.5 / 22.21) use the proxy variables; older Node ignores it (docs/proxy.md).
 * - `AZURE_POD_IDENTITY_AUTHORITY_HOST`: IMDS's direct URL, for @azure/msal-node's managed-identity
 *   client, which ignores proxy variables.
 * - `NODE_EXTRA_CA_CERTS` (the CA; Node adds it to its roots at start-up), and the bundle for the
 *   variables that replace the system store: `REQUESTS_CA_BUNDLE` (Python requests), `SSL_CERT_FILE`
 *   (OpenSSL-based clients, Go on Linux, Python's ssl), `CURL_CA_BUNDLE` (curl).
 */
export function proxyEnvironment(urls: EmulatorUrls, ca: CaFiles): Array<[string, string]> {
  if (!urls.proxy)
    throw new AzimdsError('NOT_RUNNING', 'the proxy is off (proxy.enabled: false): use --direct');
  const vars: Array<[string, string]> = [
    ['HTTP_PROXY', urls.proxy],
    ['HTTPS_PROXY', urls.proxy],
    ['http_proxy', urls.proxy],
    ['https_proxy', urls.proxy],
    ['NO_PROXY', PROXY_NO_PROXY_HOSTS],
    ['no_proxy', PROXY_NO_PROXY_HOSTS],
    ['NODE_USE_ENV_PROXY', '1'],
  ];
  if (urls.imds) vars.push(['AZURE_POD_IDENTITY_AUTHORITY_HOST', urls.imds]);
  vars.push(
    ['NODE_EXTRA_CA_CERTS', ca.certFile],
    ['REQUESTS_CA_BUNDLE', ca.bundleFile],
    ['SSL_CERT_FILE', ca.bundleFile],
    ['CURL_CA_BUNDLE', ca.bundleFile],
  );
  return vars;
}

/** Output formats of `azimds env`. */
export const SHELLS = ['bash', 'pwsh', 'cmd', 'dotenv', 'json'] as const;
export type Shell = (typeof SHELLS)[number];

/** `pwsh` on Windows, `bash` (any POSIX shell) elsewhere. */
export function defaultShell(platform: NodeJS.Platform = process.platform): Shell {
  return platform === 'win32' ? 'pwsh' : 'bash';
}

/** `value` as one POSIX shell word: unchanged when it has no special character, else single-quoted. */
export function bashQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * Renders variables for a shell, ready to evaluate: `eval "$(azimds env)"` (bash, zsh, sh),
 * `azimds env --shell pwsh | Invoke-Expression`, `for /f "delims=" %l in ('azimds env --shell cmd') do %l`,
 * `azimds env --shell dotenv > .env`, or `--shell json` for programs.
 */
export function formatEnvironment(vars: ReadonlyArray<readonly [string, string]>, shell: Shell): string {
  if (shell === 'json') return `${JSON.stringify(Object.fromEntries(vars), null, 2)}\n`;
  const line = {
    bash: (n: string, v: string) => `export ${n}=${bashQuote(v)}`,
    pwsh: (n: string, v: string) => `$env:${n} = '${v.replaceAll("'", "''")}'`,
    cmd: (n: string, v: string) => `set "${n}=${v}"`,
    dotenv: (n: string, v: string) => `${n}=${/^[\w@%+=:,./-]*$/.test(v) ? v : JSON.stringify(v)}`,
  }[shell];
  return vars.map(([n, v]) => `${line(n, v)}\n`).join('');
}

/**
 * The URLs an emulator started with `config` serves (what `azimds start` with the same
 * --config/--host/--port prints): a wildcard bind is reached on loopback.
 * @throws AzimdsError `INVALID_INPUT` when IMDS listens on port 0 (a random port nobody can predict).
 */
export function urlsFromConfig(config: Config): EmulatorUrls {
  const proxy = config.proxy.enabled ? proxyAddress(config) : undefined;
  if (proxy?.port === 0)
    throw new AzimdsError(
      'INVALID_INPUT',
      'the proxy port is 0 (a random port) here: pass --port or set proxy.port',
    );
  const proxyUrls = proxy ? { proxy: controlUrl(proxy.host, proxy.port) } : {};
  if (!config.imds.enabled) return proxyUrls;
  const { port } = config.imds;
  if (port === 0)
    throw new AzimdsError('INVALID_INPUT', 'the IMDS port is 0 (a random port) here: pass --port');
  // controlUrl: how a client on this machine reaches host:port (a wildcard bind on loopback).
  return { imds: controlUrl(config.imds.host ?? config.host, port), ...proxyUrls };
}
