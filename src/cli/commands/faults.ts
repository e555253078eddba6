import { type Command, Option } from 'commander';
import { FAULT_STATUSES, type FaultRuleInput } from '../../config/faults-schema.js';
import { parseDuration } from '../../core/duration.js';
import { DEFAULT_RETRY_AFTER_SECONDS, type FaultRuleView } from '../../core/faults/fault-set.js';
import { AzimdsError } from '../../errors.js';
import { ControlClient, type ControlFlags, withControlOptions } from '../control-client.js';

interface AddFlags extends ControlFlags {
  id?: string;
  surface?: string;
  method?: string;
  path?: string;
  status?: string;
  retryAfter?: string;
  latency?: string;
  reset?: boolean;
  throttle?: string | boolean;
  burst?: string;
  times?: string;
  once?: boolean;
  probability?: string;
  json?: boolean;
}

/** `azimds faults add|list|delete|clear`: fault injection on a running emulator (docs/faults.md). */
export function registerFaultsCommands(program: Command, out: NodeJS.WritableStream): void {
  const faults = program
    .command('faults')
    .description('inject faults into a running emulator: latency, Azure error statuses, resets, throttling');

  withControlOptions(
    faults
      .command('add')
      .description('add a fault rule (the first matching rule applies to a request)')
      .addHelpText(
        'after',
        `
Examples:
  azimds faults add --path /metadata/identity/oauth2/token --status 429 --times 2
  azimds faults add --path '/metadata/instance*' --latency 1.5s --probability 0.2
  azimds faults add --path /metadata/identity/oauth2/token --throttle 20
  azimds faults add --surface imds --reset --once`,
      ),
  )
    .option('--id <id>', 'name of the rule (default f1, f2, ...)')
    .option('--surface <name>', 'listener the rule applies to (imds, arc, ...; default every one)')
    .option('--method <verb>', 'HTTP method (default every method)')
    .option('--path <path>', 'exact path, or a pattern where * matches anything (default every path)')
    .addOption(
      new Option('--status <code>', "answer with this status and Azure's body").choices(
        FAULT_STATUSES.map(String),
      ),
    )
    .option('--retry-after <seconds>', 'Retry-After of a 429 or 503 (default 1)')
    .option('--latency <duration>', 'delay before answering, e.g. 1500, 1.5s, 2m')
    .option('--reset', 'destroy the connection without an answer')
    .option(
      '--throttle [requestsPerSecond]',
      "answer 429 above this rate per client address (default 5, Azure's)",
    )
    .option('--burst <n>', 'with --throttle: requests a client may send at once (default 5)')
    .option('--times <n>', 'apply this many times, then expire')
    .option('--once', 'apply once (same as --times 1)')
    .option('--probability <p>', 'apply to this fraction of matching requests (0-1)')
    .option('--json', 'print the rule as JSON')
    .action(async (flags: AddFlags) => {
      const rule = await ControlClient.fromFlags(flags).request<FaultRuleView>(
        'POST',
        '/faults',
        ruleFromFlags(flags),
      );
      out.write(flags.json ? `${JSON.stringify(rule, null, 2)}\n` : `added ${describeRule(rule)}\n`);
    });

  withControlOptions(faults.command('list').description('list the fault rules with their hit counters'))
    .option('--json', 'print JSON')
    .action(async (flags: ControlFlags & { json?: boolean }) => {
      const { faults: rules } = await ControlClient.fromFlags(flags).request<{ faults: FaultRuleView[] }>(
        'GET',
        '/faults',
      );
      if (flags.json) out.write(`${JSON.stringify(rules, null, 2)}\n`);
      else out.write(rules.length === 0 ? 'no fault rules\n' : `${rules.map(describeRule).join('\n')}\n`);
    });

  withControlOptions(
    faults.command('delete').description('delete one fault rule').argument('<id>', 'rule id'),
  ).action(async (id: string, flags: ControlFlags) => {
    await ControlClient.fromFlags(flags).request('DELETE', `/faults/${encodeURIComponent(id)}`);
    out.write(`deleted fault ${id}\n`);
  });

  withControlOptions(faults.command('clear').description('delete every fault rule')).action(
    async (flags: ControlFlags) => {
      await ControlClient.fromFlags(flags).request('DELETE', '/faults');
      out.write('cleared every fault rule\n');
    },
  );
  for (const command of faults.commands) command.exitOverride();
}

/** The rule the flags describe; the control API validates it (and explains what is wrong). */
export function ruleFromFlags(flags: AddFlags): FaultRuleInput {
  const rule: Record<string, unknown> = {};
  if (flags.id !== undefined) rule.id = flags.id;
  if (flags.surface !== undefined) rule.surface = flags.surface;
  if (flags.method !== undefined) rule.method = flags.method;
  if (flags.path !== undefined) rule.path = flags.path;
  if (flags.status !== undefined) rule.status = number('--status', flags.status);
  if (flags.retryAfter !== undefined) rule.retryAfter = number('--retry-after', flags.retryAfter);
  if (flags.latency !== undefined) {
    const ms = parseDuration(flags.latency);
    if (ms === undefined || ms < 0)
      throw usage(`--latency: "${flags.latency}" is not a duration (e.g. 1500, 1.5s)`);
    rule.latencyMs = Math.round(ms);
  }
  if (flags.reset) rule.reset = true;
  if (flags.throttle !== undefined) {
    rule.throttle = {
      ...(typeof flags.throttle === 'string'
        ? { requestsPerSecond: number('--throttle', flags.throttle) }
        : {}),
      ...(flags.burst !== undefined ? { burst: number('--burst', flags.burst) } : {}),
    };
  } else if (flags.burst !== undefined) {
    throw usage('--burst goes with --throttle');
  }
  if (flags.once) rule.times = 1;
  if (flags.times !== undefined) rule.times = number('--times', flags.times);
  if (flags.probability !== undefined) rule.probability = number('--probability', flags.probability);
  return rule as FaultRuleInput;
}

/** One line per rule: `f1  imds GET /path  status 429 ...  hits 2`. */
export function describeRule(rule: FaultRuleView): string {
  const what: string[] = [];
  if (rule.latencyMs) what.push(`latency ${rule.latencyMs}ms`);
  if (rule.status !== undefined) {
    const retryAfter =
      rule.status === 429 || rule.status === 503
        ? (rule.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS)
        : undefined;
    what.push(`status ${rule.status}${retryAfter === undefined ? '' : ` (Retry-After ${retryAfter})`}`);
  }
  if (rule.reset) what.push('reset connection');
  if (rule.throttle) what.push(`throttle ${rule.throttle.requestsPerSecond}/s burst ${rule.throttle.burst}`);
  if (rule.probability !== undefined) what.push(`probability ${rule.probability}`);
  if (rule.times !== undefined) what.push(`times ${rule.times} (${rule.remaining} left)`);
  const where = `${rule.surface ?? '*'} ${rule.method ?? '*'} ${rule.path ?? '*'}`;
  return `${rule.id}  ${where}  ${what.join(', ')}  hits ${rule.hits}${rule.expired ? '  [expired]' : ''}`;
}

function number(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw usage(`${flag}: "${text}" is not a number`);
  return n;
}

function usage(message: string): AzimdsError {
  return new AzimdsError('INVALID_INPUT', message);
}
