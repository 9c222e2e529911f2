/**
 * When accounts last signed in and last changed their password, on idflow's account records: as
 * a directory scan read them (a page at a time, one statement per page), or as an identity
 * provider's event reported them (one account). A time only ever moves forward: an older
 * report, a late duplicate or a source that knows less never rewinds what a newer one said.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { accounts } from '../schema';

/** One account's times as the target holds them (null: never, or not held). */
export interface AccountActivityRow {
  /** The account's name (the connector's id attribute). */
  accountName: string;
  /**
   * The person the target records as its owner, where the connector records owners: the row
   * must be that person's. Undefined: matched by name alone.
   */
  owner?: string;
  lastLoginAt: Date | null;
  passwordChangedAt: Date | null;
}

/**
 * Records one page of accounts' times on `connector`'s account records in one statement: each
 * row updates the record of that account name (and of that owner, when it names one), moving
 * each time forward only, and sets `activity_read_at` to `now`. Returns how many rows matched
 * a record; the others are accounts idflow does not know, and nothing is created for them.
 */
export async function recordActivityPage(
  db: Database,
  connector: string,
  rows: readonly AccountActivityRow[],
  now: Date,
): Promise<number> {
  if (rows.length === 0) return 0;
  // the whole page is one parameter: a JSON array PostgreSQL turns into rows
  const page = JSON.stringify(
    rows.map((r) => ({
      account_name: r.accountName,
      owner: r.owner ?? null,
      last_login_at: r.lastLoginAt?.toISOString() ?? null,
      password_changed_at: r.passwordChangedAt?.toISOString() ?? null,
    })),
  );
  const updated = await db
    .update(accounts)
    .set({
      // greatest() ignores nulls: a time the target does not hold leaves the record's as it is
      lastLoginAt: sql`greatest(${accounts.lastLoginAt}, v.last_login_at)`,
      passwordChangedAt: sql`greatest(${accounts.passwordChangedAt}, v.password_changed_at)`,
      activityReadAt: now,
    })
    .from(
      sql`jsonb_to_recordset(${page}::jsonb) as v(account_name text, owner text, last_login_at timestamptz, password_changed_at timestamptz)`,
    )
    .where(
      and(
        eq(accounts.connector, connector),
        sql`${accounts.accountName} = v.account_name`,
        sql`(v.owner is null or ${accounts.personId} = v.owner)`,
      ),
    )
    .returning({ accountName: accounts.accountName, personId: accounts.personId });
  const byName = new Set(updated.map((r) => r.accountName));
  const byOwner = new Set(updated.map((r) => `${r.accountName}\u0000${r.personId}`));
  return rows.filter((r) =>
    r.owner === undefined
      ? byName.has(r.accountName)
      : byOwner.has(`${r.accountName}\u0000${r.owner}`),
  ).length;
}

/** Which time an event reports. */
export type ActivityKind = 'login' | 'password-changed';

/** What `recordReportedActivity` found: the person's record of that account, and its times. */
export type ReportedActivityResult =
  { recorded: false } | { recorded: true; changed: boolean; accountId: string };

/**
 * Records that `personId`'s account `accountName` on `connector` signed in (or changed its
 * password) at `at`: only on that person's own record of that account, and only when `at` is
 * later than the time recorded. `activity_read_at` says when it was last reported, either way.
 * `recorded: false` when the person has no record of that account on that connector.
 */
export async function recordReportedActivity(
  db: Database,
  report: {
    personId: string;
    connector: string;
    accountName: string;
    kind: ActivityKind;
    at: Date;
    now: Date;
  },
): Promise<ReportedActivityResult> {
  const login = report.kind === 'login';
  const column = login ? accounts.lastLoginAt : accounts.passwordChangedAt;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: accounts.id, time: column })
      .from(accounts)
      .where(
        and(
          eq(accounts.personId, report.personId),
          eq(accounts.connector, report.connector),
          eq(accounts.accountName, report.accountName),
        ),
      )
      .for('update');
    if (!row) return { recorded: false };
    const changed = row.time === null || row.time.getTime() < report.at.getTime();
    const time = login ? { lastLoginAt: report.at } : { passwordChangedAt: report.at };
    await tx
      .update(accounts)
      .set({ ...(changed ? time : {}), activityReadAt: report.now })
      .where(eq(accounts.id, row.id));
    return { recorded: true, changed, accountId: row.id };
  });
}
