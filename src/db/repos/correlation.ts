/**
 * Correlation on idflow's database: the persons a rule's values match (one equality lookup per
 * rule, every value a query parameter, so quotes, `%`, `_` and backslashes match only
 * themselves), explicit links, review items and orphan accounts.
 */
import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import { ATTRIBUTE_FIELD_PATTERN, type CorrelationColumn } from '../../dsl/correlation-fields';
import type { Database } from '../client';
import { accounts, correlationLinks, orphanAccounts, persons, reviews } from '../schema';

export type ReviewRow = typeof reviews.$inferSelect;
export type OrphanAccountRow = typeof orphanAccounts.$inferSelect;
export type RecordKind = 'person' | 'account';

const COLUMNS = {
  id: persons.id,
  employeeId: persons.employeeId,
  email: persons.email,
  givenName: persons.givenName,
  familyName: persons.familyName,
  displayName: persons.displayName,
  managerId: persons.managerId,
  department: persons.department,
  title: persons.title,
  jobCode: persons.jobCode,
  location: persons.location,
  employmentType: persons.employmentType,
} satisfies Record<CorrelationColumn, unknown>;

/** The condition "field equals value"; email is compared without case, as addresses are. */
function equals(field: string, value: string): SQL {
  const attribute = ATTRIBUTE_FIELD_PATTERN.exec(field);
  if (attribute) return sql`(${persons.attributes} ->> ${attribute[1]}) = ${value}`;
  if (field === 'email') return sql`lower(${persons.email}) = lower(${value})`;
  const column = COLUMNS[field as CorrelationColumn];
  if (!column) throw new Error(`not a correlation field: ${field}`);
  return eq(column, value);
}

/** Ids of the persons whose fields equal all the values, in id order, at most `limit`. */
export async function matchingPersons(
  db: Database,
  values: ReadonlyArray<{ field: string; value: string }>,
  limit: number,
): Promise<string[]> {
  if (values.length === 0) return [];
  const rows = await db
    .select({ id: persons.id })
    .from(persons)
    .where(and(...values.map((v) => equals(v.field, v.value))))
    .orderBy(asc(persons.id))
    .limit(limit);
  return rows.map((r) => r.id);
}

export async function linkedPerson(
  db: Database,
  kind: RecordKind,
  source: string,
  sourceId: string,
): Promise<string | undefined> {
  const rows = await db
    .select({ personId: correlationLinks.personId })
    .from(correlationLinks)
    .innerJoin(persons, eq(persons.id, correlationLinks.personId))
    .where(
      and(
        eq(correlationLinks.kind, kind),
        eq(correlationLinks.source, source),
        eq(correlationLinks.sourceId, sourceId),
      ),
    )
    .limit(1);
  return rows[0]?.personId;
}

/** Records the link unless the record is linked already (the first link stands). */
export async function addLink(
  db: Database,
  link: {
    kind: RecordKind;
    source: string;
    sourceId: string;
    personId: string;
    reviewId?: string;
    createdBy: string;
  },
): Promise<boolean> {
  const rows = await db
    .insert(correlationLinks)
    .values({ ...link, reviewId: link.reviewId ?? null })
    .onConflictDoNothing()
    .returning({ personId: correlationLinks.personId });
  return rows.length > 0;
}

export async function insertReview(
  db: Database,
  review: Omit<
    ReviewRow,
    'status' | 'createdAt' | 'resolvedAt' | 'resolvedBy' | 'personId' | 'created'
  >,
): Promise<void> {
  await db.insert(reviews).values(review).onConflictDoNothing();
}

export async function getReview(db: Database, id: string): Promise<ReviewRow | undefined> {
  const rows = await db.select().from(reviews).where(eq(reviews.id, id)).limit(1);
  return rows[0];
}

export async function openReviews(db: Database, limit: number): Promise<ReviewRow[]> {
  return db
    .select()
    .from(reviews)
    .where(eq(reviews.status, 'open'))
    .orderBy(asc(reviews.createdAt), asc(reviews.id))
    .limit(limit);
}

/** Closes an open review; false when it was resolved already (the first resolution stands). */
export async function resolveReview(
  db: Database,
  id: string,
  resolution: { personId: string; created: boolean; by: string; at: Date },
): Promise<boolean> {
  const rows = await db
    .update(reviews)
    .set({
      status: 'resolved',
      personId: resolution.personId,
      created: resolution.created,
      resolvedBy: resolution.by,
      resolvedAt: resolution.at,
    })
    .where(and(eq(reviews.id, id), eq(reviews.status, 'open')))
    .returning({ id: reviews.id });
  return rows.length > 0;
}

/** Records (or sees again) an account nobody owns. */
export async function recordOrphan(
  db: Database,
  orphan: { connector: string; accountId: string; runId: string; at: Date },
): Promise<void> {
  await db
    .insert(orphanAccounts)
    .values({ ...orphan, firstSeenAt: orphan.at, lastSeenAt: orphan.at })
    .onConflictDoUpdate({
      target: [orphanAccounts.connector, orphanAccounts.accountId],
      set: { lastSeenAt: orphan.at, runId: orphan.runId },
    });
}

export async function listOrphans(db: Database, limit: number): Promise<OrphanAccountRow[]> {
  return db
    .select()
    .from(orphanAccounts)
    .orderBy(asc(orphanAccounts.connector), asc(orphanAccounts.accountId))
    .limit(limit);
}

/**
 * Records a correlated account as the person's, unless idflow already records an account of
 * theirs on the connector or this account as someone else's (one account, one owner): then
 * nothing changes and the owner already recorded is returned.
 */
export async function recordCorrelatedAccount(
  db: Database,
  account: { personId: string; connector: string; accountId: string; runId: string; at: Date },
): Promise<{ recorded: boolean; owner?: string }> {
  const owners = await db
    .select({ personId: accounts.personId, accountName: accounts.accountName })
    .from(accounts)
    .where(
      and(eq(accounts.connector, account.connector), eq(accounts.accountName, account.accountId)),
    )
    .limit(1);
  const owner = owners[0]?.personId;
  if (owner !== undefined) return { recorded: false, owner };
  const rows = await db
    .insert(accounts)
    .values({
      personId: account.personId,
      connector: account.connector,
      accountName: account.accountId,
      status: 'enabled',
      createdByRun: account.runId,
      createdAt: account.at,
      lastReadAt: account.at,
      updatedAt: account.at,
    })
    .onConflictDoNothing({ target: [accounts.personId, accounts.connector] })
    .returning({ id: accounts.id });
  return { recorded: rows.length > 0 };
}
