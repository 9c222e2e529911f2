/**
 * Database errors as idflow tells them: by kind, SQLSTATE, constraint and column, never with
 * the statement, its parameters or the driver's text. The error shapes of postgres.js, PGlite
 * and drizzle around either (as they are raised; real ones from PostgreSQL are in
 * test/integration/no-personal-data.test.ts), plus a property: whatever the values in a failed
 * query, the message is the same and quotes none of them.
 */
import { messages } from '@electric-sql/pglite';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import * as fc from 'fast-check';
import postgres from 'postgres';
import { activityFailure, databaseFailure } from '../../activities/errors';
import { errorCodes } from '../../activities/connectors/http-client';
import {
  columnOfParameter,
  DatabaseError,
  describeDatabaseError,
  isDatabaseUnavailable,
  toDatabaseError,
} from '../../src/db/errors';

const INSERT_PERSON =
  'insert into "persons" ("id", "employee_id", "given_name", "email", "attributes") values ($1, $2, $3, $4, $5)';

/** An error as postgres.js raises it, wrapped by drizzle as it does around every query. */
function postgresJs(
  fields: Record<string, unknown>,
  query = INSERT_PERSON,
  params: unknown[] = [],
) {
  const cause = new postgres.PostgresError({ severity: 'ERROR', ...fields } as never);
  return new DrizzleQueryError(query, params, cause);
}

/** An error as PGlite raises it (it keeps the query and its parameters too), wrapped by drizzle. */
function pglite(fields: Record<string, unknown>, query = INSERT_PERSON, params: unknown[] = []) {
  const cause = Object.assign(
    new messages.DatabaseError(
      typeof fields.message === 'string' ? fields.message : '',
      0,
      'error',
    ),
    { severity: 'ERROR', query, params },
    fields,
  );
  return new DrizzleQueryError(query, params, cause);
}

describe('each SQLSTATE class', () => {
  test.each([
    ['22021', 'invalid-value', 'InvalidValue', true],
    ['22P05', 'invalid-value', 'InvalidValue', true],
    ['22001', 'invalid-value', 'InvalidValue', true],
    ['22003', 'invalid-value', 'InvalidValue', true],
    ['22P02', 'invalid-value', 'InvalidValue', true],
    ['22999', 'invalid-value', 'InvalidValue', true],
    ['23505', 'constraint', 'ConstraintViolated', true],
    ['23502', 'constraint', 'ConstraintViolated', true],
    ['23503', 'constraint', 'ConstraintViolated', true],
    ['23514', 'constraint', 'ConstraintViolated', true],
    ['08006', 'unavailable', 'DatabaseUnavailable', false],
    ['08P01', 'unavailable', 'DatabaseUnavailable', false],
    ['57P01', 'unavailable', 'DatabaseUnavailable', false],
    ['53300', 'unavailable', 'DatabaseUnavailable', false],
    ['40001', 'busy', 'DatabaseBusy', false],
    ['40P01', 'busy', 'DatabaseBusy', false],
    ['42P01', 'other', 'DatabaseError', false],
    ['XX000', 'other', 'DatabaseError', false],
  ])('%s is %s: %s, non-retryable %s', (code, kind, type, permanent) => {
    for (const err of [postgresJs({ code, message: 'm' }), pglite({ code, message: 'm' })]) {
      expect(describeDatabaseError(err)?.kind).toBe(kind);
      const failure = databaseFailure('identity store: upsertPerson', err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure?.type).toBe(type);
      expect(failure?.nonRetryable).toBe(permanent);
      expect(failure?.message).toMatch(/^identity store: upsertPerson failed: /);
      expect(failure?.cause).toBeUndefined();
    }
  });

  test('connection errors, bare or wrapped, are DatabaseUnavailable and retried', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    const wrapped = new DrizzleQueryError('select 1', [], refused);
    expect(databaseFailure('records: recordEvent', wrapped)).toMatchObject({
      type: 'DatabaseUnavailable',
      nonRetryable: false,
      message: 'records: recordEvent failed: the database cannot be reached (ECONNREFUSED)',
    });
    // a bare one is the database's only where the caller knows it came from a query
    expect(describeDatabaseError(refused)).toBeUndefined();
    expect(describeDatabaseError(refused, { fromDatabase: true })?.kind).toBe('unavailable');
    const closed = Object.assign(new Error('write CONNECTION_CLOSED'), {
      code: 'CONNECTION_CLOSED',
    });
    expect(describeDatabaseError(closed)?.kind).toBe('unavailable');
    expect(isDatabaseUnavailable(toDatabaseError('x', wrapped))).toBe(true);
  });
});

