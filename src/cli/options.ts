import { type Command, Option } from 'commander';
import { loadConfig, type Override } from '../config/load.js';
import { type Config, logLevels } from '../config/schema.js';

/** Options shared by every command that resolves a config (`start`, `env`, `token`, ...). */
export interface ConfigFlags {
  config?: string;
  host?: string;
  port?: string;
  logLevel?: string;
  dataDir?: string;
}

/** Adds `--config`, `--host`, `--port`, `--log-level`, `--data-dir` to a command. */
export function withConfigOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'config file (YAML or JSON)').env('AZIMDS_CONFIG'))
    .option('--host <address>', 'bind address of every listener (default 127.0.0.1)')
    .option('-p, --port <port>', 'IMDS port (default 8169)')
    .addOption(new Option('--log-level <level>', 'log level').choices(logLevels))
    .option('--data-dir <dir>', 'directory for keys and certificates, owner-only (default ~/.azimds)');
}

/** Flags as config overrides (they take precedence over environment and file). */
export function flagOverrides(flags: ConfigFlags): Override[] {
  const out: Override[] = [];
  if (flags.host !== undefined) out.push({ path: ['host'], value: flags.host, source: '--host' });
  if (flags.port !== undefined) out.push({ path: ['imds', 'port'], value: flags.port, source: '--port' });
  if (flags.logLevel !== undefined)
    out.push({ path: ['logLevel'], value: flags.logLevel, source: '--log-level' });
  if (flags.dataDir !== undefined)
    out.push({ path: ['dataDir'], value: flags.dataDir, source: '--data-dir' });
  return out;
}

/** The config a command runs with: file < environment < flags. */
export function configFromFlags(flags: ConfigFlags, extra: readonly Override[] = []): Config {
  return loadConfig({
    ...(flags.config ? { file: flags.config } : {}),
    flags: [...flagOverrides(flags), ...extra],
  });
}
