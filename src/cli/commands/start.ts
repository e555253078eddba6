import type { Command } from 'commander';
import { stringify } from 'yaml';
import { NEWEST_IMDS_VERSIONS } from '../../core/machines/api-versions.js';
import { Machine } from '../../core/machines/machine.js';
import { type EmulatorHandle, startWithConfig } from '../../server/emulator.js';
import { createLogger } from '../../server/logger.js';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../options.js';
import { sdkEnvironment } from '../sdk-environment.js';
import { VERSION } from '../version.js';

interface StartFlags extends ConfigFlags {
  printConfig?: boolean;
}

/** `azimds start`: run the emulator until SIGINT/SIGTERM. */
export function registerStartCommand(program: Command, out: NodeJS.WritableStream): void {
  withConfigOptions(
    program
      .command('start')
      .description('start the emulator and print how to point the Azure SDKs at it (Ctrl-C stops it)'),
  )
    .option('--print-config', 'print the resolved configuration (flags > env > file > defaults) and exit')
    .action(async (flags: StartFlags) => {
      const config = configFromFlags(flags);
      if (flags.printConfig) {
        // The VM as generated (ids, disks, NIC), so the output is a complete, reusable config file.
        out.write(stringify({ ...config, vm: new Machine(config.vm).document }));
        return;
      }
      const log = createLogger(config.logLevel);
      const emulator = await startWithConfig(config, log);
      out.write(banner(emulator));
      await waitForSignal();
      log.info('shutting down');
      await emulator.close();
    });
}

function banner(emulator: EmulatorHandle): string {
  const newest = NEWEST_IMDS_VERSIONS[0];
  const lines = [`azimds ${VERSION}: Azure IMDS emulator`, ''];
  if (emulator.urls.imds) {
    lines.push(
      `  IMDS  ${emulator.urls.imds}/metadata/instance?api-version=${newest}   (header Metadata: true)`,
    );
  }
  if (emulator.urls.control) {
    lines.push(
      `  Control API  ${emulator.urls.control}   (azimds faults|logs|clock|events|reset; docs/control-api.md)`,
    );
  }
  lines.push('', 'Point the Azure SDKs at it:');
  for (const [name, value] of sdkEnvironment(emulator.urls)) lines.push(`  export ${name}=${value}`);
  if (emulator.urls.imds) {
    lines.push(
      '',
      'Try:',
      `  curl -H Metadata:true "${emulator.urls.imds}/metadata/instance?api-version=${newest}"`,
    );
  }
  lines.push('', 'Press Ctrl-C to stop.', '');
  return lines.join('\n');
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
