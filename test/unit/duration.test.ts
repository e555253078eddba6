import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/core/duration.js';

test('parses durations with units, combinations, signs and bare milliseconds', () => {
  const cases: Array<[string | number, number]> = [
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['+5m', 300_000],
    ['-2s', -2000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['250', 250],
    [1000, 1000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, String(text));
});

test('rejects text that is not a duration', () => {
  for (const text of ['', 'soon', '5 minutes', '5x', 'm5', '1h 30m', Number.NaN]) {
    assert.equal(parseDuration(text), undefined, String(text));
  }
});

test('formats milliseconds back into the same notation', () => {
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(1500), '1s500ms');
  assert.equal(formatDuration(-60_000), '-1m');
  assert.equal(formatDuration(0), '0s');
});
