import { Command, CommanderError } from 'commander';
import { AzimdsError } from '../errors.js';
import { registerCaCommand } from './commands/ca.js';
import { registerConfigCommands } from './commands/config.js';
import { registerControlCommands } from './commands/control.js';
import { registerDashboardCommand } from './commands/dashboard.js';
import { registerEnvCommand } from './commands/env.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerStartCommand } from './commands/start.js';
import { registerTokenCommand } from './commands/token.js';
import { registerVaultCommands } from './commands/vault.js';
import { VERSION } from './version.js';

/** Exit codes: 0 success, 1 runtime failure (e.g. a port in use), 2 bad usage or bad configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Builds the `azimds` command tree. Streams are injectable for tests. */
export function buildProgram(
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Command {
  const program = new Command('azimds')
    .description(
      'Azure Instance Metadata Service and managed-identity endpoints, emulated for laptops and CI',
    )
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerStartCommand(program, out);
  registerConfigCommands(program, out);
  registerControlCommands(program, out);
  registerDashboardCommand(program, out);
  registerEnvCommand(program, out);
  registerTokenCommand(program, out, err);
  registerKeysCommands(program, out, err);
  registerCaCommand(program, out);
  registerVaultCommands(program, out);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof AzimdsError) {
      process.stderr.write(`azimds: ${error.message.replaceAll('\n', '\nazimds: ')}\n`);
      return error.code === 'CONFIG_INVALID' || error.code === 'CONFIG_NOT_FOUND' ? EXIT.usage : EXIT.failure;
    }
    process.stderr.write(`azimds: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.failure;
  }
}
