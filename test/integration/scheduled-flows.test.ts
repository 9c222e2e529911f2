/**
 * The scheduled reference flows against real components: Temporal Schedules synced from the
 * reference definitions and fired with a trigger (or their `scheduledRun` started the way a
 * schedule starts it, with an input changed), PostgreSQL, slapd seeded with sign-in and
 * password-change times, and the SMTP test server.
 *
 * - dormant-accounts over 10,000 directory accounts: the blast radius parks the run before
 *   anything changes, an abort leaves everything as it was, an approval disables exactly the
 *   dormant accounts in the directory and holds them, their owners are told and the admin's CSV
 *   lists them; a later run does not find them again.
 * - password-expiry-notice: notices on exactly the configured days before and after expiry,
 *   none a day off, and disabled accounts in the admin report only when asked for.
 * - market-hours-access: the open grants market-data until the window's end and the directory
 *   adds it; a close before that end keeps it, a close after it removes it.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { Attribute, Change, Client as LdapClient } from 'ldapts';
import { accessGrants, accountHolds, accounts, persons } from '../../src/db/schema';
import { temporalScheduleId } from '../../src/schedules/ids';
import { setPaused, triggerSchedule, type OperatorContext } from '../../src/schedules/operate';
import { syncActiveSchedules, syncSchedules } from '../../src/schedules/sync';
import type { Targets } from '../../src/targets';
import type { ReceivedMail } from '../../src/targets/smtp';
import { LDAP_TARGET } from '../../src/targets/slapd';
import type { OperatorAction, RunState } from '../../src/temporal/contracts';
import type { ScheduledRunInput } from '../../workflows/scheduled';
import {
  recordSeededAccounts,
  seedLdapAccounts,
  type SeedAccount,
} from '../support/account-activity';
import { directoryReader } from '../support/directory';
import { Harness } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

const DAY = 86_400_000;
const PEOPLE = `ou=people,${LDAP_TARGET.baseDn}`;
const ADMIN = 'iam-reports@example.com';
const DORMANT_ACCOUNTS = 10_000;

let targets: Targets;
let h: Harness;
let ops: OperatorContext;

const { groupsOf } = directoryReader(() => targets);
const pad = (n: number, width = 5) => String(n).padStart(width, '0');
const ago = (days: number, from = Date.now()) => new Date(from - days * DAY);

/** Waits until at least `minutes` from UTC midnight, so calendar days do not turn mid-test. */
async function awayFromMidnight(minutes: number): Promise<void> {
  const left = DAY - (Date.now() % DAY);
  if (left < minutes * 60_000) await new Promise((r) => setTimeout(r, left + 1_000));
}

/** Every entry whose uid starts with `prefix`: uid → enabled (userAccountControl bit 2 clear). */
async function directoryStates(prefix: string): Promise<Map<string, boolean>> {
  const client = new LdapClient({ url: targets.slapd?.url ?? '' });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const { searchEntries } = await client.search(PEOPLE, {
      scope: 'one',
      filter: `(uid=${prefix}*)`,
      attributes: ['uid', 'userAccountControl'],
      paged: { pageSize: 1000 },
    });
    return new Map(
      searchEntries.map((e) => [String(e.uid), (Number(e.userAccountControl) & 2) === 0]),
    );
  } finally {
    await client.unbind();
  }
}

/** Sets userAccountControl of the entries `uids` (512 enabled, 514 disabled). */
async function setDirectoryEnabled(uids: readonly string[], enabled: boolean): Promise<void> {
  const client = new LdapClient({ url: targets.slapd?.url ?? '' });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    for (const uid of uids) {
      await client.modify(
        `uid=${uid},${PEOPLE}`,
        new Change({
          operation: 'replace',
          modification: new Attribute({
            type: 'userAccountControl',
            values: [enabled ? '512' : '514'],
          }),
        }),
      );
    }
  } finally {
    await client.unbind();
  }
}

