/**
 * Failure types activities raise, by name (the interpreter decides on `failure.type`, never on
 * classes). Permanent ones are non-retryable: the run fails at once, naming the step.
 *
 * Messages name the operation, the field and the constraint; never a SQL statement, its
 * parameters, or a library's raw text (which may quote a person's name, a DN or an address).
 * `activityFailure` is the last word on anything an activity throws.
 */
import { ApplicationFailure, CancelledFailure, TemporalFailure } from '@temporalio/common';
import { describeDatabaseError, type DatabaseErrorKind } from '../src/db/errors';

export type FailureType =
  | 'ConnectorAuthFailed'
  | 'ConnectorNotConfigured'
  | 'TargetNotFound'
  | 'TargetConflict'
  | 'TargetUnavailable'
  | 'InvalidRequest'
  | 'InvalidResponse'
  | 'RateLimited'
  /** idflow's database cannot be reached: retried. */
  | 'DatabaseUnavailable'
  /** A serialization failure, deadlock or lock timeout: retried. */
  | 'DatabaseBusy'
  /** A value the database cannot store (SQLSTATE class 22). */
  | 'InvalidValue'
  /** An integrity constraint refused the change (class 23): a unique key held by another. */
  | 'ConstraintViolated'
  /** Any other database error: a bug or a missing migration; retried. */
  | 'DatabaseError'
  /** Something unexpected, told by its name only; the worker log has where it came from. */
  | 'InternalError'
  /** The person a reconcile, plan or grant names is not in the identity store. */
  | 'PersonNotFound'
  /** A grant a separation-of-duties rule refuses. */
  | 'SodConflict';

const PERMANENT: ReadonlySet<FailureType> = new Set([
  'ConnectorAuthFailed',
  'TargetNotFound',
  'TargetConflict',
  'InvalidRequest',
  'InvalidResponse',
  'InvalidValue',
  'ConstraintViolated',
  'PersonNotFound',
  'SodConflict',
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

const DATABASE_TYPES: Record<DatabaseErrorKind, FailureType> = {
  unavailable: 'DatabaseUnavailable',
  busy: 'DatabaseBusy',
  'invalid-value': 'InvalidValue',
  constraint: 'ConstraintViolated',
  other: 'DatabaseError',
};

/**
 * The failure a database error of `operation` stands for ("identity store: upsertPerson
 * failed: unique constraint persons_employee_id_idx violated"), or undefined when `err` is no
 * database error. `fromDatabase`: the caller knows `err` came from a query, so a bare network
 * error means the database is unreachable.
 */
export function databaseFailure(
  operation: string,
  err: unknown,
  options: { fromDatabase?: boolean } = {},
): ApplicationFailure | undefined {
  const info = describeDatabaseError(err, options);
  if (!info) return undefined;
  const details = {
    ...(info.code ? { code: info.code } : {}),
    ...(info.constraint ? { constraint: info.constraint } : {}),
    ...(info.table ? { table: info.table } : {}),
    ...(info.column ? { column: info.column } : {}),
  };
  return connectorFailure(
    DATABASE_TYPES[info.kind],
    `${operation} failed: ${info.reason}`,
    Object.keys(details).length ? details : undefined,
  );
}

/** Name and code of an error, never its message: what may be said about a library's error. */
export function errorName(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as { code?: unknown }).code;
  const name = /^[A-Za-z][A-Za-z0-9_]{0,60}$/.test(err.name) ? err.name : 'Error';
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code) ? `${name} ${code}` : name;
}

/** True for what Temporal itself must see as thrown: cancellation, and idflow's own failures. */
function passThrough(err: unknown): boolean {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return true;
  if (err instanceof TemporalFailure) return true;
  return err instanceof Error && err.name === 'AbortError';
}

/**
 * What an activity's caller (the run's state, its history, the audit log and the logs) is told
 * about `err`: idflow's failures as they are; database errors mapped to their type with a
 * message naming `operation` and the column or constraint; anything else by its name only.
 */
export function activityFailure(operation: string, err: unknown): unknown {
  if (passThrough(err)) return err;
  const database = databaseFailure(operation, err);
  if (database) return database;
  return ApplicationFailure.create({
    type: 'InternalError',
    message: `${operation} failed unexpectedly (${errorName(err)}); the worker log says where`,
    nonRetryable: false,
  });
}
