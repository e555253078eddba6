import { type Command, Option } from 'commander';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../options.js';
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
    .action((flags: EnvFlags) => {
      const urls = urlsFromConfig(configFromFlags(flags));
      out.write(formatEnvironment(sdkEnvironment(urls), flags.shell ?? defaultShell()));
    });
}
