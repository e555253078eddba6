/**
 * The one table of Azure host names azimds answers itself through its proxy (docs/proxy.md). Adding
 * a host is a row here; adding a surface is a `ListenerSpec` named like the row's `surface` in
 * `listenerSpecs(state)` (src/server/emulator.ts): the proxy builds that spec's fastify app and hands
 * it every request for the row's hosts. A surface without a spec gets its Azure-shaped 501 at once
 * (`surfaceNotEnabled` in src/errors.ts).
 */

/** Surfaces reachable through the proxy; each is the `name` of a ListenerSpec. */
export type ProxySurface = 'imds' | 'entra' | 'arm' | 'key-vault';

export interface HostRow {
  /** An exact host name or address (`management.azure.com`), or `*.` + a suffix (`*.vault.azure.net`: one label or more before it). */
  readonly pattern: string;
  readonly surface: ProxySurface;
  /** How clients reach the real service: `http` (IMDS) or `https`. Informational: the proxy detects TLS per connection. */
  readonly scheme: 'http' | 'https';
}

/** Sources: Azure's documented endpoints (IMDS: learn.microsoft.com/azure/virtual-machines/instance-metadata-service; Entra authority hosts: @azure/identity AzureAuthorityHosts; ARM: azure-sdk's `management.azure.com` / `management.core.windows.net` audiences; Key Vault: `<vault>.vault.azure.net`). */
export const HOST_TABLE: readonly HostRow[] = [
  { pattern: '169.254.169.254', surface: 'imds', scheme: 'http' },
  { pattern: 'login.microsoftonline.com', surface: 'entra', scheme: 'https' },
  { pattern: 'login.windows.net', surface: 'entra', scheme: 'https' },
  { pattern: 'sts.windows.net', surface: 'entra', scheme: 'https' },
  { pattern: 'management.azure.com', surface: 'arm', scheme: 'https' },
  { pattern: 'management.core.windows.net', surface: 'arm', scheme: 'https' },
  { pattern: '*.vault.azure.net', surface: 'key-vault', scheme: 'https' },
];

/** The row for `host` (case-insensitive, without port; a trailing dot ignored), or undefined. */
export function matchHost(host: string, table: readonly HostRow[] = HOST_TABLE): HostRow | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  return table.find((row) =>
    row.pattern.startsWith('*.')
      ? name.endsWith(row.pattern.slice(1)) && name.length > row.pattern.length - 1
      : name === row.pattern,
  );
}

/** Every exact host name of the table (for messages and docs). */
export function tableHosts(table: readonly HostRow[] = HOST_TABLE): string[] {
  return table.map((row) => row.pattern);
}
