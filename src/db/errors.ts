/**
 * Database failures as idflow sees them. Telling "the database is not there" apart from "this
 * value cannot be stored" and from "the query is wrong": the first becomes a 503 at the gateway
 * and a retry in activities, the second a permanent failure of the step that names the column
 * or constraint, the third a bug report.
 *
 * The drivers' own errors are never passed on: drizzle's DrizzleQueryError message is the whole
 * statement with every parameter, postgres.js and PGlite errors carry `detail` and `where` that
 * quote values (`Key (employee_id)=(E1)`, `JSON data, line 1: {"name":…`), and PostgreSQL's own
 * message quotes the input of a value it cannot parse. What idflow says about a database error
 * is built only from the SQLSTATE, the constraint, table and column names, and the column a
 * refused parameter was meant for, read from the statement text (which holds no values).
 */

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** True when `err` (or its cause) says the database cannot be reached right now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseError) return err.kind === 'unavailable';
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (e === e.cause) break;
  }
  return false;
}

/**
 * - `unavailable`: cannot reach the database, or it is shutting down (retry)
 * - `busy`: a serialization failure, deadlock, lock or statement timeout (retry)
 * - `invalid-value`: a value PostgreSQL cannot store (SQLSTATE class 22; permanent)
 * - `constraint`: an integrity constraint refused the change (class 23; permanent)
 * - `other`: anything else the database said (a bug or a missing migration)
 */
export type DatabaseErrorKind = 'unavailable' | 'busy' | 'invalid-value' | 'constraint' | 'other';

