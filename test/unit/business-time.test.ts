/** Business-hours deadlines with fixed clocks: weekends, holidays, time zones, DST. */
import {
  addBusinessTime,
  businessDurationMs,
  type BusinessCalendar,
} from '../../src/dsl/business-time';

const berlin: BusinessCalendar = {
  timezone: 'Europe/Berlin',
  days: ['mon', 'tue', 'wed', 'thu', 'fri'],
  from: '09:00',
  to: '17:00',
  holidays: ['2026-12-24', '2026-12-25', '2026-12-26'],
};
const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

test('within one working day', () => {
  // Tuesday 10:00 Berlin (09:00Z in winter) + 3h → 13:00 Berlin
  expect(iso(addBusinessTime(at('2026-11-24T09:00:00Z'), 3 * H, berlin))).toBe(
    '2026-11-24T12:00:00.000Z',
  );
});

test('outside hours starts counting at the next opening', () => {
  // Tuesday 20:00 Berlin + 1h → Wednesday 10:00 Berlin
  expect(iso(addBusinessTime(at('2026-11-24T19:00:00Z'), H, berlin))).toBe(
    '2026-11-25T09:00:00.000Z',
  );
});

test('across a weekend', () => {
  // Friday 15:00 Berlin + 4h: 2h on Friday, 2h on Monday → Monday 11:00 Berlin
  expect(iso(addBusinessTime(at('2026-11-27T14:00:00Z'), 4 * H, berlin))).toBe(
    '2026-11-30T10:00:00.000Z',
  );
});

test('"2 days" is two working days of 8 hours, skipping the weekend', () => {
  // Thursday 12:00 Berlin + 16h → Monday 12:00 Berlin
  expect(iso(addBusinessTime(at('2026-11-26T11:00:00Z'), 16 * H, berlin))).toBe(
    '2026-11-30T11:00:00.000Z',
  );
});

test('across holidays and a weekend', () => {
  // Wednesday 23 Dec 16:00 Berlin + 2h: 1h on the 23rd; 24–27 off (holidays, weekend) → Monday 28th 10:00
  expect(iso(addBusinessTime(at('2026-12-23T15:00:00Z'), 2 * H, berlin))).toBe(
    '2026-12-28T09:00:00.000Z',
  );
});

test('daylight saving time: the same local hours on both sides of the change', () => {
  // Friday 27 March 2026 16:00 CET (15:00Z) + 2h → Monday 30 March 10:00 CEST (08:00Z)
  expect(iso(addBusinessTime(at('2026-03-27T15:00:00Z'), 2 * H, berlin))).toBe(
    '2026-03-30T08:00:00.000Z',
  );
});

test('other time zones and working weeks', () => {
  const dubai: BusinessCalendar = {
    timezone: 'Asia/Dubai',
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    from: '08:00',
    to: '16:00',
    holidays: [],
  };
  // Friday 15:00 Dubai (11:00Z) + 2h → Monday 09:00 Dubai (05:00Z)
  expect(iso(addBusinessTime(at('2026-11-27T11:00:00Z'), 2 * H, dubai))).toBe(
    '2026-11-30T05:00:00.000Z',
  );
});

test('in business time a day is a working day and a week a working week', () => {
  expect(businessDurationMs('2d', berlin)).toBe(16 * H);
  expect(businessDurationMs('1w', berlin)).toBe(40 * H);
  expect(businessDurationMs('1d4h', berlin)).toBe(12 * H);
  // five working days from Friday 09:00 Berlin, with the Christmas holidays in between: the
  // fifth ends on Monday 28 December at 17:00 Berlin
  expect(
    iso(
      addBusinessTime(
        at('2026-12-18T08:00:00Z'),
        businessDurationMs('5d', berlin) as number,
        berlin,
      ),
    ),
  ).toBe('2026-12-28T16:00:00.000Z');
});
