import { DEFAULTS } from '../../config/defaults.js';
import type { Config } from '../../config/schema.js';

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/**
 * Where the control API listens for a resolved config (the rules of DEFAULTS.control), so `start`
 * and the CLI commands that talk to a running emulator agree from the same flags and file.
 */
export function controlAddress(config: Config): { host: string; port: number } {
  const host = config.control.host ?? (isLoopback(config.host) ? config.host : DEFAULTS.control.host);
  const derived = config.imds.port === 0 ? 0 : config.imds.port + DEFAULTS.control.portOffset;
  const port = config.control.port ?? (derived > 65535 ? 0 : derived);
  return { host, port };
}

/** The URL a client on this machine uses to reach the control API at `host:port`. */
export function controlUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
