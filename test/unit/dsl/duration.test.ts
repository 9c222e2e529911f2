import { formatDuration, parseDuration } from '../../../src/dsl/duration';

test.each([
  ['250ms', 250],
  ['30s', 30_000],
  ['5m', 300_000],
  ['2h', 7_200_000],
  ['1d', 86_400_000],
  ['1w', 604_800_000],
  ['1h30m', 5_400_000],
  ['0s', 0],
])('%s is %d ms', (text, ms) => {
  expect(parseDuration(text)).toBe(ms);
  expect(parseDuration(formatDuration(ms))).toBe(ms);
});

test.each(['', '30', '3 days', '1.5h', '-1s', '1y', '1h 30m'])('%j is not a duration', (text) => {
  expect(parseDuration(text)).toBeUndefined();
});

test('formatDuration writes the shortest form', () => {
  expect(formatDuration(90_000)).toBe('1m30s');
  expect(formatDuration(86_400_000 + 1)).toBe('1d1ms');
});
