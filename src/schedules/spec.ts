/**
 * A compiled schedule in Temporal's terms: the `ScheduleSpec` (calendars in the schedule's time
 * zone, or its cron string), and the overlap policy. Pure: no client, no clock. Temporal reads
 * the wall-clock fields in `timezone`, so a 09:00 schedule stays at 09:00 local across DST.
 */
import {
  DAYS_OF_WEEK,
  MONTHS,
  ScheduleOverlapPolicy,
  type CalendarSpec,
  type DayOfWeek,
  type Month,
  type Range,
  type ScheduleSpec,
} from '@temporalio/client';
import { WEEKDAYS, type Weekday } from '../dsl/business-time';
import type { OverlapPolicy, ScheduleIR } from '../dsl/schedule-ir';

const OVERLAP: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  bufferOne: ScheduleOverlapPolicy.BUFFER_ONE,
  bufferAll: ScheduleOverlapPolicy.BUFFER_ALL,
  cancelOther: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminateOther: ScheduleOverlapPolicy.TERMINATE_OTHER,
  allowAll: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** Temporal's overlap policy for a schedule's `overlap`. */
export function overlapPolicy(overlap: OverlapPolicy): ScheduleOverlapPolicy {
  return OVERLAP[overlap];
}

function clock(at: string): { hour: number; minute: number } {
  const [hour, minute] = at.split(':').map(Number) as [number, number];
  return { hour, minute };
}

function dayOfWeek(day: Weekday): DayOfWeek {
  return DAYS_OF_WEEK[WEEKDAYS.indexOf(day)] as DayOfWeek;
}

function months(...numbers: number[]): Month[] {
  return numbers.map((n) => MONTHS[n - 1] as Month);
}

/** Earliest and latest years Temporal's calendars read. */
const FIRST_YEAR = 2000;
const LAST_YEAR = 2100;

/** Every year from 2000 to 2100 that is not a leap year, as ranges with a step. */
function commonYears(): Range<number>[] {
  // leap years in 2000-2100 are every fourth from 2000, except 2100
  return [
    { start: FIRST_YEAR + 1, end: LAST_YEAR - 1, step: 4 },
    { start: FIRST_YEAR + 2, end: LAST_YEAR - 1, step: 4 },
    { start: FIRST_YEAR + 3, end: LAST_YEAR - 1, step: 4 },
    { start: LAST_YEAR, end: LAST_YEAR, step: 1 },
  ];
}

/**
 * The last day of every month at `hour:minute`. Temporal's calendars have no "last day", so
 * each month length is its own calendar: the 31st of long months, the 30th of short ones, the
 * 29th of February (only leap years have one) and the 28th of February in common years.
 */
function lastDayOfMonth(hour: number, minute: number): CalendarSpec[] {
  return [
    { month: months(1, 3, 5, 7, 8, 10, 12), dayOfMonth: 31, hour, minute },
    { month: months(4, 6, 9, 11), dayOfMonth: 30, hour, minute },
    { month: 'FEBRUARY', dayOfMonth: 29, hour, minute },
    { month: 'FEBRUARY', dayOfMonth: 28, year: commonYears(), hour, minute },
  ];
}

/** When the schedule fires: calendars or a cron string, in wall-clock terms of its zone. */
function timing(s: ScheduleIR): Pick<ScheduleSpec, 'calendars' | 'cronExpressions'> {
  switch (s.every) {
    case 'once': {
      const [year, month, day] = s.date.split('-').map(Number) as [number, number, number];
      return {
        calendars: [{ year, month: months(month)[0], dayOfMonth: day, ...clock(s.at) }],
      };
    }
    case 'hourly':
      return { calendars: [{ hour: '*', minute: s.minute }] };
    case 'daily':
      return { calendars: [clock(s.at)] };
    case 'weekly':
      return { calendars: [{ dayOfWeek: s.days.map(dayOfWeek), ...clock(s.at) }] };
    case 'monthly': {
      const { hour, minute } = clock(s.at);
      if (s.dayOfMonth === 'last') return { calendars: lastDayOfMonth(hour, minute) };
      return { calendars: [{ dayOfMonth: s.dayOfMonth, hour, minute }] };
    }
    case 'cron':
      return { cronExpressions: [s.cron] };
    default: {
      const never: never = s;
      throw new Error(`unhandled schedule ${JSON.stringify(never)}`);
    }
  }
}

/** The Temporal `ScheduleSpec` of a compiled schedule. */
export function scheduleSpec(s: ScheduleIR): ScheduleSpec {
  return {
    ...timing(s),
    timezone: s.timezone,
    ...(s.startAt !== undefined ? { startAt: new Date(s.startAt) } : {}),
    ...(s.endAt !== undefined ? { endAt: new Date(s.endAt) } : {}),
    ...(s.jitterMs !== undefined ? { jitter: s.jitterMs } : {}),
  };
}

const DAY_NAMES: Record<Weekday, string> = {
  sun: 'Sunday',
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
};

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** A schedule's timing in words, for `idflow schedules list`: "every Monday at 09:00". */
export function describeTiming(s: ScheduleIR): string {
  switch (s.every) {
    case 'once':
      return `once, on ${s.date} at ${s.at}`;
    case 'hourly':
      return `every hour at :${String(s.minute).padStart(2, '0')}`;
    case 'daily':
      return `every day at ${s.at}`;
    case 'weekly': {
      const names = s.days.map((d) => DAY_NAMES[d]);
      const list =
        names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
      return `every ${list} at ${s.at}`;
    }
    case 'monthly':
      return s.dayOfMonth === 'last'
        ? `on the last day of every month at ${s.at}`
        : `on the ${ordinal(s.dayOfMonth)} of every month at ${s.at}`;
    case 'cron':
      return `cron ${s.cron}`;
    default: {
      const never: never = s;
      throw new Error(`unhandled schedule ${JSON.stringify(never)}`);
    }
  }
}
