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
}

export async function appendAudit(db: Database, entry: AuditEntry | AuditEntry[]): Promise<void> {
  const rows = (Array.isArray(entry) ? entry : [entry]).map((e) => ({
    actor: e.actor,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    detail: e.detail ?? {},
    runId: e.runId ?? null,
  }));
  if (rows.length) await db.insert(auditLog).values(rows);
}

export async function listAudit(
  db: Database,
  filter: { target?: string; runId?: string; action?: string } = {},
): Promise<Array<typeof auditLog.$inferSelect>> {
  const conditions: SQL[] = [];
  if (filter.target) conditions.push(eq(auditLog.target, filter.target));
  if (filter.runId) conditions.push(eq(auditLog.runId, filter.runId));
  if (filter.action) conditions.push(eq(auditLog.action, filter.action));
  return db
    .select()
    .from(auditLog)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(asc(auditLog.seq));
}
