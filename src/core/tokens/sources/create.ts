import { readFileSync } from 'node:fs';
import { DEFAULTS } from '../../../config/defaults.js';
import type { Config } from '../../../config/schema.js';
import {
  type AzureCliSourceConfig,
  CLOUD_AUTHORITY_HOSTS,
  type ServicePrincipalSourceConfig,
  SOURCE_ENVIRONMENT,
  type StaticSourceConfig,
  type TokenSourceConfig,
} from '../../../config/token-sources.js';
import { AzimdsError } from '../../../errors.js';
import type { Clock } from '../../clock.js';
import { resolveDataDir } from '../../data-dir.js';
import type { TokenProvider } from '../provider.js';
import type { TokenService } from '../service.js';
import { AzureCliSource } from './azure-cli.js';
import { GoServicePrincipals } from './go-simulator.js';
import { type SourceLog, silentLog } from './log.js';
import {
  type CompiledRule,
  identityMatcher,
  type NamedSource,
  resourceMatcher,
  TokenSourceRouter,
} from './router.js';
import { SecretRegistry, secretFromEnv, secretFromFile } from './secrets.js';
import {
  certificateCredential,
  type ServicePrincipalCredential,
  type ServicePrincipalOptions,
  ServicePrincipalSource,
} from './service-principal.js';
import { StaticSource } from './static.js';