describe('messages name the operation, the constraint and the column', () => {
  test('a unique key another row holds: the constraint, not the key', () => {
    const err = postgresJs(
      {
        code: '23505',
        message: 'duplicate key value violates unique constraint "persons_employee_id_idx"',
        detail: 'Key (employee_id)=(E-4711) already exists.',
        table_name: 'persons',
        constraint_name: 'persons_employee_id_idx',
      },
      INSERT_PERSON,
      ['p-2', 'E-4711', 'Ada', 'ada@example.com', '{}'],
    );
    expect(databaseFailure('identity store: upsertPerson', err)?.message).toBe(
      'identity store: upsertPerson failed: unique constraint persons_employee_id_idx violated',
    );
  });

  test('a refused parameter: the column it was meant for, from the statement', () => {
    const err = postgresJs(
      {
        code: '22021',
        message: 'invalid byte sequence for encoding "UTF8": 0x00',
        where: 'unnamed portal parameter $3',
      },
      INSERT_PERSON,
      ['p-2', 'E-1', 'Ad\u0000a', 'ada@example.com', '{}'],
    );
    expect(databaseFailure('identity store: upsertPerson', err)?.message).toBe(
      "identity store: upsertPerson failed: value of column 'given_name' cannot be stored (invalid text encoding)",
    );
  });

  test('a not-null column names itself', () => {
    const err = pglite({
      code: '23502',
      message: 'null value in column "target" of relation "audit_log" violates not-null constraint',
      detail: 'Failing row contains (1, 2026-01-01, x, y, null, z, {}, null, null).',
      table: 'audit_log',
      column: 'target',
    });
    expect(toDatabaseError('records: recordEvent', err)?.message).toBe(
      "records: recordEvent failed: column 'target' of audit_log needs a value (not-null constraint)",
    );
  });

  test('parameters of updates, conditions and multi-row inserts map to their columns', () => {
    const update =
      'update "persons" set "family_name" = $1, "email" = $2 where "persons"."id" = $3';
    expect(columnOfParameter(update, 'unnamed portal parameter $2')).toBe('email');
    expect(columnOfParameter(update, 'unnamed portal parameter $3')).toBe('id');
    const rows =
      'insert into "audit_log" ("seq", "actor", "detail") values (default, $1, $2), (default, $3, $4) on conflict ("dedupe_key") do nothing';
    expect(columnOfParameter(rows, 'unnamed portal parameter $4')).toBe('detail');
    expect(
      columnOfParameter(rows, "JSON data, line 1: {...\nunnamed portal parameter $2 = '...'"),
    ).toBe('detail');
    expect(columnOfParameter(rows, 'unnamed portal parameter $9')).toBeUndefined();
    expect(columnOfParameter('select $1', 'no parameter here')).toBeUndefined();
  });

  test('a DatabaseError keeps nothing of the driver error, so a logger cannot print it', () => {
    const err = postgresJs(
      { code: '23505', constraint_name: 'persons_employee_id_idx', detail: 'Key (x)=(SECRET)' },
      INSERT_PERSON,
      ['SECRET'],
    );
    const mapped = toDatabaseError('the request', err);
    expect(mapped).toBeInstanceOf(DatabaseError);
    expect(mapped?.cause).toBeUndefined();
    expect(
      JSON.stringify({ ...mapped, message: mapped?.message, stack: mapped?.stack }),
    ).not.toContain('SECRET');
  });
});

