import { parseDuration } from '../duration.js';

/** What a NotBefore may be given as (config file, CLI, control API, library). */
export type NotBeforeInput = string | number | Date;

/**
 * Resolves a NotBefore to epoch milliseconds:
 * - relative to `now`: `+5m`, `+1h30m`, `+30s`, `-2m` (in the past), `now`;
 * - absolute: an RFC 1123 date as Azure serves it (`Mon, 19 Sep 2016 18:29:47 GMT`), ISO 8601
 *   (`2026-05-01T12:00:00Z`), a `Date`, or a number of epoch milliseconds.
 * Returns `undefined` when the value is none of these (a bare digit string is ambiguous and refused).
 */
export function parseNotBefore(value: NotBeforeInput, now: number): number | undefined {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.getTime() : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const text = value.trim();
  if (text === 'now') return now;
  if (/^[+-]/.test(text) || /\d(?:ms|s|m|h|d)$/.test(text)) {
    const offset = parseDuration(text);
    return offset === undefined ? undefined : now + offset;
  }
  if (/^\d+$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** True when `value` is a NotBefore `parseNotBefore` understands (for schema validation). */
export function isNotBeforeInput(value: NotBeforeInput): boolean {
  return parseNotBefore(value, 0) !== undefined;
}

/** RFC 1123 in GMT, as Azure writes NotBefore: `Mon, 19 Sep 2016 18:29:47 GMT`. */
export function rfc1123(ms: number): string {
  return new Date(ms).toUTCString();
}
