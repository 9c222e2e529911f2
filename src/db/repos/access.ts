/**
 * idflow's record of people's accounts and entitlements, and their explicit grants. The
 * accounts and entitlements are what a target held when idflow last read it — a record, not the
 * truth: reconcile and `idflow plan person` read the target again every time, and write here
 * only so people can be shown what idflow last saw without credentials for the targets. Grants,
 * on the other hand, are idflow's own: a grant exists because a flow or an operator added it.
 */
import { and, asc, eq, gt, inArray, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import type { AccessGrant, ActualAccess, EntitlementRef } from '../../access/types';
import type { Database } from '../client';
import { accessGrants, accounts, entitlements } from '../schema';

/** What `entitlements.source` says of one idflow found that no role or grant names. */
export const UNKNOWN_SOURCE = 'unknown';

export type AccountStatus = 'enabled' | 'disabled' | 'deleted';

/** An entitlement as idflow last saw an account hold it. */
export interface RecordedEntitlement {
  kind: string;
  value: string;
  /** `role:<name>`, `grant:<id>` or `unknown`. */
  source: string;
  grantedAt: Date;
  grantedByRun?: string;
}

/** An account as idflow last saw it, with its entitlements. */
export interface RecordedAccount {
  id: string;
  connector: string;
  accountName: string;
  targetId?: string;
  status: AccountStatus;
  createdByRun?: string;
  createdAt: Date;
  lastReadAt: Date;
  updatedAt: Date;
  entitlements: RecordedEntitlement[];
}

export interface RecordAccessInput {
  personId: string;
  /** What the target holds for the person on one connector, as just read. */
  actual: ActualAccess;
  /** Why each held entitlement is desired, by `${kind}:${value}`; the rest are `unknown`. */
  sources: Record<string, string>;
  /** The run that read it. */
  runId?: string;
  now: Date;
}

/** What `recordAccess` did: `changed` is false when only `last_read_at` moved (or nothing). */
export interface RecordAccessResult {
  accountId?: string;
  changed: boolean;
}

const keyOf = (e: { kind: string; value: string }) => `${e.kind}:${e.value}`;

/** Code-point order, the same whatever the database's collation (PostgreSQL's or PGlite's). */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byRef = (a: Partial<EntitlementRef>, b: Partial<EntitlementRef>) =>
  byCodePoint(a.connector ?? '', b.connector ?? '') ||
  byCodePoint(a.kind ?? '', b.kind ?? '') ||
  byCodePoint(a.value ?? '', b.value ?? '');

/**
 * The sign-in and password-change times a read found, as column updates: each moves forward
 * only (greatest() keeps the later of the record's and the target's, and ignores a null), so a
 * target that knows less than an identity provider reported never rewinds the record.
 */
function activityColumns(activity: ActivityTimes | undefined, now: Date) {
  if (!activity) return {};
  const later = (column: typeof accounts.lastLoginAt, value: string | null) =>
    sql`greatest(${column}, ${value}::timestamptz)`;
  return {
    lastLoginAt: later(accounts.lastLoginAt, activity.lastLoginAt),
    passwordChangedAt: later(accounts.passwordChangedAt, activity.passwordChangedAt),
    activityReadAt: now,
  };
}

type ActivityTimes = NonNullable<NonNullable<ActualAccess['account']>['activity']>;

/**
 * Brings idflow's record of the person's account on `actual.connector` up to what was read: the
 * account row is inserted or updated (or marked deleted when the target has no account and a
 * row says it had), its entitlement rows follow what the account holds (new ones get their
 * source and the run, ones still held keep when they were first seen), and `last_read_at` says
 * when. The sign-in and password-change times the read found move forward (never back), with
 * `activity_read_at`. When nothing but the read time differs, that is the only write.
 */
export async function recordAccess(
  db: Database,
  input: RecordAccessInput,
): Promise<RecordAccessResult> {
  const { personId, actual, now } = input;
  return db.transaction(async (tx) => {
    const current = async () =>
      (
        await tx
          .select()
          .from(accounts)
          .where(and(eq(accounts.personId, personId), eq(accounts.connector, actual.connector)))
          .for('update')
      )[0];
    let row = await current();

    if (!actual.account) {
      if (!row) return { changed: false };
      if (row.status === 'deleted') {
        await tx.update(accounts).set({ lastReadAt: now }).where(eq(accounts.id, row.id));
        return { accountId: row.id, changed: false };
      }
      // an account that is gone holds nothing
      await tx.delete(entitlements).where(eq(entitlements.accountId, row.id));
      await tx
        .update(accounts)
        .set({ status: 'deleted', lastReadAt: now, updatedAt: now })
        .where(eq(accounts.id, row.id));
      return { accountId: row.id, changed: true };
    }

    const seen = {
      accountName: actual.account.id,
      targetId: actual.account.targetId || null,
      status: (actual.account.enabled ? 'enabled' : 'disabled') satisfies AccountStatus,
    };
    let changed = false;
    if (!row) {
      const inserted = await tx
        .insert(accounts)
        .values({
          personId,
          connector: actual.connector,
          ...seen,
          createdByRun: input.runId ?? null,
          createdAt: now,
          lastReadAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing({ target: [accounts.personId, accounts.connector] })
        .returning();
      // another read recorded it meanwhile: carry on from its row
      row = inserted[0] ?? (await current());
      if (!row) throw new Error('recordAccess: the account row vanished while it was recorded');
      changed = inserted.length > 0;
    }
    const accountId = row.id;
    const accountDiffers =
      row.accountName !== seen.accountName ||
      row.targetId !== seen.targetId ||
      row.status !== seen.status;

    const held = new Map<string, EntitlementRef>();
    for (const e of actual.entitlements)
      if (e.connector === actual.connector) held.set(keyOf(e), e);
    const recorded = await tx
      .select()
      .from(entitlements)
      .where(eq(entitlements.accountId, accountId));
    const recordedKeys = new Set(recorded.map(keyOf));
    const sourceOf = (key: string) => input.sources[key] ?? UNKNOWN_SOURCE;

    const gone = recorded.filter((r) => !held.has(keyOf(r)));
    for (const r of gone) {
      await tx
        .delete(entitlements)
        .where(
          and(
            eq(entitlements.accountId, accountId),
            eq(entitlements.kind, r.kind),
            eq(entitlements.value, r.value),
          ),
        );
    }
    const resourced = recorded.filter((r) => held.has(keyOf(r)) && r.source !== sourceOf(keyOf(r)));
    for (const r of resourced) {
      await tx
        .update(entitlements)
        .set({ source: sourceOf(keyOf(r)) })
        .where(
          and(
            eq(entitlements.accountId, accountId),
            eq(entitlements.kind, r.kind),
            eq(entitlements.value, r.value),
          ),
        );
    }
    const added = [...held].filter(([key]) => !recordedKeys.has(key));
    if (added.length) {
      await tx
        .insert(entitlements)
        .values(
          added.map(([key, e]) => ({
            accountId,
            kind: e.kind,
            value: e.value,
            source: sourceOf(key),
            grantedAt: now,
            grantedByRun: input.runId ?? null,
          })),
        )
        .onConflictDoNothing();
    }

    changed ||= accountDiffers || gone.length > 0 || resourced.length > 0 || added.length > 0;
    await tx
      .update(accounts)
      .set({
        ...(changed ? { ...seen, lastReadAt: now, updatedAt: now } : { lastReadAt: now }),
        ...activityColumns(actual.account.activity, now),
      })
      .where(eq(accounts.id, accountId));
    return { accountId, changed };
  });
}

/** The person's accounts as idflow last saw them, by connector, each with its entitlements. */
export async function accountsOf(db: Database, personId: string): Promise<RecordedAccount[]> {
  const rows = await db.select().from(accounts).where(eq(accounts.personId, personId));
  rows.sort((a, b) => byCodePoint(a.connector, b.connector));
  if (rows.length === 0) return [];
  const held = await db
    .select()
    .from(entitlements)
    .where(
      inArray(
        entitlements.accountId,
        rows.map((r) => r.id),
      ),
    );
  held.sort(byRef);
  return rows.map((r) => ({
    id: r.id,
    connector: r.connector,
    accountName: r.accountName,
    ...(r.targetId !== null ? { targetId: r.targetId } : {}),
    status: r.status as AccountStatus,
    ...(r.createdByRun !== null ? { createdByRun: r.createdByRun } : {}),
    createdAt: r.createdAt,
    lastReadAt: r.lastReadAt,
    updatedAt: r.updatedAt,
    entitlements: held
      .filter((e) => e.accountId === r.id)
      .map((e) => ({
        kind: e.kind,
        value: e.value,
        source: e.source,
        grantedAt: e.grantedAt,
        ...(e.grantedByRun !== null ? { grantedByRun: e.grantedByRun } : {}),
      })),
  }));
}

// ---------------------------------------------------------------------------------------------
// Explicit grants

type GrantRow = typeof accessGrants.$inferSelect;

function toGrant(row: GrantRow): AccessGrant {
  return {
    id: row.id,
    personId: row.personId,
    ...(row.role !== null ? { role: row.role } : {}),
    ...(row.connector !== null && row.kind !== null && row.value !== null
      ? { entitlement: { connector: row.connector, kind: row.kind, value: row.value } }
      : {}),
    ...(row.validUntil ? { validUntil: row.validUntil.toISOString() } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    grantedBy: row.grantedBy,
    grantedAt: row.grantedAt.toISOString(),
  };
}

export type NewGrant = {
  personId: string;
  validUntil?: Date;
  reason?: string;
  /** `run:<workflowId>` or `user:<id>`. */
  grantedBy: string;
  now?: Date;
} & ({ role: string; entitlement?: undefined } | { role?: undefined; entitlement: EntitlementRef });

/** Adds an explicit grant of a role or of one entitlement (the table refuses both or neither). */
export async function addGrant(db: Database, grant: NewGrant): Promise<AccessGrant> {
  if ((grant.role === undefined) === (grant.entitlement === undefined))
    throw new Error('a grant names exactly one of a role and an entitlement');
  const rows = await db
    .insert(accessGrants)
    .values({
      personId: grant.personId,
      role: grant.role ?? null,
      connector: grant.entitlement?.connector ?? null,
      kind: grant.entitlement?.kind ?? null,
      value: grant.entitlement?.value ?? null,
      validUntil: grant.validUntil ?? null,
      reason: grant.reason ?? null,
      grantedBy: grant.grantedBy,
      grantedAt: grant.now ?? new Date(),
    })
    .returning();
  return toGrant(rows[0] as GrantRow);
}

/**
 * Revokes the grant: it stops counting, and stays on record with who revoked it. False when
 * there is no such grant or it was already revoked (the first revocation is kept).
 */
export async function revokeGrant(
  db: Database,
  id: string,
  revocation: { by: string; now?: Date },
): Promise<boolean> {
  const rows = await db
    .update(accessGrants)
    .set({ revokedAt: revocation.now ?? new Date(), revokedBy: revocation.by })
    .where(and(eq(accessGrants.id, id), isNull(accessGrants.revokedAt)))
    .returning({ id: accessGrants.id });
  return rows.length > 0;
}

/** Grants that count at `now`: not revoked, and with no end or an end after `now`. */
const active = (now: Date) =>
  and(
    isNull(accessGrants.revokedAt),
    or(isNull(accessGrants.validUntil), gt(accessGrants.validUntil, now)),
  );

/** The person's grants that count at `now`, oldest first. */
export async function activeGrants(
  db: Database,
  personId: string,
  now: Date,
): Promise<AccessGrant[]> {
  const rows = await db
    .select()
    .from(accessGrants)
    .where(and(eq(accessGrants.personId, personId), active(now)))
    .orderBy(asc(accessGrants.grantedAt), asc(accessGrants.id));
  return rows.map(toGrant);
}

/**
 * What reconcile manages for this person beyond what active roles name: every entitlement a
 * grant to them ever named (active, expired or revoked — what a grant gave is taken back when it
 * ends), and every entitlement idflow's record says it gave them by a role or a grant (a role
 * since retired still had its access removed). Entitlements granted to other people are not
 * this person's business: held by hand, they are left alone.
 */
export async function managedForPerson(db: Database, personId: string): Promise<EntitlementRef[]> {
  const [granted, recorded] = await Promise.all([
    db
      .selectDistinct({
        connector: accessGrants.connector,
        kind: accessGrants.kind,
        value: accessGrants.value,
      })
      .from(accessGrants)
      .where(and(eq(accessGrants.personId, personId), isNotNull(accessGrants.connector))),
    db
      .selectDistinct({
        connector: accounts.connector,
        kind: entitlements.kind,
        value: entitlements.value,
      })
      .from(entitlements)
      .innerJoin(accounts, eq(entitlements.accountId, accounts.id))
      .where(and(eq(accounts.personId, personId), ne(entitlements.source, UNKNOWN_SOURCE))),
  ]);
  const seen = new Set<string>();
  const out: EntitlementRef[] = [];
  for (const r of [...granted, ...recorded]) {
    const ref = {
      connector: r.connector as string,
      kind: r.kind as string,
      value: r.value as string,
    };
    const key = `${ref.connector}\u0000${ref.kind}\u0000${ref.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(ref);
  }
  return out.sort(byRef);
}
