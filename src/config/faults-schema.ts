import { z } from 'zod';
import { DEFAULTS } from './defaults.js';

/**
 * One fault-injection rule, as written in the config file (`faults:`), sent to the control API
 * (`POST /faults`) or passed to `handle.faults.add()`. A rule picks requests (surface, method, path)
 * and does something to them (latency, a status, a connection reset, a throttle), always, N times, or
 * with a probability. See docs/faults.md.
 *
 * ```yaml
 * faults:
 *   - path: /metadata/identity/oauth2/token
 *     status: 429
 *     times: 2
 *   - surface: imds
 *     path: /metadata/instance*
 *     latencyMs: 1500
 *     probability: 0.1
 * ```
 */

/** Statuses a rule can answer with: the ones Azure's IMDS and identity endpoints return when unhealthy. */
export const FAULT_STATUSES = [404, 410, 429, 500, 503] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];

const faultStatus = z.literal(FAULT_STATUSES, {
  error: `status must be one of ${FAULT_STATUSES.join(', ')}`,
});

export const throttleSchema = z.strictObject({
  /** Sustained requests per second each client address may send (Azure: 5 for metadata, 20 for identity). */
  requestsPerSecond: z.number().positive().default(DEFAULTS.imds.rateLimit.requestsPerSecond),
  /** Requests a client may send at once before the limit applies. */
  burst: z.number().int().positive().default(DEFAULTS.imds.rateLimit.burst),
});

export const faultRuleSchema = z
  .strictObject({
    /** Name to list, delete and see in the request log; generated (`f1`, `f2`, ...) when absent. */
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'an id is 1-64 letters, digits, ".", "_" or "-"')
      .optional(),
    /** Listener name (`imds`, `arc`, ...); absent: every surface. The control API is never faulted. */
    surface: z.string().min(1).optional(),
    /** HTTP method (any case); absent: every method. */
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, 'a method is letters only, e.g. GET')
      .transform((m) => m.toUpperCase())
      .optional(),
    /**
     * Request path without the query: exact (`/metadata/instance`), or a pattern where `*` matches
     * any characters, `/` included (`/metadata/identity/*`, `*token`). Absent: every path.
     */
    path: z.string().startsWith('/', 'a path starts with "/"').max(2048).optional(),
    /** Answer with this status and the surface's own Azure body and headers for it. */
    status: faultStatus.optional(),
    /** `Retry-After` seconds on a 429 or 503 (default 1); 0 sends `Retry-After: 0`. */
    retryAfter: z.number().int().min(0).max(86_400).optional(),
    /** Delay before the request is answered (or passed on, when the rule does nothing else). */
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    /** Destroy the connection without an answer (after `latencyMs`, if set). */
    reset: z.literal(true).optional(),
    /** Answer 429 once a client address goes over this rate, like Azure's per-VM limits. */
    throttle: throttleSchema.optional(),
    /** Apply this many times, then expire (1: once). Absent: until deleted. */
    times: z.number().int().positive().optional(),
    /** Apply to this fraction of the matching requests (0-1); the others pass untouched. */
    probability: z.number().min(0).max(1).optional(),
  })
  .superRefine((rule, ctx) => {
    const effects = [rule.status !== undefined, rule.reset === true, rule.throttle !== undefined];
    if (effects.filter(Boolean).length > 1) {
      ctx.addIssue({ code: 'custom', message: 'choose one of status, reset and throttle' });
    }
    if (!effects.some(Boolean) && rule.latencyMs === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a rule needs status, reset, throttle or latencyMs' });
    }
    if (rule.retryAfter !== undefined && rule.status !== 429 && rule.status !== 503 && !rule.throttle) {
      ctx.addIssue({
        code: 'custom',
        path: ['retryAfter'],
        message: 'retryAfter goes with status 429 or 503',
      });
    }
  });

/** A rule as written (every key optional but one effect). */
export type FaultRuleInput = z.input<typeof faultRuleSchema>;
/** A validated rule. */
export type FaultRule = z.output<typeof faultRuleSchema>;

/** The config file's `faults:` key: rules applied from start, restored by a reset. */
export const faultsSchema = z.array(faultRuleSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    if (rule.id === undefined) return;
    if (seen.has(rule.id))
      ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate id "${rule.id}"` });
    seen.add(rule.id);
  });
});
