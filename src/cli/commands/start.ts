import type { Command } from 'commander';
import { printableConfig } from '../../config/redact.js';
import { yaml } from '../../config/yaml.js';
import { requireWritableDataDir } from '../../core/data-dir.js';
import { generatedEntraConfig } from '../../core/directory/environment.js';
import { generatedIdentityConfig } from '../../core/identities/directory.js';
import { NEWEST_IMDS_VERSIONS } from '../../core/machines/api-versions.js';
import { Machine } from '../../core/machines/machine.js';
import type { PlatformId } from '../../core/platforms/catalog.js';
import { warnIfExposed } from '../../core/tokens/sources/secrets.js';
import { generatedWorldConfig } from '../../core/world/generated-config.js';
import { type EmulatorHandle, startWithConfig } from '../../server/emulator.js';
import { createLogger } from '../../server/logger.js';
import { entraBannerLines, offlineDirectory } from '../entra.js';
import { type ConfigFlags, configFromFlags, withConfigOptions } from '../options.js';
import {
  PLATFORM_LIST_HELP,
  parsePlatformList,
  platformBannerLines,
  platformOverrides,
} from '../platforms.js';
import { bashQuote, sdkEnvironment } from '../sdk-environment.js';
import { VERSION } from '../version.js';

interface StartFlags extends ConfigFlags {
  printConfig?: boolean;
  tokenSource?: string;
  platform?: PlatformId[];
}

/** `azimds start`: run the emulator until SIGINT/SIGTERM. */
export function registerStartCommand(program: Command, out: NodeJS.WritableStream): void {
  withConfigOptions(
    program
      .command('start')
      .description('start the emulator and print how to point the Azure SDKs at it (Ctrl-C stops it)'),
  )
    .option('--print-config', 'print the resolved configuration (flags > env > file > defaults) and exit')
    .option(
      '--token-source <name>',
      "where every identity's tokens come from: local, azure-cli, service-principal, static, or a source of tokens.sources (docs/token-sources.md)",
    )
    .option('--platform <names>', PLATFORM_LIST_HELP, parsePlatformList)
    .action(async (flags: StartFlags) => {
      const config = configFromFlags(flags, [
        ...(flags.tokenSource === undefined
          ? []
          : [{ path: ['tokens', 'source'], value: flags.tokenSource, source: '--token-source' }]),
        ...platformOverrides(flags.platform),
      ]);
      if (flags.printConfig) {
        // The VM as generated (ids, disks, NIC), so the output is a complete, reusable config file.
        // Identities with their generated ids, so client ids can be read off and pinned.
        const machine = new Machine(config.vm);
        const identity = generatedIdentityConfig(config, machine);
        // The world with its vault name and role assignments written out (docs/arm.md).
        const world = generatedWorldConfig(config, machine);
        // App registrations with their generated ids (secrets masked or left generated).
        const entra = generatedEntraConfig(config.entra, offlineDirectory(config));
        out.write(
          yaml().stringify(printableConfig({ ...config, vm: machine.document, identity, world, entra })),
        );
        return;
      }
      requireWritableDataDir(config.dataDir);
      const log = createLogger(config.logLevel);
      // The Go simulator's format keeps client secrets inline: its file should be owner-only.
      if (flags.config && Object.keys(config.goSimulator?.servicePrincipals ?? {}).length > 0) {
        warnIfExposed(flags.config, 'the Go simulator config (it holds client secrets)', log);
      }
      const emulator = await startWithConfig(config, log);
      out.write(banner(emulator, envCommandFlags(flags)));
      await waitForSignal();
      log.info('shutting down');
      await emulator.close();
    });
}

