/** The identity store's persons. */
import { and, eq, inArray, notInArray, or, sql } from 'drizzle-orm';
import type { Person, PersonStatus } from '../../model/person';
import type { Database } from '../client';
import { persons } from '../schema';

export type PersonRow = typeof persons.$inferSelect;
type PersonInsert = typeof persons.$inferInsert;

/** The row as the API and flows see it: ISO timestamps, no nulls. */
export function toPerson(row: PersonRow): Person {
  const person: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value === null || value === undefined) continue;
    person[key] = value instanceof Date ? value.toISOString() : value;
  }
  return person as Person;
}

export async function getPerson(
  db: Database,
  id: string,
  lock = false,
): Promise<PersonRow | undefined> {
  const query = db.select().from(persons).where(eq(persons.id, id)).limit(1);
  const rows = lock ? await query.for('update') : await query;
  return rows[0];
}

export async function getPersons(db: Database, ids: string[]): Promise<PersonRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(persons).where(inArray(persons.id, ids));
}

/**
 * Inserts the person unless one with that id exists (also one another transaction is inserting
 * right now: this waits for it). Returns the new row, or undefined when there already was one.
 */
export async function insertPersonIfAbsent(
  db: Database,
  values: PersonInsert,
): Promise<PersonRow | undefined> {
  const rows = await db
    .insert(persons)
    .values(values)
    .onConflictDoNothing({ target: persons.id })
    .returning();
  return rows[0];
}

export async function updatePerson(
  db: Database,
  id: string,
  values: Partial<PersonInsert>,
): Promise<PersonRow> {
  const rows = await db
    .update(persons)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(persons.id, id))
    .returning();
  return rows[0] as PersonRow;
}

export type { PersonStatus };

/** Persons who may act as approvers: known, and active or pending (not leaving or gone). */
export async function approverCandidates(
  db: Database,
  filter: { ids: string[]; groups: string[]; roles: string[] },
): Promise<PersonRow[]> {
  const conditions = [];
  if (filter.ids.length) conditions.push(inArray(persons.id, filter.ids));
  for (const group of filter.groups)
    conditions.push(sql`${persons.attributes}->'groups' ? ${group}`);
  for (const role of filter.roles) conditions.push(sql`${persons.attributes}->'roles' ? ${role}`);
  if (conditions.length === 0) return [];
  return db
    .select()
    .from(persons)
    .where(
      and(
        or(...conditions),
        notInArray(persons.status, ['disabled', 'suspended', 'termination-pending', 'terminated']),
      ),
    );
}

export async function personByEmail(db: Database, email: string): Promise<PersonRow | undefined> {
  const rows = await db
    .select()
    .from(persons)
    .where(sql`lower(${persons.email}) = lower(${email})`)
    .limit(1);
  return rows[0];
}
