import type { Config } from '../config/schema.js';
import { NO_PROXY_HOSTS } from '../core/platforms/environment.js';
import { AzimdsError } from '../errors.js';
import type { EmulatorUrls } from '../server/emulator.js';

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

/** Output formats of `azimds env`. */
export const SHELLS = ['bash', 'pwsh', 'cmd', 'dotenv', 'json'] as const;
export type Shell = (typeof SHELLS)[number];

/** `pwsh` on Windows, `bash` (any POSIX shell) elsewhere. */
export function defaultShell(platform: NodeJS.Platform = process.platform): Shell {
  return platform === 'win32' ? 'pwsh' : 'bash';
}

/**
 * Renders variables for a shell, ready to evaluate: `eval "$(azimds env)"` (bash, zsh, sh),
 * `azimds env --shell pwsh | Invoke-Expression`, `for /f "delims=" %l in ('azimds env --shell cmd') do %l`,
 * `azimds env --shell dotenv > .env`, or `--shell json` for programs.
 */
export function formatEnvironment(vars: ReadonlyArray<readonly [string, string]>, shell: Shell): string {
  if (shell === 'json') return `${JSON.stringify(Object.fromEntries(vars), null, 2)}\n`;
  const line = {
    bash: (n: string, v: string) =>
      `export ${n}=${/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`}`,
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
  if (!config.imds.enabled) return {};
  const { port } = config.imds;
  if (port === 0)
    throw new AzimdsError('INVALID_INPUT', 'the IMDS port is 0 (a random port) here: pass --port');
  const host = config.imds.host ?? config.host;
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return { imds: `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}` };
}
