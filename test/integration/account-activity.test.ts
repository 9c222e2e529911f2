/**
 * Accounts' last sign-in and password change, against a real slapd (lastbind and ppolicy
 * overlays) and PostgreSQL: readAccountActivity pages through 10,000 seeded accounts and records
 * their times in idflow's account records, counting the accounts idflow does not know; a bind
 * and a password change show up at the next read; times only move forward; a malformed value
 * fails the op naming the attribute, never the value, and leaves reconcile's read alone; and an
 * identity provider's `account.login` / `account.password-changed` events, posted through the
 * gateway, record the time on the person's own account and never rewind it.
 */
import { randomBytes } from 'node:crypto';
import { Attribute, Change, Client } from 'ldapts';
import { and, eq } from 'drizzle-orm';
import { createLdapAccess } from '../../activities/access/ldap';
import { createIdstoreOps } from '../../activities/connectors/idstore';
import { createLdapConnector } from '../../activities/connectors/ldap';
import { formatFileTime } from '../../activities/connectors/ldap-times';
import type { OpContext } from '../../activities/connectors/types';
import { openDatabase, type DatabaseHandle } from '../../src/db/client';
import { recordAccess } from '../../src/db/repos/access';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import { accounts } from '../../src/db/schema';
import type { RunState } from '../../src/temporal/contracts';
import { LDAP_TARGET, startSlapd, type SlapdTarget } from '../../src/targets/slapd';
import {
  recordSeededAccounts,
  seedLdapAccounts,
  seededTimes,
  type SeedAccount,
} from '../support/account-activity';
import { failure } from '../support/failures';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { opContext } from '../support/op-context';
import { freePort } from '../support/ports';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const PEOPLE = `ou=people,${LDAP_TARGET.baseDn}`;
const CONNECTOR = 'corp-directory';
/** This suite's person ids: apart from every other suite's (one Temporal namespace). */
const run = randomBytes(3).toString('hex');
const pid = (n: number | string) => `p-acta-${run}-${n}`;

let slapd: SlapdTarget;
let testDb: TestDatabase;
let db: DatabaseHandle;
let ldapOps: ReturnType<typeof createLdapConnector>['ops'];
const access = createLdapAccess(10_000);

function ctx(config: Record<string, unknown> = {}): OpContext {
  return opContext(CONNECTOR, {
    url: slapd.url,
    bindDn: LDAP_TARGET.bindDn,
    bindPassword: { secretEnv: 'ACTIVITY_LDAP_PASSWORD' },
    usersDn: PEOPLE,
    groupsDn: `ou=groups,${LDAP_TARGET.baseDn}`,
    userObjectClasses: ['inetOrgPerson', 'adUser'],
    groupObjectClass: 'adGroup',
    disable: { method: 'userAccountControl' },
    correlation: { attribute: 'employeeNumber' },
    ...config,
  });
}

const record = async (uid: string) =>
  (
    await db.db
      .select()
      .from(accounts)
      .where(and(eq(accounts.connector, CONNECTOR), eq(accounts.accountName, uid)))
  )[0];

async function asAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: slapd.url });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    return await fn(client);
  } finally {
    await client.unbind();
  }
}

const replace = (type: string, value: string) =>
  new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) });

beforeAll(async () => {
  process.env.ACTIVITY_LDAP_PASSWORD = LDAP_TARGET.bindPassword;
  [slapd, testDb] = await Promise.all([
    freePort().then((port) => startSlapd({ port })),
    createTestDatabase(),
  ]);
  db = await openDatabase({ databaseUrl: testDb.url, dataDir: ROOT, max: 4 });
  await db.migrate();
  ldapOps = createLdapConnector(10_000, db.db).ops;
});

afterAll(async () => {
  await db?.close();
  await Promise.all([slapd?.stop(), testDb?.drop()]);
});

