/**
 * Durations as people write them on a command line or in a config file: `500ms`, `30s`, `10m`,
 * `2h`, `1d`, combinations such as `1h30m`, an optional leading `+` or `-` (`+5m`: five minutes from
 * now), or a bare number of milliseconds.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^([+-]?)((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Milliseconds in `text`, or `undefined` when it is not a duration.
 * @example parseDuration('1h30m') === 5_400_000; parseDuration('+5m') === 300_000; parseDuration('-2s') === -2000
 */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  const trimmed = text.trim();
  if (/^[+-]?\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const whole = WHOLE.exec(trimmed);
  if (!whole) return undefined;
  let ms = 0;
  for (const [, amount, unit] of (whole[2] as string).matchAll(PART)) {
    ms += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  return whole[1] === '-' ? -ms : ms;
}

/** `1h30m`-style text for a number of milliseconds (the reverse of `parseDuration`, for messages). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return sign + parts.join('');
}
