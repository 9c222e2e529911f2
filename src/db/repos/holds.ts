/**
 * Holds on people's accounts: idflow's own record that an account must stay disabled (a
 * dormant account, say) until someone lifts the hold. Reconcile reads the holds in place and
 * never enables or creates a held account. A hold is lifted, never deleted: every hold stays
 * on record with who placed and who lifted it, like an explicit grant.
 */
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { AccountHold } from '../../access/types';
import type { Database } from '../client';
import { accountHolds, accounts } from '../schema';

type HoldRow = typeof accountHolds.$inferSelect;

function toHold(row: HoldRow): AccountHold {
  return {
    id: row.id,
    personId: row.personId,
    connector: row.connector,
    reason: row.reason,
    placedBy: row.placedBy,
    placedAt: row.placedAt.toISOString(),
  };
}

export interface NewHold {
  personId: string;
  connector: string;
  reason: string;
  /** `run:<workflowId>` or `user:<id>`. */
  by: string;
  now?: Date;
}

const inPlace = (personId: string, connector: string, reason: string) =>
  and(
    eq(accountHolds.personId, personId),
    eq(accountHolds.connector, connector),
    eq(accountHolds.reason, reason),
    isNull(accountHolds.liftedAt),
  );

/**
 * Places a hold on the person's account on `connector`, or finds the one in place for the
 * same reason (`placed: false`): one hold per account and reason at a time.
 */
export async function placeHold(
  db: Database,
  hold: NewHold,
): Promise<{ hold: AccountHold; placed: boolean }> {
  const inserted = await db
    .insert(accountHolds)
    .values({
      personId: hold.personId,
      connector: hold.connector,
      reason: hold.reason,
      placedBy: hold.by,
      placedAt: hold.now ?? new Date(),
    })
    .onConflictDoNothing()
    .returning();
  if (inserted[0]) return { hold: toHold(inserted[0]), placed: true };
  const [existing] = await db
    .select()
    .from(accountHolds)
    .where(inPlace(hold.personId, hold.connector, hold.reason));
  if (!existing) throw new Error('placeHold: the hold in place vanished while it was placed');
  return { hold: toHold(existing), placed: false };
}

/**
 * Lifts the holds in place on the person's account on `connector` — every one, or those of
 * `reason` — recording who lifted them. Gives the holds lifted (none: nothing was in place).
 */
export async function liftHolds(
  db: Database,
  lift: { personId: string; connector: string; reason?: string; by: string; now?: Date },
): Promise<AccountHold[]> {
  const rows = await db
    .update(accountHolds)
    .set({ liftedAt: lift.now ?? new Date(), liftedBy: lift.by })
    .where(
      and(
        eq(accountHolds.personId, lift.personId),
        eq(accountHolds.connector, lift.connector),
        isNull(accountHolds.liftedAt),
        lift.reason === undefined ? undefined : eq(accountHolds.reason, lift.reason),
      ),
    )
    .returning();
  return rows.map(toHold).sort(byPlaced);
}

const byPlaced = (a: AccountHold, b: AccountHold) =>
  a.placedAt < b.placedAt ? -1 : a.placedAt > b.placedAt ? 1 : a.id < b.id ? -1 : 1;

/** The person's holds in place, oldest first. */
export async function activeHolds(db: Database, personId: string): Promise<AccountHold[]> {
  const rows = await db
    .select()
    .from(accountHolds)
    .where(and(eq(accountHolds.personId, personId), isNull(accountHolds.liftedAt)))
    .orderBy(asc(accountHolds.placedAt), asc(accountHolds.id));
  return rows.map(toHold);
}

/**
 * Records the person's account on `connector` as disabled where idflow's record says enabled:
 * a held account is kept disabled (reconcile never enables it), so a scan of enabled accounts
 * must not find it again. The next read of the target records what it really holds. True when
 * the record changed.
 */
export async function recordHeldDisabled(
  db: Database,
  personId: string,
  connector: string,
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(accounts)
    .set({ status: 'disabled', updatedAt: now })
    .where(
      and(
        eq(accounts.personId, personId),
        eq(accounts.connector, connector),
        eq(accounts.status, 'enabled'),
      ),
    )
    .returning({ id: accounts.id });
  return rows.length > 0;
}
