/**
 * A person's lifecycle through the reference flows, against slapd, the SCIM service, SMTP and a
 * fake Slack: a planned leaver changes nothing before the last day, is termination-pending
 * (accounts disabled, groups removed) at it and terminated after the grace period (the CRM,
 * configured `accounts.onTermination: delete`, loses the user; the directory keeps it
 * disabled); an immediate leaver; a contractor without grace; a reactivation cancels a pending
 * leaver and restores; a rehire gets the same person id and account back; a suspected account
 * takeover suspends, disables, alerts security by mail and Slack, and re-enables on approval.
 * Dates and durations are second-scale through the leaver's noticePeriod and gracePeriod.
 */
import { accountsOf } from '../../src/db/repos/access';
import { getPerson, insertPersonIfAbsent } from '../../src/db/repos/persons';
import type { RunState } from '../../src/temporal/contracts';
import type { Targets } from '../../src/targets';
import { directoryReader } from '../support/directory';
import { FakeSlack } from '../support/fake-slack';
import { Harness, makeEvent } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

const SLACK_TOKEN = 'xoxb-lifecycle-test';

let targets: Targets;
let slack: FakeSlack;
let h: Harness;

const FLOWS: Record<string, string> = {
  'person.joiner': 'joiner-standard',
  'person.rehire': 'joiner-standard',
  'person.leaver': 'leaver-standard',
  'person.reactivation': 'reactivation',
  'account.takeover-suspected': 'account-takeover',
};

beforeAll(async () => {
  slack = new FakeSlack(SLACK_TOKEN, {});
  await slack.start();
  const world = await referenceWorld('lifecycle', {}, { slackApiUrl: slack.url });
  targets = world.targets;
  h = new Harness({
    definitions: [world.definitions],
    env: { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.url },
  });
  await h.start();
  // who decides whether a suspended person is re-enabled
  await insertPersonIfAbsent(h.db.db, {
    id: 'p-sec',
    displayName: 'Sid Security',
    email: 'sid@example.com',
    status: 'active',
    attributes: { groups: ['security-responders'] },
  });
  const boss = await send('person.joiner', {
    id: 'p-boss',
    givenName: 'Bea',
    familyName: 'Boss',
    email: 'boss@example.com',
    department: 'Finance',
  });
  expect(await boss.outcome()).toMatchObject({ ok: true });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await targets?.stop();
  await slack?.stop();
});

async function send(
  type: string,
  subject: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  flow?: string,
) {
  const event = makeEvent(type, subject, {
    effectiveAt: new Date(Date.now() - 60_000).toISOString(),
    ...extra,
  });
  expect((await h.postEvent(event)).status).toBe(202);
  const name = flow ?? FLOWS[type] ?? type;
  const runId = `flow/${name}/${subject.id as string}/${event.id as string}`;
  return { runId, outcome: () => h.runOutcome(runId, 90_000) };
}

async function state(runId: string): Promise<RunState> {
  return h.client.workflow.getHandle(runId).query<RunState>('state');
}

/** The run's state once `ready` holds for it (the run may not have started yet). */
function stateWhen(runId: string, ready: (s: RunState) => boolean): Promise<RunState> {
  return h.eventually(async () => {
    const s = await state(runId).catch(() => undefined);
    return s && ready(s) ? s : undefined;
  }, 60_000);
}

const completed = (id: string) => (s: RunState) =>
  s.steps.some((x) => x.id === id && x.status === 'completed');

const { entriesOf, groupsOf } = directoryReader(() => targets);

/** The person's CRM users (externalId), with their name and state. */
function crmUsers(personId: string) {
  return [...targets.scim.users.values()]
    .filter((u) => u.externalId === personId)
    .map((u) => ({ userName: u.userName, active: u.active !== false }));
}

async function status(personId: string): Promise<string | undefined> {
  return (await getPerson(h.db.db, personId))?.status;
}

const sales = (id: string, givenName: string, familyName: string) => ({
  id,
  givenName,
  familyName,
  email: `${givenName.toLowerCase()}@example.com`,
  department: 'Sales',
  employmentType: 'employee',
  managerId: 'p-boss',
});

const SALES_GROUPS = ['all-staff', 'sales', 'vpn-users'];

async function joined(subject: Record<string, unknown>, uid: string): Promise<void> {
  expect(await (await send('person.joiner', subject)).outcome()).toMatchObject({ ok: true });
  expect(await groupsOf(uid)).toEqual(SALES_GROUPS);
  expect(crmUsers(subject.id as string)).toEqual([{ userName: uid, active: true }]);
}

