import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../../config/defaults.js';
import type { ApplicationConfig, ClientSecretConfig, EntraConfig } from '../../config/entra.js';
import { AzimdsError } from '../../errors.js';
import { stableUuid } from '../ids.js';
import type { GeneratedClientSecrets } from './client-secrets.js';

/** A client secret of an app registration (Entra's `passwordCredentials` entry). */
export interface ClientSecret {
  /** Entra's `keyId`: a GUID naming the secret (not the secret). */
  readonly keyId: string;
  readonly displayName?: string;
  /** End of validity, epoch ms; absent = never expires. */
  readonly expiresOn?: number;
  /** Whether azimds generated the value (shown by `azimds env --platform service-principal`). */
  readonly generated: boolean;
  /** The value. Never log it. @throws AzimdsError `KEY_STORE`/`CONFIG_INVALID` when it cannot be read. */
  value(): string;
}

/** A certificate credential (Entra's `keyCredentials` entry), found by either thumbprint form. */
export interface CertificateCredential {
  /** SHA-1 of the DER certificate, upper-case hex (the portal's "Thumbprint"). */
  readonly thumbprint: string;
  /** base64url SHA-1 of the DER certificate: the `x5t` header of RS256 client assertions. */
  readonly x5t: string;
  /** base64url SHA-256 of the DER certificate: the `x5t#S256` header of PS256 client assertions. */
  readonly x5tS256: string;
  readonly subject: string;
  readonly publicKey: KeyObject;
}

/** A federated identity credential. */
export interface FederatedCredential {
  readonly name: string;
  /** The trusted issuer; undefined = azimds's own workload-identity issuer (its URL is known when serving). */
  readonly issuer: string | undefined;
  readonly subject: string;
  readonly audiences: readonly string[];
}

/**
 * An app registration with its service principal in the emulated tenant: what `client_id` names at the
 * token endpoint, and what `oid` names in its tokens (the RBAC principal id).
 */
export interface ServicePrincipal {
  readonly kind: 'service-principal';
  readonly displayName: string;
  /** Application (client) id, lower-case. */
  readonly clientId: string;
  /** Object id of the service principal, lower-case: `oid`/`sub` of its tokens. */
  readonly principalId: string;
  readonly tenantId: string;
  readonly secrets: readonly ClientSecret[];
  readonly certificates: readonly CertificateCredential[];
  readonly federatedCredentials: readonly FederatedCredential[];
}

/** The app registration that exists without config: a generated secret and a federated credential. */
export function defaultApplications(): ApplicationConfig[] {
  const { displayName, subject } = DEFAULTS.entra.application;
  return [
    {
      displayName,
      secrets: [{}],
      certificates: [],
      federatedCredentials: [{ name: 'default', subject, audiences: [DEFAULTS.entra.federatedAudience] }],
    },
  ];
}

/**
 * Resolves the configured app registrations (or the zero-config one): generated ids from the display
 * name (stable across runs and machines), certificates read and hashed, secrets bound to their source.
 * @throws AzimdsError `CONFIG_INVALID` when a certificate file cannot be read or is not a PEM certificate.
 */
export function resolveServicePrincipals(
  config: EntraConfig,
  tenantId: string,
  generated: GeneratedClientSecrets,
  env: NodeJS.ProcessEnv = process.env,
): ServicePrincipal[] {
  return (config.applications ?? defaultApplications()).map((app, i) => {
    const seed = `entra/application/${app.displayName.toLowerCase()}`;
    const clientId = (app.clientId ?? stableUuid(`${seed}/client`)).toLowerCase();
    return {
      kind: 'service-principal',
      displayName: app.displayName,
      clientId,
      principalId: (app.principalId ?? stableUuid(`${seed}/principal`)).toLowerCase(),
      tenantId,
      secrets: app.secrets.map((s, j) => clientSecret(s, `${seed}/secret/${j}`, clientId, generated, env)),
      certificates: app.certificates.map((c, j) =>
        certificateCredential(
          c.pem ?? readCertificateFile(c.certFile as string, `applications[${i}].certificates[${j}]`),
        ),
      ),
      federatedCredentials: app.federatedCredentials.map((f, j) => ({
        name: f.name ?? `credential-${j}`,
        issuer: f.issuer,
        subject: f.subject,
        audiences: f.audiences,
      })),
    };
  });
}

function clientSecret(
  s: ClientSecretConfig,
  seed: string,
  clientId: string,
  generated: GeneratedClientSecrets,
  env: NodeJS.ProcessEnv,
): ClientSecret {
  const keyId = stableUuid(seed);
  const isGenerated = s.value === undefined && s.valueEnv === undefined && s.valueFile === undefined;
  let value: () => string;
  if (s.value !== undefined) value = () => s.value as string;
  else if (s.valueEnv !== undefined) {
    const name = s.valueEnv;
    value = () => {
      const v = env[name];
      if (v === undefined || v === '')
        throw new AzimdsError('CONFIG_INVALID', `entra: the client secret variable ${name} is not set`);
      return v;
    };
  } else if (s.valueFile !== undefined) {
    const file = s.valueFile;
    value = () => readFileSync(file, 'utf8').trim();
  } else value = () => generated.get(`${clientId}/${keyId}`);
  return {
    keyId,
    ...(s.displayName ? { displayName: s.displayName } : {}),
    ...(s.expiresOn ? { expiresOn: Date.parse(s.expiresOn) } : {}),
    generated: isGenerated,
    value,
  };
}

function readCertificateFile(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AzimdsError('CONFIG_INVALID', `entra.${key}.certFile: ${(cause as Error).message}`, { cause });
  }
}

/**
 * A certificate credential from PEM text (the first certificate in it).
 * @throws AzimdsError `CONFIG_INVALID` when it is not a certificate.
 */
export function certificateCredential(pem: string): CertificateCredential {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (cause) {
    throw new AzimdsError('CONFIG_INVALID', `entra: not a PEM certificate: ${(cause as Error).message}`, {
      cause,
    });
  }
  const sha1 = createHash('sha1').update(cert.raw).digest();
  return {
    thumbprint: sha1.toString('hex').toUpperCase(),
    x5t: sha1.toString('base64url'),
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
    subject: cert.subject,
    publicKey: cert.publicKey,
  };
}
