/**
 * The times `GET /v1/runs` and `idflow runs list` take (`since`, `until`): any text is either
 * refused with one problem naming the field, or placed in the visibility query as a UTC time
 * with a four-digit year — the only form Temporal reads (a year past 9999 or before 1 made it
 * fail the request, a 500).
 */
import * as fc from 'fast-check';
import { RunFilterInput, runsQuery } from '../../src/runs/filter';

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** RFC 3339 times of any year 0000-9999 and any offset, and text that only looks like one. */
const timeText = fc.oneof(
  fc
    .record({
      year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 9998, 9999)),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 28 }),
      hour: fc.integer({ min: 0, max: 23 }),
      offset: fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
    })
    .map(
      (t) =>
        `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:59:59.999${
          t.offset === 0
            ? 'Z'
            : `${t.offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(t.offset) / 60))}:${pad(Math.abs(t.offset) % 60)}`
        }`,
    ),
  fc.constantFrom(
    'yesterday',
    '+010000-01-01T00:00:00Z',
    '-000001-01-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-01-01',
    '',
  ),
  fc.string({ maxLength: 30 }),
);

test('a time is refused with one problem naming its field, or sent with a four-digit UTC year', () => {
  fc.assert(
    fc.property(timeText, fc.constantFrom('since', 'until'), (text, field) => {
      const parsed = RunFilterInput.safeParse({ [field]: text });
      if (!parsed.success) {
        expect(parsed.error.issues.map((i) => i.path.join('/'))).toEqual([field]);
        return;
      }
      const query = runsQuery(parsed.data);
      const sent = /StartTime (?:>=|<) '([^']*)'/.exec(query)?.[1];
      expect(sent).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(sent as string)).toBe(Date.parse(text));
    }),
    { numRuns: 500 },
  );
});

test.each([
  ['9999-12-31T23:59:59-14:00', 'must fall in the years 0001 to 9999 (UTC)'],
  ['0000-01-01T00:00:00+01:00', 'must fall in the years 0001 to 9999 (UTC)'],
  ['yesterday', 'must be an RFC 3339 timestamp, like 2026-01-31T09:00:00Z'],
])('since=%s is refused: %s', (text, message) => {
  const parsed = RunFilterInput.safeParse({ since: text });
  expect(parsed.success ? [] : parsed.error.issues.map((i) => [i.path, i.message])).toEqual([
    [['since'], message],
  ]);
});