export interface TokenSourceDependencies {
  /** The local issuer (the `local` source). */
  local: TokenProvider;
  clock: Clock;
  log?: SourceLog;
  /** Where `…Env` settings and the built-in sources' variables are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

type SourcesConfig = Pick<Config, 'tokens' | 'identity' | 'goSimulator'>;

/**
 * Builds the token sources the config uses (only those `tokens.source` and `tokens.rules` name) and the
 * router in front of them. Returns `undefined` when every token is local (the default), so the local
 * issuer is called directly. Secrets are read here, once: a missing variable or an unreadable file stops
 * the start with a message naming the key.
 * @throws AzimdsError `CONFIG_INVALID` naming the source and what is missing.
 */
export function createTokenSources(
  config: SourcesConfig,
  deps: TokenSourceDependencies,
): TokenSourceRouter | undefined {
  const { tokens } = config;
  if (tokens.source === 'local' && tokens.rules.length === 0) return undefined;
  const log = deps.log ?? silentLog;
  const secrets = new SecretRegistry();
  const built = new Map<string, NamedSource>();
  const sourceNamed = (name: string): NamedSource => {
    let source = built.get(name);
    if (!source) {
      source = buildSource(name, config, { ...deps, log, secrets, env: deps.env ?? process.env });
      built.set(name, source);
      log.info({ source: name }, `token source ${name}: ${describe(name, config, deps.env ?? process.env)}`);
    }
    return source;
  };
  const rules: CompiledRule[] = tokens.rules.map((rule) => ({
    ...(rule.identity !== undefined ? { identity: identityMatcher(rule.identity) } : {}),
    ...(rule.resource !== undefined ? { resource: resourceMatcher(rule.resource) } : {}),
    source: sourceNamed(rule.source),
  }));
  return new TokenSourceRouter({
    rules,
    fallback: sourceNamed(tokens.source),
    local: deps.local,
    secrets,
    log,
  });
}

interface BuildContext extends TokenSourceDependencies {
  log: SourceLog;
  secrets: SecretRegistry;
  env: NodeJS.ProcessEnv;
}

/** One source by name: a configured one, else a built-in. */
function buildSource(name: string, config: SourcesConfig, ctx: BuildContext): NamedSource {
  const defined = config.tokens.sources[name];
  if (defined) return fromDefinition(name, `tokens.sources.${name}`, defined, config, ctx);
  switch (name) {
    case 'local':
      return { name, provider: ctx.local };
    case 'azure-cli':
      return fromDefinition(
        name,
        'the built-in azure-cli source',
        { type: 'azure-cli', command: 'az' },
        config,
        ctx,
      );
    case 'service-principal':
      return builtInServicePrincipal(config, ctx);
    case 'static':
      return builtInStatic(config, ctx);
    default:
      // The schema refuses unknown names; a library caller may have bypassed it.
      throw new AzimdsError('CONFIG_INVALID', `tokens: unknown token source "${name}"`);
  }
}

function fromDefinition(
  name: string,
  where: string,
  definition: TokenSourceConfig,
  config: SourcesConfig,
  ctx: BuildContext,
): NamedSource {
  switch (definition.type) {
    case 'local':
      return { name, provider: ctx.local };
    case 'service-principal':
      return servicePrincipal(name, where, definition, config, ctx);
    case 'azure-cli':
      return azureCli(name, where, definition, ctx);
    case 'static':
      return staticSource(name, where, definition, config, ctx);
  }
}

function servicePrincipal(
  name: string,
  where: string,
  definition: ServicePrincipalSourceConfig,
  config: SourcesConfig,
  ctx: BuildContext,
): NamedSource {
  let credential: ServicePrincipalCredential;
  if (definition.clientSecretEnv) {
    credential = {
      kind: 'secret',
      secret: secretFromEnv(ctx.env, definition.clientSecretEnv, `${where}.clientSecretEnv`, ctx.secrets),
    };
  } else if (definition.clientSecretFile) {
    credential = {
      kind: 'secret',
      secret: secretFromFile(
        expandPath(definition.clientSecretFile),
        `${where}.clientSecretFile`,
        ctx.secrets,
        ctx.log,
      ),
    };
  } else if (definition.certificateFile) {
    const password = definition.certificatePasswordEnv
      ? secretFromEnv(
          ctx.env,
          definition.certificatePasswordEnv,
          `${where}.certificatePasswordEnv`,
          ctx.secrets,
        )
      : undefined;
    credential = certificateCredential(expandPath(definition.certificateFile), {
      what: `${where}.certificateFile`,
      ...(password ? { password } : {}),
      sendChain: definition.sendCertificateChain,
      secrets: ctx.secrets,
      log: ctx.log,
    });
  } else {
    throw new AzimdsError(
      'CONFIG_INVALID',
      `${where}: no credential (clientSecretEnv, clientSecretFile or certificateFile)`,
    );
  }
  const tenantId = definition.tenantId ?? config.identity.tenantId ?? config.goSimulator?.tenantId;
  if (!tenantId) {
    throw new AzimdsError(
      'CONFIG_INVALID',
      `${where}.tenantId: the tenant of the service principal is needed (or set identity.tenantId)`,
    );
  }
  const authorityHost =
    definition.authorityHost ??
    (definition.cloud ? CLOUD_AUTHORITY_HOSTS[definition.cloud] : undefined) ??
    defaultAuthorityHost(config);
  const timeoutMs = definition.timeoutMs ?? config.tokens.upstream.timeoutMs;
  return {
    name,
    timeoutMs,
    provider: servicePrincipalProvider(
      { name, clientId: definition.clientId, tenantId, authorityHost, credential, timeoutMs },
      config,
      ctx,
    ),
  };
}

function servicePrincipalProvider(
  settings: Omit<ServicePrincipalOptions, 'extraCaPem' | 'clock' | 'secrets' | 'env'>,
  config: SourcesConfig,
  ctx: BuildContext,
): ServicePrincipalSource {
  const extraCaPem = extraCas(config);
  return new ServicePrincipalSource({
    ...settings,
    ...(extraCaPem ? { extraCaPem } : {}),
    clock: ctx.clock,
    secrets: ctx.secrets,
    env: ctx.env,
  });
}

/**
 * The built-in `service-principal`: the Go simulator's service principals when its config.json is in use,
 * else one service principal from the AZIMDS_SP_* environment variables.
 */
function builtInServicePrincipal(config: SourcesConfig, ctx: BuildContext): NamedSource {
  const go = Object.entries(config.goSimulator?.servicePrincipals ?? {});
  const timeoutMs = config.tokens.upstream.timeoutMs;
  if (go.length > 0) {
    const tenantId = config.goSimulator?.tenantId;
    if (!tenantId) {
      throw new AzimdsError(
        'CONFIG_INVALID',
        'the Go simulator config has servicePrincipals but no tenantID: their tokens need the tenant',
      );
    }
    const authorityHost = defaultAuthorityHost(config);
    const principals = go.map(([clientId, secret]) => {
      ctx.secrets.add(secret);
      const source = servicePrincipalProvider(
        {
          name: 'service-principal',
          clientId,
          tenantId,
          authorityHost,
          credential: { kind: 'secret', secret },
          timeoutMs,
        },
        config,
        ctx,
      );
      return [clientId, source] as const;
    });
    return { name: 'service-principal', timeoutMs, provider: new GoServicePrincipals(principals) };
  }
  const names = SOURCE_ENVIRONMENT.servicePrincipal;
  const clientId = ctx.env[names.clientId]?.trim();
  if (!clientId) {
    throw new AzimdsError(
      'CONFIG_INVALID',
      `token source service-principal: set ${names.clientId} (and ${names.tenantId}, and ${names.clientSecret}, ${names.clientSecretFile} or ${names.certificateFile}), or define tokens.sources.service-principal`,
    );
  }
  const definition: ServicePrincipalSourceConfig = {
    type: 'service-principal',
    clientId,
    sendCertificateChain: false,
    ...(ctx.env[names.tenantId] ? { tenantId: ctx.env[names.tenantId] as string } : {}),
    ...(ctx.env[names.clientSecret]
      ? { clientSecretEnv: names.clientSecret }
      : ctx.env[names.clientSecretFile]
        ? { clientSecretFile: ctx.env[names.clientSecretFile] as string }
        : ctx.env[names.certificateFile]
          ? {
              certificateFile: ctx.env[names.certificateFile] as string,
              ...(ctx.env[names.certificatePassword]
                ? { certificatePasswordEnv: names.certificatePassword }
                : {}),
            }
          : {}),
  };
  return servicePrincipal(
    'service-principal',
    'token source service-principal (AZIMDS_SP_*)',
    definition,
    config,
    ctx,
  );
}

function azureCli(
  name: string,
  where: string,
  definition: AzureCliSourceConfig,
  ctx: BuildContext,
): NamedSource {
  const timeoutMs = definition.timeoutMs ?? DEFAULTS.tokens.azureCli.timeoutMs;
  try {
    return {
      name,
      timeoutMs,
      provider: new AzureCliSource({
        name,
        command: definition.command,
        ...(definition.tenantId ? { tenantId: definition.tenantId } : {}),
        timeoutMs,
        clock: ctx.clock,
        secrets: ctx.secrets,
        env: ctx.env,
      }),
    };
  } catch (cause) {
    throw new AzimdsError('CONFIG_INVALID', `${where}: ${(cause as Error).message}`, { cause });
  }
}

function staticSource(
  name: string,
  where: string,
  definition: StaticSourceConfig,
  config: SourcesConfig,
  ctx: BuildContext,
): NamedSource {
  const origin = definition.tokenEnv
    ? {
        kind: 'env' as const,
        name: definition.tokenEnv,
        value: secretFromEnv(ctx.env, definition.tokenEnv, `${where}.tokenEnv`, ctx.secrets),
      }
    : { kind: 'file' as const, path: expandPath(definition.tokenFile as string) };
  return {
    name,
    // Reading a file or a variable cannot hang; no timeout needed beyond the router's.
    provider: new StaticSource({
      name,
      origin,
      clock: ctx.clock,
      fallbackLifetimeSeconds: config.tokens.lifetimeSeconds,
      secrets: ctx.secrets,
      log: ctx.log,
    }),
  };
}

/** The built-in `static`: AZIMDS_STATIC_TOKEN, else the file AZIMDS_STATIC_TOKEN_FILE names. */
function builtInStatic(config: SourcesConfig, ctx: BuildContext): NamedSource {
  const names = SOURCE_ENVIRONMENT.static;
  const file = ctx.env[names.tokenFile]?.trim();
  if (!ctx.env[names.token]?.trim() && !file) {
    throw new AzimdsError(
      'CONFIG_INVALID',
      `token source static: set ${names.token} or ${names.tokenFile}, or define tokens.sources.static`,
    );
  }
  const definition: StaticSourceConfig = ctx.env[names.token]?.trim()
    ? { type: 'static', tokenEnv: names.token }
    : { type: 'static', tokenFile: file as string };
  return staticSource('static', 'token source static', definition, config, ctx);
}

function defaultAuthorityHost(config: SourcesConfig): string {
  return config.tokens.upstream.authorityHost ?? CLOUD_AUTHORITY_HOSTS[config.tokens.upstream.cloud];
}

function extraCas(config: SourcesConfig): string | undefined {
  if (!config.tokens.upstream.caFile) return undefined;
  const file = expandPath(config.tokens.upstream.caFile);
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AzimdsError(
      'CONFIG_INVALID',
      `tokens.upstream.caFile: cannot read ${file}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

/** One line about a source for the start log: what it is and where it asks, never a secret. */
function describe(name: string, config: SourcesConfig, env: NodeJS.ProcessEnv): string {
  const defined = config.tokens.sources[name];
  const type = defined?.type ?? name;
  switch (type) {
    case 'local':
      return 'tokens minted locally by azimds';
    case 'azure-cli':
      return 'tokens of the account signed in to the az CLI';
    case 'static':
      return 'a fixed token';
    default: {
      if (!defined && Object.keys(config.goSimulator?.servicePrincipals ?? {}).length > 0) {
        return `real tokens of the Go simulator config's service principals (tenant ${config.goSimulator?.tenantId}) from ${defaultAuthorityHost(config)}`;
      }
      const sp = defined as ServicePrincipalSourceConfig | undefined;
      const clientId = sp?.clientId ?? env[SOURCE_ENVIRONMENT.servicePrincipal.clientId];
      const host =
        sp?.authorityHost ??
        (sp?.cloud ? CLOUD_AUTHORITY_HOSTS[sp.cloud] : undefined) ??
        defaultAuthorityHost(config);
      return `real tokens of service principal ${clientId} from ${host}`;
    }
  }
}

/**
 * Puts the sources `config` asks for behind `tokens` (its cache stays in front: caching, refresh before
 * expiry and one upstream call per (identity, resource) at a time). Nothing changes when every token is
 * local. Returns `tokens`.
 * @throws AzimdsError `CONFIG_INVALID` (see `createTokenSources`).
 */
export function useConfiguredSources(
  tokens: TokenService,
  config: SourcesConfig,
  deps: Omit<TokenSourceDependencies, 'local'>,
): TokenService {
  const router = createTokenSources(config, { ...deps, local: tokens.local });
  if (router) tokens.useProvider(router, router.mintsLocally);
  return tokens;
}

/** A path from config or the environment: `~` is the home directory, relative paths are from the working directory. */
function expandPath(path: string): string {
  return resolveDataDir(path);
}
