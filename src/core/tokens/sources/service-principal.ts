import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConfidentialClientApplication } from '@azure/msal-node';
import { AzimdsError } from '../../../errors.js';
import type { Clock } from '../../clock.js';
import type { TokenFailure, TokenProvider, TokenRequest, TokenResult, UpstreamReason } from '../provider.js';
import { upstreamAccessToken } from './access-token.js';
import { type Acquisition, EntraHttpClient, runAcquisition } from './entra-http.js';
import type { SourceLog } from './log.js';
import { isAuthError, loadMsal } from './msal.js';
import { type SecretRegistry, warnIfExposed } from './secrets.js';

/** How a service principal proves itself: a client secret, or a certificate and its private key. */
export type ServicePrincipalCredential =
  | { readonly kind: 'secret'; readonly secret: string }
  | {
      readonly kind: 'certificate';
      /** PKCS#8 PEM. */
      readonly privateKeyPem: string;
      /** SHA-256 thumbprint of the certificate, hex. */
      readonly thumbprintSha256: string;
      /** The certificate chain (PEM), sent as x5c when `sendCertificateChain` is on. */
      readonly chainPem?: string;
    };

export interface ServicePrincipalOptions {
  /** The configured source name, for messages. */
  name: string;
  clientId: string;
  /** Tenant id or domain. */
  tenantId: string;
  /** `https://login.microsoftonline.com` or a sovereign cloud's or a private host; no trailing slash. */
  authorityHost: string;
  credential: ServicePrincipalCredential;
  timeoutMs: number;
  /** Extra CA certificates (PEM) to trust for the authority host. */
  extraCaPem?: string;
  clock: Clock;
  secrets: SecretRegistry;
  env?: NodeJS.ProcessEnv;
}

/**
 * Real tokens of a service principal: the client-credentials flow against Entra ID through msal-node's
 * `ConfidentialClientApplication`, asking for `<resource>/.default` as IMDS asks for `resource` (the two
 * give the same `aud`). azimds caches in front (TokenService), so every call here goes to Entra
 * (`skipCache`). Failures come back typed: an unknown resource (AADSTS500011) as `invalid-resource`,
 * anything else as `upstream` with Entra's reason.
 */
export class ServicePrincipalSource implements TokenProvider {
  readonly name = 'service-principal';
  readonly #options: ServicePrincipalOptions;
  readonly #http: EntraHttpClient;
  #app: Promise<ConfidentialClientApplication> | undefined;

  constructor(options: ServicePrincipalOptions) {
    this.#options = options;
    this.#http = new EntraHttpClient({
      timeoutMs: options.timeoutMs,
      ...(options.extraCaPem ? { extraCaPem: options.extraCaPem } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
  }

  /** `service principal <client id> in tenant <tenant>`, the prefix of this source's failure descriptions. */
  get label(): string {
    return `service principal ${this.#options.clientId} in tenant ${this.#options.tenantId}`;
  }

  /** msal's client, built on first use (msal-node is imported only when a real token is asked for). */
  async #createApp(): Promise<ConfidentialClientApplication> {
    const { ConfidentialClientApplication, LogLevel } = await loadMsal();
    const options = this.#options;
    const { credential } = options;
    return new ConfidentialClientApplication({
      auth: {
        clientId: options.clientId,
        authority: `${options.authorityHost}/${options.tenantId}`,
        // The authority host is trusted as configured: no instance discovery call to the public cloud
        // (which a sovereign, private or test host would fail, and which an offline machine cannot make).
        knownAuthorities: [new URL(options.authorityHost).host],
        ...(credential.kind === 'secret'
          ? { clientSecret: credential.secret }
          : {
              clientCertificate: {
                thumbprintSha256: credential.thumbprintSha256,
                privateKey: credential.privateKeyPem,
                ...(credential.chainPem ? { x5c: credential.chainPem } : {}),
              },
            }),
      },
      system: {
        networkClient: this.#http,
        // msal's log may carry request details; azimds logs failures itself, scrubbed.
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
      },
    });
  }

  async getToken({ identity, resource }: TokenRequest): Promise<TokenResult> {
    const { timeoutMs, clock, secrets } = this.#options;
    const acquisition: Acquisition = { deadline: Date.now() + timeoutMs, timeoutMs };
    try {
      this.#app ??= this.#createApp();
      const app = await this.#app;
      const result = await runAcquisition(acquisition, () =>
        app.acquireTokenByClientCredential({ scopes: [scopeOf(resource)], skipCache: true }),
      );
      if (!result?.accessToken) {
        return {
          ok: false,
          failure: failure(
            'upstream',
            'unavailable',
            `${this.label}: Entra ID answered without an access token`,
          ),
        };
      }
      const nowSeconds = Math.floor(clock.now() / 1000);
      return {
        ok: true,
        token: upstreamAccessToken({
          accessToken: result.accessToken,
          resource,
          identity,
          nowSeconds,
          ...(result.expiresOn ? { expiresOn: Math.floor(result.expiresOn.getTime() / 1000) } : {}),
          fallbackLifetimeSeconds: 3600,
        }),
      };
    } catch (error) {
      return { ok: false, failure: entraFailure(error, acquisition, this.label, secrets) };
    }
  }
}

