import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/**
 * `proxy:` — the local forward/CONNECT proxy and the CA behind its certificates (docs/proxy.md).
 *
 * ```yaml
 * proxy:
 *   port: 8171              # default: the IMDS port + 2
 *   passthrough: false      # offline CI: refuse every host azimds does not emulate (502)
 *   upstream: http://corp-proxy:3128   # default: the HTTPS_PROXY/HTTP_PROXY azimds started with
 *   ca: { certFile: ./ca.crt, keyFile: ./ca.key }   # default: generated in dataDir
 * ```
 */
export const proxySchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.proxy.enabled),
  /** Bind address; default: the top-level `host` when it is loopback, else 127.0.0.1. */
  host: z.string().min(1).optional(),
  /** Port; default: the IMDS port + 2 (8171), or 0 when IMDS uses port 0. */
  port: z.coerce.number().int().min(0).max(65535).optional(),
  passthrough: z.boolean().default(DEFAULTS.proxy.passthrough),
  /**
   * The proxy that passthrough traffic goes through: a URL (`http://host:port`), or `none` to connect
   * directly. Default: HTTPS_PROXY / HTTP_PROXY (and NO_PROXY) of the environment azimds started in.
   */
  upstream: z.union([z.url({ protocol: /^https?$/ }), z.literal('none')]).optional(),
  /** A CA of your own (PEM files: certificate, and its RSA key); default: generated once in `dataDir`. */
  ca: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
});

export type ProxyConfig = z.output<typeof proxySchema>;