describe('readAccountActivity', () => {
  const DAY = 86_400_000;
  const base = Date.UTC(2025, 0, 1);
  const bulk: SeedAccount[] = Array.from({ length: 10_000 }, (_, i) => ({
    uid: `bulk${i}`,
    owner: pid(`bulk${i}`),
    // every kind: both times, only one, none
    ...(i % 7 !== 0 ? { lastLoginAt: new Date(base + (i % 400) * DAY + i * 1000) } : {}),
    ...(i % 11 !== 0 ? { passwordChangedAt: new Date(base - (i % 900) * DAY) } : {}),
  }));
  const known = bulk.filter((_, i) => i % 100 !== 0); // 9,900 of them idflow has records of
  let seedMs = 0;

  beforeAll(async () => {
    const seeded = Date.now();
    await seedLdapAccounts(slapd.url, bulk);
    // quick enough for other suites to seed as many
    seedMs = Date.now() - seeded;
    expect(seedMs).toBeLessThan(60_000);
    await recordSeededAccounts(db.db, CONNECTOR, known);
  }, 120_000);

  test('the seed holds the times it was given (Relax Rules writes authTimestamp and pwdChangedTime)', async () => {
    expect(await seededTimes(slapd.url, 'bulk1')).toEqual({
      authTimestamp: '20250102000001Z',
      pwdChangedTime: '20241231000000Z',
    });
    expect(await seededTimes(slapd.url, 'bulk0')).toEqual({});
  });

  test('10,000 accounts, a page at a time: known ones recorded, the rest counted', async () => {
    const before = new Date();
    const result = await ldapOps.readAccountActivity({ pageSize: 500 }, ctx());
    // the other tests' accounts (none yet) would add to read and unknown alike
    expect(result).toEqual({ read: 10_000, updated: 9_900, unknown: 100 });
    for (const i of [1, 7, 11, 77, 9_999]) {
      const row = await record(`bulk${i}`);
      const seed = bulk[i] as SeedAccount;
      expect(row?.lastLoginAt?.toISOString() ?? null).toBe(seed.lastLoginAt?.toISOString() ?? null);
      expect(row?.passwordChangedAt?.toISOString() ?? null).toBe(
        seed.passwordChangedAt?.toISOString() ?? null,
      );
      expect(row?.activityReadAt?.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    }
    // nothing was created for the accounts idflow does not know
    expect(await record('bulk100')).toBeUndefined();
  }, 120_000);

  test('times only move forward: a later time on the record stays; a record of someone else is not touched', async () => {
    const later = new Date(Date.UTC(2026, 5, 1));
    await db.db
      .update(accounts)
      .set({ lastLoginAt: later })
      .where(and(eq(accounts.connector, CONNECTOR), eq(accounts.accountName, 'bulk2')));
    // bulk3's record says another person owns it: the directory's owner is not that person
    await db.db
      .update(accounts)
      .set({ personId: pid('someone-else'), lastLoginAt: null })
      .where(and(eq(accounts.connector, CONNECTOR), eq(accounts.accountName, 'bulk3')));
    const result = await ldapOps.readAccountActivity({}, ctx());
    expect(result).toEqual({ read: 10_000, updated: 9_899, unknown: 101 });
    expect((await record('bulk2'))?.lastLoginAt?.toISOString()).toBe(later.toISOString());
    expect((await record('bulk3'))?.lastLoginAt).toBeNull();
  }, 120_000);
});

describe('what the directory records as it happens', () => {
  const uid = `live-${run}`;
  const owner = pid('live');

  beforeAll(async () => {
    await ldapOps.createAccount(
      { id: uid, owner, attributes: { cn: 'Live Person', sn: 'Person', userPassword: 'pw-1' } },
      ctx(),
    );
    await recordSeededAccounts(db.db, CONNECTOR, [{ uid, owner }]);
  });

  test('a bind sets the last sign-in, a password change the password time; the next read records both', async () => {
    const created = await record(uid);
    expect(created?.lastLoginAt).toBeNull();
    const start = Date.now() - 2_000;
    const user = new Client({ url: slapd.url });
    await user.bind(`uid=${uid},${PEOPLE}`, 'pw-1');
    await user.modify(`uid=${uid},${PEOPLE}`, [replace('userPassword', 'pw-2')]);
    await user.unbind();
    await ldapOps.readAccountActivity({ pageSize: 1000 }, ctx());
    const row = await record(uid);
    expect(row?.lastLoginAt?.getTime()).toBeGreaterThanOrEqual(start);
    expect(row?.passwordChangedAt?.getTime()).toBeGreaterThanOrEqual(start);
  }, 60_000);

  test("reconcile's read carries both times, and recording it keeps them forward only", async () => {
    const read = await access.read(ctx(), owner, []);
    expect(read.account?.activity?.lastLoginAt).toEqual(expect.any(String));
    expect(read.account?.activity?.passwordChangedAt).toEqual(expect.any(String));
    const far = new Date(Date.UTC(2030, 0, 1));
    await db.db
      .update(accounts)
      .set({ passwordChangedAt: far })
      .where(and(eq(accounts.connector, CONNECTOR), eq(accounts.accountName, uid)));
    await recordAccess(db.db, { personId: owner, actual: read, sources: {}, now: new Date() });
    const row = await record(uid);
    expect(row?.lastLoginAt?.toISOString()).toBe(read.account?.activity?.lastLoginAt);
    expect(row?.passwordChangedAt?.toISOString()).toBe(far.toISOString());
  });

  test('Active Directory style: FILETIME values, 0 meaning never', async () => {
    const when = new Date(Date.UTC(2026, 2, 3, 4, 5, 6, 789));
    await asAdmin((c) =>
      c.modify(`uid=${uid},${PEOPLE}`, [
        replace('departmentNumber', formatFileTime(when)),
        replace('employeeType', '0'),
      ]),
    );
    const ad = {
      lastLogin: 'departmentNumber',
      passwordChanged: 'employeeType',
      format: 'fileTime',
    };
    const read = await access.read(ctx({ activity: ad }), owner, []);
    expect(read.account?.activity).toEqual({
      lastLoginAt: when.toISOString(),
      passwordChangedAt: null,
    });
  });

  test('a malformed value fails the op naming the attribute, never the value; reconcile reads on without the times', async () => {
    const secret = `Ada's secret ${run}`;
    await asAdmin((c) => c.modify(`uid=${uid},${PEOPLE}`, [replace('description', secret)]));
    const config = { activity: { lastLogin: 'description' } };
    const err = await failure(ldapOps.readAccountActivity({}, ctx(config)));
    expect(err.type).toBe('InvalidResponse');
    expect(err.message).toContain('description');
    expect(err.message).toContain('GeneralizedTime');
    expect(err.message).not.toContain(secret);
    expect(err.message).not.toContain(uid);
    const read = await access.read(ctx(config), owner, []);
    expect(read.account?.id).toBe(uid);
    expect(read.account?.activity).toBeUndefined();
  });
});

describe("the identity store's recordAccountActivity", () => {
  const owner = pid('store');
  const uid = `store-${run}`;
  const call = (at: string, activity: 'login' | 'password-changed' = 'login') =>
    createIdstoreOps(db.db).recordAccountActivity(
      { personId: owner, connector: CONNECTOR, account: uid, activity, at },
      opContext('identity-store', {}, { idempotencyKey: `k-${randomBytes(4).toString('hex')}` }),
    );

  beforeAll(async () => {
    await recordSeededAccounts(db.db, CONNECTOR, [{ uid, owner }]);
  });

  test('forward only: the same time again or an older one changes nothing', async () => {
    expect(await call('2026-05-01T10:00:00Z')).toEqual({ recorded: true, changed: true });
    expect(await call('2026-05-01T10:00:00Z')).toEqual({ recorded: true, changed: false });
    expect(await call('2026-04-01T10:00:00+02:00')).toEqual({ recorded: true, changed: false });
    expect(await call('2026-05-01T10:00:01Z')).toEqual({ recorded: true, changed: true });
    const row = await record(uid);
    expect(row?.lastLoginAt?.toISOString()).toBe('2026-05-01T10:00:01.000Z');
    expect(row?.passwordChangedAt).toBeNull();
  });

  test('a time from the future is refused, naming the field', async () => {
    const err = await failure(call(new Date(Date.now() + 3_600_000).toISOString()));
    expect(err.type).toBe('InvalidRequest');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/\bat is later than/);
  });
});