test('a planned leaver: notice ahead, nothing changes before the last day, disabled at it, terminated and the CRM user deleted after the grace period', async () => {
  await joined(sales('p-lee', 'Lee', 'Leaver'), 'lleaver');
  const mailsBefore = targets.smtp.messages.length;
  const lastDay = new Date(Date.now() + 12_000);
  const leaver = await send(
    'person.leaver',
    { id: 'p-lee', employmentType: 'employee' },
    { effectiveAt: lastDay.toISOString(), attributes: { noticePeriod: '6s', gracePeriod: '6s' } },
  );

  // the notice period before the last day: the manager is told, nothing else changes
  await stateWhen(leaver.runId, (s) => s.waitingOn?.step === 'wait-for-last-day');
  const [notice] = (await targets.smtp.waitFor(mailsBefore + 1)).slice(mailsBefore);
  expect(notice).toMatchObject({
    to: ['boss@example.com'],
    subject: `Lee Leaver leaves on ${lastDay.toISOString()}`,
  });
  expect(Date.now()).toBeLessThan(lastDay.getTime());
  expect(await status('p-lee')).toBe('active');
  expect(await entriesOf('p-lee')).toEqual([{ uid: 'lleaver', enabled: true }]);
  expect(await groupsOf('lleaver')).toEqual(SALES_GROUPS);
  expect(crmUsers('p-lee')).toEqual([{ userName: 'lleaver', active: true }]);

  // the last day: termination-pending, groups removed, every account disabled
  await stateWhen(leaver.runId, completed('access'));
  expect(Date.now()).toBeGreaterThanOrEqual(lastDay.getTime());
  expect(await status('p-lee')).toBe('termination-pending');
  expect(await entriesOf('p-lee')).toEqual([{ uid: 'lleaver', enabled: false }]);
  expect(await groupsOf('lleaver')).toEqual([]);
  expect(crmUsers('p-lee')).toEqual([{ userName: 'lleaver', active: false }]);

  // after the grace period: terminated; the CRM deletes, the directory keeps it disabled
  expect(await leaver.outcome()).toMatchObject({ ok: true });
  expect(await status('p-lee')).toBe('terminated');
  expect(await entriesOf('p-lee')).toEqual([{ uid: 'lleaver', enabled: false }]);
  expect(crmUsers('p-lee')).toEqual([]);
  const out = (await state(leaver.runId)).steps.find((x) => x.id === 'close-accounts')?.output as {
    removed: number;
    plan: { removals: string[] };
  };
  expect(out.plan.removals).toEqual(['crm: delete account (lleaver)']);
  const records = await accountsOf(h.db.db, 'p-lee');
  expect(records.map((r) => [r.connector, r.status])).toEqual([
    ['corp-directory', 'disabled'],
    ['crm', 'deleted'],
  ]);
});

test('a rehire of a terminated person: the same person id, the same directory account enabled again, the deleted CRM user created again under its name', async () => {
  expect(await status('p-lee')).toBe('terminated');
  const rehire = await send('person.rehire', { ...sales('p-lee', 'Lee', 'Leaver') });
  expect(await rehire.outcome()).toMatchObject({ ok: true });
  expect(await status('p-lee')).toBe('active');
  expect(await entriesOf('p-lee')).toEqual([{ uid: 'lleaver', enabled: true }]);
  expect(await groupsOf('lleaver')).toEqual(SALES_GROUPS);
  expect(crmUsers('p-lee')).toEqual([{ userName: 'lleaver', active: true }]);
  const derived = (await state(rehire.runId)).steps.find((x) => x.id === 'derive-username')
    ?.output as { username: string; existing: boolean };
  expect(derived).toEqual({ username: 'lleaver', existing: true });
});

test('an immediate leaver is disabled at once and the manager told; a reactivation cancels the leaver and restores accounts and groups', async () => {
  await joined(sales('p-ivy', 'Ivy', 'Instant'), 'iinstant');
  const mailsBefore = targets.smtp.messages.length;
  const leaver = await send(
    'person.leaver',
    { id: 'p-ivy', employmentType: 'employee' },
    { attributes: { gracePeriod: '1h' } },
  );
  const pending = await stateWhen(leaver.runId, (s) => s.waitingOn?.step === 'grace-period');
  expect(pending.steps.find((x) => x.id === 'wait-for-notice-day')).toBeUndefined();
  expect(await status('p-ivy')).toBe('termination-pending');
  expect(await entriesOf('p-ivy')).toEqual([{ uid: 'iinstant', enabled: false }]);
  expect(await groupsOf('iinstant')).toEqual([]);
  expect(crmUsers('p-ivy')).toEqual([{ userName: 'iinstant', active: false }]);
  const [told] = (await targets.smtp.waitFor(mailsBefore + 1)).slice(mailsBefore);
  expect(told).toMatchObject({ to: ['boss@example.com'], subject: 'Ivy Instant has left' });

  const back = await send('person.reactivation', { id: 'p-ivy' });
  expect(await back.outcome()).toMatchObject({ ok: true });
  expect(await leaver.outcome()).toMatchObject({ ok: false });
  expect(await status('p-ivy')).toBe('active');
  expect(await entriesOf('p-ivy')).toEqual([{ uid: 'iinstant', enabled: true }]);
  expect(await groupsOf('iinstant')).toEqual(SALES_GROUPS);
  expect(crmUsers('p-ivy')).toEqual([{ userName: 'iinstant', active: true }]);
  // the cancelled leaver's later steps never ran
  const ended = await state(leaver.runId);
  expect(ended.steps.map((x) => x.id)).not.toContain('terminate');
});

