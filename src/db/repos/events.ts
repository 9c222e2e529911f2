/** Identity events as received, with the dispatch decision once it is made. */
import { and, eq } from 'drizzle-orm';
import type { IdentityEvent } from '../../model/event';
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
