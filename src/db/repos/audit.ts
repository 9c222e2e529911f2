/**
 * The append-only audit trail and its hash chain (see src/audit/chain.ts for what a row's hash
 * covers). Every row is chained in the transaction that writes it, under one advisory lock, so
 * writers in many processes (worker activities, the gateway, the CLI) cannot fork the chain.
 */
import { and, asc, desc, eq, sql, type SQL } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { asStoredJson, chainHash, GENESIS_HASH } from '../../audit/chain';
import type { Database } from '../client';
import { auditLog } from '../schema';

/**
 * The transaction-scoped advisory lock that orders the chain. Held from a row's append until
 * its transaction ends, so an append is best the last write of a transaction.
 */
export const AUDIT_CHAIN_LOCK = 724_310_010;

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  /** `ok`, `failed`, `refused`, `unchanged` or `flagged`. */
  outcome: string;
  detail?: Record<string, unknown>;
  runId?: string;
  /**
   * What makes this row one fact, stable across retries and replays of whatever writes it
   * (`event.dispatched:<source>/<id>`, `<workflowId>:<stepId>/person.created`). A row whose key
   * is already there is not written again. Operators' one-off actions leave it out.
   */
  dedupeKey?: string;
}

/** The rows of a raw query, from postgres.js (an array) or PGlite (`{ rows }`). */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

interface ChainState {
  isolation: string;
  head: string;
  now_ms: string;
  existing: string;
  seqs: string;
}

/**
 * Appends rows, chained; a row with a dedupe key that is already in the log (or earlier in the
 * same call) is dropped, not doubled, and does not advance the chain. `db` may be a
 * transaction (read committed, PostgreSQL's default): the rows then commit or roll back with it.
 */
export async function appendAudit(db: Database, entry: AuditEntry | AuditEntry[]): Promise<void> {
  const entries = Array.isArray(entry) ? entry : [entry];
  if (!entries.length) return;
  if ((db as unknown) instanceof PgTransaction) return appendChained(db, entries);
  return db.transaction((tx) => appendChained(tx as unknown as Database, entries));
}

async function appendChained(tx: Database, entries: AuditEntry[]): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
  // A statement of its own after the lock: its snapshot sees every row committed before it.
  const keys = entries.flatMap((e) => (e.dedupeKey === undefined ? [] : [e.dedupeKey]));
  const [state] = rowsOf<ChainState>(
    await tx.execute(sql`
      select
        current_setting('transaction_isolation') as isolation,
        coalesce(
          (select hash from audit_log where hash is not null order by seq desc limit 1),
          (select head_hash from audit_checkpoints where pruned_through_seq is not null
             order by pruned_through_seq desc, id desc limit 1),
          ${GENESIS_HASH}) as head,
        floor(extract(epoch from clock_timestamp()) * 1000)::bigint::text as now_ms,
        (select coalesce(json_agg(dedupe_key), '[]'::json)::text from audit_log
           where dedupe_key = any(${sql.param(keys)}::text[])) as existing,
        (select string_agg(nextval('audit_log_seq_seq')::text, ',') from generate_series(1, ${entries.length})) as seqs`),
  );
  if (!state) throw new Error('audit log: the chain head could not be read');
  // a snapshot older than the lock could miss the head another writer just committed
  if (state.isolation !== 'read committed')
    throw new Error(
      `audit log: rows are chained in read committed transactions, not ${state.isolation}`,
    );
  const seen = new Set(JSON.parse(state.existing) as string[]);
  const seqs = state.seqs
    .split(',')
    .map(Number)
    .sort((a, b) => a - b);
  const at = new Date(Number(state.now_ms));
  let prevHash = state.head;
  const rows: Array<typeof auditLog.$inferInsert> = [];
  for (const e of entries) {
    if (e.dedupeKey !== undefined) {
      if (seen.has(e.dedupeKey)) continue;
      seen.add(e.dedupeKey);
    }
    const content = {
      seq: seqs[rows.length] as number,
      at,
      actor: e.actor,
      action: e.action,
      target: e.target,
      outcome: e.outcome,
      detail: asStoredJson(e.detail),
      runId: e.runId ?? null,
      dedupeKey: e.dedupeKey ?? null,
    };
    const hash = chainHash(prevHash, content);
    rows.push({ ...content, detail: content.detail, prevHash, hash });
    prevHash = hash;
  }
  if (!rows.length) return;
  const written = await tx
    .insert(auditLog)
    .values(rows)
    .onConflictDoNothing({ target: auditLog.dedupeKey })
    .returning({ seq: auditLog.seq });
  // Only a writer that bypassed the chain lock can make a checked key conflict now.
  if (written.length !== rows.length)
    throw new Error('audit log: a dedupe key was written outside the chain lock');
}

export async function listAudit(
  db: Database,
  filter: { target?: string; runId?: string; action?: string; dedupeKey?: string } = {},
  /** Only the latest this many rows (still returned oldest first). */
  latest?: number,
): Promise<Array<typeof auditLog.$inferSelect>> {
  const conditions: SQL[] = [];
  if (filter.target) conditions.push(eq(auditLog.target, filter.target));
  if (filter.runId) conditions.push(eq(auditLog.runId, filter.runId));
  if (filter.action) conditions.push(eq(auditLog.action, filter.action));
  if (filter.dedupeKey) conditions.push(eq(auditLog.dedupeKey, filter.dedupeKey));
  const where = conditions.length ? and(...conditions) : undefined;
  if (latest === undefined)
    return db.select().from(auditLog).where(where).orderBy(asc(auditLog.seq));
  const rows = await db
    .select()
    .from(auditLog)
    .where(where)
    .orderBy(desc(auditLog.seq))
    .limit(latest);
  return rows.reverse();
}
