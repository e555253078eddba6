/** The hosts of Microsoft Entra's public cloud (msal-common `InstanceDiscoveryMetadata`), the proxy's `entra` surface. */
export const PUBLIC_CLOUD_HOSTS = [
  'login.microsoftonline.com',
  'login.windows.net',
  'login.microsoft.com',
  'sts.windows.net',
] as const;

/** The other clouds' entries of Entra's answer, as it sends them. */
const SOVEREIGN_CLOUDS = [
  {
    preferred_network: 'login.partner.microsoftonline.cn',
    preferred_cache: 'login.partner.microsoftonline.cn',
    aliases: ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'],
  },
  {
    preferred_network: 'login.microsoftonline.de',
    preferred_cache: 'login.microsoftonline.de',
    aliases: ['login.microsoftonline.de'],
  },
  {
    preferred_network: 'login.microsoftonline.us',
    preferred_cache: 'login.microsoftonline.us',
    aliases: ['login.microsoftonline.us', 'login.usgovcloudapi.net'],
  },
  {
    preferred_network: 'login-us.microsoftonline.com',
    preferred_cache: 'login-us.microsoftonline.com',
    aliases: ['login-us.microsoftonline.com'],
  },
];

/**
 * Entra's instance discovery answer (`GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…`),
 * which MSAL asks before trusting an authority it has no hard-coded metadata for
 * (msal-common `Authority.getCloudDiscoveryMetadataFromNetwork`):
 * `{tenant_discovery_endpoint, "api-version": "1.1", metadata: [{preferred_network, preferred_cache, aliases}]}`.
 *
 * `tenant_discovery_endpoint` is the v2.0 discovery URL of the authority in `authorization_endpoint`.
 * Real Entra answers `invalid_instance` for a host that is not Microsoft's; azimds also lists the
 * asked host (its own direct endpoint, e.g. `https://127.0.0.1:8443`) so that MSAL accepts it as a
 * custom authority, as it does after a successful discovery for a custom domain.
 */
export function instanceDiscovery(authorizationEndpoint: string | undefined): Record<string, unknown> {
  let host: string = PUBLIC_CLOUD_HOSTS[0];
  let origin = `https://${host}`;
  let tenant = 'common';
  if (authorizationEndpoint) {
    try {
      const url = new URL(authorizationEndpoint);
      host = url.host.toLowerCase();
      origin = `${url.protocol}//${host}`;
      tenant = url.pathname.split('/').filter(Boolean)[0] ?? 'common';
    } catch {
      // Not a URL: answer for the public cloud's `common`, as for a request without one.
    }
  }
  const metadata: object[] = [
    {
      preferred_network: 'login.microsoftonline.com',
      preferred_cache: 'login.windows.net',
      aliases: [...PUBLIC_CLOUD_HOSTS],
    },
    ...SOVEREIGN_CLOUDS,
  ];
  const known = metadata.some((m) => (m as { aliases: string[] }).aliases.includes(host));
  if (!known) metadata.push({ preferred_network: host, preferred_cache: host, aliases: [host] });
  return {
    tenant_discovery_endpoint: `${origin}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata,
  };
}