test('a contractor leaves without grace: terminated at once, the CRM user deleted, the directory account disabled', async () => {
  const cora = { ...sales('p-cora', 'Cora', 'Contract'), employmentType: 'contractor' };
  expect(await (await send('person.joiner', cora)).outcome()).toMatchObject({ ok: true });
  expect(crmUsers('p-cora')).toEqual([{ userName: 'ccontract', active: true }]);
  const leaver = await send(
    'person.leaver',
    { id: 'p-cora', employmentType: 'contractor' },
    {},
    'leaver-contractor',
  );
  expect(await leaver.outcome()).toMatchObject({ ok: true });
  expect(await status('p-cora')).toBe('terminated');
  expect(await entriesOf('p-cora')).toEqual([{ uid: 'ccontract', enabled: false }]);
  expect(await groupsOf('ccontract')).toEqual([]);
  expect(crmUsers('p-cora')).toEqual([]);
});

test('a suspected account takeover: suspended, every account disabled, security told by mail and in Slack, re-enabled when security approves', async () => {
  await joined(sales('p-tom', 'Tom', 'Taken'), 'ttaken');
  const mailsBefore = targets.smtp.messages.length;
  const posts = slack.of('chat.postMessage').length;
  const run = await send(
    'account.takeover-suspected',
    { id: 'p-tom' },
    { attributes: { signal: 'impossible travel' } },
  );
  const waiting = await stateWhen(run.runId, (s) => s.waitingOn?.kind === 'approval');
  expect(waiting.waitingOn).toMatchObject({ step: 're-enable' });
  // accounts disabled beside the alerts, in one parallel step
  const contain = waiting.steps.find((x) => x.id === 'contain') as unknown as {
    branches: Array<{ id: string; status: string }>;
  };
  expect(contain.branches.map((b) => [b.id, b.status])).toEqual([
    ['accounts', 'completed'],
    ['mail', 'completed'],
    ['slack', 'completed'],
  ]);
  expect(await status('p-tom')).toBe('suspended');
  expect(await entriesOf('p-tom')).toEqual([{ uid: 'ttaken', enabled: false }]);
  expect(crmUsers('p-tom')).toEqual([{ userName: 'ttaken', active: false }]);
  const mails = (await targets.smtp.waitFor(mailsBefore + 1)).slice(mailsBefore);
  expect(mails.find((m) => m.to.includes('security@example.com'))).toMatchObject({
    subject: 'Possible account takeover: Tom Taken suspended',
  });
  const slackPosts = slack.of('chat.postMessage').slice(posts);
  expect(slackPosts.find((p) => p.channel === '#security')?.text).toMatch(
    /Possible account takeover: Tom Taken suspended/,
  );

  await h.client.workflow.getHandle(run.runId).executeUpdate('decide', {
    args: [
      { step: 're-enable', decision: 'approve', by: 'p-sec', onBehalfOf: 'p-sec', channel: 'api' },
    ],
  });
  expect(await run.outcome()).toMatchObject({ ok: true });
  expect(await status('p-tom')).toBe('active');
  expect(await entriesOf('p-tom')).toEqual([{ uid: 'ttaken', enabled: true }]);
  expect(await groupsOf('ttaken')).toEqual(SALES_GROUPS);
  expect(crmUsers('p-tom')).toEqual([{ userName: 'ttaken', active: true }]);
});

test('a suspected account takeover security rejects: the person stays suspended, the accounts disabled', async () => {
  await joined(sales('p-rex', 'Rex', 'Rejected'), 'rrejected');
  const run = await send('account.takeover-suspected', { id: 'p-rex' });
  await stateWhen(run.runId, (s) => s.waitingOn?.kind === 'approval');
  await h.client.workflow.getHandle(run.runId).executeUpdate('decide', {
    args: [
      { step: 're-enable', decision: 'reject', by: 'p-sec', onBehalfOf: 'p-sec', channel: 'api' },
    ],
  });
  expect(await run.outcome()).toMatchObject({ ok: true });
  expect(await status('p-rex')).toBe('suspended');
  expect(await entriesOf('p-rex')).toEqual([{ uid: 'rrejected', enabled: false }]);
  expect(await groupsOf('rrejected')).toEqual([]);
  expect(crmUsers('p-rex')).toEqual([{ userName: 'rrejected', active: false }]);
  const steps = (await state(run.runId)).steps.map((x) => x.id);
  expect(steps).not.toContain('reactivate');
});