function banner(emulator: EmulatorHandle, envFlags = ''): string {
  const newest = NEWEST_IMDS_VERSIONS[0];
  const lines = [
    `azimds ${VERSION}: Azure IMDS, managed identity, ARM, Key Vault and Entra, emulated`,
    '',
    ...machineLines(emulator, envFlags),
    '',
  ];
  if (emulator.urls.imds) {
    lines.push(
      `  IMDS  ${emulator.urls.imds}/metadata/instance?api-version=${newest}   (header Metadata: true)`,
    );
  }
  if (emulator.urls.control) {
    lines.push(
      `  Control API  ${emulator.urls.control}   (azimds faults|logs|clock|events|reset; docs/control-api.md)`,
      `  Dashboard    ${emulator.urls.control}/dashboard   (azimds dashboard; docs/dashboard.md)`,
    );
  }
  if (emulator.urls.proxy) {
    lines.push(
      `  Proxy  ${emulator.urls.proxy}   (169.254.169.254, login.microsoftonline.com, management.azure.com, *.vault.azure.net; docs/proxy.md)`,
    );
  }
  if (emulator.urls.arm) {
    lines.push(
      `  ARM   ${emulator.urls.arm}/subscriptions?api-version=2022-12-01   (Bearer token for https://management.azure.com; docs/arm.md)`,
    );
  }
  lines.push(...platformBannerLines(emulator));
  lines.push(...entraBannerLines(emulator));
  if (emulator.urls.proxy) {
    // The CA's files exist before any client reads the variables that name them.
    emulator.state.localCa.bundleFile();
    lines.push(
      '',
      'Send Azure clients here, unchanged (in each shell; same --config/--port/--data-dir as start):',
      `  eval "$(${AZIMDS} env${envFlags})"`,
      `  (PowerShell: ${AZIMDS} env${envFlags} --shell pwsh | Invoke-Expression)`,
      '',
      `Or point only the Azure SDKs at it (${AZIMDS} env --direct):`,
    );
  } else {
    lines.push('', 'Point the Azure SDKs at it:');
  }
  for (const [name, value] of sdkEnvironment(emulator.urls)) lines.push(`  export ${name}=${value}`);
  if (emulator.urls.imds) {
    lines.push(
      '',
      'Try:',
      `  curl -H Metadata:true "${emulator.urls.imds}/metadata/instance?api-version=${newest}"`,
      `  curl -H Metadata:true "${emulator.urls.imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"`,
    );
    if (emulator.urls.proxy) {
      lines.push(
        `  curl -H Metadata:true "http://169.254.169.254/metadata/instance?api-version=${newest}"   (after the eval)`,
      );
    }
  }
  lines.push('', 'Press Ctrl-C to stop.', '');
  return lines.join('\n');
}

/**
 * How the banner names the CLI: `npx azimds` when started through npm (`npm start` in a clone, `npx
 * azimds start`), where `azimds` alone is not on the shell's PATH; `azimds` for a global install.
 */
const AZIMDS = process.env.npm_lifecycle_event ? 'npx azimds' : 'azimds';

/** The flags `azimds env` needs to find this emulator: those of `start` that change addresses or files. */
function envCommandFlags(flags: StartFlags): string {
  const parts: string[] = [];
  if (flags.config) parts.push('--config', bashQuote(flags.config));
  if (flags.host) parts.push('--host', bashQuote(flags.host));
  if (flags.port) parts.push('--port', bashQuote(flags.port));
  if (flags.dataDir) parts.push('--data-dir', bashQuote(flags.dataDir));
  if (flags.vms) parts.push('--vms', bashQuote(flags.vms));
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** Who the emulated machine is: what code on it will read from IMDS, and the identities it can get tokens for. */
function machineLines({ state }: EmulatorHandle, envFlags = ''): string[] {
  const { machine, identities } = state;
  const zone = machine.compute('zone');
  const lines = [
    `  VM    ${machine.compute('name')}  ${machine.compute('vmSize')}  ${machine.compute('location')}${zone ? ` zone ${zone}` : ''}  vmId ${machine.compute('vmId')}`,
    `        ${machine.compute('resourceId')}`,
  ];
  const all = identities.all();
  const system = all.find((i) => i.kind === 'system-assigned');
  const users = all.length - (system ? 1 : 0);
  const parts = [
    system ? `system-assigned (client id ${system.clientId})` : 'no system-assigned identity',
    ...(users > 0 ? [`${users} user-assigned`] : []),
  ];
  lines.push(`  Identities  ${parts.join(', ')}; tenant ${identities.tenantId}`);
  const { fleet } = state;
  if (fleet.size > 1) {
    const last = fleet.members[fleet.size - 1]?.name ?? '';
    lines.push(
      `  Fleet ${fleet.size} VMs (${fleet.defaultMember.name} … ${last}; the first is the default VM): docs/fleet.md`,
      `        eval "$(${AZIMDS} env${envFlags} --vm ${fleet.members[1]?.name ?? last})" makes a process that VM`,
    );
  }
  return lines;
}

/**
 * Resolves on SIGINT or SIGTERM — or, when `npx azimds start` (`npm exec`) started azimds, once the
 * process that started it is gone. npm forwards `kill <npm's pid>` to the shell it runs the command in
 * (`sh -c`), and dash does not hand its process over to the command (no exec): the shell dies and
 * azimds would be left running, re-parented, with nothing to stop it. Under npx the wrapper owns the
 * lifetime, so azimds stops with it. Started otherwise — directly, by an npm script (`npm start` execs
 * node, so npm's forwarded signal reaches azimds itself), nohup, a service — it keeps to signals only.
 */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    const orphaned =
      process.env.npm_lifecycle_event !== 'npx'
        ? undefined
        : setInterval(() => {
            if (process.ppid !== parent) done('SIGHUP');
          }, 250).unref();
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      clearInterval(orphaned);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