/** The rows of a CSV as idflow writes it (RFC 4180), as maps by the header's columns. */
function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === '\n') {
      record.push(field);
      field = '';
      if (c === '\n') {
        records.push(record);
        record = [];
      }
    } else if (c !== '\r') field += c;
  }
  const [header = [], ...rows] = records;
  return rows.map((r) => Object.fromEntries(header.map((name, i) => [name, r[i] ?? ''])));
}

function mailsSince(index: number, match: (m: ReceivedMail) => boolean): ReceivedMail[] {
  return targets.smtp.messages.slice(index).filter(match);
}

async function state(runId: string): Promise<RunState | undefined> {
  return h.client.workflow
    .getHandle(runId)
    .query<RunState>('state')
    .catch(() => undefined);
}

function operator(runId: string, action: OperatorAction): Promise<RunState> {
  return h.client.workflow
    .getHandle(runId)
    .executeUpdate<RunState, [OperatorAction]>('operator', { args: [action] });
}

function parkedOn(runId: string, step: string): Promise<RunState> {
  return h.eventually(async () => {
    const s = await state(runId);
    return s?.status === 'Parked' && s.waitingOn?.step === step ? s : undefined;
  }, 120_000);
}

/** Fires `<flow>/<schedule>` now (as `idflow schedules trigger` does) and gives its run's id. */
async function trigger(flow: string, schedule: string): Promise<string> {
  const handle = h.client.schedule.getHandle(temporalScheduleId(h.taskQueue, flow, schedule));
  const ids = async () => {
    const { info } = await handle.describe();
    return [
      ...info.recentActions.map((a) => a.action.workflow.workflowId),
      ...info.runningActions.map((a) => a.workflow.workflowId),
    ];
  };
  const before = new Set(await ids());
  await triggerSchedule(ops, { flow, schedule });
  return h.eventually(async () => (await ids()).find((id) => !before.has(id)));
}

/**
 * Starts the run `<flow>/<schedule>` would start, as its schedule's action does (the pinned IR
 * and inputs), with `attributes` changed: what a trigger cannot do. Gives the run's id.
 */
async function startScheduled(
  flow: string,
  schedule: string,
  attributes: Record<string, unknown>,
): Promise<string> {
  const handle = h.client.schedule.getHandle(temporalScheduleId(h.taskQueue, flow, schedule));
  const { action } = await handle.describe();
  if (action.type !== 'startWorkflow') throw new Error('not a workflow schedule');
  const input = action.args?.[0] as ScheduledRunInput;
  const workflowId = `flow/${flow}/schedule.${schedule}-test-${randomBytes(4).toString('hex')}`;
  await h.client.workflow.start('scheduledRun', {
    taskQueue: h.taskQueue,
    workflowId,
    args: [{ ...input, attributes: { ...input.attributes, ...attributes } }],
    ...(action.typedSearchAttributes
      ? { typedSearchAttributes: action.typedSearchAttributes }
      : {}),
  });
  return workflowId;
}

// --- dormant accounts: 10,000 directory accounts, a known 750 of them dormant at 90 days ---

interface DormantCase {
  uid: string;
  personId: string;
  email?: string;
  lastLoginAt?: Date;
  validFrom?: Date;
  /** Disabled in the directory and in idflow's record before the run. */
  disabled: boolean;
  dormant: boolean;
}

/**
 * Account i by i % 20: 0 last signed in 90 to 489 days ago (dormant; every 200th owner has no
 * email); 1 exactly 89 days ago; 2 never, owner started 91-200 days ago (dormant) or, every
 * other one, 10 days ago; 3 never, no start date; 4 disabled already, signed in 200 days ago;
 * the rest signed in 0-88 days ago.
 */
