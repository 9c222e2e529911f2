/**
 * Schedules: the compiled form of `schedules:` (defaults, start and end resolved in the
 * schedule's zone, absent from flows without schedules), the cron grammar Temporal reads, the
 * mapping to Temporal's ScheduleSpec — checked by evaluating the calendars it produces against
 * what each `every` means, over random wall-clock times — and the names schedules go by.
 */
import fc from 'fast-check';
import type { CalendarSpec, LooseRange, ScheduleSpec } from '@temporalio/client';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { WEEKDAYS } from '../../src/dsl/business-time';
import { cronProblem } from '../../src/dsl/cron';
import { OVERLAP_POLICIES, type ScheduleIR } from '../../src/dsl/schedule-ir';
import {
  parseScheduleId,
  scheduleSubjectId,
  subjectTarget,
  temporalScheduleId,
} from '../../src/schedules/ids';
import { describeTiming, overlapPolicy, scheduleSpec } from '../../src/schedules/spec';
import { compileText, formatted } from '../support/definitions';

const MONTH_NAMES = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];
const DAY_NAMES = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

function flow(schedules: string, inputs = ''): string {
  return `apiVersion: idflow/v1
kind: Flow
metadata: { name: report }
${inputs}schedules:
${schedules}
steps:
  - id: note
    set: { done: true }
`;
}

function compiled(text: string): ScheduleIR[] | undefined {
  const result = compileText(text);
  expect(formatted(result)).toEqual([]);
  return result.flows.get('report')?.ir.schedules;
}

describe('compiling schedules', () => {
  test('a flow without schedules has no schedules in its IR, so its hash is as before', () => {
    const result = compileText(flow('').replace('schedules:\n\n', ''));
    expect(formatted(result)).toEqual([]);
    expect(result.flows.get('report')?.ir).not.toHaveProperty('schedules');
  });

  test('defaults: UTC, overlap skip, not paused, minute 0, the id as title, no inputs', () => {
    expect(compiled(flow('  - { id: hourly, every: hourly }'))).toEqual([
      {
        id: 'hourly',
        title: 'hourly',
        every: 'hourly',
        minute: 0,
        timezone: 'UTC',
        overlap: 'skip',
        attributes: {},
        paused: false,
      },
    ]);
  });

  test("a date alone starts at the start of that day and ends at the end of it, in the schedule's zone", () => {
    const [weekly] = compiled(
      flow(`  - id: weekly
    every: weekly
    days: [fri, mon, wed]
    at: '09:00'
    timezone: America/New_York
    start: 2027-03-01
    end: 2027-07-04
    jitter: 1m30s`),
    ) as [ScheduleIR];
    expect(weekly).toMatchObject({
      days: ['mon', 'wed', 'fri'],
      startAt: '2027-03-01T05:00:00.000Z', // EST
      endAt: '2027-07-05T03:59:59.999Z', // EDT
      jitterMs: 90_000,
    });
  });

  test('timestamps keep their instant; inputs are kept as written', () => {
    const [nightly] = compiled(
      flow(
        `  - id: nightly
    every: daily
    at: '02:00'
    start: 2027-03-01T09:30:00+01:00
    inputs: { limit: 5 }`,
        'inputs:\n  limit: { type: int }\n  scope: { type: string, default: all }\n',
      ),
    ) as [ScheduleIR];
    expect(nightly.startAt).toBe('2027-03-01T08:30:00.000Z');
    expect(nightly.attributes).toEqual({ limit: 5 });
  });
});