describe('events from an identity provider', () => {
  let h: Harness;
  const person = pid('idp');
  const other = pid('idp-other');

  beforeAll(async () => {
    h = new Harness({ definitions: ['definitions'] });
    await h.start();
    for (const id of [person, other]) {
      await insertPersonIfAbsent(h.db.db, { id, displayName: 'Idp Person', status: 'active' });
    }
    await recordSeededAccounts(h.db.db, CONNECTOR, [
      { uid: `idp-${run}`, owner: person },
      { uid: `idp-other-${run}`, owner: other },
    ]);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  const recordOf = async (owner: string) =>
    (
      await h.db.db
        .select()
        .from(accounts)
        .where(and(eq(accounts.personId, owner), eq(accounts.connector, CONNECTOR)))
    )[0];

  async function post(type: string, account: string, at: string) {
    const event = makeEvent(
      type,
      { id: person },
      { source: 'okta', attributes: { connector: CONNECTOR, account, at } },
    );
    expect((await h.postEvent(event)).status).toBe(202);
    const runId = `flow/account-activity/${person}/${event.id as string}`;
    const outcome = await h.runOutcome(runId, 60_000);
    const state = await h.client.workflow.getHandle(runId).query<RunState>('state');
    return { outcome, output: state.steps.find((s) => s.id === 'record')?.output };
  }

  test('account.login records the time; an older one that arrives late does not rewind it', async () => {
    const newer = '2026-07-14T08:02:09.000Z';
    const first = await post('account.login', `idp-${run}`, newer);
    expect(first.outcome).toMatchObject({ ok: true });
    expect(first.output).toEqual({ recorded: true, changed: true });
    expect((await recordOf(person))?.lastLoginAt?.toISOString()).toBe(newer);

    const late = await post('account.login', `idp-${run}`, '2026-07-13T23:00:00Z');
    expect(late.outcome).toMatchObject({ ok: true });
    expect(late.output).toEqual({ recorded: true, changed: false });
    const row = await recordOf(person);
    expect(row?.lastLoginAt?.toISOString()).toBe(newer);
    expect(row?.passwordChangedAt).toBeNull();
  }, 120_000);

  test('account.password-changed records the password time', async () => {
    const at = '2026-07-14T08:05:38.000Z';
    const done = await post('account.password-changed', `idp-${run}`, at);
    expect(done.outcome).toMatchObject({ ok: true });
    expect((await recordOf(person))?.passwordChangedAt?.toISOString()).toBe(at);
  }, 120_000);

  test("an account that is not the person's own is not recorded, and the other person's record is untouched", async () => {
    const done = await post('account.login', `idp-other-${run}`, '2026-07-15T00:00:00Z');
    expect(done.outcome).toMatchObject({ ok: true });
    expect(done.output).toEqual({ recorded: false, changed: false });
    expect((await recordOf(other))?.lastLoginAt).toBeNull();
  }, 120_000);

  test('hostile account names and connectors: no 5xx, nothing recorded, no name in any error', async () => {
    for (const account of [
      '😀-ada',
      'o\'brien" OR 1=1',
      '%E0%A4%A',
      '\uFEFFbom',
      'uid=x,ou=people',
    ]) {
      const done = await post('account.login', account, '2026-07-16T00:00:00Z');
      expect(done.outcome).toMatchObject({ ok: true });
      expect(done.output).toEqual({ recorded: false, changed: false });
    }
    // an unknown connector, quoted: the run fails naming the connector field, never the account
    const event = makeEvent(
      'account.login',
      { id: person },
      {
        source: 'okta',
        attributes: {
          connector: "corp'dir",
          account: 'secret-name-😀',
          at: '2026-07-16T00:00:00Z',
        },
      },
    );
    const res = await h.postEvent(event);
    expect(res.status).toBeLessThan(500);
    if (res.status === 202) {
      const outcome = await h.runOutcome(
        `flow/account-activity/${person}/${event.id as string}`,
        60_000,
      );
      if (!outcome.ok) expect(outcome.message).not.toContain('secret-name');
    }
    // a BOM before the JSON body is a 4xx or accepted, never a 5xx
    const bom = await fetch(`${h.gatewayUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' },
      body: `\uFEFF${JSON.stringify(makeEvent('account.login', { id: person }, { attributes: { connector: CONNECTOR, account: 'x', at: '2026-07-16T00:00:00Z' } }))}`,
    });
    expect(bom.status).toBeLessThan(500);
  }, 240_000);
});