function dormantCase(i: number, now: number): DormantCase {
  const id = { uid: `sfd${pad(i)}`, personId: `p-sf-d-${pad(i)}` };
  const email = i % 200 === 0 ? {} : { email: `sfd${pad(i)}@example.com` };
  const base = { ...id, ...email, disabled: false, dormant: false };
  switch (i % 20) {
    case 0:
      return { ...base, lastLoginAt: ago(90 + (Math.floor(i / 20) % 400), now), dormant: true };
    case 1:
      return { ...base, lastLoginAt: ago(89, now) };
    case 2:
      return i % 40 === 2
        ? { ...base, validFrom: ago(91 + (i % 110), now), dormant: true }
        : { ...base, validFrom: ago(10, now) };
    case 3:
      return base;
    case 4:
      return { ...base, lastLoginAt: ago(200, now), disabled: true };
    default:
      return { ...base, lastLoginAt: ago(i % 89, now) };
  }
}

let dormantCases: DormantCase[];

beforeAll(async () => {
  const world = await referenceWorld('scheduled-flows');
  targets = world.targets;
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
  ops = { db: h.db.db, client: h.client, taskQueue: h.taskQueue, actor: 'test-operator' };
  // the reference flows' schedules, as `idflow definitions apply` syncs them; paused, so only
  // the test fires them
  const synced = await syncActiveSchedules(h.db.db, h.client, {
    taskQueue: h.taskQueue,
    actor: 'test',
  });
  const names = synced.created.map((r) => `${r.flow}/${r.schedule}`).sort();
  expect(names).toEqual([
    'dormant-accounts/nightly',
    'market-hours-access/close',
    'market-hours-access/open',
    'password-expiry-notice/daily',
  ]);
  for (const r of synced.created)
    await setPaused(ops, { flow: r.flow, schedule: r.schedule }, true, 'fired by the test only');

  await awayFromMidnight(10);
  const now = Date.now();
  dormantCases = Array.from({ length: DORMANT_ACCOUNTS }, (_, i) => dormantCase(i, now));
  const seeding = Date.now();
  for (let i = 0; i < dormantCases.length; i += 1000) {
    await h.db.db.insert(persons).values(
      dormantCases.slice(i, i + 1000).map((c) => ({
        id: c.personId,
        status: 'active',
        displayName: `Dormant Tester ${c.uid.slice(3)}`,
        ...(c.email ? { email: c.email } : {}),
        ...(c.validFrom ? { validFrom: c.validFrom } : {}),
        attributes: { username: c.uid },
      })),
    );
  }
  const seed: SeedAccount[] = dormantCases.map((c) => ({
    uid: c.uid,
    owner: c.personId,
    ...(c.lastLoginAt ? { lastLoginAt: c.lastLoginAt } : {}),
  }));
  await seedLdapAccounts(targets.slapd?.url ?? '', seed, { concurrency: 16 });
  await recordSeededAccounts(h.db.db, 'corp-directory', seed);
  const disabled = dormantCases.filter((c) => c.disabled).map((c) => c.uid);
  await setDirectoryEnabled(disabled, false);
  await h.db.db
    .update(accounts)
    .set({ status: 'disabled' })
    .where(inArray(accounts.accountName, disabled));
  console.log(`seeded ${DORMANT_ACCOUNTS} accounts in ${Date.now() - seeding} ms`);
}, 240_000);

afterAll(async () => {
  // this deployment's schedules go with it
  if (h?.client) await syncSchedules(h.client, h.taskQueue, []).catch(() => undefined);
  await h?.close();
  await targets?.stop();
});

/** The directory is as seeded: the already-disabled accounts disabled, every other enabled. */
async function expectDirectoryAsSeeded(): Promise<void> {
  const states = await directoryStates('sfd');
  expect(states.size).toBe(DORMANT_ACCOUNTS);
  const wrong = dormantCases.filter((c) => states.get(c.uid) !== !c.disabled);
  expect(wrong.map((c) => c.uid)).toEqual([]);
}

const dormantNotices = (since: number) =>
  mailsSince(since, (m) => m.subject.startsWith('Your account sfd'));

