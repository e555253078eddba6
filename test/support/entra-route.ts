/**
 * Runs a real Entra client (test/support/entra-sdk.mjs) in a child process over an "Entra route": the
 * variables and client options that send it to azimds. The direct HTTPS endpoint needs
 * `disableInstanceDiscovery` / `knownAuthorities`; a proxy route (HTTPS_PROXY, the local CA,
 * AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/) needs no options.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const RUNNER = fileURLToPath(new URL('./entra-sdk.mjs', import.meta.url));

/**
 * How clients reach Entra: variables every child gets (AZURE_AUTHORITY_HOST, CA trust, proxy) and the
 * options @azure/identity credentials and msal-node need on this route (none through the proxy).
 */
export interface EntraRoute {
  env: Record<string, string>;
  identityOptions: Record<string, unknown>;
  msalOptions: Record<string, unknown>;
}

export type SdkResult =
  | { ok: true; token: string }
  | { ok: false; name?: string; errorCode?: string; message: string };

/** Runs one client with exactly `route.env` + `env` (plus PATH and HOME). */
export async function runClient(
  route: EntraRoute,
  env: Record<string, string>,
  request: Record<string, unknown>,
): Promise<SdkResult> {
  const childEnv: Record<string, string> = {};
  for (const name of ['PATH', 'HOME']) if (process.env[name]) childEnv[name] = process.env[name] as string;
  Object.assign(childEnv, route.env, env);
  const isMsal = String(request.client).startsWith('msal');
  const options = {
    ...(isMsal ? route.msalOptions : route.identityOptions),
    ...((request.options as object) ?? {}),
  };
  const { stdout } = await run(process.execPath, [RUNNER, JSON.stringify({ ...request, options })], {
    env: childEnv,
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as SdkResult;
}
