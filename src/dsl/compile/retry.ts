/**
 * Durations and retry policies as steps and connectors write them, resolved to milliseconds
 * and Temporal retry policies: the type's defaults, overridden by the connector, then the step.
 */
import { parseDuration } from '../duration';
import type { RetryIR } from '../ir';
import type { RetryPolicy } from '../schema';

/** Milliseconds of a duration the structural check accepted; undefined when absent. */
export function ms(duration: string | undefined): number | undefined {
  return duration === undefined ? undefined : parseDuration(duration);
}

/** `base` with each override's fields applied in order (later overrides win). */
export function retryOf(base: RetryIR, ...overrides: Array<RetryPolicy | undefined>): RetryIR {
  const retry = { ...base };
  for (const o of overrides) {
    if (!o) continue;
    if (o.maxAttempts !== undefined) retry.maximumAttempts = o.maxAttempts;
    if (o.initialInterval !== undefined)
      retry.initialIntervalMs = ms(o.initialInterval) ?? retry.initialIntervalMs;
    if (o.backoffCoefficient !== undefined) retry.backoffCoefficient = o.backoffCoefficient;
    if (o.maximumInterval !== undefined)
      retry.maximumIntervalMs = ms(o.maximumInterval) ?? retry.maximumIntervalMs;
  }
  return retry;
}
