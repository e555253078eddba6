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
  vars.push(['NO_PROXY', '127.0.0.1,localhost,169.254.169.254']);
  return vars;
}
