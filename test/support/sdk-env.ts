/**
 * The process environment the Azure SDKs see, for client tests. The SDKs read it when a credential is
 * built and pick a managed-identity platform or another credential from it (protocols.md §7.0), so a
 * test removes every such variable, sets its own, and puts everything back afterwards.
 */
import { MANAGED_IDENTITY_VARIABLES, NO_PROXY_HOSTS } from '../../src/core/platforms/environment.js';
import { EnvChanges } from './env.js';

/** Variables that would send the SDKs to another platform, another credential or through a proxy. */
export const SDK_VARIABLES: readonly string[] = [
  ...MANAGED_IDENTITY_VARIABLES,
  // EnvironmentCredential, WorkloadIdentityCredential, DefaultAzureCredential's choices.
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PATH',
  'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  'AZURE_TENANT_ID',
  'AZURE_USERNAME',
  'AZURE_PASSWORD',
  'AZURE_FEDERATED_TOKEN_FILE',
  'AZURE_AUTHORITY_HOST',
  'AZURE_TOKEN_CREDENTIALS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'http_proxy',
  'https_proxy',
  'NO_PROXY',
];

/**
 * Removes every variable of `SDK_VARIABLES`, then sets `vars` (and `NO_PROXY` for loopback and
 * 169.254.169.254). Returns the function that restores the environment as it was.
 *
 * @example
 * ```ts
 * let restore: () => void;
 * before(() => { restore = isolateSdkEnvironment({ AZURE_POD_IDENTITY_AUTHORITY_HOST: azimds.urls.imds }); });
 * after(() => restore());
 * ```
 */
export function isolateSdkEnvironment(vars: Record<string, string | undefined> = {}): () => void {
  const changes = new EnvChanges();
  for (const name of SDK_VARIABLES) changes.apply({ [name]: undefined });
  changes.apply({ NO_PROXY: NO_PROXY_HOSTS, ...vars });
  return () => changes.restore();
}
