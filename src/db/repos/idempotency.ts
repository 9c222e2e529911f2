/**
 * Side effects keyed by `<workflowId>:<stepId>`: the result of the first successful call is
 * kept, in the same transaction as the effect, and a retry of the same call returns it
 * instead of acting twice.
 */
import { eq } from 'drizzle-orm';
import type { Database } from '../client';
import { idempotencyKeys } from '../schema';

export async function findResult<T>(db: Database, key: string): Promise<T | undefined> {
  const rows = await db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key)).limit(1);
  return rows[0]?.result as T | undefined;
}

export async function storeResult(
  db: Database,
  key: string,
  operation: string,
  result: unknown,
): Promise<void> {
  await db.insert(idempotencyKeys).values({ key, operation, result });
}
