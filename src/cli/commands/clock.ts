import type { Command } from 'commander';
import { formatDuration } from '../../core/duration.js';
import { ControlClient, type ControlFlags, withControlOptions } from '../control-client.js';

interface ClockView {
  now: string;
  epochMs: number;
  offsetMs: number;
}

/** `azimds clock [advance|set|reset]`: the running emulator's clock (tokens, events, attested data). */
export function registerClockCommands(program: Command, out: NodeJS.WritableStream): void {
  const show = (view: ClockView): void => {
    out.write(
      `${view.now}${view.offsetMs === 0 ? ' (real time)' : ` (real time ${view.offsetMs > 0 ? '+' : ''}${formatDuration(view.offsetMs)})`}\n`,
    );
  };
  const clock = withControlOptions(
    program.command('clock').description("show or move a running emulator's clock"),
  ).action(async (flags: ControlFlags) =>
    show(await ControlClient.fromFlags(flags).request<ClockView>('GET', '/clock')),
  );

  // The subcommands' flags may stand before or after the subcommand: read them with the globals.
  const move = (command: Command, path: string, body?: Record<string, string>) =>
    ControlClient.fromFlags(command.optsWithGlobals()).request<ClockView>('POST', path, body).then(show);

  withControlOptions(
    clock
      .command('advance')
      .description('move the clock forward (e.g. 10m, 1h30m, 500ms; back with: clock advance -- -5m)')
      .argument('<duration>', 'how far'),
  ).action((by: string, _flags: ControlFlags, command: Command) => move(command, '/clock/advance', { by }));

  withControlOptions(
    clock
      .command('set')
      .description('set the clock to a date (ISO 8601, e.g. 2030-01-01T00:00:00Z); it keeps ticking')
      .argument('<time>', 'the date'),
  ).action((time: string, _flags: ControlFlags, command: Command) => move(command, '/clock/set', { time }));

  withControlOptions(clock.command('reset').description('back to real time')).action(
    (_flags: ControlFlags, command: Command) => move(command, '/clock/reset'),
  );
  for (const command of clock.commands) command.exitOverride();
}
