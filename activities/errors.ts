/**
 * Failure types connectors raise, by name (the interpreter decides on `failure.type`, never on
 * classes). Permanent ones are non-retryable: the run fails at once, naming the step.
 */
import { ApplicationFailure } from '@temporalio/common';

export type FailureType =
  | 'ConnectorAuthFailed'
  | 'ConnectorNotConfigured'
  | 'TargetNotFound'
  | 'TargetConflict'
  | 'TargetUnavailable'
  | 'InvalidRequest'
  | 'InvalidResponse'
  | 'RateLimited';

const PERMANENT: ReadonlySet<FailureType> = new Set([
  'ConnectorAuthFailed',
  'TargetNotFound',
  'TargetConflict',
  'InvalidRequest',
  'InvalidResponse',
]);

/** An ApplicationFailure of `type`, non-retryable when the type is a permanent one. */
export function connectorFailure(
  type: FailureType,
  message: string,
  details?: Record<string, unknown>,
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: PERMANENT.has(type),
    ...(details ? { details: [details] } : {}),
  });
}
