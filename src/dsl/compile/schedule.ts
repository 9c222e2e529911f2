/**
 * A flow's `schedules:`, compiled. Every problem is an error at its field: a field that does not
 * belong to the schedule's `every` (days on a daily schedule), one it needs and lacks, a time
 * zone the runtime does not know, a cron string Temporal would refuse, an end before the start,
 * a schedule id used twice, inputs that do not fit the flow's `inputs`. Start and end are
 * resolved to instants here, so the IR says exactly when a schedule is live.
 */
import { isTimeZone, WEEKDAYS, zonedInstant } from '../business-time';
import { cronProblem } from '../cron';
import { show, type Path } from '../diagnostics';
import { parseDuration } from '../duration';
import type { InputIR } from '../ir';
import { timestampProblem } from '../literals';
import type { ScheduleEvery, ScheduleIR, ScheduleTimeIR } from '../schedule-ir';
import type { FlowSchedule } from '../schema';
import { compileScheduleInputs, type ScheduleReporter } from './schedule-inputs';

type TimeField = 'at' | 'minute' | 'days' | 'dayOfMonth' | 'date' | 'cron';
const TIME_FIELDS: readonly TimeField[] = ['at', 'minute', 'days', 'dayOfMonth', 'date', 'cron'];

/** The fields each `every` needs; `hourly`'s minute is optional (default 0). */
const NEEDS: Record<ScheduleEvery, readonly TimeField[]> = {
  once: ['date', 'at'],
  hourly: [],
  daily: ['at'],
  weekly: ['days', 'at'],
  monthly: ['dayOfMonth', 'at'],
  cron: ['cron'],
};
const TAKES: Record<ScheduleEvery, readonly TimeField[]> = { ...NEEDS, hourly: ['minute'] };

/** What a missing field is, for the message that asks for it. */
const WHAT: Record<TimeField, string> = {
  at: 'the time of day, like 09:00',
  minute: 'the minute past the hour, 0-59',
  days: 'the weekdays it runs on, like [mon, thu]',
  dayOfMonth: 'the day of the month, 1-31 or last',
  date: 'the day it runs, like 2027-03-01',
  cron: "a cron string, like '0 9 * * 1-5'",
};

/** The longest subject id a person id may be; a scheduled run's subject is one. */
const MAX_SUBJECT_ID = 128;

/** Earliest and latest years Temporal's calendars read. */
const CALENDAR_YEARS = { min: 2000, max: 2100 } as const;

function everyTaking(field: TimeField): string {
  const kinds = (Object.keys(TAKES) as ScheduleEvery[]).filter((k) => TAKES[k].includes(field));
  return kinds.join(', ');
}

/** y, m, d of a `YYYY-MM-DD` that names a real day, else undefined. */
function dayOf(text: string): { y: number; m: number; d: number } | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [y, m, d] = match.slice(1).map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  const real =
    date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  return real ? { y, m, d } : undefined;
}

/** The instant a start or end bound names, or why it names none. */
function boundInstant(
  text: string,
  which: 'start' | 'end',
  timezone: string | undefined,
): number | string | undefined {
  const date = text.slice(0, 10);
  const day = dayOf(date);
  if (!day) return `${which} '${text}' is not a real date`;
  if (text.length === 10) {
    if (timezone === undefined) return undefined; // the time zone's own error says why
    if (which === 'start') return zonedInstant(day.y, day.m, day.d, 0, timezone);
    const next = new Date(Date.UTC(day.y, day.m - 1, day.d + 1));
    const midnight = zonedInstant(
      next.getUTCFullYear(),
      next.getUTCMonth() + 1,
      next.getUTCDate(),
      0,
      timezone,
    );
    return midnight - 1;
  }
  const problem = timestampProblem(text);
  if (problem) return `${which} ${problem}`;
  return Date.parse(text);
}

/** The time zone as written when the runtime knows it exactly so, else why not. */
function timezoneProblem(timezone: string): string | undefined {
  if (!isTimeZone(timezone))
    return `unknown time zone '${timezone}'; use an IANA name like Europe/Berlin, America/New_York or UTC`;
  const canonical = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions()
    .timeZone;
  if (canonical !== timezone && canonical.toLowerCase() === timezone.toLowerCase())
    return `time zone '${timezone}' must be written '${canonical}'`;
  return undefined;
}

class ScheduleCompiler {
  constructor(
    private readonly report: ScheduleReporter,
    private readonly flow: string,
    private readonly inputs: Record<string, InputIR>,
  ) {}

