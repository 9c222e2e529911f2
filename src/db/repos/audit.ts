/** The append-only audit trail. */
import { and, asc, eq, type SQL } from 'drizzle-orm';
import type { Database } from '../client';
import { auditLog } from '../schema';

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

/** Appends rows; a row with a dedupe key that is already in the log is dropped, not doubled. */
export async function appendAudit(db: Database, entry: AuditEntry | AuditEntry[]): Promise<void> {
  const rows = (Array.isArray(entry) ? entry : [entry]).map((e) => ({
    actor: e.actor,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    detail: e.detail ?? {},
    runId: e.runId ?? null,
    dedupeKey: e.dedupeKey ?? null,
  }));
  if (rows.length)
    await db.insert(auditLog).values(rows).onConflictDoNothing({ target: auditLog.dedupeKey });
}

export async function listAudit(
  db: Database,
  filter: { target?: string; runId?: string; action?: string; dedupeKey?: string } = {},
): Promise<Array<typeof auditLog.$inferSelect>> {
  const conditions: SQL[] = [];
  if (filter.target) conditions.push(eq(auditLog.target, filter.target));
  if (filter.runId) conditions.push(eq(auditLog.runId, filter.runId));
  if (filter.action) conditions.push(eq(auditLog.action, filter.action));
  if (filter.dedupeKey) conditions.push(eq(auditLog.dedupeKey, filter.dedupeKey));
  return db
    .select()
    .from(auditLog)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(asc(auditLog.seq));
}