test('dormant accounts over the blast radius: the run parks before changing anything; abort leaves everything as it was', async () => {
  const mails = targets.smtp.messages.length;
  const runId = await trigger('dormant-accounts', 'nightly');
  const parked = await parkedOn(runId, 'act-on-dormant');
  const error = (parked.waitingOn as { error: { type: string; message: string } }).error;
  expect(error.type).toBe('BlastRadiusExceeded');
  // 750 of 10,000 accounts is 7.5 %: over both 200 accounts and 5 %
  expect(error.message).toContain('would act on 750 of 10,000 accounts (7.5 %)');
  expect(error.message).toContain('200 accounts or 5 %');
  // the sign-ins were read first: idflow's records carry the directory's times
  const read = parked.steps.find((s) => s.id === 'refresh-sign-ins');
  expect(read?.output).toMatchObject({ read: DORMANT_ACCOUNTS, updated: DORMANT_ACCOUNTS });
  await expectDirectoryAsSeeded();
  expect(dormantNotices(mails)).toEqual([]);

  await operator(runId, {
    action: 'abort',
    step: 'act-on-dormant',
    by: 'ops-1',
    reason: 'not tonight',
  });
  expect(await h.runOutcome(runId, 60_000)).toMatchObject({
    ok: false,
    type: 'AbortedByOperator',
  });
  await expectDirectoryAsSeeded();
  expect(targets.smtp.messages.length).toBe(mails); // no notice, no report
}, 180_000);

test('dormant accounts: approved, exactly the dormant accounts are disabled in the directory and held, their owners told, and the admin CSV lists them', async () => {
  const mails = targets.smtp.messages.length;
  const started = Date.now();
  const runId = await trigger('dormant-accounts', 'nightly');
  await parkedOn(runId, 'act-on-dormant');
  await expectDirectoryAsSeeded(); // parked: nothing changed yet
  await operator(runId, {
    action: 'approve',
    step: 'act-on-dormant',
    by: 'ops-1',
    reason: 'first run after the sign-in feed was connected',
  });
  const outcome = await h.runOutcome(runId, 180_000);
  expect(outcome.ok).toBe(true);
  console.log(`dormant run over ${DORMANT_ACCOUNTS} accounts: ${Date.now() - started} ms`);

  const dormant = dormantCases.filter((c) => c.dormant);
  expect(dormant).toHaveLength(750);
  const s = (await state(runId)) as RunState;
  expect(s.steps.find((r) => r.id === 'act-on-dormant')?.output).toMatchObject({
    scanned: DORMANT_ACCOUNTS,
    total: 750,
    completed: 750,
    failed: 0,
    approvedBy: 'ops-1',
  });

  // the directory itself: the dormant accounts disabled, every other as it was
  const states = await directoryStates('sfd');
  const wrong = dormantCases.filter((c) => states.get(c.uid) !== !(c.disabled || c.dormant));
  expect(wrong.map((c) => c.uid)).toEqual([]);

  // each one held (dormant) by this run, so no reconcile enables it again, and recorded disabled
  const holds = await h.db.db
    .select()
    .from(accountHolds)
    .where(and(eq(accountHolds.reason, 'dormant'), isNull(accountHolds.liftedAt)));
  expect(holds.map((r) => r.personId).sort()).toEqual(dormant.map((c) => c.personId).sort());
  expect(new Set(holds.map((r) => `${r.connector} ${r.placedBy}`))).toEqual(
    new Set([`corp-directory run:${runId}`]),
  );
  const recorded = await h.db.db
    .select({ status: accounts.status, n: sql<number>`count(*)::int` })
    .from(accounts)
    .where(
      inArray(
        accounts.personId,
        dormant.map((c) => c.personId),
      ),
    )
    .groupBy(accounts.status);
  expect(recorded).toEqual([{ status: 'disabled', n: 750 }]);

  // each owner with an address was told, once; nobody else
  const told = dormantNotices(mails);
  const expected = dormant.filter((c) => c.email).map((c) => c.email as string);
  expect(expected).toHaveLength(700);
  expect(told.map((m) => m.to.join(',')).sort()).toEqual([...expected].sort());
  const boundary = dormant.find((c) => c.uid === 'sfd00000') as DormantCase; // exactly 90 days
  expect(boundary.email).toBeUndefined();
  const first = told.find((m) => m.to[0] === 'sfd00020@example.com') as ReceivedMail;
  expect(first.subject).toBe('Your account sfd00020 was disabled after 91 days without a sign-in');
  expect(first.text).toContain('Hello Dormant Tester 00020');

  // the admin's report: one mail, a CSV with exactly the dormant accounts
  const reports = mailsSince(mails, (m) => m.to.includes(ADMIN));
  expect(reports).toHaveLength(1);
  const report = reports[0] as ReceivedMail;
  expect(report.subject).toBe('Dormant accounts on corp-directory: 750 (disable)');
  const csv = report.attachments.find((a) => a.filename === 'dormant-accounts.csv');
  expect(csv?.contentType).toMatch(/^text\/csv/);
  const rows = parseCsv(csv?.content ?? '');
  // the columns the flow's collect names, in the order it names them
  expect(Object.keys(rows[0] ?? {})).toEqual([
    'account',
    'personId',
    'displayName',
    'lastLogin',
    'idleDays',
    'action',
  ]);
  expect(rows.map((r) => r.account).sort()).toEqual(dormant.map((c) => c.uid).sort());
  const byAccount = new Map(rows.map((r) => [r.account, r]));
  for (const c of dormant) {
    const row = byAccount.get(c.uid) as Record<string, string>;
    expect(row.personId).toBe(c.personId);
    expect(row.action).toBe('disabled');
    const since = (c.lastLoginAt ?? c.validFrom) as Date;
    const whole = new Date(Math.floor(since.getTime() / 1000) * 1000);
    expect(row.lastLogin).toBe(c.lastLoginAt ? whole.toISOString() : 'never');
    expect(Number(row.idleDays)).toBe(
      Math.floor(Date.now() / DAY) - Math.floor(since.getTime() / DAY),
    );
  }
  expect(byAccount.get('sfd00000')?.idleDays).toBe('90');
}, 240_000);

