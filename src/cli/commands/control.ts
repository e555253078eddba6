import type { Command } from 'commander';
import { AzimdsError } from '../../errors.js';
import { ControlClient, type ControlFlags, withControlOptions } from '../control-client.js';
import { registerClockCommands } from './clock.js';
import { registerEventsCommands } from './events.js';
import { registerFaultsCommands } from './faults.js';
import { registerLogsCommand } from './logs.js';
import { registerWorldCommands } from './world.js';

/**
 * The commands that act on a running emulator through its control API: `faults`, `logs`, `clock`,
 * `vm`, `reset` (and `events`). Each takes the same `--config`/`--host`/`--port` as `start`, or `--url`.
 */
export function registerControlCommands(program: Command, out: NodeJS.WritableStream): void {
  registerEventsCommands(program, out);
  registerFaultsCommands(program, out);
  registerLogsCommand(program, out);
  registerClockCommands(program, out);
  registerWorldCommands(program, out);

  const vm = withControlOptions(
    program.command('vm').description("print a running emulator's VM (the instance document IMDS serves)"),
  ).action(async (flags: ControlFlags) => {
    out.write(`${JSON.stringify(await ControlClient.fromFlags(flags).request('GET', '/vm'), null, 2)}\n`);
  });
  withControlOptions(
    vm
      .command('patch')
      .description('change the VM with a JSON merge patch, e.g. \'{"compute":{"tags":{"team":"a"}}}\'')
      .argument('<json>', 'the patch (null removes a key)'),
  ).action(async (json: string, _flags: ControlFlags, command: Command) => {
    let patch: unknown;
    try {
      patch = JSON.parse(json);
    } catch {
      throw new AzimdsError('INVALID_INPUT', `the patch is not JSON: ${json}`);
    }
    await ControlClient.fromFlags(command.optsWithGlobals()).request('PATCH', '/vm', patch);
    out.write('VM updated\n');
  });
  for (const command of vm.commands) command.exitOverride();

  const attestation = program
    .command('attestation')
    .description('certificates of the attested-data signature (docs/attested-data.md)');
  withControlOptions(
    attestation
      .command('ca')
      .description(
        "print a running emulator's attestation CA certificate (PEM), for openssl -CAfile or a trust store",
      ),
  ).action(async (_flags: ControlFlags, command: Command) => {
    const body = await ControlClient.fromFlags(command.optsWithGlobals()).request<{ caCertificate: string }>(
      'GET',
      '/attestation',
    );
    out.write(body.caCertificate.endsWith('\n') ? body.caCertificate : `${body.caCertificate}\n`);
  });
  for (const command of attestation.commands) command.exitOverride();

  withControlOptions(
    program
      .command('reset')
      .description(
        'put a running emulator back in its configured state (VM, identities, events, faults, clock)',
      ),
  ).action(async (flags: ControlFlags) => {
    await ControlClient.fromFlags(flags).request('POST', '/reset');
    out.write('emulator reset to its configured state\n');
  });
}