describe('cron strings', () => {
  test.each([
    '0 9 * * 1-5',
    '*/15 * * * *',
    '0 8-18/2 * * mon-fri',
    '30 6 1,15 * *',
    '0 0 1 jan,jul *',
    '5 4 * * sun',
    '0 0 * * 7',
    '0 9 31 * *',
    '  0 9 * * *  ',
    '@daily',
    '@hourly',
    '@weekly',
    '@monthly',
    '@yearly',
  ])('%s is a cron string', (cron) => {
    expect(cronProblem(cron)).toBeUndefined();
  });

  test.each([
    ['0 9 * *', 'it has 4 fields'],
    ['0 0 9 * * 1', 'it has 6 fields'],
    ['60 * * * *', 'minute 60 is out of range 0-59'],
    ['0 9 0 * *', 'day of month 0 is out of range 1-31'],
    ['0 9 * 13 *', 'month 13 is out of range 1-12'],
    ['0 9 * * 8', 'day of week 8 is out of range 0-7'],
    ['0 9 * * 1#2', 'it may not contain #'],
    ['0 9 ? * *', "day of month '?' is not a number 1-31"],
    ['0 9 * * MON-SUNDAY', "day of week 'SUNDAY' is not a number"],
    ['0 9-7 * * *', "hour range '9-7' ends before it starts"],
    ['0 9 * * 1-2-3', "day of week '1-2-3' has more than one -"],
    ['0/5/2 * * * *', "minute '0/5/2' has more than one /"],
    ['0 9 * * */100', "has step '100'"],
    ['TZ=UTC 0 9 * * *', 'it names a time zone'],
    ['@every 1h', '@every is an interval'],
    ['@fortnightly', "'@fortnightly' is not a shorthand"],
  ])('%s is refused: %s', (cron, problem) => {
    expect(cronProblem(cron)).toContain(problem);
  });
});

/** Whether `value` is in a calendar field as the SDK reads it (omitted: the field's default). */
function inField<T extends string | number>(
  field: LooseRange<T> | LooseRange<T>[] | '*' | undefined,
  value: number,
  toNumber: (v: T) => number,
  fallback: 'all' | number,
): boolean {
  if (field === undefined) return fallback === 'all' || value === fallback;
  if (field === '*') return true;
  const ranges = Array.isArray(field) ? field : [field];
  return ranges.some((r) => {
    if (typeof r !== 'object') return toNumber(r) === value;
    const start = toNumber(r.start);
    const end = r.end === undefined ? start : toNumber(r.end);
    const step = ('step' in r && r.step) || 1;
    return value >= start && value <= end && (value - start) % step === 0;
  });
}

const num = (n: number) => n;

/** Whether a wall-clock time (local to the schedule's zone) matches one calendar. */
function calendarMatches(
  cal: CalendarSpec,
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
) {
  const weekday = new Date(Date.UTC(y, mo - 1, d)).getUTCDay();
  return (
    inField(cal.year, y, num, 'all') &&
    inField(cal.month, mo, (m) => MONTH_NAMES.indexOf(m) + 1, 'all') &&
    inField(cal.dayOfMonth, d, num, 'all') &&
    inField(cal.dayOfWeek, weekday, (w) => DAY_NAMES.indexOf(w), 'all') &&
    inField(cal.hour, h, num, 0) &&
    inField(cal.minute, mi, num, 0)
  );
}

function specMatches(spec: ScheduleSpec, y: number, mo: number, d: number, h: number, mi: number) {
  return (spec.calendars ?? []).some((c) => calendarMatches(c, y, mo, d, h, mi));
}

const daysIn = (y: number, mo: number) => new Date(Date.UTC(y, mo, 0)).getUTCDate();
const two = (n: number) => String(n).padStart(2, '0');

const clock = fc
  .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
  .map(([h, m]) => `${two(h)}:${two(m)}`);