describe('not a database error', () => {
  test('unknown errors are not described; activities tell them by name only', () => {
    const err = new TypeError('Cannot read ada@example.com');
    expect(describeDatabaseError(err)).toBeUndefined();
    const failure = activityFailure('sendNotification', err) as ApplicationFailure;
    expect(failure.type).toBe('InternalError');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe(
      'sendNotification failed unexpectedly (TypeError); the worker log says where',
    );
  });

  test('drizzle failing before the query (a value it cannot map) is a generic database error', () => {
    const err = new DrizzleQueryError(INSERT_PERSON, ['Ada'], new RangeError('Invalid time value'));
    expect(databaseFailure('identity store: upsertPerson', err)).toMatchObject({
      type: 'DatabaseError',
      message:
        'identity store: upsertPerson failed: the query failed before it reached the database',
    });
  });

  test("idflow's own failures and cancellation pass through as they are", () => {
    const own = ApplicationFailure.nonRetryable('no person', 'TargetNotFound');
    expect(activityFailure('runConnectorOp', own)).toBe(own);
    const cancelled = new CancelledFailure('cancelled');
    expect(activityFailure('runConnectorOp', cancelled)).toBe(cancelled);
  });

  test("a target's error answer is told by its codes, not its text", () => {
    expect(
      errorCodes({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        scimType: 'uniqueness',
        detail: "userName 'ada.lovelace' is already taken",
        status: '409',
      }),
    ).toBe(' (scimType uniqueness)');
    expect(errorCodes({ error: { code: 'E_LOCKED', message: 'Ada is locked' } })).toBe(
      ' (code E_LOCKED)',
    );
    expect(errorCodes({ error: 'user ada@example.com exists' })).toBe('');
    expect(errorCodes('<html>Ada Lovelace</html>')).toBe('');
  });
});

describe('property: the values of a failed query never reach the message', () => {
  const CODES = [
    '22021',
    '22P05',
    '22001',
    '22003',
    '22P02',
    '22007',
    '23505',
    '23502',
    '23503',
    '23514',
    '08006',
    '57P01',
    '40001',
    '42P01',
    'XX000',
    '0A000',
  ];
  const value = fc.string({ minLength: 1, maxLength: 40 });
  const neutral = ['v1', 'v2', 'v3', 'v4', 'v5'];

  /** A driver error in every shape, with `params` wherever drivers put values. */
  function errorWith(shape: number, code: string, n: number, params: string[], text: string) {
    const [a = '', b = '', c = ''] = params;
    const fields = {
      code,
      message: `${text} invalid input syntax for type uuid: "${a}"`,
      detail: `Key (employee_id)=(${b}) already exists. Failing row contains (${params.join(', ')}).`,
      where: `JSON data, line 1: {"x":"${c}...\nunnamed portal parameter $${n} = '${a}'`,
      hint: b,
      constraint_name: 'persons_employee_id_idx',
      constraint: 'persons_employee_id_idx',
      table_name: 'persons',
      column: n === 1 ? 'id' : undefined,
    };
    if (shape === 0) return postgresJs(fields, INSERT_PERSON, params);
    if (shape === 1) return pglite(fields, INSERT_PERSON, params);
    if (shape === 2) return new postgres.PostgresError({ severity: 'ERROR', ...fields } as never);
    return new Error(`Failed query: ${INSERT_PERSON}\nparams: ${params.join(',')}`, {
      cause: Object.assign(new Error(fields.message), { ...fields, severity: 'ERROR' }),
    });
  }

  test('the message depends on the SQLSTATE, names and operation only', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(...CODES),
        fc.integer({ min: 1, max: 5 }),
        fc.array(value, { minLength: 5, maxLength: 5 }),
        value,
        (shape, code, n, params, text) => {
          const told = databaseFailure(
            'identity store: upsertPerson',
            errorWith(shape, code, n, params, text),
          );
          const baseline = databaseFailure(
            'identity store: upsertPerson',
            errorWith(shape, code, n, neutral, 'm'),
          );
          expect(told?.message).toBe(baseline?.message);
          expect(told?.details).toEqual(baseline?.details);
          for (const p of [...params, text])
            if (!baseline?.message.includes(p)) expect(told?.message).not.toContain(p);
        },
      ),
      { numRuns: 500 },
    );
  });
});
