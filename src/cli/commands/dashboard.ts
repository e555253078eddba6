import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { ControlClient, type ControlFlags, withControlOptions } from '../control-client.js';

interface DashboardFlags extends ControlFlags {
  open?: boolean;
}

/**
 * The command that opens a URL in the desktop's browser, or `undefined` when there is no display
 * (a CI runner, an SSH session, a container): then the URL is only printed.
 */
export function browserOpener(
  url: string,
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): { command: string; args: string[] } | undefined {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` is a cmd built-in; its first quoted argument is a window title.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url] };
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return { command: 'xdg-open', args: [url] };
  return undefined;
}

/** `azimds dashboard`: print the dashboard's URL of a running emulator and open it when there is a display. */
export function registerDashboardCommand(program: Command, out: NodeJS.WritableStream): void {
  withControlOptions(
    program
      .command('dashboard')
      .description(
        "open a running emulator's dashboard in the browser (requests, tokens, events, faults, clock); prints its URL",
      )
      .option('--no-open', 'only print the URL'),
  ).action(async (flags: DashboardFlags) => {
    const client = ControlClient.fromFlags(flags);
    // Fails with NOT_RUNNING (exit 1) when no emulator answers there.
    await client.request('GET', '/');
    const url = `${client.baseUrl}/dashboard`;
    out.write(`${url}\n`);
    const opener = flags.open === false ? undefined : browserOpener(url);
    if (!opener) return;
    await new Promise<void>((resolve) => {
      const child = spawn(opener.command, opener.args, { detached: true, stdio: 'ignore' });
      // No browser opener installed: the printed URL is the answer.
      child.once('error', () => resolve());
      child.once('spawn', () => {
        child.unref();
        resolve();
      });
    });
  });
}
