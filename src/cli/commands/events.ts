import { type Command, Option } from 'commander';
import { EVENT_SOURCES, EVENT_TYPES } from '../../core/events/types.js';
import type { ScheduledEventView } from '../../protocols/control/events.js';
import { ControlClient, type ControlFlags, withControlOptions } from '../control-client.js';

interface AddFlags extends ControlFlags {
  type: string;
  notBefore?: string;
  id?: string;
  resources?: string;
  source?: string;
  description?: string;
  duration?: string;
  started?: boolean;
  json?: boolean;
}

/** `azimds events list|add|approve|cancel`: scheduled events of a running emulator (docs/scheduled-events.md). */
export function registerEventsCommands(program: Command, out: NodeJS.WritableStream): void {
  const events = program
    .command('events')
    .description("schedule, list, approve and cancel a running emulator's scheduled events");

  withControlOptions(events.command('list').description('list the current scheduled events'))
    .option('--json', 'print JSON')
    .action(async (flags: ControlFlags & { json?: boolean }) => {
      const doc = await ControlClient.fromFlags(flags).request<{
        incarnation: number;
        events: ScheduledEventView[];
      }>('GET', '/events');
      if (flags.json) {
        out.write(`${JSON.stringify(doc, null, 2)}\n`);
        return;
      }
      out.write(`DocumentIncarnation ${doc.incarnation}\n`);
      out.write(
        doc.events.length === 0 ? 'no scheduled events\n' : `${doc.events.map(describeEvent).join('\n')}\n`,
      );
    });

  withControlOptions(
    events
      .command('add')
      .description('schedule an event (EventSource Platform unless --source User)')
      .addHelpText(
        'after',
        `
Examples:
  azimds events add --type Reboot --not-before +5m
  azimds events add --type Freeze --not-before 2030-01-01T00:00:00Z --duration 9
  azimds events add --type Preempt --started`,
      ),
  )
    .addOption(new Option('--type <type>', 'event type').choices(EVENT_TYPES).makeOptionMandatory())
    .option('--not-before <time>', "+5m (from now), or a date; default: now + the type's minimum notice")
    .option('--id <id>', 'EventId (default a new GUID)')
    .option('--resources <names>', 'affected VM names, comma-separated (default this VM)')
    .addOption(new Option('--source <source>', 'who initiated it').choices(EVENT_SOURCES))
    .option('--description <text>', "Description (default: Azure's text for the type)")
    .option('--duration <seconds>', 'DurationInSeconds (-1 unknown, 0 none)')
    .option('--started', 'add it already Started, as after a host failure')
    .option('--json', 'print the event as JSON')
    .action(async (flags: AddFlags) => {
      const input: Record<string, unknown> = { type: flags.type };
      if (flags.notBefore !== undefined) input.notBefore = flags.notBefore;
      if (flags.id !== undefined) input.id = flags.id;
      if (flags.resources !== undefined) input.resources = flags.resources.split(',').map((r) => r.trim());
      if (flags.source !== undefined) input.source = flags.source;
      if (flags.description !== undefined) input.description = flags.description;
      if (flags.duration !== undefined) input.durationInSeconds = Number(flags.duration);
      if (flags.started) input.status = 'Started';
      const event = await ControlClient.fromFlags(flags).request<ScheduledEventView>(
        'POST',
        '/events',
        input,
      );
      out.write(flags.json ? `${JSON.stringify(event, null, 2)}\n` : `added ${describeEvent(event)}\n`);
    });

  withControlOptions(
    events
      .command('approve')
      .description('start events now, as the VM does with a StartRequest')
      .argument('[ids...]', 'EventIds'),
  )
    .option('--all', 'approve every Scheduled event')
    .action(async (ids: string[], flags: ControlFlags & { all?: boolean }) => {
      const client = ControlClient.fromFlags(flags);
      let targets = ids;
      if (flags.all) {
        const { events: current } = await client.request<{ events: ScheduledEventView[] }>('GET', '/events');
        targets = current.filter((e) => e.status === 'Scheduled').map((e) => e.id);
      }
      if (targets.length === 0) {
        out.write(flags.all ? 'no Scheduled event to approve\n' : 'give EventIds or --all\n');
        return;
      }
      for (const id of targets) {
        const event = await client.request<ScheduledEventView>(
          'POST',
          `/events/${encodeURIComponent(id)}/approve`,
        );
        out.write(`approved ${describeEvent(event)}\n`);
      }
    });

  withControlOptions(
    events
      .command('cancel')
      .description('remove events, as when Azure cancels an operation')
      .argument('<ids...>', 'EventIds'),
  ).action(async (ids: string[], flags: ControlFlags) => {
    const client = ControlClient.fromFlags(flags);
    for (const id of ids) {
      await client.request('DELETE', `/events/${encodeURIComponent(id)}`);
      out.write(`cancelled ${id}\n`);
    }
  });
  for (const command of events.commands) command.exitOverride();
}

/** `<id>  Reboot  Scheduled  NotBefore <iso>  vm-01  Platform`. */
export function describeEvent(e: ScheduledEventView): string {
  const when =
    e.status === 'Scheduled' ? `NotBefore ${e.notBefore}` : `started ${e.startedAt}, ends ${e.endsAt}`;
  const duration = e.durationInSeconds === -1 ? '' : `  ${e.durationInSeconds}s`;
  return `${e.id}  ${e.type}  ${e.status}  ${when}  ${e.resources.join(',')}  ${e.source}${duration}`;
}
