import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/**
 * Config of the local Microsoft Entra ID (`entra`, docs/entra.md): app registrations (service
 * principals) with their credentials, the issuers whose tokens federated credentials trust, and
 * azimds's own workload-identity issuer.
 *
 * ```yaml
 * entra:
 *   domain: contoso.onmicrosoft.com
 *   applications:
 *     - displayName: ci-deployer           # clientId, principalId generated from it unless given
 *       secrets:
 *         - valueEnv: CI_DEPLOYER_SECRET    # or value, valueFile; {} = a generated secret
 *       certificates:
 *         - certFile: ./ci-deployer.crt     # PEM; matched by SHA-1 (x5t) and SHA-256 (x5t#S256) thumbprint
 *       federatedCredentials:
 *         - subject: system:serviceaccount:default:default   # issuer: azimds's workload issuer
 *         - issuer: https://token.actions.githubusercontent.com
 *           subject: repo:octo/app:ref:refs/heads/main
 *   federatedIssuers:
 *     - issuer: https://token.actions.githubusercontent.com
 *       jwksFile: ./github-jwks.json
 * ```
 *
 * Without `applications`, one app registration (`azimds-app`) exists with a generated client secret and
 * a federated credential for `system:serviceaccount:default:default` of the workload issuer.
 */

const guid = z.uuid({ message: 'must be a GUID such as 8f0e2c4a-5b1d-4e6f-9a7b-3c2d1e0f4a5b' });

/** One client secret: a value given inline, from an environment variable or a file; none of them = generated. */
export const clientSecretSchema = z
  .strictObject({
    /** Shown in `--print-config` instead of the value. */
    displayName: z.string().min(1).optional(),
    value: z.string().min(1).optional(),
    valueEnv: z.string().min(1).optional(),
    valueFile: z.string().min(1).optional(),
    /** ISO 8601 end of validity; after it the secret gets AADSTS7000222. */
    expiresOn: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((s) => [s.value, s.valueEnv, s.valueFile].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of value, valueEnv, valueFile (none: a generated secret)',
  });

/** A certificate credential: the PEM certificate (its public key verifies client assertions). */
export const certificateSchema = z
  .strictObject({
    certFile: z.string().min(1).optional(),
    /** PEM text of the certificate. */
    pem: z.string().min(1).optional(),
  })
  .refine((c) => (c.certFile === undefined) !== (c.pem === undefined), {
    message: 'give exactly one of certFile, pem',
  });

/** A federated identity credential: Entra accepts a JWT of `issuer` with this `subject` and one of `audiences`. */
export const federatedCredentialSchema = z.strictObject({
  name: z.string().min(1).optional(),
  /** The trusted issuer (`iss`, exact); absent = azimds's own workload-identity issuer. */
  issuer: z.url().optional(),
  /** `sub` of the presented token, compared case-sensitively as Entra does. */
  subject: z.string().min(1),
  audiences: z.array(z.string().min(1)).min(1).default([DEFAULTS.entra.federatedAudience]),
});

/** One app registration and its service principal. */
export const applicationSchema = z.strictObject({
  displayName: z.string().min(1),
  /** Application (client) id. Generated from the display name when absent. */
  clientId: guid.optional(),
  /** Object id of the service principal (`oid`, the RBAC principal id). Generated when absent. */
  principalId: guid.optional(),
  secrets: z.array(clientSecretSchema).default([]),
  certificates: z.array(certificateSchema).default([]),
  federatedCredentials: z.array(federatedCredentialSchema).default([]),
});

/** An external OIDC issuer whose tokens federated credentials may trust, with its signing keys. */
export const federatedIssuerSchema = z
  .strictObject({
    issuer: z.url(),
    /** The issuer's JWKS document (`{"keys":[...]}`), inline. */
    jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
    /** A file holding the JWKS document. */
    jwksFile: z.string().min(1).optional(),
  })
  .refine((i) => (i.jwks === undefined) !== (i.jwksFile === undefined), {
    message: 'give exactly one of jwks, jwksFile',
  });

export const entraSchema = z
  .strictObject({
    enabled: z.boolean().default(DEFAULTS.entra.enabled),
    /** The tenant's `<name>.onmicrosoft.com` domain, accepted wherever a tenant id is. */
    domain: z
      .string()
      .regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'a domain name such as contoso.onmicrosoft.com')
      .default(DEFAULTS.entra.domain),
    tokenLifetimeSeconds: z.coerce
      .number()
      .int()
      .min(60)
      .max(86_400)
      .default(DEFAULTS.entra.tokenLifetimeSeconds),
    /**
     * Resources (App ID URIs or client ids, as requested) whose app accepts v2.0 access tokens
     * (`accessTokenAcceptedVersion: 2`): their tokens carry the v2.0 issuer and `azp`. Azure's own
     * resources (ARM, Key Vault, Storage, Graph) take v1.0 tokens whichever endpoint issued them.
     */
    v2Resources: z.array(z.string().min(1)).default([]),
    /** App registrations; absent = the zero-config one (see above). */
    applications: z.array(applicationSchema).optional(),
    federatedIssuers: z.array(federatedIssuerSchema).default([]),
    workloadIssuer: z
      .strictObject({
        /** `iss` of projected service-account tokens. Default: `<IMDS base URL>/workload-identity`. */
        url: z.url({ protocol: /^https?$/ }).optional(),
        tokenLifetimeSeconds: z.coerce
          .number()
          .int()
          .min(60)
          .max(86_400)
          .default(DEFAULTS.entra.workloadIssuer.tokenLifetimeSeconds),
      })
      .default({ tokenLifetimeSeconds: DEFAULTS.entra.workloadIssuer.tokenLifetimeSeconds }),
  })
  .superRefine((v, ctx) => {
    const seen = new Map<string, number>();
    (v.applications ?? []).forEach((app, i) => {
      for (const [key, value] of [
        ['displayName', app.displayName],
        ['clientId', app.clientId],
        ['principalId', app.principalId],
      ] as const) {
        if (value === undefined) continue;
        const k = `${key}|${value.toLowerCase()}`;
        const first = seen.get(k);
        if (first === undefined) seen.set(k, i);
        else
          ctx.addIssue({
            code: 'custom',
            path: ['applications', i, key],
            message: `the same ${key} as applications[${first}]`,
          });
      }
    });
  });

export type EntraConfig = z.output<typeof entraSchema>;
export type ApplicationConfig = z.output<typeof applicationSchema>;
export type ClientSecretConfig = z.output<typeof clientSecretSchema>;
