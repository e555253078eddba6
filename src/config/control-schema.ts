import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/** `control:` — the emulator's own API (docs/control-api.md). Address rules in DEFAULTS.control. */
export const controlSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.control.enabled),
  /** Bind address; default: the top-level `host` when it is loopback, else 127.0.0.1. */
  host: z.string().min(1).optional(),
  /** Port; default: the IMDS port + 1 (8170), or 0 when IMDS uses port 0. */
  port: z.coerce.number().int().min(0).max(65535).optional(),
  /** Host names besides its own address that the control API and dashboard answer (docs/dashboard.md#safety). */
  allowedHosts: z.array(z.string().min(1)).default([...DEFAULTS.control.allowedHosts]),
});

/** `requestLog:` — the in-memory log of requests the surfaces served. */
export const requestLogSchema = z.strictObject({
  size: z.number().int().min(0).max(1_000_000).default(DEFAULTS.requestLog.size),
  maxBytes: z.number().int().min(1024).default(DEFAULTS.requestLog.maxBytes),
  /** How many of the newest requests keep headers, bodies and decoded tokens for the dashboard (0: none). */
  details: z.number().int().min(0).max(100_000).default(DEFAULTS.requestLog.details),
  /** Memory the kept details may hold, in bytes (their bodies, headers and 200 bytes each). */
  detailsMaxBytes: z.number().int().min(1024).default(DEFAULTS.requestLog.detailsMaxBytes),
});
