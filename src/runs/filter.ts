/**
 * Which runs to list: one grammar for `GET /v1/runs` and `idflow runs list`, so a filter the
 * API accepts is one the CLI accepts and both build the same visibility query. Each value is
 * checked against its grammar, then placed in the query only through src/temporal/visibility.
 */
import * as z from 'zod';
import { EVENT_TYPE_PATTERN, Name } from '../dsl/schema';
import { PersonId } from '../model/person';
import type { RunStatus } from '../temporal/search-attributes';
import {
  atLeast,
  before,
  equals,
  isSet,
  isTrue,
  visibilityQuery,
  type VisibilityClause,
} from '../temporal/visibility';

export const RUN_STATUSES = [
  'Running',
  'Waiting',
  'Parked',
  'Completed',
  'Failed',
  'Cancelled',
] as const satisfies readonly RunStatus[];

/** Runs a page holds by default, and at most. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** Temporal reads times with four-digit years: in UTC, a bound must fall in years 0001 to 9999. */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

const Rfc3339 = z.iso.datetime({
  offset: true,
  message: 'must be an RFC 3339 timestamp, like 2026-01-31T09:00:00Z',
});

const Instant = Rfc3339.refine(
  // one problem per field: a value that is no timestamp at all is told so, not also this
  (s) => !Rfc3339.safeParse(s).success || (Date.parse(s) >= EARLIEST && Date.parse(s) <= LATEST),
  'must fall in the years 0001 to 9999 (UTC)',
)
  .transform((s) => new Date(s).toISOString())
  .meta({ description: 'an RFC 3339 timestamp within the years 0001 to 9999 in UTC' });

const Bool = z.enum(['true', 'false'], { message: "must be 'true' or 'false'" });

/**
 * The filter as query strings give it (every value a string); unknown fields are errors. Each
 * rule is one the OpenAPI document can state, so what the document accepts the route does.
 */
export const RunFilterInput = z.strictObject({
  person: PersonId.optional(),
  flow: Name.optional(),
  status: z.enum(RUN_STATUSES, { message: `must be one of ${RUN_STATUSES.join(', ')}` }).optional(),
  eventType: z
    .string()
    .max(200, 'must be at most 200 characters')
    .regex(EVENT_TYPE_PATTERN, 'must be a dotted event type, like person.joiner')
    .optional(),
  since: Instant.optional(),
  until: Instant.optional(),
  overBudget: Bool.transform((b) => b === 'true').optional(),
  limit: z
    .string()
    .regex(/^(?:[1-9][0-9]?|1[0-9][0-9]|200)$/, `must be a whole number from 1 to ${MAX_LIMIT}`)
    .transform(Number)
    .optional(),
  cursor: z
    .string()
    .max(4096, 'must be at most 4096 characters')
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a cursor from an earlier page')
    .optional(),
});
export type RunFilter = z.infer<typeof RunFilterInput>;

/** The filter's fields that narrow the query (limit and cursor only page through it). */
export type RunQueryFilter = Omit<RunFilter, 'limit' | 'cursor'>;

/** The visibility query of a filter: idflow runs only, each value one escaped literal. */
export function runsQuery(filter: RunQueryFilter): string {
  const clauses: VisibilityClause[] = [isSet('IdflowFlow')];
  if (filter.flow !== undefined) clauses.push(equals('IdflowFlow', filter.flow, 'flow'));
  if (filter.person !== undefined) clauses.push(equals('IdflowSubject', filter.person, 'person'));
  if (filter.status !== undefined) clauses.push(equals('IdflowStatus', filter.status, 'status'));
  if (filter.eventType !== undefined)
    clauses.push(equals('IdflowEventType', filter.eventType, 'eventType'));
  if (filter.since !== undefined) clauses.push(atLeast('StartTime', filter.since, 'since'));
  if (filter.until !== undefined) clauses.push(before('StartTime', filter.until, 'until'));
  if (filter.overBudget !== undefined) clauses.push(isTrue('IdflowOverBudget', filter.overBudget));
  return visibilityQuery(...clauses);
}
