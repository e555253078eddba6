import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Config } from '../config/schema.js';
import { EmulatorClock } from '../core/clock.js';
import { writePrivateFileAtomic } from '../core/data-dir.js';
import { EntraDirectory } from '../core/directory/directory.js';
import {
  defaultFederatedTokenFile,
  ENTRA_ENVIRONMENTS,
  type EntraEnvironment,
  entraEnvironment,
} from '../core/directory/environment.js';
import { IdentityDirectory } from '../core/identities/directory.js';
import { Machine } from '../core/machines/machine.js';
import { PLATFORM_CLI_NAMES, type TokenPlatform } from '../core/platforms/catalog.js';
import type { KeyStore } from '../core/tokens/key-store.js';
import { createKeyStore } from '../core/tokens/service.js';
import { AzimdsError } from '../errors.js';
import type { EmulatorHandle } from '../server/emulator.js';
import { type ConfigFlags, configFromFlags, withConfigOptions } from './options.js';
import { parseTokenPlatform } from './platforms.js';
import { formatEnvironment, type Shell } from './sdk-environment.js';

/** A key store opened on first use: `--print-config` and `env` must not create key files they never need. */
function lazyKeyStore(config: Config, clock: EmulatorClock): KeyStore {
  let store: KeyStore | undefined;
  const open = () => {
    store ??= createKeyStore(config, clock);
    return store;
  };
  return {
    get location() {
      return open().location;
    },
    signingKey: () => open().signingKey(),
    publicKeys: () => open().publicKeys(),
    rotate: () => open().rotate(),
    ready: () => open().ready(),
  };
}

/**
 * The directory an emulator started with `config` has (same ids, same generated secrets from `dataDir`,
 * same signing keys, same workload-issuer URL when the IMDS port is fixed), without starting one.
 */
export function offlineDirectory(config: Config, clock = new EmulatorClock()): EntraDirectory {
  const identities = new IdentityDirectory(config, new Machine(config.vm));
  return new EntraDirectory(config, () => identities.tenantId, lazyKeyStore(config, clock), clock);
}

/** `env --platform`: a managed-identity platform, or `workload-identity` / `service-principal`. */
export function parseEnvPlatform(value: string): TokenPlatform | EntraEnvironment {
  const lower = value.trim().toLowerCase();
  if ((ENTRA_ENVIRONMENTS as readonly string[]).includes(lower)) return lower as EntraEnvironment;
  try {
    return parseTokenPlatform(value);
  } catch {
    throw new InvalidArgumentError(
      `unknown platform "${value}"; one of imds, ${PLATFORM_CLI_NAMES.join(', ')}, ${ENTRA_ENVIRONMENTS.join(', ')}`,
    );
  }
}

/** Whether `env --platform` named an Entra environment rather than a managed-identity platform. */
export function isEntraEnvironment(value: unknown): value is EntraEnvironment {
  return (ENTRA_ENVIRONMENTS as readonly unknown[]).includes(value);
}

/**
 * `azimds env --platform workload-identity|service-principal`: the variables, and for workload identity
 * a fresh projected token in the token file (so the variables work at once; `azimds token federated
 * --watch` keeps it fresh).
 */
export async function printEntraEnvironment(
  config: Config,
  kind: EntraEnvironment,
  shell: Shell,
  out: NodeJS.WritableStream,
  options: { authorityHost?: string } = {},
): Promise<void> {
  const directory = offlineDirectory(config);
  const tokenFile = defaultFederatedTokenFile(config);
  const vars = entraEnvironment(directory, kind, {
    tokenFile,
    ...(options.authorityHost ? { authorityHost: options.authorityHost } : {}),
  });
  if (kind === 'workload-identity') {
    const principal = directory.servicePrincipals()[0];
    const subject = principal?.federatedCredentials[0]?.subject as string;
    await writeFederatedToken(directory, { subject, out: tokenFile });
  }
  out.write(formatEnvironment(vars, shell));
}

