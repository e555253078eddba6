import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/**
 * Config of where tokens come from (`tokens.source`, `tokens.sources`, `tokens.rules`, `tokens.upstream`;
 * docs/token-sources.md):
 *
 * ```yaml
 * tokens:
 *   source: local                  # every (identity, resource) no rule routes elsewhere
 *   sources:
 *     sp-dev:
 *       type: service-principal
 *       tenantId: contoso.onmicrosoft.com
 *       clientId: 3f1c9a52-6d1e-4c7a-9b1e-2f4a7c9d0e11
 *       clientSecretEnv: SP_DEV_SECRET  # or clientSecretFile, or certificateFile
 *     me: { type: azure-cli }
 *   rules:                          # first match wins
 *     - resource: https://vault.azure.net
 *       source: sp-dev
 *     - identity: id-deploy
 *       source: me
 * ```
 *
 * Secrets are never written in the config itself: a source names the environment variable or the file
 * that holds one (files should be owner-only; azimds warns when they are not). The one exception is the
 * Go simulator's config.json, whose format has its secrets inline.
 */

/** Names every config may use without defining them (docs/token-sources.md, "Built-in sources"). */
export const BUILT_IN_SOURCES = ['local', 'azure-cli', 'service-principal', 'static'] as const;

/**
 * Environment variables of the built-in `service-principal` and `static` sources, read at start when no
 * source of that name is configured (and, for `service-principal`, no Go simulator service principal
 * exists). Deliberately not the Azure SDKs' `AZURE_CLIENT_*`: those would make an application started from
 * the same shell authenticate by itself and never ask azimds.
 */
export const SOURCE_ENVIRONMENT = {
  servicePrincipal: {
    clientId: 'AZIMDS_SP_CLIENT_ID',
    /** Default: `identity.tenantId` when configured. */
    tenantId: 'AZIMDS_SP_TENANT_ID',
    clientSecret: 'AZIMDS_SP_CLIENT_SECRET',
    clientSecretFile: 'AZIMDS_SP_CLIENT_SECRET_FILE',
    certificateFile: 'AZIMDS_SP_CERTIFICATE_FILE',
    certificatePassword: 'AZIMDS_SP_CERTIFICATE_PASSWORD',
  },
  static: { token: 'AZIMDS_STATIC_TOKEN', tokenFile: 'AZIMDS_STATIC_TOKEN_FILE' },
} as const;

/** Clouds and the Entra ID authority host of each (aliases as IMDS's azEnvironment and the az CLI spell them). */
export const CLOUD_AUTHORITY_HOSTS = {
  AzurePublicCloud: 'https://login.microsoftonline.com',
  AzureUSGovernment: 'https://login.microsoftonline.us',
  AzureChinaCloud: 'https://login.chinacloudapi.cn',
} as const;

const CLOUD_ALIASES: Record<string, keyof typeof CLOUD_AUTHORITY_HOSTS> = {
  azurepubliccloud: 'AzurePublicCloud',
  azurecloud: 'AzurePublicCloud',
  azureusgovernment: 'AzureUSGovernment',
  azureusgovernmentcloud: 'AzureUSGovernment',
  azurechinacloud: 'AzureChinaCloud',
  azurechina: 'AzureChinaCloud',
};

/** `AzurePublicCloud` (alias `AzureCloud`), `AzureUSGovernment` (`AzureUSGovernmentCloud`), `AzureChinaCloud` (`AzureChina`); any letter case. */
const cloud = z.string().transform((v, ctx) => {
  const name = CLOUD_ALIASES[v.toLowerCase()];
  if (!name) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown cloud "${v}": one of ${Object.keys(CLOUD_AUTHORITY_HOSTS).join(', ')} (or give authorityHost)`,
    });
    return z.NEVER;
  }
  return name;
});

/** An https base URL such as `https://login.microsoftonline.us` (a trailing slash is dropped). */
const authorityHost = z
  .url({ protocol: /^https$/, message: 'an https URL such as https://login.microsoftonline.com' })
  .transform((v) => v.replace(/\/+$/, ''));

const timeoutMs = z.coerce.number().int().min(1).max(600_000);

/** Entra tenant: a GUID or a verified domain (`contoso.onmicrosoft.com`), as authority URLs accept both. */
const tenant = z
  .string()
  .regex(
    /^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-zA-Z0-9][a-zA-Z0-9.-]*\.[a-zA-Z]{2,})$/,
    'a tenant id (GUID) or domain such as contoso.onmicrosoft.com',
  );

/** An application (client) id. Entra's are GUIDs. */
const clientId = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'an application (client) id: a GUID',
  );

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
const path = z.string().min(1);

/** A key holding a secret inline: refused with a message that says what to write instead. */
function noInlineSecret(instead: string) {
  return z
    .unknown()
    .optional()
    .superRefine((v, ctx) => {
      if (v !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `secrets are not accepted in the config file; use ${instead} (docs/token-sources.md)`,
        });
      }
    });
}