const timing = fc.oneof(
  fc
    .record({
      y: fc.integer({ min: 2000, max: 2100 }),
      mo: fc.integer({ min: 1, max: 12 }),
      d: fc.integer({ min: 1, max: 28 }),
      at: clock,
    })
    .map(({ y, mo, d, at }) => ({
      every: 'once' as const,
      date: `${y}-${two(mo)}-${two(d)}`,
      at,
    })),
  fc.integer({ min: 0, max: 59 }).map((minute) => ({ every: 'hourly' as const, minute })),
  clock.map((at) => ({ every: 'daily' as const, at })),
  fc
    .record({ days: fc.subarray([...WEEKDAYS], { minLength: 1 }), at: clock })
    .map(({ days, at }) => ({ every: 'weekly' as const, days, at })),
  fc
    .record({
      dayOfMonth: fc.oneof(fc.integer({ min: 1, max: 31 }), fc.constant('last' as const)),
      at: clock,
    })
    .map((t) => ({ every: 'monthly' as const, ...t })),
);
const schedule: fc.Arbitrary<ScheduleIR> = fc
  .record({
    timing,
    timezone: fc.constantFrom('UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata'),
    startAt: fc.option(fc.integer({ min: 1.6e12, max: 2.5e12 }), { nil: undefined }),
    jitterMs: fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
    overlap: fc.constantFrom(...OVERLAP_POLICIES),
    paused: fc.boolean(),
  })
  .map(({ timing: t, startAt, jitterMs, ...rest }) => ({
    id: 'sched',
    title: 'sched',
    ...t,
    ...rest,
    ...(startAt !== undefined
      ? {
          startAt: new Date(startAt).toISOString(),
          endAt: new Date(startAt + 86_400_000).toISOString(),
        }
      : {}),
    ...(jitterMs !== undefined ? { jitterMs } : {}),
    attributes: {},
  }));

/** A local wall-clock time, drawn often enough near the schedule's own time to hit it. */
const wallTime = (s: ScheduleIR) => {
  const at = 'at' in s ? s.at.split(':').map(Number) : [0, 'minute' in s ? s.minute : 0];
  return fc
    .record({
      y: fc.integer({ min: 2000, max: 2100 }),
      mo: fc.integer({ min: 1, max: 12 }),
      d: fc.integer({ min: 1, max: 31 }),
      onTime: fc.boolean(),
      h: fc.integer({ min: 0, max: 23 }),
      mi: fc.integer({ min: 0, max: 59 }),
    })
    .map((t) => ({
      ...t,
      d: Math.min(t.d, daysIn(t.y, t.mo)),
      ...(t.onTime ? { h: 'minute' in s ? t.h : (at[0] as number), mi: at[1] as number } : {}),
    }));
};

/** Whether a local wall-clock time is one the schedule means to fire at. */
function meant(s: ScheduleIR, y: number, mo: number, d: number, h: number, mi: number): boolean {
  const time = (at: string) => at === `${two(h)}:${two(mi)}`;
  switch (s.every) {
    case 'once':
      return s.date === `${y}-${two(mo)}-${two(d)}` && time(s.at);
    case 'hourly':
      return mi === s.minute;
    case 'daily':
      return time(s.at);
    case 'weekly':
      return s.days.includes(WEEKDAYS[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()]!) && time(s.at);
    case 'monthly':
      return (s.dayOfMonth === 'last' ? d === daysIn(y, mo) : d === s.dayOfMonth) && time(s.at);
    case 'cron':
      throw new Error('cron schedules are not evaluated here');
  }
}

