import type { Command } from 'commander';
import type { RequestLogEntry, RequestLogPage } from '../../server/request-log.js';
import { ControlClient, type ControlFlags, withControlOptions } from '../control-client.js';

interface LogsFlags extends ControlFlags {
  follow?: boolean;
  limit?: string;
  surface?: string;
  json?: boolean;
}

/** How long one `--follow` long poll waits before asking again. */
const FOLLOW_WAIT_MS = 25_000;

/** `azimds logs [--follow]`: the request log of a running emulator (secrets redacted). */
export function registerLogsCommand(program: Command, out: NodeJS.WritableStream): void {
  withControlOptions(
    program
      .command('logs')
      .description('print the requests a running emulator served (tokens and secrets redacted)'),
  )
    .option('-f, --follow', 'keep printing new requests as they arrive (Ctrl-C stops)')
    .option('-n, --limit <n>', 'print only the last n requests first (default: all kept)')
    .option('--surface <name>', 'only requests to this listener (imds, arc, ...)')
    .option('--json', 'one JSON object per line')
    .action(async (flags: LogsFlags) => {
      const client = ControlClient.fromFlags(flags);
      const query = new URLSearchParams();
      if (flags.limit !== undefined) query.set('limit', flags.limit);
      if (flags.surface !== undefined) query.set('surface', flags.surface);
      const print = (entries: RequestLogEntry[]) => {
        for (const e of entries) out.write(`${flags.json ? JSON.stringify(e) : formatEntry(e)}\n`);
      };
      let page = await client.request<RequestLogPage>('GET', `/logs?${query}`);
      print(page.entries);
      if (!flags.follow) return;
      query.delete('limit');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        while (!stop.signal.aborted) {
          query.set('after', String(page.last));
          query.set('wait', String(FOLLOW_WAIT_MS));
          try {
            page = await client.request<RequestLogPage>('GET', `/logs?${query}`, undefined, {
              waitMs: FOLLOW_WAIT_MS,
              signal: stop.signal,
            });
          } catch (error) {
            if (stop.signal.aborted) break;
            throw error;
          }
          print(page.entries);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** `time surface METHOD /path?query status latency client [identity] [fault]`. */
export function formatEntry(e: RequestLogEntry): string {
  const query = Object.entries(e.query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${k}=${one}`))
    .join('&');
  const parts = [
    e.time,
    e.surface,
    e.method,
    query ? `${e.path}?${query}` : e.path,
    e.status === null ? (e.end ?? 'reset') : String(e.status),
    `${e.latencyMs}ms`,
    e.client,
  ];
  if (e.identity !== undefined) parts.push(`identity=${e.identity}`);
  if (e.fault !== undefined) parts.push(`fault=${e.fault}`);
  return parts.join(' ');
}
