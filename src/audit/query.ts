/**
 * Reading the audit log: the filters `GET /v1/audit` and `idflow audit list|export` share
 * (one zod schema, so the API and the CLI refuse the same input), keyset pages on seq with an
 * opaque cursor, and every matching row as a stream for CSV.
 */
import { and, asc, desc, eq, gt, gte, lt, type SQL } from 'drizzle-orm';
import * as z from 'zod';
import type { Database } from '../db/client';
import { auditLog } from '../db/schema';
import { chainedFields } from './chain';
import type { AuditRow } from './verify';

export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;
// PostgreSQL has no year 0: an instant outside these years is moved to the nearest one (a
// window from year 0 is a window from the first year), never sent as it is.
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const INSTANT_MESSAGE =
  'must be an ISO 8601 date or date-time, like 2026-11-01 or 2026-11-01T09:00:00Z';

const once = (what: string) => ({ error: `must be given once, as ${what}` });

const Text = z
  .string(once('text'))
  .min(1, 'must not be empty')
  .max(512, 'must be at most 512 characters');

const Instant = z
  // the date as a pattern (zod's own, leap years and all), so /openapi.json carries it
  .union([z.string().regex(z.regexes.date), z.iso.datetime({ offset: true })], {
    error: INSTANT_MESSAGE,
  })
  .transform((s) => new Date(Math.min(Math.max(Date.parse(s), EARLIEST), LATEST)));

/** An opaque cursor: the order it was made for and the last seq of the page. */
const CURSOR = /^v1:(asc|desc):(\d{1,15})$/;

export function encodeCursor(order: 'asc' | 'desc', seq: number): string {
  return Buffer.from(`v1:${order}:${seq}`).toString('base64url');
}

function decodeCursor(text: string): { order: 'asc' | 'desc'; seq: number } | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) return undefined;
  const m = CURSOR.exec(Buffer.from(text, 'base64url').toString('latin1'));
  return m ? { order: m[1] as 'asc' | 'desc', seq: Number(m[2]) } : undefined;
}

/**
 * The query string of `GET /v1/audit`; every field optional, unknown fields refused. Each
 * field's own form is here (and so in /openapi.json); {@link queryProblems} checks the rest.
 */
export const AuditQuerySchema = z.strictObject({
  actor: Text.optional().meta({
    description: 'who acted, exactly',
    example: 'token:hr-integration',
  }),
  action: Text.optional().meta({ description: 'the action, exactly', example: 'event.received' }),
  target: Text.optional().meta({
    description: 'what it acted on, exactly',
    example: 'person:p-1001',
  }),
  run: Text.optional().meta({ description: 'the run (workflow) id' }),
  outcome: z
    .string(once('text'))
    .regex(/^[a-z][a-z0-9._-]{0,63}$/, 'must be an outcome like ok, failed or refused')
    .optional()
    .meta({ description: 'ok, failed, refused, unchanged, flagged, …' }),
  from: Instant.optional().meta({
    description: 'written at or after (ISO 8601 date or date-time)',
  }),
  to: Instant.optional().meta({ description: 'written before (ISO 8601 date or date-time)' }),
  order: z
    .enum(['desc', 'asc'], once('desc or asc'))
    .default('desc')
    .meta({ description: 'desc: newest first (default); asc: oldest first' }),
  limit: z
    .string(once('a whole number'))
    .regex(/^(?:[1-9][0-9]{0,2}|1000)$/, `must be a whole number from 1 to ${AUDIT_PAGE_MAX}`)
    .transform(Number)
    .optional()
    .meta({
      description: `rows per page, 1 to ${AUDIT_PAGE_MAX} (default ${AUDIT_PAGE_DEFAULT})`,
    }),
  cursor: z
    .string(once('text'))
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a cursor from an earlier page')
    .optional()
    .meta({ description: 'nextCursor of the previous page (made for the same order)' }),
  format: z
    .enum(['json', 'csv'], once('json or csv'))
    .optional()
    .meta({ description: 'csv: every matching row as CSV (as `Accept: text/csv`)' }),
});

export type AuditQuery = z.output<typeof AuditQuerySchema>;

/**
 * What the query's fields mean together, beyond each one's own form: a window that ends before
 * it starts, a cursor that is not one idflow gave or was made for the other order. Field
 * problems (path and message); none when the query can be answered.
 */
export function queryProblems(q: AuditQuery): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  if (q.from && q.to && q.to < q.from)
    problems.push({ path: '/to', message: 'must not be before from' });
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    if (!c) problems.push({ path: '/cursor', message: 'is not a cursor from an earlier page' });
    else if (c.order !== q.order)
      problems.push({
        path: '/cursor',
        message: `was made for order=${c.order}, not order=${q.order}`,
      });
  }
  return problems;
}

export interface AuditPage {
  entries: AuditRow[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

function conditions(q: AuditQuery, afterSeq: number | undefined): SQL | undefined {
  const c: SQL[] = [];
  if (q.actor !== undefined) c.push(eq(auditLog.actor, q.actor));
  if (q.action !== undefined) c.push(eq(auditLog.action, q.action));
  if (q.target !== undefined) c.push(eq(auditLog.target, q.target));
  if (q.run !== undefined) c.push(eq(auditLog.runId, q.run));
  if (q.outcome !== undefined) c.push(eq(auditLog.outcome, q.outcome));
  if (q.from) c.push(gte(auditLog.at, q.from));
  if (q.to) c.push(lt(auditLog.at, q.to));
  if (afterSeq !== undefined)
    c.push(q.order === 'asc' ? gt(auditLog.seq, afterSeq) : lt(auditLog.seq, afterSeq));
  return c.length ? and(...c) : undefined;
}

async function page(db: Database, q: AuditQuery, afterSeq: number | undefined, limit: number) {
  return db
    .select()
    .from(auditLog)
    .where(conditions(q, afterSeq))
    .orderBy(q.order === 'asc' ? asc(auditLog.seq) : desc(auditLog.seq))
    .limit(limit);
}

/** One page: newest first unless `order=asc`; `from` inclusive, `to` exclusive. */
export async function auditPage(db: Database, q: AuditQuery): Promise<AuditPage> {
  const limit = q.limit ?? AUDIT_PAGE_DEFAULT;
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor)?.seq;
  const rows = await page(db, q, after, limit + 1);
  const entries = rows.slice(0, limit);
  const last = entries[entries.length - 1];
  return rows.length > limit && last
    ? { entries, nextCursor: encodeCursor(q.order, last.seq) }
    : { entries };
}

/** Every matching row (up to `limit` when given), read a page at a time. */
export async function* auditRows(
  db: Database,
  q: AuditQuery,
  pageSize = AUDIT_PAGE_MAX,
): AsyncGenerator<AuditRow[]> {
  let after = q.cursor === undefined ? undefined : decodeCursor(q.cursor)?.seq;
  let left = q.limit ?? Number.POSITIVE_INFINITY;
  while (left > 0) {
    const rows = await page(db, q, after, Math.min(pageSize, left));
    if (rows.length) yield rows;
    const last = rows[rows.length - 1];
    if (!last || rows.length < Math.min(pageSize, left)) return;
    left -= rows.length;
    after = last.seq;
  }
}

/** A row as the API answers it: the fields its hash covers, then its hashes. */
export function auditJson(row: AuditRow) {
  return { ...chainedFields(row), prevHash: row.prevHash, hash: row.hash };
}
