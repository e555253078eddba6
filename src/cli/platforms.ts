import { InvalidArgumentError } from 'commander';
import type { Override } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { EmulatorClock } from '../core/clock.js';
import { IdentityDirectory } from '../core/identities/directory.js';
import { Machine } from '../core/machines/machine.js';
import {
  PLATFORM_CLI_NAMES,
  PLATFORM_IDS,
  PLATFORMS,
  type PlatformId,
  type TokenPlatform,
  tokenPlatformByName,
} from '../core/platforms/catalog.js';
import {
  type PlatformEnvironment,
  platformEnvironment,
  platformUrlFromConfig,
  TOKEN_PATHS,
} from '../core/platforms/environment.js';
import { Platforms } from '../core/platforms/platforms.js';
import { AzimdsError } from '../errors.js';
import type { EmulatorHandle } from '../server/emulator.js';
import { formatEnvironment, type Shell, urlsFromConfig } from './sdk-environment.js';

/** Help text of `--platform` on `start`. */
export const PLATFORM_LIST_HELP = `enable managed-identity platforms, comma-separated: imds (always on), ${PLATFORM_CLI_NAMES.join(', ')} (docs/platforms/)`;

/**
 * Parses `--platform arc,app-service` (commander argument parser). Takes the names `env --platform`
 * takes (`tokenPlatformByName`): `imds` too, which is always on, so it adds nothing.
 */
export function parsePlatformList(value: string): PlatformId[] {
  const ids: PlatformId[] = [];
  for (const name of value.split(',').filter((n) => n.trim() !== '')) {
    const platform = tokenPlatformByName(name);
    if (!platform) {
      throw new InvalidArgumentError(
        `unknown platform "${name.trim()}"; one of imds, ${PLATFORM_CLI_NAMES.join(', ')}`,
      );
    }
    if (platform !== 'imds' && !ids.includes(platform)) ids.push(platform);
  }
  return ids;
}

/** Parses `env --platform <name>`: `imds` or a platform. */
export function parseTokenPlatform(value: string): TokenPlatform {
  const platform = tokenPlatformByName(value);
  if (!platform) {
    throw new InvalidArgumentError(
      `unknown platform "${value}"; one of imds, ${PLATFORM_CLI_NAMES.join(', ')}`,
    );
  }
  return platform;
}

/** `--platform` as config overrides: `platforms.<id>.enabled = true` each. */
export function platformOverrides(ids: readonly PlatformId[] | undefined): Override[] {
  return (ids ?? []).map((id) => ({ path: ['platforms', id, 'enabled'], value: true, source: '--platform' }));
}

/**
 * The variables of `platform` for an emulator started with `config` (what `azimds env --platform`
 * prints): URLs from the configured ports, secrets and certificate from `dataDir` or config, the
 * default identity from the configured identities.
 * @throws AzimdsError `INVALID_INPUT` when the listener's port is 0 (unpredictable).
 */
export function environmentFromConfig(config: Config, platform: TokenPlatform): PlatformEnvironment {
  let url: string | undefined;
  if (platform === 'imds') url = urlsFromConfig(config).imds;
  else if (config.platforms[platform].port !== 0) url = platformUrlFromConfig(config, platform);
  if (!url) {
    const key = platform === 'imds' ? 'imds.port' : `platforms.${platform}.port`;
    throw new AzimdsError('INVALID_INPUT', `the ${key} is 0 (a random port) or off here: give a port`);
  }
  const clock = new EmulatorClock();
  return platformEnvironment(platform, url, {
    config,
    platforms: new Platforms(config, clock),
    identities: new IdentityDirectory(config, new Machine(config.vm)),
  });
}

/**
 * Renders a platform's environment for a shell: first removes the managed-identity variables the
 * platform does not set (so the SDKs cannot pick another platform), then sets its own. `dotenv`
 * cannot remove variables and lists only those to set; `json` gives removals as `null`.
 */
export function formatPlatformEnvironment(env: PlatformEnvironment, shell: Shell): string {
  if (shell === 'json') {
    const out: Record<string, string | null> = {};
    for (const name of env.unset) out[name] = null;
    for (const [name, value] of env.set) out[name] = value;
    return `${JSON.stringify(out, null, 2)}\n`;
  }
  const removals: Record<Exclude<Shell, 'json'>, string> = {
    bash: env.unset.length > 0 ? `unset ${env.unset.join(' ')}\n` : '',
    pwsh: env.unset.map((n) => `Remove-Item Env:${n} -ErrorAction SilentlyContinue\n`).join(''),
    cmd: env.unset.map((n) => `set "${n}="\n`).join(''),
    dotenv: '',
  };
  return removals[shell] + formatEnvironment(env.set, shell);
}

/** Lines of the start banner for the enabled platforms: each with its token endpoint. */
export function platformBannerLines(emulator: EmulatorHandle): string[] {
  const enabled = PLATFORM_IDS.filter((id) => emulator.urls[id]);
  if (enabled.length === 0) return [];
  const { platforms } = emulator.config;
  const endpoint: Record<PlatformId, string> = {
    arc: TOKEN_PATHS.arc,
    vmExtension: TOKEN_PATHS.vmExtension,
    appService: platforms.appService.path,
    cloudShell: TOKEN_PATHS.cloudShell,
    serviceFabric: TOKEN_PATHS.serviceFabric,
    azureMl: platforms.azureMl.path,
  };
  const width = Math.max(...enabled.map((id) => PLATFORMS[id].cliName.length));
  const lines = ['', 'Managed-identity platforms (docs/platforms/<name>.md):'];
  for (const id of enabled) {
    lines.push(
      `  ${PLATFORMS[id].cliName.padEnd(width)}  ${emulator.urls[id]}${endpoint[id]}   ${PLATFORMS[id].title}`,
    );
  }
  lines.push(
    '  Their variables: eval "$(azimds env --platform <name>)" with the same --config/--host/--port as start.',
  );
  return lines;
}
