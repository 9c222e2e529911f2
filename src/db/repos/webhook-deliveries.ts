/**
 * Signed webhook deliveries seen, by (source, webhook-id): a delivery is recorded once its event
 * was accepted, so a delivery sent again with the same id is recognised as a replay, and a
 * delivery refused or lost to an outage leaves nothing behind for its retry to trip over.
 */
import { and, eq, lt } from 'drizzle-orm';
import type { Database } from '../client';
import { webhookDeliveries } from '../schema';

export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;

/** The delivery `webhookId` of `source`, if it was accepted before. */
export async function findDelivery(
  db: Database,
  source: string,
  webhookId: string,
): Promise<WebhookDeliveryRow | undefined> {
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.source, source), eq(webhookDeliveries.webhookId, webhookId)))
    .limit(1);
  return rows[0];
}

/** Records an accepted delivery; one recorded already (a concurrent twin) is kept as it is. */
export async function recordDelivery(
  db: Database,
  delivery: { source: string; webhookId: string; eventId: string },
): Promise<void> {
  await db.insert(webhookDeliveries).values(delivery).onConflictDoNothing();
}

/** Deletes deliveries received before `before`; answers how many it deleted. */
export async function pruneDeliveries(db: Database, before: Date): Promise<number> {
  const deleted = await db
    .delete(webhookDeliveries)
    .where(lt(webhookDeliveries.receivedAt, before))
    .returning({ webhookId: webhookDeliveries.webhookId });
  return deleted.length;
}