describe('the Temporal ScheduleSpec of a schedule', () => {
  test('each calendar fires exactly when the schedule means to, at any wall-clock time', () => {
    fc.assert(
      fc.property(
        schedule.chain((s) => fc.tuple(fc.constant(s), wallTime(s))),
        ([s, { y, mo, d, h, mi }]) => {
          expect(specMatches(scheduleSpec(s), y, mo, d, h, mi)).toBe(meant(s, y, mo, d, h, mi));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('zone, start, end and jitter carry over as they are; overlap is mapped', () => {
    fc.assert(
      fc.property(schedule, (s) => {
        const spec = scheduleSpec(s);
        expect(spec.timezone).toBe(s.timezone);
        expect(spec.startAt?.toISOString()).toBe(s.startAt);
        expect(spec.endAt?.toISOString()).toBe(s.endAt);
        expect(spec.jitter).toBe(s.jitterMs);
        expect(spec.cronExpressions).toBeUndefined();
        expect(overlapPolicy(s.overlap)).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });

  test('the last day of the month is exactly one day in every month from 2000 to 2100', () => {
    const spec = scheduleSpec({
      id: 'month-end',
      title: 'month-end',
      every: 'monthly',
      dayOfMonth: 'last',
      at: '18:00',
      timezone: 'UTC',
      overlap: 'skip',
      attributes: {},
      paused: false,
    });
    for (let y = 2000; y <= 2100; y++) {
      for (let mo = 1; mo <= 12; mo++) {
        const days = [];
        for (let d = 1; d <= daysIn(y, mo); d++)
          if (specMatches(spec, y, mo, d, 18, 0)) days.push(d);
        expect({ y, mo, days }).toEqual({ y, mo, days: [daysIn(y, mo)] });
      }
    }
  });

  test('a cron schedule passes its string; every overlap policy maps to its own', () => {
    const spec = scheduleSpec({
      id: 'c',
      title: 'c',
      every: 'cron',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      overlap: 'skip',
      attributes: {},
      paused: false,
    });
    expect(spec).toEqual({ cronExpressions: ['0 9 * * 1-5'], timezone: 'Europe/Berlin' });
    expect(OVERLAP_POLICIES.map(overlapPolicy)).toEqual([
      ScheduleOverlapPolicy.SKIP,
      ScheduleOverlapPolicy.BUFFER_ONE,
      ScheduleOverlapPolicy.BUFFER_ALL,
      ScheduleOverlapPolicy.CANCEL_OTHER,
      ScheduleOverlapPolicy.TERMINATE_OTHER,
      ScheduleOverlapPolicy.ALLOW_ALL,
    ]);
  });

  test('timing in words', () => {
    const base = { id: 's', title: 's', timezone: 'UTC', overlap: 'skip', attributes: {} };
    const words = (t: object) =>
      describeTiming({ ...base, paused: false, ...t } as unknown as ScheduleIR);
    expect(words({ every: 'weekly', days: ['mon'], at: '09:00' })).toBe('every Monday at 09:00');
    expect(words({ every: 'weekly', days: ['mon', 'wed', 'fri'], at: '09:00' })).toBe(
      'every Monday, Wednesday and Friday at 09:00',
    );
    expect(words({ every: 'hourly', minute: 5 })).toBe('every hour at :05');
    expect(words({ every: 'daily', at: '02:00' })).toBe('every day at 02:00');
    expect(words({ every: 'monthly', dayOfMonth: 'last', at: '18:00' })).toBe(
      'on the last day of every month at 18:00',
    );
    expect(words({ every: 'monthly', dayOfMonth: 22, at: '18:00' })).toBe(
      'on the 22nd of every month at 18:00',
    );
    expect(words({ every: 'monthly', dayOfMonth: 11, at: '18:00' })).toBe(
      'on the 11th of every month at 18:00',
    );
    expect(words({ every: 'once', date: '2027-03-01', at: '08:30' })).toBe(
      'once, on 2027-03-01 at 08:30',
    );
    expect(words({ every: 'cron', cron: '0 9 * * 1-5' })).toBe('cron 0 9 * * 1-5');
  });
});

describe('schedule names', () => {
  test('a Temporal schedule id names its task queue, flow and schedule, and reads back', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,10}(?:-[a-z0-9]{1,5}){0,2}$/);
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{1,20}$/), name, name, (queue, f, s) => {
        const id = temporalScheduleId(queue, f, s);
        expect(parseScheduleId(queue, id)).toEqual({ flow: f, schedule: s });
        expect(parseScheduleId(`${queue}x`, id)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
    expect(parseScheduleId('q', 'idflow/q/report')).toBeUndefined();
    expect(parseScheduleId('q', 'idflow/q/report/weekly/extra')).toBeUndefined();
  });

  test("a scheduled run's subject is the schedule, and its audit target too", () => {
    expect(scheduleSubjectId('report', 'weekly')).toBe('schedule:report.weekly');
    expect(subjectTarget('schedule:report.weekly')).toBe('schedule:report.weekly');
    expect(subjectTarget('p-1001')).toBe('person:p-1001');
  });
});
