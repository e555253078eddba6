import type { Command } from 'commander';
import { readConfigFile, resolveConfig } from '../../config/load.js';
import { configJsonSchema } from '../../config/schema.js';

/** `azimds config validate FILE` and `azimds config schema`. */
export function registerConfigCommands(program: Command, out: NodeJS.WritableStream): void {
  const config = program.command('config').description('check a config file or print its JSON Schema');
  config
    .command('validate')
    .description('validate a config file (YAML or JSON); exit 0 when valid, 2 with the problems when not')
    .argument('<file>', 'config file')
    .action((file: string) => {
      resolveConfig(readConfigFile(file), [], file);
      out.write(`${file}: valid\n`);
    });
  config
    .command('schema')
    .description('print the JSON Schema of the config file (for editors: yaml-language-server, VS Code)')
    .action(() => {
      out.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
