import { type Command, Option } from 'commander';
import { DEFAULTS } from '../config/defaults.js';
import { loadConfig, type Override } from '../config/load.js';
import { type Config, logLevels } from '../config/schema.js';
import { PLATFORM_IDS, PLATFORMS, type PlatformId } from '../core/platforms/catalog.js';

/** Options shared by every command that resolves a config (`start`, `env`, `token`, ...). */
export interface ConfigFlags extends Partial<Record<`${PlatformId}${'Host' | 'Port'}`, string>> {
  config?: string;
  host?: string;
  port?: string;
  logLevel?: string;
  dataDir?: string;
  /** `--vms N`: a zero-config fleet of N VMs (`fleet.count`, docs/fleet.md). */
  vms?: string;
}

/**
 * Adds `--config`, `--host`, `--port`, `--log-level`, `--data-dir` and each platform's
 * `--<platform>-host` / `--<platform>-port` (commander names them `<id>Host` / `<id>Port`:
 * `--vm-extension-port` is `vmExtensionPort`) to a command.
 */
export function withConfigOptions(command: Command): Command {
  command
    .addOption(new Option('-c, --config <file>', 'config file (YAML or JSON)').env('AZIMDS_CONFIG'))
    .option(
      '--host <address>',
      "bind address of every listener (default 127.0.0.1); with IMDS's 169.254.169.254 the platforms stay on 127.0.0.1, as on a VM",
    )
    .option('-p, --port <port>', 'IMDS port (default 8169)')
    .addOption(new Option('--log-level <level>', 'log level').choices(logLevels))
    .option('--data-dir <dir>', 'directory for keys and certificates, owner-only (default ~/.azimds)')
    .option(
      '--vms <n>',
      `a fleet of n VMs in one emulator (fleet.count, up to ${DEFAULTS.fleet.maxVms}; docs/fleet.md); \`azimds env --vm NAME\` makes a process one of them`,
    );
  for (const id of PLATFORM_IDS) {
    const name = PLATFORMS[id].cliName;
    command
      .option(`--${name}-host <address>`, `bind address of the ${name} listener (default: see --host)`)
      .option(`--${name}-port <port>`, `${name} port (default ${DEFAULTS.platforms[id].port})`);
  }
  return command;
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
  if (flags.vms !== undefined) {
    const count = /^\d+$/.test(flags.vms) ? Number(flags.vms) : flags.vms;
    out.push({ path: ['fleet', 'count'], value: count, source: '--vms' });
  }
  for (const id of PLATFORM_IDS) {
    const name = PLATFORMS[id].cliName;
    const host = flags[`${id}Host`];
    const port = flags[`${id}Port`];
    if (host !== undefined)
      out.push({ path: ['platforms', id, 'host'], value: host, source: `--${name}-host` });
    if (port !== undefined)
      out.push({ path: ['platforms', id, 'port'], value: port, source: `--${name}-port` });
  }
  return out;
}

/** The config a command runs with: file < environment < flags. */
export function configFromFlags(flags: ConfigFlags, extra: readonly Override[] = []): Config {
  return loadConfig({
    ...(flags.config ? { file: flags.config } : {}),
    flags: [...flagOverrides(flags), ...extra],
  });
}
