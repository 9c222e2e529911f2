/**
 * idflow's record of accounts, entitlements and explicit grants, on PostgreSQL (a database of
 * its own; PGlite cannot start inside Jest — `idflow dev` in dev.test.ts migrates it): a read is
 * recorded as it was seen, a repeated read moves only the read time, entitlements keep when they
 * were first seen, a vanished account is marked deleted; grants count until revoked or expired,
 * and the table refuses a grant of both or neither a role and an entitlement.
 */
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import type { ActualAccess, EntitlementRef } from '../../src/access/types';
import { openDatabase, type Database, type DatabaseHandle } from '../../src/db/client';
import {
  accountsOf,
  activeGrants,
  addGrant,
  managedForPerson,
  recordAccess,
  revokeGrant,
} from '../../src/db/repos/access';
import { accessGrants } from '../../src/db/schema';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const group = (value: string): EntitlementRef => ({ connector: 'corp', kind: 'group', value });

function actual(
  entitlements: EntitlementRef[],
  account: Partial<NonNullable<ActualAccess['account']>> | null = {},
): ActualAccess {
  return {
    connector: 'corp',
    connectorType: 'ldap',
    ...(account
      ? {
          account: {
            id: 'ada',
            targetId: 'uid=ada,ou=people,dc=corp',
            enabled: true,
            attributes: {},
            ...account,
          },
        }
      : {}),
    entitlements,
    unmanaged: 0,
  };
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

let testDb: TestDatabase;
let handle: DatabaseHandle;
let db: Database;

beforeAll(async () => {
  testDb = await createTestDatabase();
  handle = await openDatabase({
    databaseUrl: testDb.url,
    dataDir: join(__dirname, '..', '..', '.idflow'),
    max: 2,
  });
  await handle.migrate();
  db = handle.db;
}, 60_000);

afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

describe('recordAccess', () => {
  test('a first read records the account and its entitlements with their sources and the run', async () => {
    const result = await recordAccess(db, {
      personId: 'p-1',
      actual: actual([group('staff'), group('deployers')]),
      sources: { 'group:staff': 'role:employee' },
      runId: 'flow/joiner/p-1/e-1',
      now: at(0),
    });
    expect(result.changed).toBe(true);
    expect(await accountsOf(db, 'p-1')).toEqual([
      {
        id: result.accountId,
        connector: 'corp',
        accountName: 'ada',
        targetId: 'uid=ada,ou=people,dc=corp',
        status: 'enabled',
        createdByRun: 'flow/joiner/p-1/e-1',
        createdAt: at(0),
        lastReadAt: at(0),
        updatedAt: at(0),
        entitlements: [
          {
            kind: 'group',
            value: 'deployers',
            source: 'unknown',
            grantedAt: at(0),
            grantedByRun: 'flow/joiner/p-1/e-1',
          },
          {
            kind: 'group',
            value: 'staff',
            source: 'role:employee',
            grantedAt: at(0),
            grantedByRun: 'flow/joiner/p-1/e-1',
          },
        ],
      },
    ]);
  });

  test('the same read again moves only the read time', async () => {
    const result = await recordAccess(db, {
      personId: 'p-1',
      actual: actual([group('deployers'), group('staff')]),
      sources: { 'group:staff': 'role:employee' },
      runId: 'flow/other/p-1/e-2',
      now: at(5),
    });
    expect(result.changed).toBe(false);
    const [account] = await accountsOf(db, 'p-1');
    expect(account).toMatchObject({ lastReadAt: at(5), updatedAt: at(0) });
    expect(account?.entitlements.map((e) => e.grantedByRun)).toEqual([
      'flow/joiner/p-1/e-1',
      'flow/joiner/p-1/e-1',
    ]);
  });

  test('entitlements no longer held go, new ones come, ones still held keep when they were first seen', async () => {
    const result = await recordAccess(db, {
      personId: 'p-1',
      actual: actual([group('staff'), group('finance')], { enabled: false }),
      sources: { 'group:staff': 'grant:g-1', 'group:finance': 'role:finance' },
      runId: 'flow/mover/p-1/e-3',
      now: at(10),
    });
    expect(result.changed).toBe(true);
    const [account] = await accountsOf(db, 'p-1');
    expect(account).toMatchObject({
      status: 'disabled',
      createdByRun: 'flow/joiner/p-1/e-1',
      createdAt: at(0),
      lastReadAt: at(10),
      updatedAt: at(10),
    });
    expect(account?.entitlements).toEqual([
      {
        kind: 'group',
        value: 'finance',
        source: 'role:finance',
        grantedAt: at(10),
        grantedByRun: 'flow/mover/p-1/e-3',
      },
      {
        kind: 'group',
        value: 'staff',
        source: 'grant:g-1',
        grantedAt: at(0),
        grantedByRun: 'flow/joiner/p-1/e-1',
      },
    ]);
  });

  test('a read without a run (a preview) records no run', async () => {
    await recordAccess(db, {
      personId: 'p-2',
      actual: { ...actual([]), connector: 'apps', connectorType: 'scim' },
      sources: {},
      now: at(0),
    });
    const [account] = await accountsOf(db, 'p-2');
    expect(account).toMatchObject({ connector: 'apps', status: 'enabled' });
    expect(account).not.toHaveProperty('createdByRun');
  });

  test('an account the target no longer has is marked deleted and holds nothing; no account and no row writes nothing', async () => {
    const gone = await recordAccess(db, {
      personId: 'p-1',
      actual: actual([], null),
      sources: {},
      now: at(20),
    });
    expect(gone.changed).toBe(true);
    const [account] = await accountsOf(db, 'p-1');
    expect(account).toMatchObject({ status: 'deleted', updatedAt: at(20), entitlements: [] });

    const again = await recordAccess(db, {
      personId: 'p-1',
      actual: actual([], null),
      sources: {},
      now: at(25),
    });
    expect(again.changed).toBe(false);
    expect((await accountsOf(db, 'p-1'))[0]).toMatchObject({
      status: 'deleted',
      lastReadAt: at(25),
      updatedAt: at(20),
    });

    expect(
      await recordAccess(db, {
        personId: 'p-none',
        actual: actual([], null),
        sources: {},
        now: at(0),
      }),
    ).toEqual({ changed: false });
    expect(await accountsOf(db, 'p-none')).toEqual([]);
  });

  test('an account that comes back is enabled again, with its new name', async () => {
    const back = await recordAccess(db, {
      personId: 'p-1',
      actual: actual([group('staff')], { id: 'ada2', targetId: 'uid=ada2,dc=corp' }),
      sources: {},
      runId: 'flow/rehire/p-1/e-4',
      now: at(30),
    });
    expect(back.changed).toBe(true);
    expect((await accountsOf(db, 'p-1'))[0]).toMatchObject({
      accountName: 'ada2',
      targetId: 'uid=ada2,dc=corp',
      status: 'enabled',
      createdByRun: 'flow/joiner/p-1/e-1',
      entitlements: [{ value: 'staff', source: 'unknown', grantedByRun: 'flow/rehire/p-1/e-4' }],
    });
  });

  test('concurrent first reads of one account make one row', async () => {
    const reads = Array.from({ length: 4 }, (_, i) =>
      recordAccess(db, {
        personId: 'p-race',
        actual: actual([group('staff')]),
        sources: {},
        now: at(i),
      }),
    );
    const results = await Promise.all(reads);
    expect(new Set(results.map((r) => r.accountId)).size).toBe(1);
    expect(await accountsOf(db, 'p-race')).toHaveLength(1);
  });
});

describe('grants', () => {
  test('a grant counts until revoked or expired; the first revocation is kept', async () => {
    const role = await addGrant(db, {
      personId: 'p-g',
      role: 'finance-approver',
      reason: 'quarter close',
      grantedBy: 'user:op-1',
      now: at(0),
    });
    const until = await addGrant(db, {
      personId: 'p-g',
      entitlement: group('auditors'),
      validUntil: at(60),
      grantedBy: 'run:flow/access-request/p-g/e-1',
      now: at(1),
    });
    expect(role).toEqual({
      id: role.id,
      personId: 'p-g',
      role: 'finance-approver',
      reason: 'quarter close',
      grantedBy: 'user:op-1',
      grantedAt: at(0).toISOString(),
    });
    expect(until).toEqual({
      id: until.id,
      personId: 'p-g',
      entitlement: group('auditors'),
      validUntil: at(60).toISOString(),
      grantedBy: 'run:flow/access-request/p-g/e-1',
      grantedAt: at(1).toISOString(),
    });

    expect(await activeGrants(db, 'p-g', at(30))).toEqual([role, until]);
    expect(await activeGrants(db, 'p-g', at(60))).toEqual([role]);
    expect(await activeGrants(db, 'p-other', at(30))).toEqual([]);

    expect(await revokeGrant(db, role.id, { by: 'user:op-2', now: at(40) })).toBe(true);
    expect(await revokeGrant(db, role.id, { by: 'user:op-3', now: at(41) })).toBe(false);
    expect(await revokeGrant(db, '00000000-0000-4000-8000-000000000000', { by: 'x' })).toBe(false);
    expect(await activeGrants(db, 'p-g', at(45))).toEqual([until]);
    const [kept] = await db
      .select({ revokedBy: accessGrants.revokedBy, revokedAt: accessGrants.revokedAt })
      .from(accessGrants)
      .where(eq(accessGrants.id, role.id));
    expect(kept).toEqual({ revokedBy: 'user:op-2', revokedAt: at(40) });
  });

  test("managedForPerson names what the person's grants ever named and what idflow gave them, once", async () => {
    await addGrant(db, { personId: 'p-h', entitlement: group('auditors'), grantedBy: 'user:x' });
    await addGrant(db, {
      personId: 'p-h',
      entitlement: { connector: 'apps', kind: 'role', value: 'viewer' },
      grantedBy: 'user:x',
    });
    const revoked = await addGrant(db, {
      personId: 'p-h',
      entitlement: group('revoked-only'),
      grantedBy: 'user:x',
    });
    await revokeGrant(db, revoked.id, { by: 'user:x' });
    await addGrant(db, {
      personId: 'p-h',
      entitlement: group('expired-only'),
      validUntil: at(0),
      grantedBy: 'user:x',
    });
    await addGrant(db, { personId: 'p-h', role: 'employee', grantedBy: 'user:x' });
    // someone else's grant is not p-h's business
    await addGrant(db, { personId: 'p-other', entitlement: group('theirs'), grantedBy: 'user:x' });
    // what a role gave p-h, as last read; a group found but given by nobody is not managed
    await recordAccess(db, {
      personId: 'p-h',
      actual: {
        connector: 'corp',
        connectorType: 'ldap',
        account: { id: 'ph', targetId: 'uid=ph', enabled: true, attributes: {} },
        entitlements: [group('retired-role-group'), group('found-by-hand'), group('auditors')],
        unmanaged: 0,
      },
      sources: { 'group:retired-role-group': 'role:retired', 'group:auditors': 'grant:1' },
      now: at(0),
    });
    expect(await managedForPerson(db, 'p-h')).toEqual(
      [
        { connector: 'apps', kind: 'role', value: 'viewer' },
        group('auditors'),
        group('expired-only'),
        group('retired-role-group'),
        group('revoked-only'),
      ].sort((a, b) => (`${a.connector}/${a.value}` < `${b.connector}/${b.value}` ? -1 : 1)),
    );
  });

  test('the table refuses a grant of both or neither a role and an entitlement', async () => {
    await expect(
      addGrant(db, { personId: 'p-x', role: 'r', entitlement: group('g') } as never),
    ).rejects.toThrow('exactly one');
    await expect(
      db.execute(
        sql`insert into access_grants (person_id, role, connector, kind, value, granted_by) values ('p-x', 'r', 'corp', 'group', 'g', 'x')`,
      ),
    ).rejects.toMatchObject({ cause: { code: '23514' } });
    await expect(
      db.execute(
        sql`insert into access_grants (person_id, connector, kind, granted_by) values ('p-x', 'corp', 'group', 'x')`,
      ),
    ).rejects.toMatchObject({ cause: { code: '23514' } });
  });
});
