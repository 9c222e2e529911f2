/**
 * The SQL of idflow's SCIM users (`scim_users`): always per source, so a token of one source
 * never reads or writes another's users. Writes run in the caller's transaction: a user's row
 * is locked (`FOR UPDATE`) for the whole write, and a new userName or person id is claimed
 * under a transaction-scoped advisory lock, so two concurrent creates cannot both pass the
 * uniqueness check.
 */
import { and, arrayContains, asc, count, eq, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { scimUsers } from '../db/schema';
import { foldUserName } from './resource';
import type { UserQuery } from './user-query';

export type ScimUserRow = typeof scimUsers.$inferSelect;
export type NewScimUser = typeof scimUsers.$inferInsert;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a SCIM id idflow issued (any other id names no user). */
export function isScimId(id: string): boolean {
  return UUID.test(id);
}

/** The user `id` of `source`; with `lock`, its row stays locked until the transaction ends. */
export async function findScimUser(
  db: Database,
  source: string,
  id: string,
  lock = false,
): Promise<ScimUserRow | undefined> {
  if (!isScimId(id)) return undefined;
  const query = db
    .select()
    .from(scimUsers)
    .where(and(eq(scimUsers.source, source), eq(scimUsers.id, id)));
  const rows = lock ? await query.for('update') : await query;
  return rows[0];
}

function conditionOf(query: UserQuery): SQL {
  switch (query.kind) {
    case 'userName':
      return eq(scimUsers.userNameKey, foldUserName(query.value));
    case 'externalId':
      return eq(scimUsers.externalId, query.value);
    case 'id':
      return isScimId(query.value) ? eq(scimUsers.id, query.value) : sql`false`;
    case 'active':
      return eq(scimUsers.active, query.value);
    case 'email': {
      const any = arrayContains(scimUsers.emails, [query.value.toLowerCase()]);
      if (query.type === undefined) return any;
      const emails = sql`case when jsonb_typeof(${scimUsers.resource}->'emails') = 'array' then ${scimUsers.resource}->'emails' else '[]'::jsonb end`;
      return and(
        any,
        sql`exists (select 1 from jsonb_array_elements(${emails}) as e where lower(e->>'value') = lower(${query.value}) and lower(e->>'type') = lower(${query.type}))`,
      ) as SQL;
    }
    case 'and':
      return and(...query.parts.map(conditionOf)) as SQL;
    case 'or':
      return or(...query.parts.map(conditionOf)) as SQL;
  }
}

/** One page of `source`'s users matching `query` (all without one), oldest first, and the total. */
export async function listScimUsers(
  db: Database,
  source: string,
  query: UserQuery | undefined,
  offset: number,
  limit: number,
): Promise<{ total: number; rows: ScimUserRow[] }> {
  const where = and(eq(scimUsers.source, source), query ? conditionOf(query) : undefined);
  const [totals, rows] = await Promise.all([
    db.select({ n: count() }).from(scimUsers).where(where),
    limit === 0
      ? Promise.resolve([])
      : db
          .select()
          .from(scimUsers)
          .where(where)
          .orderBy(asc(scimUsers.createdAt), asc(scimUsers.id))
          .offset(offset)
          .limit(limit),
  ]);
  return { total: Number(totals[0]?.n ?? 0), rows };
}

/**
 * Holds `keys` of `source` (a userName, a person id) until the transaction ends: writers that
 * claim the same key wait for each other. Taken in sorted order, so two writers never deadlock.
 */
export async function lockScimKeys(db: Database, source: string, keys: string[]): Promise<void> {
  for (const key of [...new Set(keys)].sort())
    await db.execute(
      sql`select pg_advisory_xact_lock(hashtextextended(${`scim:${source}:${key}`}, 0))`,
    );
}

/** What another user of `source` already holds: the userName, the person, or neither. */
export async function scimClash(
  db: Database,
  source: string,
  userNameKey: string,
  personId: string,
  except?: string,
): Promise<{ userName: boolean; person: boolean }> {
  const rows = await db
    .select({ userNameKey: scimUsers.userNameKey, personId: scimUsers.personId })
    .from(scimUsers)
    .where(
      and(
        eq(scimUsers.source, source),
        or(eq(scimUsers.userNameKey, userNameKey), eq(scimUsers.personId, personId)),
        except ? ne(scimUsers.id, except) : undefined,
      ),
    );
  return {
    userName: rows.some((r) => r.userNameKey === userNameKey),
    person: rows.some((r) => r.personId === personId),
  };
}

export async function insertScimUser(db: Database, values: NewScimUser): Promise<ScimUserRow> {
  const rows = await db.insert(scimUsers).values(values).returning();
  return rows[0] as ScimUserRow;
}

export async function updateScimUser(
  db: Database,
  id: string,
  values: Partial<NewScimUser>,
): Promise<ScimUserRow> {
  const rows = await db.update(scimUsers).set(values).where(eq(scimUsers.id, id)).returning();
  return rows[0] as ScimUserRow;
}

export async function deleteScimUser(db: Database, id: string): Promise<void> {
  await db.delete(scimUsers).where(eq(scimUsers.id, id));
}

/** The person id of `source`'s user `id` (a manager named by its SCIM id), if there is one. */
export async function personIdOfScimUser(
  db: Database,
  source: string,
  id: string,
): Promise<string | undefined> {
  return (await findScimUser(db, source, id))?.personId;
}