test('dormant accounts, report only: every account unused for 7 days is listed, nothing is changed and the blast radius does not apply', async () => {
  const mails = targets.smtp.messages.length;
  const before = await directoryStates('sfd');
  const runId = await startScheduled('dormant-accounts', 'nightly', { action: 'report', days: 7 });
  expect(await h.runOutcome(runId, 180_000)).toMatchObject({ ok: true });
  expect(await directoryStates('sfd')).toEqual(before);
  expect(dormantNotices(mails)).toEqual([]);
  const now = Date.now();
  const idle = (c: DormantCase) => {
    const since = c.lastLoginAt ?? c.validFrom;
    return since ? Math.floor(now / DAY) - Math.floor(since.getTime() / DAY) : -1;
  };
  // the accounts the nightly run disabled are held and recorded disabled: not listed again
  const listed = dormantCases.filter((c) => !c.disabled && !c.dormant && idle(c) >= 7);
  const [report] = mailsSince(mails, (m) => m.to.includes(ADMIN));
  expect(report?.subject).toBe(`Dormant accounts on corp-directory: ${listed.length} (report)`);
  const rows = parseCsv(report?.attachments[0]?.content ?? '');
  expect(rows.map((r) => r.account).sort()).toEqual(listed.map((c) => c.uid).sort());
  expect(new Set(rows.map((r) => r.action))).toEqual(new Set(['none (report only)']));
}, 240_000);

// --- password expiry: accounts on every configured day, and a day either side ---

const BEFORE = [30, 15, 7, 1, 0];
const AFTER = [1, 7];
/** Days left (negative: days since expiry) on which owners are told. */
const NOTICE_DAYS = [...BEFORE, ...AFTER.map((d) => -d)];
/** A day either side of each notice day that is not a notice day itself. */
const OFF_DAYS = [
  ...new Set(NOTICE_DAYS.flatMap((d) => [d - 1, d + 1]).filter((d) => !NOTICE_DAYS.includes(d))),
];

interface PasswordCase {
  uid: string;
  personId: string;
  email?: string;
  daysLeft: number;
  disabled: boolean;
}