/** Credentials are exactly one of a secret (from the environment or a file) or a certificate file. */
export const servicePrincipalSourceSchema = z
  .strictObject({
    type: z.literal('service-principal'),
    /** Tenant of the app registration. Default: `identity.tenantId` (or the Go simulator's tenantID). */
    tenantId: tenant.optional(),
    clientId,
    /** Name of the environment variable that holds the client secret. */
    clientSecretEnv: envName.optional(),
    /** File whose content (trimmed) is the client secret; should be owner-only. */
    clientSecretFile: path.optional(),
    /** PEM file with the certificate and its private key (as `az ad sp create-for-rbac --create-cert` writes). */
    certificateFile: path.optional(),
    /** Environment variable with the password of an encrypted private key in `certificateFile`. */
    certificatePasswordEnv: envName.optional(),
    /** Send the certificate chain (x5c) with each request, for subject name/issuer authentication. */
    sendCertificateChain: z.boolean().default(false),
    /** Default: `tokens.upstream.cloud`. */
    cloud: cloud.optional(),
    /** Overrides `cloud` (a private cloud, a proxy); default: `tokens.upstream.authorityHost`. */
    authorityHost: authorityHost.optional(),
    /** Default: `tokens.upstream.timeoutMs`. */
    timeoutMs: timeoutMs.optional(),
    clientSecret: noInlineSecret('clientSecretEnv or clientSecretFile'),
  })
  .superRefine((v, ctx) => {
    const credentials = [v.clientSecretEnv, v.clientSecretFile, v.certificateFile].filter(
      (c) => c !== undefined,
    );
    if (credentials.length !== 1 && v.clientSecret === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'give exactly one credential: clientSecretEnv, clientSecretFile or certificateFile',
      });
    }
    if (v.certificatePasswordEnv && !v.certificateFile) {
      ctx.addIssue({
        code: 'custom',
        path: ['certificatePasswordEnv'],
        message: 'only with certificateFile',
      });
    }
  });

/** The developer's own identity: `az account get-access-token --resource <resource>`. */
export const azureCliSourceSchema = z.strictObject({
  type: z.literal('azure-cli'),
  /** Passed as `--tenant` (a tenant the signed-in account belongs to). Default: az's current one. */
  tenantId: tenant.optional(),
  /** The az executable (a name looked up on PATH, or a path). */
  command: z.string().min(1).default('az'),
  /** Default: DEFAULTS.tokens.azureCli.timeoutMs. */
  timeoutMs: timeoutMs.optional(),
});

/** A fixed token (any resource the rules route here gets it). */
export const staticSourceSchema = z
  .strictObject({
    type: z.literal('static'),
    /** Environment variable holding the token. */
    tokenEnv: envName.optional(),
    /** File holding the token, re-read whenever the cached copy is due (another process may refresh it). */
    tokenFile: path.optional(),
    token: noInlineSecret('tokenEnv or tokenFile'),
  })
  .superRefine((v, ctx) => {
    if ((v.tokenEnv === undefined) === (v.tokenFile === undefined) && v.token === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of tokenEnv or tokenFile' });
    }
  });

/** The local issuer under another name (to route to it explicitly by a name of your own). */
export const localSourceSchema = z.strictObject({ type: z.literal('local') });

export const tokenSourceSchema = z.discriminatedUnion('type', [
  localSourceSchema,
  servicePrincipalSourceSchema,
  azureCliSourceSchema,
  staticSourceSchema,
]);

const sourceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a source name: letters, digits, -, _ and .');

/**
 * One routing rule; the first rule whose `identity` and `resource` both match picks the source.
 * `identity`: a name, client id, principal id or resource id of an identity (any case), or
 * `system-assigned` / `user-assigned`; absent matches every identity.
 * `resource`: a resource or a pattern with `*` (any characters), compared without letter case and
 * without a trailing slash; several as a list; absent matches every resource.
 */
export const tokenRuleSchema = z.strictObject({
  identity: z.string().min(1).optional(),
  resource: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  source: sourceName,
});

export const upstreamSchema = z.strictObject({
  /** Cloud of service-principal sources without their own setting. */
  cloud: cloud.default(DEFAULTS.tokens.upstream.cloud),
  /** Authority host of service-principal sources without their own setting; overrides `cloud`. */
  authorityHost: authorityHost.optional(),
  /** PEM file of extra CA certificates to trust for Entra ID (a TLS-inspecting proxy; tests), besides the system's. */
  caFile: path.optional(),
  timeoutMs: timeoutMs.default(DEFAULTS.tokens.upstream.timeoutMs),
});

/** The keys `tokens` gains for token sources (spread into the tokens schema). */
export const tokenSourceKeys = {
  /** Default source of every identity and resource: a built-in name or one of `sources`. */
  source: sourceName.default(DEFAULTS.tokens.source),
  sources: z.record(sourceName, tokenSourceSchema).default({}),
  rules: z.array(tokenRuleSchema).default([]),
  upstream: upstreamSchema.default(upstreamSchema.parse({})),
};

/** Checks that every source a rule or `source` names exists (built in or defined). */
export function checkSourceReferences(
  tokens: { source: string; sources: Record<string, unknown>; rules: ReadonlyArray<{ source: string }> },
  ctx: z.RefinementCtx,
): void {
  const known = (name: string) =>
    Object.hasOwn(tokens.sources, name) || (BUILT_IN_SOURCES as readonly string[]).includes(name);
  const hint = () =>
    `one of ${[...new Set([...BUILT_IN_SOURCES, ...Object.keys(tokens.sources)])].join(', ')}`;
  if (!known(tokens.source)) {
    ctx.addIssue({
      code: 'custom',
      path: ['source'],
      message: `unknown source "${tokens.source}": ${hint()}`,
    });
  }
  tokens.rules.forEach((rule, i) => {
    if (!known(rule.source)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rules', i, 'source'],
        message: `unknown source "${rule.source}": ${hint()}`,
      });
    }
  });
}

export type TokenSourceConfig = z.output<typeof tokenSourceSchema>;
export type ServicePrincipalSourceConfig = z.output<typeof servicePrincipalSourceSchema>;
export type AzureCliSourceConfig = z.output<typeof azureCliSourceSchema>;
export type StaticSourceConfig = z.output<typeof staticSourceSchema>;
export type TokenRuleConfig = z.output<typeof tokenRuleSchema>;
export type UpstreamConfig = z.output<typeof upstreamSchema>;
export type CloudName = keyof typeof CLOUD_AUTHORITY_HOSTS;