  compile(schedule: FlowSchedule, path: Path): ScheduleIR | undefined {
    const time = this.time(schedule, path);
    const timezone = schedule.timezone ?? 'UTC';
    const zoneProblem = timezoneProblem(timezone);
    if (zoneProblem) this.report.error([...path, 'timezone'], 'bad-timezone', zoneProblem);
    const zone = zoneProblem ? undefined : timezone;
    const startAt = this.bound(schedule.start, 'start', zone, path);
    const endAt = this.bound(schedule.end, 'end', zone, path);
    if (startAt !== undefined && endAt !== undefined && endAt <= startAt) {
      this.report.error(
        [...path, 'end'],
        'bad-schedule-time',
        `end (${show(schedule.end)}) must be after start (${show(schedule.start)})`,
      );
    }
    const subject = `schedule:${this.flow}.${schedule.id}`;
    if (subject.length > MAX_SUBJECT_ID) {
      this.report.error(
        [...path, 'id'],
        'bad-schedule-id',
        `schedule id '${schedule.id}' is too long for flow '${this.flow}': a scheduled run's subject, schedule:<flow>.<id>, may have at most ${MAX_SUBJECT_ID} characters`,
      );
    }
    const attributes = compileScheduleInputs(this.report, this.flow, this.inputs, schedule, path);
    const jitterMs = schedule.jitter === undefined ? undefined : parseDuration(schedule.jitter);
    if (!time || !attributes) return undefined;
    return {
      id: schedule.id,
      title: schedule.title ?? schedule.id,
      ...time,
      timezone,
      ...(startAt !== undefined ? { startAt: new Date(startAt).toISOString() } : {}),
      ...(endAt !== undefined ? { endAt: new Date(endAt).toISOString() } : {}),
      ...(jitterMs !== undefined ? { jitterMs } : {}),
      overlap: schedule.overlap ?? 'skip',
      attributes,
      paused: schedule.paused ?? false,
    };
  }

  /** The `every` and the fields it takes, each checked; fields of other kinds are errors. */
  private time(s: FlowSchedule, path: Path): ScheduleTimeIR | undefined {
    let ok = true;
    for (const field of TIME_FIELDS) {
      if (s[field] === undefined || TAKES[s.every].includes(field)) continue;
      ok = false;
      this.report.error(
        [...path, field],
        'schedule-field',
        `'${field}' does not apply to every: ${s.every}; it belongs to every: ${everyTaking(field)}`,
        true,
      );
    }
    for (const field of NEEDS[s.every]) {
      if (s[field] !== undefined) continue;
      ok = false;
      this.report.error(
        [...path, 'every'],
        'schedule-field',
        `schedule '${s.id}' (every: ${s.every}) needs ${field}: ${WHAT[field]}`,
      );
    }
    if (s.days) {
      const seen = new Set<string>();
      s.days.forEach((day, i) => {
        if (seen.has(day)) {
          ok = false;
          this.report.error([...path, 'days', i], 'schedule-field', `lists ${day} twice`);
        }
        seen.add(day);
      });
    }
    if (s.date !== undefined) {
      const year = Number(s.date.slice(0, 4));
      if (year < CALENDAR_YEARS.min || year > CALENDAR_YEARS.max) {
        ok = false;
        this.report.error(
          [...path, 'date'],
          'bad-schedule-time',
          `date must be in the years ${CALENDAR_YEARS.min}-${CALENDAR_YEARS.max}, not ${s.date}`,
        );
      }
    }
    if (s.cron !== undefined) {
      const problem = cronProblem(s.cron);
      if (problem) {
        ok = false;
        this.report.error([...path, 'cron'], 'bad-cron', `cron '${s.cron}': ${problem}`);
      }
    }
    if (!ok) return undefined;
    switch (s.every) {
      case 'once':
        return { every: 'once', date: s.date as string, at: s.at as string };
      case 'hourly':
        return { every: 'hourly', minute: s.minute ?? 0 };
      case 'daily':
        return { every: 'daily', at: s.at as string };
      case 'weekly': {
        const days = s.days as NonNullable<FlowSchedule['days']>;
        // in week order, so the IR (and its hash) does not depend on how the list was written
        return {
          every: 'weekly',
          days: WEEKDAYS.filter((d) => days.includes(d)),
          at: s.at as string,
        };
      }
      case 'monthly':
        return {
          every: 'monthly',
          dayOfMonth: s.dayOfMonth as number | 'last',
          at: s.at as string,
        };
      case 'cron':
        return { every: 'cron', cron: (s.cron as string).trim() };
      default: {
        const never: never = s.every;
        throw new Error(`unhandled every ${String(never)}`);
      }
    }
  }

  private bound(
    text: string | undefined,
    which: 'start' | 'end',
    timezone: string | undefined,
    path: Path,
  ): number | undefined {
    if (text === undefined) return undefined;
    const at = boundInstant(text, which, timezone);
    if (typeof at === 'string') {
      this.report.error([...path, which], 'bad-schedule-time', at);
      return undefined;
    }
    return at;
  }
}

/**
 * Compiles a flow's schedules against its compiled inputs; undefined when any has an error
 * (each reported). Schedule ids are unique within the flow.
 */
export function compileSchedules(
  report: ScheduleReporter,
  flow: string,
  schedules: readonly FlowSchedule[],
  inputs: Record<string, InputIR>,
): ScheduleIR[] | undefined {
  const compiler = new ScheduleCompiler(report, flow, inputs);
  const seen = new Set<string>();
  const ir: ScheduleIR[] = [];
  let ok = true;
  schedules.forEach((schedule, i) => {
    const path: Path = ['schedules', i];
    if (seen.has(schedule.id)) {
      ok = false;
      report.error(
        [...path, 'id'],
        'duplicate-schedule-id',
        `schedule id '${schedule.id}' is used twice in this flow; schedule ids must be unique`,
      );
    }
    seen.add(schedule.id);
    const compiled = compiler.compile(schedule, path);
    if (compiled) ir.push(compiled);
    else ok = false;
  });
  return ok ? ir : undefined;
}
