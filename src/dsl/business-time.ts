/**
 * Business time: durations that count only working hours of a calendar (time zone, working
 * days, daily hours, holidays). "Escalate after 2d" in business time is two working days of
 * the calendar's hours. Node-free and deterministic: the interpreter computes deadlines with it.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface BusinessCalendar {
  timezone: string;
  days: Weekday[];
  /** Daily hours, `HH:MM`, local time; `from` before `to`. */
  from: string;
  to: string;
  /** Local dates (`YYYY-MM-DD`) that are not working days. */
  holidays: string[];
}

const DAY_MS = 86_400_000;

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock parts of `instant` in `timezone`. */
function localParts(
  instant: number,
  timezone: string,
): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timezone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(instant)))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    y: parts.year ?? 0,
    mo: parts.month ?? 0,
    d: parts.day ?? 0,
    h: parts.hour ?? 0,
    mi: parts.minute ?? 0,
    s: parts.second ?? 0,
  };
}

/** Offset of `timezone` from UTC at `instant`, in ms (local = utc + offset). */
function offsetAt(instant: number, timezone: string): number {
  const p = localParts(instant, timezone);
  return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - Math.floor(instant / 1000) * 1000;
}

/** The instant at which local wall time y-mo-d hh:mm happens in `timezone`. */
export function zonedInstant(
  y: number,
  mo: number,
  d: number,
  minuteOfDay: number,
  timezone: string,
): number {
  const wall = Date.UTC(y, mo - 1, d, Math.floor(minuteOfDay / 60), minuteOfDay % 60);
  let guess = wall - offsetAt(wall, timezone);
  guess = wall - offsetAt(guess, timezone);
  return guess;
}

/** True when `timezone` is a time zone this runtime knows. */
export function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The working window [start, end) of the local day containing `instant`, or undefined. */
function windowOf(
  instant: number,
  cal: BusinessCalendar,
): { start: number; end: number; next: number } {
  const p = localParts(instant, cal.timezone);
  const date = `${String(p.y).padStart(4, '0')}-${String(p.mo).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
  const weekday = WEEKDAYS[new Date(Date.UTC(p.y, p.mo - 1, p.d)).getUTCDay()] as Weekday;
  const nextDay = new Date(Date.UTC(p.y, p.mo - 1, p.d) + DAY_MS);
  const next = zonedInstant(
    nextDay.getUTCFullYear(),
    nextDay.getUTCMonth() + 1,
    nextDay.getUTCDate(),
    0,
    cal.timezone,
  );
  if (!cal.days.includes(weekday) || cal.holidays.includes(date))
    return { start: next, end: next, next };
  return {
    start: zonedInstant(p.y, p.mo, p.d, minutes(cal.from), cal.timezone),
    end: zonedInstant(p.y, p.mo, p.d, minutes(cal.to), cal.timezone),
    next,
  };
}

/** The instant `durationMs` of business time after `start`. */
export function addBusinessTime(start: number, durationMs: number, cal: BusinessCalendar): number {
  let at = start;
  let left = durationMs;
  for (let guard = 0; guard < 3_700; guard++) {
    const w = windowOf(at, cal);
    const from = Math.max(at, w.start);
    if (from < w.end) {
      if (from + left <= w.end) return from + left;
      left -= w.end - from;
    }
    at = w.next;
  }
  throw new Error('the business calendar has no working time in ten years');
}

/**
 * A duration in business time: `d` is one working day (the calendar's daily hours) and `w` one
 * working week (its working days); `h`, `m`, `s`, `ms` are working time as written.
 * "Escalate after 2d" means after two working days.
 */
export function businessDurationMs(text: string, cal: BusinessCalendar): number | undefined {
  if (!/^(?:\d+(?:ms|s|m|h|d|w))+$/.test(text)) return undefined;
  const day = (minutes(cal.to) - minutes(cal.from)) * 60_000;
  const unit: Record<string, number> = {
    ms: 1,
    s: 1_000,
    m: 60_000,
    h: 3_600_000,
    d: day,
    w: day * cal.days.length,
  };
  let total = 0;
  for (const [, n, u] of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g))
    total += Number(n) * (unit[u as string] as number);
  return total;
}
