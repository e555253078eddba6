import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import type { KeyStore } from '../tokens/key-store.js';

export interface WorkloadIssuerOptions {
  keys: KeyStore;
  clock: Clock;
  /** `entra.workloadIssuer.url` when configured. */
  configuredUrl: string | undefined;
  /** Where the IMDS listener is reached, before it is bound: from config (`tokens.publicUrl`, host, port). */
  baseUrl: string;
  /** Path of the issuer below the base URL (`/workload-identity`). */
  path: string;
  lifetimeSeconds: number;
  /** `aud` of the tokens when the caller gives none (`api://AzureADTokenExchange`). */
  audience: string;
}

/** A projected service-account token and its expiry (epoch seconds). */
export interface ServiceAccountToken {
  readonly token: string;
  readonly expiresOn: number;
}

/** `system:serviceaccount:<namespace>:<name>` split, or undefined for another subject. */
export function serviceAccountOf(subject: string): { namespace: string; name: string } | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject);
  return m ? { namespace: m[1] as string, name: m[2] as string } : undefined;
}

/**
 * azimds as a Kubernetes cluster's service-account issuer (the AKS OIDC issuer that workload identity
 * federates with): it signs projected-token-style JWTs with the emulator's key store, so the JWKS it
 * publishes under `<issuer>/openid/v1/jwks` (and the Entra JWKS) verify them, and Entra's token endpoint
 * accepts them as federated assertions for app registrations that trust `subject` of this issuer.
 */
export class WorkloadIssuer {
  readonly #options: WorkloadIssuerOptions;
  #baseUrl: string;

  constructor(options: WorkloadIssuerOptions) {
    this.#options = options;
    this.#baseUrl = options.baseUrl;
  }

  /** The issuer URL (`iss`): configured, else `<IMDS base URL>/workload-identity`. */
  get url(): string {
    return this.#options.configuredUrl?.replace(/\/+$/, '') ?? `${this.#baseUrl}${this.#options.path}`;
  }

  /** Where the IMDS listener is actually reached, once bound (port 0 picks a free port). */
  bind(baseUrl: string): void {
    this.#baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /**
   * A token as the kubelet projects it for a pod's service account: `iss`, `sub`, `aud` (a list),
   * `iat`/`nbf`/`exp`, `jti`, and the `kubernetes.io` claim naming the namespace and service account
   * (k8s.io/kubernetes pkg/serviceaccount/claims.go). RS256 with the key store's signing key (`kid`).
   */
  async mint(request: {
    subject: string;
    audience?: string;
    lifetimeSeconds?: number;
  }): Promise<ServiceAccountToken> {
    const { keys, clock } = this.#options;
    await keys.ready();
    const now = Math.floor(clock.now() / 1000);
    const exp = now + (request.lifetimeSeconds ?? this.#options.lifetimeSeconds);
    const account = serviceAccountOf(request.subject);
    const key = keys.signingKey();
    const token = await new SignJWT({
      aud: [request.audience ?? this.#options.audience],
      ...(account
        ? {
            'kubernetes.io': {
              namespace: account.namespace,
              serviceaccount: { name: account.name, uid: randomUUID() },
            },
          }
        : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(this.url)
      .setSubject(request.subject)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresOn: exp };
  }

  /** The issuer's discovery document (Kubernetes' `/.well-known/openid-configuration` shape). */
  discovery(): Record<string, unknown> {
    return {
      issuer: this.url,
      jwks_uri: `${this.url}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }
}
