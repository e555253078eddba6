/**
 * Which vault a request is for, and the challenge `resource` that lets each SDK's check pass there.
 *
 * The SDKs compare the request's host with the challenge's `resource` before sending a token:
 * - JS (@azure/keyvault-common `keyVaultAuthenticationPolicy.js` verifyChallengeResource): hostname only,
 *   `requestHostname.endsWith("." + new URL(resource).hostname)`;
 * - Go (sdk/security/keyvault/internal/challenge_policy.go) and Python
 *   (azure/keyvault/secrets/_shared/challenge_auth_policy.py): host INCLUDING the port.
 */

/** `<name>.vault.azure.net`, optionally with `:443` (through the proxy). */
const AZURE_HOST = /^([0-9a-z-]{1,64})\.vault\.azure\.net(?::443)?$/i;
/** `<name>.vault.localhost[:port]` (the direct endpoint; needs an /etc/hosts line on glibc). */
const LOCALHOST_HOST = /^([0-9a-z-]{1,64})\.vault\.localhost(?::(\d+))?$/i;
/** An IPv4 address with a port, e.g. `127.0.0.1:8443`. */
const IPV4_HOST = /^\d{1,3}\.(\d{1,3}\.\d{1,3}\.\d{1,3})(?::(\d+))?$/;

/** The Key Vault resource (token audience) of Azure's public cloud, as Key Vault's challenge names it. */
export const VAULT_RESOURCE = 'https://vault.azure.net';

export interface VaultAddress {
  /** The vault named by the host; undefined: the default vault (an address without a vault name). */
  readonly vaultName: string | undefined;
  /** `resource` of the challenge for this host. */
  readonly resource: string;
  /** Base of ids and nextLinks, e.g. `https://kv.vault.azure.net` or `http://kv.vault.localhost:8443`. */
  readonly origin: string;
}

/**
 * Reads the `Host` header (`scheme` is the listener's). Through the proxy, `https://<vault>.vault.azure.net`
 * with resource `https://vault.azure.net`. On the direct endpoint: `<vault>.vault.localhost:<port>` with
 * resource `https://vault.localhost:<port>` (passes JS, Go and Python); an IPv4 address
 * `a.b.c.d:<port>` serves the default vault with resource `https://b.c.d:<port>` (passes Go and Python,
 * whose check is a host:port suffix; JS parses that resource as an IPv4 address and fails, so JS needs
 * a vault host name there); any other host serves the default vault with `https://vault.azure.net`.
 */
export function vaultAddress(host: string | undefined, scheme: string): VaultAddress {
  const h = (host ?? '').trim();
  const azure = AZURE_HOST.exec(h);
  if (azure) {
    const name = (azure[1] as string).toLowerCase();
    return { vaultName: name, resource: VAULT_RESOURCE, origin: `https://${name}.vault.azure.net` };
  }
  const local = LOCALHOST_HOST.exec(h);
  if (local) {
    const port = local[2] === undefined ? '' : `:${local[2]}`;
    return {
      vaultName: (local[1] as string).toLowerCase(),
      resource: `https://vault.localhost${port}`,
      origin: `${scheme}://${h.toLowerCase()}`,
    };
  }
  const ip = IPV4_HOST.exec(h);
  if (ip) {
    const port = ip[2] === undefined ? '' : `:${ip[2]}`;
    return { vaultName: undefined, resource: `https://${ip[1]}${port}`, origin: `${scheme}://${h}` };
  }
  return { vaultName: undefined, resource: VAULT_RESOURCE, origin: `${scheme}://${h || 'localhost'}` };
}

/**
 * `WWW-Authenticate` of Key Vault's 401: `Bearer authorization="https://login.microsoftonline.com/<tenant>",
 * resource="<resource>"` (the tenant GUID in the URL: Go reads the tenant from it; Python requires
 * `authorization`). Azure's recordings show `login.windows.net`; SDKs take only the path's tenant.
 */
export function challengeHeader(tenantId: string, resource: string): string {
  return `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${resource}"`;
}
