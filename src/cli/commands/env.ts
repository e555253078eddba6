import { type Command, Option } from 'commander';
import type { EntraEnvironment } from '../../core/directory/environment.js';
import { PLATFORM_CLI_NAMES, type TokenPlatform } from '../../core/platforms/catalog.js';
import { isEntraEnvironment, parseEnvPlatform, printEntraEnvironment } from '../entra.js';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../options.js';
import { environmentFromConfig, formatPlatformEnvironment } from '../platforms.js';
import {
  defaultShell,
  formatEnvironment,
  SHELLS,
  type Shell,
  sdkEnvironment,
  urlsFromConfig,
} from '../sdk-environment.js';

interface EnvFlags extends ConfigFlags {
  shell?: Shell;
  platform?: TokenPlatform | EntraEnvironment;
  authorityHost?: string;
}

/** `azimds env`: the variables that send the Azure SDKs to an emulator started with the same flags. */
export function registerEnvCommand(program: Command, out: NodeJS.WritableStream): void {
  withConfigOptions(
    program
      .command('env')
      .description(
        'print the environment variables that send the Azure SDKs to azimds (same --config/--host/--port as start), e.g. eval "$(azimds env)"',
      ),
  )
    .addOption(
      new Option('--shell <shell>', `output format (default: ${defaultShell()} on this system)`).choices(
        SHELLS,
      ),
    )
    .option(
      '--platform <name>',
      `the platform's variables (unsetting other platforms'): imds, ${PLATFORM_CLI_NAMES.join(', ')} (docs/platforms/); workload-identity, service-principal (docs/entra.md)`,
      parseEnvPlatform,
    )
    .option(
      '--authority-host <url>',
      'AZURE_AUTHORITY_HOST of workload-identity / service-principal (default https://login.microsoftonline.com/)',
    )
    .action(async (flags: EnvFlags) => {
      if (isEntraEnvironment(flags.platform)) {
        const options = flags.authorityHost ? { authorityHost: flags.authorityHost } : {};
        await printEntraEnvironment(
          configFromFlags(flags),
          flags.platform,
          flags.shell ?? defaultShell(),
          out,
          options,
        );
        return;
      }
      if (flags.platform !== undefined) {
        const env = environmentFromConfig(configFromFlags(flags), flags.platform);
        out.write(formatPlatformEnvironment(env, flags.shell ?? defaultShell()));
        return;
      }
      const urls = urlsFromConfig(configFromFlags(flags));
      out.write(formatEnvironment(sdkEnvironment(urls), flags.shell ?? defaultShell()));
    });
}