test('password expiry: notices on exactly the configured days before and after expiry, none a day off; disabled accounts reported only with includeDisabled', async () => {
  await awayFromMidnight(3);
  const now = Date.now();
  const cases: PasswordCase[] = [];
  const add = (daysLeft: number, kind: 'on' | 'off' | 'disabled' | 'no-mail') => {
    const n = cases.length;
    const tag = `${kind === 'off' ? 'o' : kind === 'disabled' ? 'x' : kind === 'no-mail' ? 'n' : 'c'}${daysLeft < 0 ? 'm' : 'p'}${Math.abs(daysLeft)}`;
    const uid = `sfp${tag}`;
    cases.push({
      uid,
      personId: `p-sf-pw-${pad(n, 3)}`,
      ...(kind === 'no-mail' ? {} : { email: `${uid}@example.com` }),
      daysLeft,
      disabled: kind === 'disabled',
    });
  };
  for (const d of NOTICE_DAYS) add(d, 'on');
  for (const d of OFF_DAYS) add(d, 'off');
  for (const d of NOTICE_DAYS) add(d, 'disabled');
  add(7, 'no-mail');
  await h.db.db.insert(persons).values(
    cases.map((c) => ({
      id: c.personId,
      status: 'active',
      displayName: `Password Tester ${c.uid}`,
      ...(c.email ? { email: c.email } : {}),
    })),
  );
  // changed (90 - daysLeft) days ago; signed in yesterday, so none of them is dormant
  const seed: SeedAccount[] = cases.map((c) => ({
    uid: c.uid,
    owner: c.personId,
    passwordChangedAt: ago(90 - c.daysLeft, now),
    lastLoginAt: ago(1, now),
  }));
  await seedLdapAccounts(targets.slapd?.url ?? '', seed);
  await recordSeededAccounts(h.db.db, 'corp-directory', seed);
  const disabled = cases.filter((c) => c.disabled).map((c) => c.uid);
  await setDirectoryEnabled(disabled, false);
  await h.db.db
    .update(accounts)
    .set({ status: 'disabled' })
    .where(inArray(accounts.accountName, disabled));

  const noticesOf = (since: number) =>
    mailsSince(since, (m) => m.subject.startsWith('Your password for sfp'));
  const reportOf = async (since: number) => {
    const [mail] = await h.eventually(() => {
      const found = mailsSince(since, (m) => m.to.includes(ADMIN));
      return Promise.resolve(found.length ? found : undefined);
    });
    const csv = (mail as ReceivedMail).attachments.find(
      (a) => a.filename === 'password-expiry.csv',
    );
    return parseCsv(csv?.content ?? '');
  };
  const told = cases.filter((c) => NOTICE_DAYS.includes(c.daysLeft) && !c.disabled && c.email);
  expect(told).toHaveLength(NOTICE_DAYS.length);

  // the schedule as it is: includeDisabled false
  let mails = targets.smtp.messages.length;
  const runId = await trigger('password-expiry-notice', 'daily');
  expect(await h.runOutcome(runId, 120_000)).toMatchObject({ ok: true });
  let notices = noticesOf(mails);
  expect(notices.map((m) => m.to.join(',')).sort()).toEqual(told.map((c) => c.email).sort());
  for (const c of told) {
    const mail = notices.find((m) => m.to[0] === c.email) as ReceivedMail;
    const when =
      c.daysLeft === 0 ? 'today' : c.daysLeft === 1 ? 'tomorrow' : `in ${c.daysLeft} days`;
    expect(mail.subject).toBe(
      c.daysLeft >= 0
        ? `Your password for ${c.uid} expires ${when}`
        : `Your password for ${c.uid} expired ${-c.daysLeft} days ago`,
    );
  }
  let rows = await reportOf(mails);
  const onDay = (includeDisabled: boolean) =>
    cases
      .filter((c) => NOTICE_DAYS.includes(c.daysLeft) && (includeDisabled || !c.disabled))
      .map((c) => c.uid)
      .sort();
  expect(rows.map((r) => r.account).sort()).toEqual(onDay(false));
  for (const row of rows) {
    const c = cases.find((x) => x.uid === row.account) as PasswordCase;
    expect(Number(row.daysLeft)).toBe(Math.max(c.daysLeft, 0));
    expect(Number(row.daysExpired)).toBe(Math.max(-c.daysLeft, 0));
    expect(row.notice).toBe(
      !c.email ? 'none' : c.daysLeft >= 0 ? 'expiry notice' : 'expired notice',
    );
  }

  // includeDisabled: the disabled accounts of the day are reported, and still not told
  mails = targets.smtp.messages.length;
  const withDisabled = await startScheduled('password-expiry-notice', 'daily', {
    includeDisabled: true,
  });
  expect(await h.runOutcome(withDisabled, 120_000)).toMatchObject({ ok: true });
  notices = noticesOf(mails);
  expect(notices.map((m) => m.to.join(',')).sort()).toEqual(told.map((c) => c.email).sort());
  rows = await reportOf(mails);
  expect(rows.map((r) => r.account).sort()).toEqual(onDay(true));
  for (const row of rows.filter((r) => r.account?.startsWith('sfpx'))) {
    expect(row).toMatchObject({ status: 'disabled', notice: 'none' });
  }
}, 180_000);

