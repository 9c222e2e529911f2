/**
 * The compiled form of a flow's `schedules:`: when the flow runs on its own, without an event.
 * Part of the flow's IR (and so of its content hash); `idflow schedules sync` turns each into a
 * Temporal Schedule. Types only, no Node imports: the interpreter's modules import them.
 */
import type { Weekday } from './business-time';
import type { JsonValue } from './ir';

/** How often a schedule fires: the value of `every`. */
export const SCHEDULE_EVERY = ['once', 'hourly', 'daily', 'weekly', 'monthly', 'cron'] as const;
export type ScheduleEvery = (typeof SCHEDULE_EVERY)[number];

/**
 * What a firing does when the schedule's previous run is still going (Temporal's overlap
 * policies): `skip` it (the default), buffer one or all, cancel or terminate the running one,
 * or run alongside it (`allowAll`).
 */
export const OVERLAP_POLICIES = [
  'skip',
  'bufferOne',
  'bufferAll',
  'cancelOther',
  'terminateOther',
  'allowAll',
] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/**
 * When a schedule fires, in its time zone's wall-clock time: one variant per `every`, each with
 * exactly the fields that kind takes. `at` is `HH:MM`.
 */
export type ScheduleTimeIR =
  | { every: 'once'; date: string; at: string }
  | { every: 'hourly'; minute: number }
  | { every: 'daily'; at: string }
  | { every: 'weekly'; days: Weekday[]; at: string }
  | { every: 'monthly'; dayOfMonth: number | 'last'; at: string }
  | { every: 'cron'; cron: string };

/** One schedule of a flow, compiled. */
export type ScheduleIR = ScheduleTimeIR & {
  /** Unique within its flow; names the Temporal Schedule and the runs it starts. */
  id: string;
  title: string;
  /** IANA time zone the wall-clock fields are read in; `UTC` unless the definition says. */
  timezone: string;
  /** First instant the schedule may fire (ISO 8601, UTC); a date alone is its start of day. */
  startAt?: string;
  /** Last instant the schedule may fire (ISO 8601, UTC); a date alone is its end of day. */
  endAt?: string;
  /** Each firing is delayed by a random amount up to this, to spread load. */
  jitterMs?: number;
  overlap: OverlapPolicy;
  /** The run's event attributes, as written (defaults of the flow's inputs apply at run time). */
  attributes: Record<string, JsonValue>;
  /** Created paused: it fires only once an operator unpauses it. */
  paused: boolean;
};