/** Mints a projected service-account token and writes it (owner-only, atomically); returns its expiry (epoch s). */
async function writeFederatedToken(
  directory: EntraDirectory,
  request: { subject: string; out: string; audience?: string; lifetimeSeconds?: number },
): Promise<number> {
  const { token, expiresOn } = await directory.workloadIssuer.mint(request);
  mkdirSync(dirname(request.out), { recursive: true, mode: 0o700 });
  writePrivateFileAtomic(request.out, token);
  return expiresOn;
}

interface FederatedFlags extends ConfigFlags {
  subject: string;
  out?: string;
  audience?: string;
  lifetime?: string;
  watch?: boolean;
}

/**
 * `azimds token federated --subject system:serviceaccount:<ns>:<sa> [--out FILE] [--watch]`: a
 * projected-service-account-style JWT of azimds's workload issuer, signed with the configured keys
 * (the same a running emulator with this config verifies). `--watch` rewrites the file at 80% of the
 * token's lifetime, as the kubelet refreshes projected tokens, until interrupted.
 */
export function registerFederatedTokenCommand(
  token: Command,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): void {
  withConfigOptions(
    token
      .command('federated')
      .description(
        "write a Kubernetes projected service-account token of azimds's workload-identity issuer (for WorkloadIdentityCredential)",
      ),
  )
    .requiredOption('--subject <subject>', 'sub of the token, e.g. system:serviceaccount:default:default')
    .option('--out <file>', 'write the token to this file (owner-only) instead of printing it')
    .option('--audience <aud>', 'aud of the token (default api://AzureADTokenExchange)')
    .option('--lifetime <seconds>', 'lifetime in seconds (default entra.workloadIssuer.tokenLifetimeSeconds)')
    .option('--watch', 'keep running and refresh the file at 80% of the lifetime (needs --out)')
    .action(async (_flags: FederatedFlags, command: Command) => {
      // `token` has the same config options: commander gives them to whichever command comes first.
      const flags = command.optsWithGlobals<FederatedFlags>();
      const config = configFromFlags(flags);
      const directory = offlineDirectory(config);
      const lifetime = flags.lifetime === undefined ? undefined : Number(flags.lifetime);
      if (lifetime !== undefined && !(Number.isInteger(lifetime) && lifetime >= 60)) {
        throw new AzimdsError('INVALID_INPUT', '--lifetime must be a whole number of seconds, at least 60');
      }
      const request = {
        subject: flags.subject,
        ...(flags.audience ? { audience: flags.audience } : {}),
        ...(lifetime !== undefined ? { lifetimeSeconds: lifetime } : {}),
      };
      if (!flags.out) {
        if (flags.watch) throw new AzimdsError('INVALID_INPUT', '--watch needs --out <file>');
        out.write(`${(await directory.workloadIssuer.mint(request)).token}\n`);
        return;
      }
      const file = flags.out;
      const write = async () => {
        const expiresOn = await writeFederatedToken(directory, { ...request, out: file });
        err.write(
          `azimds: wrote ${file} (iss ${directory.workloadIssuer.url}, expires ${new Date(expiresOn * 1000).toISOString()})\n`,
        );
        return expiresOn;
      };
      const expiresOn = await write();
      if (!flags.watch) return;
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout;
        const schedule = (exp: number) => {
          const lifetimeMs = exp * 1000 - Date.now();
          timer = setTimeout(async () => schedule(await write()), Math.max(1000, lifetimeMs * 0.8));
        };
        schedule(expiresOn);
        const stop = () => {
          clearTimeout(timer);
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

/** The start banner's Entra lines: the token endpoint on the IMDS listener and how to get credentials. */
export function entraBannerLines(emulator: EmulatorHandle): string[] {
  const { config, state } = emulator;
  if (!config.entra.enabled || !emulator.urls.imds) return [];
  const [app] = state.directory.servicePrincipals();
  return [
    `  Entra  ${emulator.urls.imds}/${state.directory.tenantId}/oauth2/v2.0/token${app ? `   (app ${app.displayName}, client id ${app.clientId})` : ''}`,
    '         credentials: azimds env --platform service-principal | workload-identity (docs/entra.md)',
  ];
}
