import { DEFAULTS } from '../../config/defaults.js';
import type { Config } from '../../config/schema.js';
import { isLoopback } from '../../protocols/control/address.js';

/**
 * Where the proxy listens for a resolved config (the rules of DEFAULTS.proxy), so `start`, `env` and
 * the banner agree from the same flags and file: `proxy.host`, else the top-level `host` when it is
 * loopback, else 127.0.0.1; `proxy.port`, else the IMDS port + 2 (0 when IMDS uses port 0).
 */
export function proxyAddress(config: Config): { host: string; port: number } {
  const host = config.proxy.host ?? (isLoopback(config.host) ? config.host : DEFAULTS.proxy.host);
  const derived = config.imds.port === 0 ? 0 : config.imds.port + DEFAULTS.proxy.portOffset;
  const port = config.proxy.port ?? (derived > 65535 ? 0 : derived);
  return { host, port };
}