/** The v2 scope for a v1 resource, as the SDKs and the az CLI convert: `<resource>/.default`. */
export function scopeOf(resource: string): string {
  return `${resource}/.default`;
}

/** Entra's errors for a resource it does not know, or cannot issue tokens for, as a scope. */
const RESOURCE_ERRORS = new Set(['invalid_resource', 'invalid_scope']);

/** Client-side msal errors that mean the configuration (key, certificate, authority) is wrong. */
const CONFIGURATION_ERRORS = /^(?:invalid_|untrusted_|url_|empty_|missing_|authority_)/;

/**
 * A thrown msal error as a typed failure. Entra's own description is kept (it names the AADSTS code, the
 * trace and correlation ids that support asks for); msal's decoration around it is dropped.
 */
export function entraFailure(
  error: unknown,
  acquisition: Acquisition,
  label: string,
  secrets: SecretRegistry,
): TokenFailure {
  const transport = acquisition.transportFailure;
  if (!isAuthError(error)) {
    const message = transport?.message ?? (error as Error)?.message ?? String(error);
    return failure('upstream', transport?.reason ?? 'unavailable', secrets.scrub(`${label}: ${message}`));
  }
  const code = error.errorCode;
  const status = (error as { status?: number }).status;
  const described = entraDescription(error.errorMessage);
  if (error.name === 'ServerError' || error.name === 'InteractionRequiredAuthError') {
    const text = secrets.scrub(`${label}: ${code}: ${described}`);
    if (RESOURCE_ERRORS.has(code) || /\bAADSTS500011\b/.test(described)) {
      return { code: 'invalid-resource', description: secrets.scrub(described), reason: 'rejected' };
    }
    const unavailable =
      (status !== undefined && status >= 500) ||
      code === 'temporarily_unavailable' ||
      code === 'server_error' ||
      transport?.reason === 'unavailable';
    return failure('upstream', unavailable ? 'unavailable' : 'rejected', text);
  }
  // Client-side: a transport failure (ours), or msal refusing the configuration or an answer.
  if (transport) {
    return failure('upstream', transport.reason, secrets.scrub(`${label}: ${transport.message}`));
  }
  const reason: UpstreamReason = CONFIGURATION_ERRORS.test(code) ? 'rejected' : 'unavailable';
  return failure('upstream', reason, secrets.scrub(`${label}: ${code}: ${described}`));
}

/** Entra's `error_description` out of msal's "Error(s): … - Description: … - Correlation ID: …" text. */
function entraDescription(message: string): string {
  const match = /Description: ([\s\S]*?) - Correlation ID: /.exec(message);
  return oneLine(match?.[1] ?? message);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 600 ? `${flat.slice(0, 597)}...` : flat;
}

function failure(code: TokenFailure['code'], reason: UpstreamReason, description: string): TokenFailure {
  return { code, description, reason };
}

/**
 * Reads a certificate credential from a PEM file holding the private key and the certificate (the form
 * `az ad sp create-for-rbac --create-cert` writes; convert a .pfx with
 * `openssl pkcs12 -in cert.pfx -out cert.pem -nodes`). An encrypted key needs `password`.
 * @throws AzimdsError `CONFIG_INVALID` naming the problem (never the key).
 */
export function certificateCredential(
  file: string,
  options: { what: string; password?: string; sendChain: boolean; secrets: SecretRegistry; log: SourceLog },
): ServicePrincipalCredential {
  const { what } = options;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AzimdsError('CONFIG_INVALID', `${what}: cannot read ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  warnIfExposed(file, what, options.log);
  const keyPem =
    /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(
      text,
    )?.[0];
  const certificates = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!keyPem || certificates.length === 0) {
    throw new AzimdsError(
      'CONFIG_INVALID',
      `${what}: ${file} must hold a PEM private key and its certificate (convert a .pfx with: openssl pkcs12 -in cert.pfx -out cert.pem -nodes)`,
    );
  }
  options.secrets.add(keyPem);
  try {
    const key = createPrivateKey({
      key: keyPem,
      format: 'pem',
      ...(options.password ? { passphrase: options.password } : {}),
    });
    // The leaf is the certificate whose public key matches the private key; the rest is its chain.
    const parsed = certificates.map((pem) => new X509Certificate(pem));
    const leaf = parsed.find((c) => c.checkPrivateKey(key));
    if (!leaf) throw new Error('no certificate in the file belongs to the private key');
    const privateKeyPem = options.secrets.add(key.export({ type: 'pkcs8', format: 'pem' }) as string);
    const chain = [leaf, ...parsed.filter((c) => c !== leaf)].map((c) => c.toString()).join('');
    return {
      kind: 'certificate',
      privateKeyPem,
      thumbprintSha256: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
      ...(options.sendChain ? { chainPem: chain } : {}),
    };
  } catch (cause) {
    const message = (cause as Error).message;
    throw new AzimdsError('CONFIG_INVALID', `${what}: ${file}: ${options.secrets.scrub(message)}`, { cause });
  }
}
