/**
 * Literal values whose type the language knows, checked when a definition is compiled: a
 * timestamp or duration written out is wrong in the file, not in a run weeks later. Values
 * that interpolate `${…}` are checked when the run computes them.
 */
import * as z from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration';
import { MAX_DURATION_MS } from './limits';
import { describe } from './zod-messages';

const TIMESTAMP = z.iso.datetime({ offset: true });
const MAX_DURATION = `${MAX_DURATION_MS / 86_400_000}d`;

/** The wording the schema uses for timestamps too, so every timestamp error reads alike. */
export const TIMESTAMP_EXPECTED =
  'an ISO 8601 timestamp with a time zone, like 2025-01-31T17:00:00Z';

/** Why `value` is not a timestamp a run accepts, or undefined when it is one. */
export function timestampProblem(value: unknown): string | undefined {
  if (typeof value === 'string' && TIMESTAMP.safeParse(value).success) return undefined;
  return `must be ${TIMESTAMP_EXPECTED}, not ${describe(value)}`;
}

/**
 * Why a string that has the form of a duration is still not one a run can wait for (longer
 * than the limit, or too large to count exactly), or undefined. The form is the schema's check.
 */
export function durationRangeProblem(text: string): string | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  const ms = parseDuration(text);
  return ms === undefined || ms > MAX_DURATION_MS
    ? `must be at most ${MAX_DURATION} (about ten years), not ${describe(text)}`
    : undefined;
}