/** What can safely be said about a database error: no value, no statement, no driver text. */
export interface DatabaseErrorInfo {
  kind: DatabaseErrorKind;
  /** SQLSTATE, or the driver's connection error code. */
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
  /** Why, in words: "unique constraint persons_employee_id_idx violated". */
  reason: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** A schema name from an error field, or undefined if it is not a plain identifier. */
function identifier(value: unknown): string | undefined {
  return typeof value === 'string' && IDENTIFIER.test(value) ? value : undefined;
}

const INVALID_VALUE: Record<string, string> = {
  '22001': 'value too long',
  '22003': 'numeric value out of range',
  '22004': 'null value not allowed',
  '22007': 'invalid date or time format',
  '22008': 'date or time out of range',
  '22012': 'division by zero',
  '22021': 'invalid text encoding',
  '22023': 'invalid parameter value',
  '22025': 'invalid escape sequence',
  '22026': 'string data length mismatch',
  '22P02': 'invalid text representation',
  '22P05': 'untranslatable character',
  '2202E': 'array subscript out of range',
  '22030': 'duplicate JSON object key',
  '22032': 'invalid JSON text',
};

const CONSTRAINT: Record<string, string> = {
  '23000': 'integrity constraint',
  '23001': 'restrict constraint',
  '23502': 'not-null constraint',
  '23503': 'foreign key constraint',
  '23505': 'unique constraint',
  '23514': 'check constraint',
  '23P01': 'exclusion constraint',
};

const BUSY: Record<string, string> = {
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '55P03': 'lock not available',
  '57014': 'statement cancelled (timeout)',
};

interface Found {
  /** The error that carries the SQLSTATE or connection code. */
  coded?: Record<string, unknown>;
  /** The statement text (no values), when a wrapper or the driver kept it. */
  query?: string;
  /** A drizzle wrapper around a driver error. */
  drizzle: boolean;
}

/** Walks `err` and its causes for the driver error and the statement. */
function unwrap(err: unknown): Found {
  const found: Found = { drizzle: false };
  const seen = new Set<unknown>();
  for (let e: unknown = err; e && typeof e === 'object' && !seen.has(e);) {
    seen.add(e);
    const o = e as Record<string, unknown>;
    if (
      typeof o.query === 'string' &&
      'params' in o &&
      typeof o.message === 'string' &&
      o.message.startsWith('Failed query:')
    )
      found.drizzle = true;
    if (typeof o.query === 'string' && found.query === undefined) found.query = o.query;
    const code = o.code;
    if (
      found.coded === undefined &&
      typeof code === 'string' &&
      (UNAVAILABLE_CODES.has(code) || (SQLSTATE.test(code) && isDriverError(o)))
    )
      found.coded = o;
    e = o.cause;
  }
  return found;
}

/** postgres.js PostgresError, PGlite DatabaseError, node-postgres DatabaseError. */
function isDriverError(o: Record<string, unknown>): boolean {
  return o.name === 'PostgresError' || typeof o.severity === 'string' || 'routine' in o;
}

/**
 * The column a refused bind parameter was meant for. PostgreSQL names the parameter in
 * `where` ("unnamed portal parameter $3", the value itself is elided or left out here); the
 * statement says which column `$3` goes to.
 */
export function columnOfParameter(query: string | undefined, where: unknown): string | undefined {
  if (!query || typeof where !== 'string') return undefined;
  const match = /portal(?: "[^"]*")? parameter \$(\d+)/.exec(where);
  if (!match) return undefined;
  const n = Number(match[1]);
  // insert into "t" ("a", "b") values ($1, $2), ($3, $4)
  const insert = /^\s*insert into\s+(?:"[^"]+"\.)?"[^"]+"\s*\(([^)]*)\)\s*values\s*/i.exec(query);
  if (insert) {
    const columns = (insert[1] ?? '').split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
    for (const tuple of tuples(query.slice(insert[0].length))) {
      const index = tuple.findIndex((v) => v.trim() === `$${n}`);
      if (index >= 0) return identifier(columns[index]);
    }
  }
  // "col" = $3 in a set list or a condition
  const compared = new RegExp(
    `"([A-Za-z_][A-Za-z0-9_$]*)"\\s*(?:=|<>|!=|<=|>=|<|>|like|ilike)\\s*\\$${n}(?!\\d)`,
    'i',
  ).exec(query);
  return identifier(compared?.[1]);
}

/** The value lists of an insert's `values (…), (…)`, each split at its top-level commas. */
function tuples(text: string): string[][] {
  const out: string[][] = [];
  let depth = 0;
  let current: string[] = [];
  let item = '';
  let quoted = false;
  for (const ch of text) {
    if (quoted) {
      item += ch;
      if (ch === "'") quoted = false;
      continue;
    }
    if (ch === "'") {
      quoted = true;
      item += ch;
    } else if (ch === '(') {
      if (depth > 0) item += ch;
      depth += 1;
    } else if (ch === ')') {
      depth -= 1;
      if (depth > 0) item += ch;
      else {
        current.push(item);
        out.push(current);
        current = [];
        item = '';
      }
    } else if (ch === ',' && depth === 1) {
      current.push(item);
      item = '';
    } else if (depth > 0) item += ch;
    else if (/[a-z]/i.test(ch)) break; // on conflict …, returning …
  }
  return out;
}

/**
 * What can be said about `err` if it is a database error (of postgres.js, PGlite or drizzle
 * around either), or undefined if it is not one. Never quotes the statement, a parameter, or
 * the driver's message.
 */
export function describeDatabaseError(
  err: unknown,
  options: { fromDatabase?: boolean } = {},
): DatabaseErrorInfo | undefined {
  if (err instanceof DatabaseError) return err.info;
  const { coded, query, drizzle } = unwrap(err);
  // a bare network error is the database's only where the caller knows it came from there
  const network =
    coded !== undefined && !SQLSTATE.test(coded.code as string) && !isDriverError(coded);
  if (network && !drizzle && !options.fromDatabase && !String(coded.code).startsWith('CONNECT'))
    return undefined;
  if (!coded) {
    if (!drizzle) return undefined;
    // drizzle failed around something that is not a driver error (a value it could not map)
    return { kind: 'other', reason: 'the query failed before it reached the database' };
  }
  const code = coded.code as string;
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))
    return { kind: 'unavailable', code, reason: `the database cannot be reached (${code})` };
  const constraint = identifier(coded.constraint_name ?? coded.constraint);
  const table = identifier(coded.table_name ?? coded.table);
  const column =
    identifier(coded.column_name ?? coded.column) ??
    columnOfParameter(
      query ?? (typeof coded.query === 'string' ? coded.query : undefined),
      coded.where,
    );
  const where = {
    ...(constraint ? { constraint } : {}),
    ...(table ? { table } : {}),
    ...(column ? { column } : {}),
  };
  if (code.startsWith('22')) {
    const what = INVALID_VALUE[code] ?? `invalid value, SQLSTATE ${code}`;
    return {
      kind: 'invalid-value',
      code,
      ...where,
      reason: column
        ? `value of column '${column}' cannot be stored (${what})`
        : `a value cannot be stored (${what})`,
    };
  }
  if (code.startsWith('23')) {
    const what = CONSTRAINT[code] ?? `integrity constraint (SQLSTATE ${code})`;
    let reason: string;
    if (code === '23502' && column)
      reason = `column '${column}'${table ? ` of ${table}` : ''} needs a value (${what})`;
    else if (constraint) reason = `${what} ${constraint} violated`;
    else reason = `${what} violated${column ? ` on column '${column}'` : ''}`;
    return { kind: 'constraint', code, ...where, reason };
  }
  if (BUSY[code] !== undefined)
    return { kind: 'busy', code, reason: `the database is busy: ${BUSY[code]} (${code})` };
  if (code.startsWith('53') || code.startsWith('57P'))
    return { kind: 'unavailable', code, reason: `the database cannot serve now (${code})` };
  return { kind: 'other', code, reason: `database error (SQLSTATE ${code})` };
}

/**
 * A database error with only what may be said about it: the operation, the kind, the code and
 * the names of the constraint, table and column. It keeps no reference to the driver's error,
 * so nothing that logs or serializes it (pino's error serializer follows `cause`) can reach
 * the statement or its values.
 */
export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';

  constructor(
    readonly operation: string,
    readonly info: DatabaseErrorInfo,
  ) {
    super(`${operation} failed: ${info.reason}`);
  }

  get kind(): DatabaseErrorKind {
    return this.info.kind;
  }
}

/** `err` as a DatabaseError of `operation`, or undefined when it is no database error. */
export function toDatabaseError(
  operation: string,
  err: unknown,
  options: { fromDatabase?: boolean } = {},
): DatabaseError | undefined {
  if (err instanceof DatabaseError) return err;
  const info = describeDatabaseError(err, options);
  return info ? new DatabaseError(operation, info) : undefined;
}

/**
 * Runs `fn`; a database error it throws is rethrown as a DatabaseError naming `operation`.
 * For repositories and services whose errors travel further than the process (HTTP answers,
 * CLI output, logs).
 */
export async function withDatabaseErrors<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toDatabaseError(operation, err, { fromDatabase: true }) ?? err;
  }
}