// --- market hours: a grant that ends by itself ---

test('market hours: the open grants market-data until the window ends and the directory adds it; a close after the end removes it', async () => {
  const traders = ['p-sf-m-1', 'p-sf-m-2', 'p-sf-m-3'];
  const others = [
    { id: 'p-sf-m-4', status: 'active', attributes: { marketHours: false } },
    { id: 'p-sf-m-5', status: 'disabled', attributes: { marketHours: true } },
    { id: 'p-sf-m-6', status: 'active', attributes: {} },
  ];
  await h.db.db
    .insert(persons)
    .values([
      ...traders.map((id) => ({ id, status: 'active', attributes: { marketHours: true } })),
      ...others,
    ]);
  // each has a username, so reconcile gives the directory account the staff role requires
  await h.db.db.execute(
    sql`update persons set attributes = attributes || jsonb_build_object('username', 'sfm' || substr(id, 8)) where id like 'p-sf-m-%'`,
  );
  const uid = (id: string) => `sfm${id.slice(7)}`;

  const window = 30_000;
  const open = await startScheduled('market-hours-access', 'open', { window: '30s' });
  expect(await h.runOutcome(open, 120_000)).toMatchObject({ ok: true });
  const openedAt = (await h.client.workflow.getHandle(open).describe()).startTime;
  const end = openedAt.getTime() + window;
  for (const id of traders) expect(await groupsOf(uid(id))).toContain('market-data');
  for (const { id } of others) expect(await groupsOf(uid(id))).not.toContain('market-data');
  const grants = await h.db.db
    .select()
    .from(accessGrants)
    .where(eq(accessGrants.value, 'market-data'));
  expect(grants.map((g) => g.personId).sort()).toEqual(traders);
  for (const g of grants) {
    expect(g).toMatchObject({ connector: 'corp-directory', kind: 'group', reason: 'Market hours' });
    expect(g.validUntil?.getTime()).toBe(end); // the window's end, from the scheduled time
  }

  // a close before the end changes nothing: the grant still counts
  const early = await trigger('market-hours-access', 'close');
  expect(await h.runOutcome(early, 60_000)).toMatchObject({ ok: true });
  expect(Date.now()).toBeLessThan(end); // the window was long enough for this check
  for (const id of traders) expect(await groupsOf(uid(id))).toContain('market-data');

  // after the end, the close removes it and leaves the rest of their access
  await new Promise((r) => setTimeout(r, Math.max(0, end - Date.now()) + 1_000));
  const close = await trigger('market-hours-access', 'close');
  expect(await h.runOutcome(close, 60_000)).toMatchObject({ ok: true });
  for (const id of traders) {
    const groups = await groupsOf(uid(id));
    expect(groups).not.toContain('market-data');
    expect(groups).toContain('all-staff');
  }
}, 180_000);
