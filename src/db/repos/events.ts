/** Identity events as received, with the dispatch decision once it is made. */
import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { IdentityEvent } from '../../model/event';
import type { RunRef } from '../../temporal/contracts';
import type { Database } from '../client';
import { events } from '../schema';

export type EventRow = typeof events.$inferSelect;

export async function findEvent(
  db: Database,
  source: string,
  id: string,
): Promise<EventRow | undefined> {
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.source, source), eq(events.id, id)))
    .limit(1);
  return rows[0];
}

/** Inserts the event unless it is already there; true when this call inserted it. */
export async function insertEvent(
  db: Database,
  event: IdentityEvent,
  dispatchWorkflowId: string,
): Promise<boolean> {
  const inserted = await db
    .insert(events)
    .values({
      source: event.source,
      id: event.id,
      type: event.type,
      subjectId: event.subject.id,
      occurredAt: new Date(event.occurredAt),
      effectiveAt: event.effectiveAt ? new Date(event.effectiveAt) : null,
      body: event,
      dispatchWorkflowId,
    })
    .onConflictDoNothing()
    .returning({ id: events.id });
  return inserted.length > 0;
}

export async function recordDecision(
  db: Database,
  source: string,
  id: string,
  decision: unknown,
  runs: unknown,
): Promise<void> {
  await db
    .update(events)
    .set({ decision, runs, decidedAt: new Date() })
    .where(and(eq(events.source, source), eq(events.id, id)));
}

/** A run started for a person, with the event that started it. */
export interface SubjectRun extends RunRef {
  event: { source: string; id: string; type: string };
  occurredAt: Date;
  receivedAt: Date;
}

/**
 * The runs started for events about `subjectId`, newest event first, at most `limit`: what the
 * dispatch decisions recorded, read from this table (no call to Temporal).
 */
export async function runsOfSubject(
  db: Database,
  subjectId: string,
  limit: number,
): Promise<SubjectRun[]> {
  const rows = await db
    .select({
      source: events.source,
      id: events.id,
      type: events.type,
      occurredAt: events.occurredAt,
      receivedAt: events.receivedAt,
      runs: events.runs,
    })
    .from(events)
    .where(
      and(
        eq(events.subjectId, subjectId),
        isNotNull(events.runs),
        sql`${events.runs} <> '[]'::jsonb`,
      ),
    )
    .orderBy(desc(events.receivedAt), desc(events.occurredAt))
    .limit(limit);
  const runs: SubjectRun[] = [];
  for (const row of rows) {
    const refs = Array.isArray(row.runs) ? (row.runs as RunRef[]) : [];
    for (const ref of refs) {
      if (runs.length >= limit) return runs;
      runs.push({
        flow: ref.flow,
        workflowId: ref.workflowId,
        hash: ref.hash,
        event: { source: row.source, id: row.id, type: row.type },
        occurredAt: row.occurredAt,
        receivedAt: row.receivedAt,
      });
    }
  }
  return runs;
}

/** An event about a person as `persons history` shows it: what came, when, and what it started. */
export interface SubjectEvent {
  source: string;
  id: string;
  type: string;
  occurredAt: Date;
  effectiveAt: Date | null;
  receivedAt: Date;
  decidedAt: Date | null;
  /** Each policy rule considered, matched or not, and why (absent until decided). */
  decision: unknown;
  /** The runs it started (absent until decided). */
  runs: RunRef[] | null;
}

/** The latest `limit` events about `subjectId`, oldest first. */
export async function eventsOfSubject(
  db: Database,
  subjectId: string,
  limit: number,
): Promise<SubjectEvent[]> {
  const rows = await db
    .select({
      source: events.source,
      id: events.id,
      type: events.type,
      occurredAt: events.occurredAt,
      effectiveAt: events.effectiveAt,
      receivedAt: events.receivedAt,
      decidedAt: events.decidedAt,
      decision: events.decision,
      runs: events.runs,
    })
    .from(events)
    .where(eq(events.subjectId, subjectId))
    .orderBy(desc(events.receivedAt), desc(events.occurredAt))
    .limit(limit);
  return rows
    .map((r) => ({ ...r, runs: Array.isArray(r.runs) ? (r.runs as RunRef[]) : null }))
    .reverse();
}
