import { join } from 'node:path';
import type { ApplicationConfig, EntraConfig } from '../../config/entra.js';
import type { Config } from '../../config/schema.js';
import { AzimdsError } from '../../errors.js';
import { resolveDataDir } from '../data-dir.js';
import type { EntraDirectory } from './directory.js';
import type { ServicePrincipal } from './service-principal.js';

/** The environments `azimds env --platform` prints for Entra credentials besides the managed-identity platforms. */
export const ENTRA_ENVIRONMENTS = ['workload-identity', 'service-principal'] as const;
export type EntraEnvironment = (typeof ENTRA_ENVIRONMENTS)[number];

/**
 * The authority host AKS's workload-identity webhook injects (public cloud), reached through azimds's
 * proxy; give the direct endpoint's `https://…` URL instead when not using the proxy.
 */
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com/';

/** Where `azimds env --platform workload-identity` puts the projected token by default (AKS: /var/run/secrets/azure/tokens/azure-identity-token). */
export function defaultFederatedTokenFile(config: Pick<Config, 'dataDir'>): string {
  return join(resolveDataDir(config.dataDir), 'workload-identity', 'azure-identity-token');
}

/**
 * The variables of code authenticating as a service principal, with `@azure/identity`'s names:
 *
 * - `workload-identity`: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST,
 *   exactly the four the AKS webhook injects (azure-workload-identity `pkg/webhook/consts.go`);
 * - `service-principal`: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST,
 *   what EnvironmentCredential reads for a client secret.
 *
 * `principal` defaults to the first app registration (the zero-config `azimds-app`).
 * @throws AzimdsError `INVALID_INPUT` when the app has no secret (service-principal) or no federated credential.
 */
export function entraEnvironment(
  directory: EntraDirectory,
  kind: EntraEnvironment,
  options: { tokenFile: string; authorityHost?: string; principal?: ServicePrincipal },
): Array<[string, string]> {
  const principal = options.principal ?? directory.servicePrincipals()[0];
  if (!principal) throw new AzimdsError('INVALID_INPUT', 'entra: no app registration is configured');
  const set: Array<[string, string]> = [
    ['AZURE_CLIENT_ID', principal.clientId],
    ['AZURE_TENANT_ID', principal.tenantId],
  ];
  if (kind === 'workload-identity') {
    if (principal.federatedCredentials.length === 0)
      throw new AzimdsError('INVALID_INPUT', `entra: ${principal.displayName} has no federated credential`);
    set.push(['AZURE_FEDERATED_TOKEN_FILE', options.tokenFile]);
  } else {
    const secret = principal.secrets[0];
    if (!secret)
      throw new AzimdsError('INVALID_INPUT', `entra: ${principal.displayName} has no client secret`);
    set.push(['AZURE_CLIENT_SECRET', secret.value()]);
  }
  set.push(['AZURE_AUTHORITY_HOST', options.authorityHost ?? DEFAULT_AUTHORITY_HOST]);
  return set;
}

/**
 * The `entra` config with every generated id written out (`azimds start --print-config`): loading it
 * gives the same app registrations. A generated secret stays generated (`{}` plus a display name
 * saying where to read it); inline secret values are masked by `printableConfig`.
 */
export function generatedEntraConfig(config: EntraConfig, directory: EntraDirectory): EntraConfig {
  const principals = directory.servicePrincipals();
  const applications: ApplicationConfig[] = principals.map((p, i) => {
    const configured = config.applications?.[i];
    return {
      displayName: p.displayName,
      clientId: p.clientId,
      principalId: p.principalId,
      secrets: p.secrets.map((s, j) =>
        s.generated
          ? { displayName: 'generated: azimds env --platform service-principal prints it' }
          : (configured?.secrets[j] ?? {}),
      ),
      certificates: configured?.certificates ?? [],
      federatedCredentials: p.federatedCredentials.map((f) => ({
        name: f.name,
        ...(f.issuer ? { issuer: f.issuer } : {}),
        subject: f.subject,
        audiences: [...f.audiences],
      })),
    };
  });
  // Keys in the schema's order, so the printed file prints the same again.
  const { enabled, domain, tokenLifetimeSeconds, v2Resources, federatedIssuers, workloadIssuer } = config;
  return {
    enabled,
    domain,
    tokenLifetimeSeconds,
    v2Resources,
    applications,
    federatedIssuers,
    workloadIssuer,
  };
}
