import { type Command, Option } from 'commander';
import type { EntraEnvironment } from '../../core/directory/environment.js';
import { PLATFORM_CLI_NAMES, type TokenPlatform } from '../../core/platforms/catalog.js';
import { localCaOf } from '../../core/tls/local-ca.js';
import { isEntraEnvironment, parseEnvPlatform, printEntraEnvironment } from '../entra.js';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../options.js';
import { environmentFromConfig, formatPlatformEnvironment } from '../platforms.js';
import {
  defaultShell,
  formatEnvironment,
  proxyEnvironment,
  SHELLS,
  type Shell,
  sdkEnvironment,
  urlsFromConfig,
} from '../sdk-environment.js';

interface EnvFlags extends ConfigFlags {
  shell?: Shell;
  platform?: TokenPlatform | EntraEnvironment;
  direct?: boolean;
  authorityHost?: string;
}

/** `azimds env`: the variables that send the Azure SDKs to an emulator started with the same flags. */
export function registerEnvCommand(program: Command, out: NodeJS.WritableStream): void {
  withConfigOptions(
    program
      .command('env')
      .description(
        'print the environment variables that send Azure clients to azimds (same --config/--host/--port as start), e.g. eval "$(azimds env)": by default the proxy block (HTTP(S)_PROXY, the local CA, docs/proxy.md), so code that hard-codes 169.254.169.254 or login.microsoftonline.com reaches azimds',
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
      '--direct',
      'only the direct-endpoint block (AZURE_POD_IDENTITY_AUTHORITY_HOST, NO_PROXY): no proxy, no CA (the block before the proxy existed)',
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
      const config = configFromFlags(flags);
      const urls = urlsFromConfig(config);
      const shell = flags.shell ?? defaultShell();
      if (flags.direct || !urls.proxy) {
        out.write(formatEnvironment(sdkEnvironment(urls), shell));
        return;
      }
      // The CA's files must exist before a client starts: created here if `start` has not run yet.
      const ca = localCaOf(config);
      out.write(
        formatEnvironment(
          proxyEnvironment(urls, { certFile: ca.certFile(), bundleFile: ca.bundleFile() }),
          shell,
        ),
      );
    });
}
