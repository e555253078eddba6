import type { Command } from 'commander';
import { AzimdsError } from '../../errors.js';
import { ControlClient, type ControlFlags, withControlOptions } from '../control-client.js';

/**
 * `azimds world`: what a running emulator's ARM shows (docs/arm.md), read and changed live through the
 * control API: resources, resource groups, role assignments.
 */
export function registerWorldCommands(program: Command, out: NodeJS.WritableStream): void {
  const print = (value: unknown): void => {
    out.write(`${JSON.stringify(value, null, 2)}\n`);
  };
  const client = (command: Command) => ControlClient.fromFlags(command.optsWithGlobals() as ControlFlags);
  const json = (text: string | undefined, what: string): Record<string, unknown> => {
    if (text === undefined) return {};
    try {
      const value = JSON.parse(text) as unknown;
      if (value && typeof value === 'object' && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new AzimdsError('INVALID_INPUT', `${what} is not a JSON object: ${text}`);
  };

  const world = withControlOptions(
    program
      .command('world')
      .description(
        "print a running emulator's world: subscriptions, resource groups, resources, vaults, role assignments (docs/arm.md)",
      ),
  ).action(async (_flags: ControlFlags, command: Command) =>
    print(await client(command).request('GET', '/world')),
  );

  withControlOptions(
    world
      .command('resources')
      .description('list resources (full ARM bodies)')
      .option('--type <type>', 'only this type, e.g. Microsoft.Compute/virtualMachines')
      .option('-g, --resource-group <name>', 'only this resource group'),
  ).action(async (flags: { type?: string; resourceGroup?: string }, command: Command) => {
    const query = new URLSearchParams({
      ...(flags.type ? { type: flags.type } : {}),
      ...(flags.resourceGroup ? { resourceGroup: flags.resourceGroup } : {}),
    });
    print(await client(command).request('GET', `/world/resources${query.size ? `?${query}` : ''}`));
  });

  withControlOptions(
    world
      .command('add-resource')
      .description('add or replace a resource of any type (stored as given, provisioningState Succeeded)')
      .requiredOption('-g, --resource-group <name>', 'its resource group (must exist)')
      .requiredOption('--type <type>', 'e.g. Microsoft.Storage/storageAccounts')
      .requiredOption('-n, --name <name>', 'its name')
      .option('--json <object>', 'more fields as JSON: {"location","tags","kind","sku","properties"}'),
  ).action(
    async (flags: { resourceGroup: string; type: string; name: string; json?: string }, command: Command) => {
      const body = {
        ...json(flags.json, '--json'),
        resourceGroup: flags.resourceGroup,
        type: flags.type,
        name: flags.name,
      };
      print(await client(command).request('POST', '/world/resources', body));
    },
  );

  withControlOptions(
    world
      .command('remove-resource')
      .description('delete a stored resource by id')
      .argument('<id>', 'the resource id'),
  ).action(async (id: string, _flags: ControlFlags, command: Command) => {
    await client(command).request('DELETE', `/world/resources?${new URLSearchParams({ id })}`);
    out.write(`deleted ${id}\n`);
  });

  withControlOptions(
    world
      .command('add-group')
      .description("add a resource group (in the VM's subscription unless --subscription)")
      .argument('<name>', 'the resource group name')
      .option('-l, --location <location>', "default: the VM's location")
      .option('--subscription <id>', 'its subscription'),
  ).action(async (name: string, flags: { location?: string; subscription?: string }, command: Command) => {
    print(
      await client(command).request('POST', '/world/resource-groups', {
        name,
        ...(flags.location ? { location: flags.location } : {}),
        ...(flags.subscription ? { subscriptionId: flags.subscription } : {}),
      }),
    );
  });

  withControlOptions(world.command('roles').description('list role assignments in force')).action(
    async (_flags: ControlFlags, command: Command) =>
      print(await client(command).request('GET', '/world/role-assignments')),
  );

  withControlOptions(
    world
      .command('assign')
      .description('assign a role, e.g. azimds world assign --identity azimds-vm-01 --role Contributor')
      .requiredOption('--role <role>', 'a role name (Reader, Contributor, ...) or a role definition GUID')
      .option(
        '--identity <name>',
        "one of the VM's identities, by name (the VM's name: its system-assigned identity)",
      )
      .option(
        '--principal <objectId>',
        'a principal object id (with --principal-type for one azimds does not know)',
      )
      .option('--principal-type <type>', 'ServicePrincipal, User, Group')
      .option('--scope <scope>', "default: the VM's resource group"),
  ).action(
    async (
      flags: { role: string; identity?: string; principal?: string; principalType?: string; scope?: string },
      command: Command,
    ) => {
      print(
        await client(command).request('POST', '/world/role-assignments', {
          role: flags.role,
          ...(flags.identity ? { identity: flags.identity } : {}),
          ...(flags.principal ? { principalId: flags.principal } : {}),
          ...(flags.principalType ? { principalType: flags.principalType } : {}),
          ...(flags.scope ? { scope: flags.scope } : {}),
        }),
      );
    },
  );

  withControlOptions(
    world
      .command('unassign')
      .description('delete a role assignment')
      .argument('<name>', 'the assignment GUID'),
  ).action(async (name: string, _flags: ControlFlags, command: Command) => {
    await client(command).request('DELETE', `/world/role-assignments/${encodeURIComponent(name)}`);
    out.write(`deleted role assignment ${name}\n`);
  });
  for (const command of world.commands) command.exitOverride();
}
