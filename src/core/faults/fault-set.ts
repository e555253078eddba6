import {
  type FaultRule,
  type FaultRuleInput,
  type FaultStatus,
  faultRuleSchema,
} from '../../config/faults-schema.js';
import { issuesText } from '../../config/issues.js';
import { AzimdsError } from '../../errors.js';
import type { Clock } from '../clock.js';
import { surfaceName } from '../platforms/catalog.js';
import { RateLimiter } from '../rate-limit.js';
import { compilePathPattern, type PathMatcher } from './path-pattern.js';

/** What the listener does to a request a rule picked. */
export interface FaultAction {
  /** Id of the rule that applied (recorded in the request log). */
  readonly id: string;
  /** Wait this long first (0: no wait). */
  readonly latencyMs: number;
  /** Then: answer with a status, destroy the connection, or let the request through. */
  readonly kind: 'status' | 'reset' | 'pass';
  /** For `status`. */
  readonly status?: FaultStatus;
  /** `Retry-After` seconds for a 429/503 (`status` only). */
  readonly retryAfter?: number;
}

/** A rule as listed by `list()` and the control API: the rule as given plus its counters. */
export interface FaultRuleView extends FaultRule {
  readonly id: string;
  /** How many requests it applied to. */
  readonly hits: number;
  /** Applications left for a `times` rule. */
  readonly remaining?: number;
  /** True once a `times` rule is used up; it stays listed (with its hits) until deleted or cleared. */
  readonly expired: boolean;
}

/** `Retry-After` on a 429/503 when the rule does not say. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

interface CompiledRule {
  readonly id: string;
  readonly rule: FaultRule;
  readonly surface: string | undefined;
  readonly method: string | undefined;
  readonly path: PathMatcher;
  readonly limiter: RateLimiter | undefined;
  readonly action: FaultAction;
  hits: number;
  expired: boolean;
}

/** Options of a `FaultSet`; both injectable so tests are deterministic. */
export interface FaultSetOptions {
  /** Clock of the throttle rules' token buckets. */
  clock: Clock;
  /** Uniform random numbers in [0, 1) for `probability` rules; default `Math.random`. */
  random?: () => number;
}

/**
 * The fault-injection rules of an emulator. Listeners ask `active` on every request (one property
 * read) and `match()` only when it is true, so an emulator without rules pays nothing.
 *
 * Rules are tried in the order they were added; the first that picks a request applies to it.
 * A `probability` rule that rolls "no", or a throttle under its limit, lets later rules try.
 *
 * @example
 * ```ts
 * handle.faults.add({ path: '/metadata/identity/oauth2/token', status: 503, times: 2 });
 * handle.faults.add({ surface: 'imds', path: '/metadata/instance*', latencyMs: 1500 });
 * handle.faults.clear();
 * ```
 */
export class FaultSet {
  readonly #rules: CompiledRule[] = [];
  readonly #clock: Clock;
  readonly #random: () => number;
  #live = 0;
  #nextId = 1;

  constructor(options: FaultSetOptions) {
    this.#clock = options.clock;
    this.#random = options.random ?? Math.random;
  }

  /** True while at least one rule can still apply. The listeners' hot-path check. */
  get active(): boolean {
    return this.#live > 0;
  }

  /**
   * Adds a rule (validated) and returns it as listed.
   * @throws AzimdsError `INVALID_INPUT` when the rule is not valid or its id is taken.
   */
  add(input: FaultRuleInput): FaultRuleView {
    const parsed = faultRuleSchema.safeParse(input);
    if (!parsed.success)
      throw new AzimdsError('INVALID_INPUT', `invalid fault rule: ${issuesText(parsed.error)}`);
    const rule = parsed.data;
    if (rule.id !== undefined && this.#rules.some((r) => r.id === rule.id)) {
      throw new AzimdsError('INVALID_INPUT', `a fault rule with id "${rule.id}" exists already`);
    }
    let id = rule.id;
    while (id === undefined || this.#rules.some((r) => r.id === id)) id = `f${this.#nextId++}`;
    const compiled: CompiledRule = {
      id,
      rule: { ...rule, id },
      // `app-service` or `appService`: the names `--platform` takes name the same listener here.
      surface: rule.surface === undefined ? undefined : surfaceName(rule.surface),
      method: rule.method,
      path: compilePathPattern(rule.path),
      limiter: rule.throttle
        ? new RateLimiter(rule.throttle.requestsPerSecond, rule.throttle.burst, this.#clock)
        : undefined,
      action: actionOf(id, rule),
      hits: 0,
      expired: false,
    };
    this.#rules.push(compiled);
    this.#live++;
    return view(compiled);
  }

  /** Deletes a rule; false when there is none with this id. */
  remove(id: string): boolean {
    const index = this.#rules.findIndex((r) => r.id === id);
    if (index < 0) return false;
    const [removed] = this.#rules.splice(index, 1);
    if (removed && !removed.expired) this.#live--;
    return true;
  }

  /** Deletes every rule. */
  clear(): void {
    this.#rules.length = 0;
    this.#live = 0;
  }

  /** Replaces every rule with `rules` (a reset to the configured rules). Ids restart at `f1`. */
  replace(rules: readonly FaultRuleInput[]): void {
    this.clear();
    this.#nextId = 1;
    for (const rule of rules) this.add(rule);
  }

  /** The rules, in the order they are tried. */
  list(): FaultRuleView[] {
    return this.#rules.map(view);
  }

  /** One rule by id. */
  get(id: string): FaultRuleView | undefined {
    const rule = this.#rules.find((r) => r.id === id);
    return rule ? view(rule) : undefined;
  }

  /**
   * The action for a request, or `undefined` to serve it normally. Counts the hit (a `times` rule
   * expires on its last one). `source` is the client address, the throttle's bucket key.
   */
  match(surface: string, method: string, path: string, source: string): FaultAction | undefined {
    for (const r of this.#rules) {
      if (r.expired) continue;
      if (r.surface !== undefined && r.surface !== surface) continue;
      if (r.method !== undefined && r.method !== method) continue;
      if (!r.path(path)) continue;
      if (r.rule.probability !== undefined && !(this.#random() < r.rule.probability)) continue;
      if (r.limiter?.take(source)) continue;
      r.hits++;
      if (r.rule.times !== undefined && r.hits >= r.rule.times) {
        r.expired = true;
        this.#live--;
      }
      return r.action;
    }
    return undefined;
  }
}

function actionOf(id: string, rule: FaultRule): FaultAction {
  const latencyMs = rule.latencyMs ?? 0;
  if (rule.reset) return { id, latencyMs, kind: 'reset' };
  const status = rule.throttle ? 429 : rule.status;
  if (status === undefined) return { id, latencyMs, kind: 'pass' };
  const retryAfter =
    status === 429 || status === 503 ? (rule.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS) : undefined;
  return { id, latencyMs, kind: 'status', status, ...(retryAfter === undefined ? {} : { retryAfter }) };
}

function view(r: CompiledRule): FaultRuleView {
  const times = r.rule.times;
  return {
    id: r.id,
    ...r.rule,
    hits: r.hits,
    ...(times === undefined ? {} : { remaining: Math.max(0, times - r.hits) }),
    expired: r.expired,
  };
}
