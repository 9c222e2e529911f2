/** Delegations of approval authority, with their validity windows. */
import { and, eq, gt, isNull, lte, or } from 'drizzle-orm';
import type { Database } from '../client';
import { delegations } from '../schema';

export type DelegationRow = typeof delegations.$inferSelect;

export async function insertDelegation(
  db: Database,
  values: { fromPerson: string; toPerson: string; startsAt: Date; endsAt: Date; createdBy: string },
): Promise<DelegationRow> {
  const rows = await db.insert(delegations).values(values).returning();
  return rows[0] as DelegationRow;
}

/** Delegations that involve `person` (given or received), not revoked. */
export async function listDelegations(db: Database, person?: string): Promise<DelegationRow[]> {
  const involved = person
    ? or(eq(delegations.fromPerson, person), eq(delegations.toPerson, person))
    : undefined;
  return db
    .select()
    .from(delegations)
    .where(and(isNull(delegations.revokedAt), involved));
}

export async function getDelegation(db: Database, id: string): Promise<DelegationRow | undefined> {
  const rows = await db.select().from(delegations).where(eq(delegations.id, id)).limit(1);
  return rows[0];
}

export async function revokeDelegation(db: Database, id: string): Promise<void> {
  await db.update(delegations).set({ revokedAt: new Date() }).where(eq(delegations.id, id));
}

/** The people `delegate` may decide for at `at`. */
export async function activeDelegators(
  db: Database,
  delegate: string,
  at: Date,
): Promise<string[]> {
  const rows = await db
    .select({ from: delegations.fromPerson })
    .from(delegations)
    .where(
      and(
        eq(delegations.toPerson, delegate),
        isNull(delegations.revokedAt),
        lte(delegations.startsAt, at),
        gt(delegations.endsAt, at),
      ),
    );
  return rows.map((r) => r.from);
}
