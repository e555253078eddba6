import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { VaultSummary } from '../../core/key-vault/key-vaults.js';
import { AzimdsError } from '../../errors.js';
import { ControlClient, type ControlFlags, withControlOptions } from '../control-client.js';

interface SetFlags extends ControlFlags {
  value?: string;
  file?: string;
  env?: string;
  contentType?: string;
  tag?: string[];
  disabled?: boolean;
}

function describeVault(v: VaultSummary): string {
  const lines = [
    `${v.name}  ${v.enableRbacAuthorization ? 'RBAC' : 'access policies'}  ${v.vaultUri}`,
    `  ${v.resourceId}`,
  ];
  if (v.secrets.length === 0) lines.push('  (no secrets)');
  for (const s of v.secrets) {
    const latest = s.versions[s.versions.length - 1];
    lines.push(
      `  ${s.name}  ${s.versions.length} version${s.versions.length === 1 ? '' : 's'}, latest ${latest?.version ?? '-'}${latest?.enabled === false ? ' (disabled)' : ''}`,
    );
  }
  for (const d of v.deletedSecrets) lines.push(`  ${d}  (deleted, recoverable)`);
  return lines.join('\n');
}

/**
 * `azimds vault list|show|set`: a running emulator's key vaults and secrets (docs/key-vault.md). Names,
 * versions and attributes only: values are never printed.
 */
export function registerVaultCommands(program: Command, out: NodeJS.WritableStream): void {
  const vault = program
    .command('vault')
    .description(
      "a running emulator's key vaults: list them and their secrets, set a secret (values never printed)",
    );

  withControlOptions(
    vault.command('list').description('list the vaults with their secret names and versions'),
  )
    .option('--json', 'print JSON')
    .action(async (flags: ControlFlags & { json?: boolean }) => {
      const { vaults } = await ControlClient.fromFlags(flags).request<{ vaults: VaultSummary[] }>(
        'GET',
        '/key-vault/vaults',
      );
      out.write(
        flags.json ? `${JSON.stringify(vaults, null, 2)}\n` : `${vaults.map(describeVault).join('\n\n')}\n`,
      );
    });

  withControlOptions(
    vault
      .command('set')
      .description('add a version of a secret (no token needed: the control API is the owner)')
      .argument('<vault>', 'vault name')
      .argument('<name>', 'secret name')
      .addHelpText(
        'after',
        `
Examples:
  azimds vault set kv-azimds-1a2b3c4d db-password --value 's3cret'
  azimds vault set kv-azimds-1a2b3c4d tls-cert --file cert.pem --content-type application/x-pem-file
  azimds vault set kv-azimds-1a2b3c4d api-key --env API_KEY --tag env=dev`,
      ),
  )
    .option('--value <value>', 'the value (visible in shell history: prefer --file or --env)')
    .option('--file <path>', 'read the value from a file (UTF-8)')
    .option('--env <variable>', 'read the value from an environment variable')
    .option('--content-type <type>', 'contentType of the secret')
    .option('--tag <key=value...>', 'tags')
    .option('--disabled', 'create the version disabled')
    .action(async (vaultName: string, name: string, _flags: SetFlags, command: Command) => {
      const flags = command.optsWithGlobals() as SetFlags;
      const sources = [flags.value, flags.file, flags.env].filter((s) => s !== undefined);
      if (sources.length !== 1)
        throw new AzimdsError('INVALID_INPUT', 'give exactly one of --value, --file, --env');
      let value = flags.value;
      if (flags.file !== undefined) value = readFileSync(flags.file, 'utf8');
      if (flags.env !== undefined) {
        value = process.env[flags.env];
        if (value === undefined)
          throw new AzimdsError('INVALID_INPUT', `environment variable ${flags.env} is not set`);
      }
      const tags = Object.fromEntries(
        (flags.tag ?? []).map((t) => {
          const eq = t.indexOf('=');
          if (eq < 1) throw new AzimdsError('INVALID_INPUT', `a tag is key=value, not "${t}"`);
          return [t.slice(0, eq), t.slice(eq + 1)];
        }),
      );
      const result = await ControlClient.fromFlags(flags).request<{ name: string; version: string }>(
        'PUT',
        `/key-vault/vaults/${encodeURIComponent(vaultName)}/secrets/${encodeURIComponent(name)}`,
        {
          value,
          ...(flags.contentType === undefined ? {} : { contentType: flags.contentType }),
          ...(flags.tag === undefined ? {} : { tags }),
          ...(flags.disabled ? { enabled: false } : {}),
        },
      );
      out.write(`${vaultName}/${result.name}: version ${result.version}\n`);
    });
  for (const command of vault.commands) command.exitOverride();
}
