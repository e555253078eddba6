import { statSync } from 'node:fs';
import { resolveDataDir } from '../core/data-dir.js';
import { PLATFORM_IDS } from '../core/platforms/catalog.js';
import { controlAddress } from '../protocols/control/address.js';
import type { Config } from './schema.js';

/** Bind addresses that take every interface, and so clash with any other address on the same port. */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/**
 * Problems the schema cannot see because they span keys or touch the file system, one line each as
 * `<key.path>: <problem>`: two enabled listeners on one port of one address (a start would fail with
 * "port in use" on its own second listener), and a key or certificate file key (`privateKeyFile`,
 * `certFile`, `keyFile`, `certificateFile`, `caFile`) naming no file. Files read per request (a static
 * token's `tokenFile`, a secret file) may appear later and are not checked: their absence is the
 * request's error, as documented.
 * Empty when the config is consistent.
 */
export function configProblems(config: Config): string[] {
  return [...portClashes(config), ...missingFiles(config)];
}

function portClashes(config: Config): string[] {
  const listeners: Array<{ key: string; host: string; port: number }> = [];
  if (config.imds.enabled) {
    listeners.push({ key: 'imds.port', host: config.imds.host ?? config.host, port: config.imds.port });
  }
  if (config.control.enabled) {
    const { host, port } = controlAddress(config);
    listeners.push({
      key: config.control.port === undefined ? 'control.port (derived)' : 'control.port',
      host,
      port,
    });
  }
  for (const id of PLATFORM_IDS) {
    const platform = config.platforms[id];
    if (platform.enabled) {
      listeners.push({
        key: `platforms.${id}.port`,
        host: platform.host ?? config.host,
        port: platform.port,
      });
    }
  }
  const problems: string[] = [];
  listeners.forEach((listener, i) => {
    if (listener.port === 0) return;
    const earlier = listeners
      .slice(0, i)
      .find(
        (other) =>
          other.port === listener.port &&
          (other.host === listener.host || WILDCARDS.has(other.host) || WILDCARDS.has(listener.host)),
      );
    if (earlier) {
      problems.push(
        `${listener.key}: ${listener.port} is also ${earlier.key} on ${earlier.host}; each listener needs its own port (or 0 for a free one)`,
      );
    }
  });
  return problems;
}

const KEY_OR_CERTIFICATE_FILE = /^(?:privateKeyFile|certFile|keyFile|certificateFile|caFile)$/;

function missingFiles(config: Config): string[] {
  const problems: string[] = [];
  const visit = (value: unknown, path: string[]): void => {
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      const here = [...path, key];
      if (typeof child === 'string' && KEY_OR_CERTIFICATE_FILE.test(key)) {
        const file = resolveDataDir(child);
        const stat = statSync(file, { throwIfNoEntry: false });
        if (!stat) problems.push(`${here.join('.')}: no file at ${file}`);
        else if (!stat.isFile()) problems.push(`${here.join('.')}: ${file} is not a file`);
      } else visit(child, here);
    }
  };
  visit(config, []);
  return problems;
}
