import { type Command, Option } from 'commander';
import type { Config } from '../../config/schema.js';
import type { EntraEnvironment } from '../../core/directory/environment.js';
import { PLATFORM_CLI_NAMES, type TokenPlatform } from '../../core/platforms/catalog.js';
import { localCaOf } from '../../core/tls/local-ca.js';
import type { EmulatorUrls } from '../../server/emulator.js';
import { vmProxyUrl } from '../../server/vm-handle.js';
import { vmImdsUrl } from '../control-client.js';
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
  vm?: string;
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
      '--vm <name>',
      "the block of one VM of a fleet (docs/fleet.md): the VM's name in the proxy URL's user part (http://NAME@127.0.0.1:8171) and AZURE_POD_IDENTITY_AUTHORITY_HOST at that VM's own IMDS port, asked of the running emulator (with --direct: its ports only)",
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
      if (flags.vm !== undefined) {
        out.write(formatEnvironment(await vmEnvironment(config, urls, flags.vm, flags), shell));
        return;
      }
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

/**
 * `azimds env --vm NAME` (docs/fleet.md): the proxy block with the VM's name in the proxy URL's user
 * part, and AZURE_POD_IDENTITY_AUTHORITY_HOST at the VM's own IMDS port, which the running emulator opens
 * on request (`POST /vms/{name}/listeners`): msal-node, hence @azure/identity, reads that variable and
 * ignores proxies. `--direct`: the direct-endpoint block at the VM's own ports only.
 * @throws AzimdsError `NOT_RUNNING` when no emulator answers at the control API, `CONTROL_API` for an unknown VM.
 */
async function vmEnvironment(
  config: Config,
  urls: EmulatorUrls,
  name: string,
  flags: EnvFlags,
): Promise<Array<[string, string]>> {
  const own = await vmImdsUrl(flags, name);
  const imds = own ? { imds: own } : {};
  if (flags.direct || !urls.proxy) return sdkEnvironment({ ...urls, ...imds });
  const ca = localCaOf(config);
  return proxyEnvironment(
    { ...urls, ...imds, proxy: vmProxyUrl(urls.proxy, name) },
    { certFile: ca.certFile(), bundleFile: ca.bundleFile() },
  );
}
