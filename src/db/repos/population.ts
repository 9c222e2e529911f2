/**
 * Pages of the identity store for `forEach` steps: persons, or accounts with their owners, in
 * primary-key order after a cursor (keyset pagination, so rows that change while a step goes
 * over them are neither skipped nor read twice).
 */
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { Database } from '../client';
import { accounts, persons } from '../schema';
import { toPerson, type PersonRow } from './persons';

type AccountRow = typeof accounts.$inferSelect;

/** One row of a page: its key (the cursor) and the item as a forEach step's expressions see it. */
export interface PopulationRow {
  key: string;
  item: Record<string, unknown>;
}

/** Up to `limit` persons after `after`, in id order. */
export async function personPage(
  db: Database,
  after: string | undefined,
  limit: number,
): Promise<PopulationRow[]> {
  const rows = await db
    .select()
    .from(persons)
    .where(after === undefined ? undefined : gt(persons.id, after))
    .orderBy(asc(persons.id))
    .limit(limit);
  return rows.map((row) => ({ key: row.id, item: toPerson(row) }));
}

function accountItem(row: AccountRow, owner: PersonRow | null): Record<string, unknown> {
  const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);
  const item: Record<string, unknown> = {
    id: row.id,
    personId: row.personId,
    connector: row.connector,
    name: row.accountName,
    status: row.status,
    lastReadAt: iso(row.lastReadAt),
  };
  if (row.targetId !== null) item.targetId = row.targetId;
  if (row.lastLoginAt) item.lastLoginAt = iso(row.lastLoginAt);
  if (row.passwordChangedAt) item.passwordChangedAt = iso(row.passwordChangedAt);
  if (owner) {
    const person: Record<string, unknown> = toPerson(owner);
    delete person.createdAt;
    delete person.updatedAt;
    item.person = person;
  }
  return item;
}

/** Up to `limit` accounts after `after` (of one connector, when given), in id order, with owners. */
export async function accountPage(
  db: Database,
  connector: string | undefined,
  after: string | undefined,
  limit: number,
): Promise<PopulationRow[]> {
  const where: SQL[] = [];
  if (connector !== undefined) where.push(eq(accounts.connector, connector));
  if (after !== undefined) where.push(gt(accounts.id, after));
  const rows = await db
    .select({ account: accounts, person: persons })
    .from(accounts)
    .leftJoin(persons, eq(persons.id, accounts.personId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(asc(accounts.id))
    .limit(limit);
  return rows.map((r) => ({ key: r.account.id, item: accountItem(r.account, r.person) }));
}
