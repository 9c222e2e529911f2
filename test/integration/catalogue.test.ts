/**
 * The event catalogue runs green: each example in examples/events/ for the lifecycle events
 * (location changes, preleaver notification, suspected account takeover, leaver, reactivation,
 * rehire) is posted through the API as it is — with a fresh event id, and the leaver's
 * gracePeriod shortened to seconds — and its runs complete with the effect visible in slapd,
 * SMTP and the fake Slack. They follow one person, Ada (p-1001), from her joiner to her rehire.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getPerson, insertPersonIfAbsent } from '../../src/db/repos/persons';
import type { RunState } from '../../src/temporal/contracts';
import type { Targets } from '../../src/targets';
import { directoryReader } from '../support/directory';
import { FakeSlack } from '../support/fake-slack';
import { Harness, ROOT } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

const SLACK_TOKEN = 'xoxb-catalogue-test';
const ADA = 'p-1001';

let targets: Targets;
let slack: FakeSlack;
let h: Harness;

/** An example event as it is, with a fresh id (and attributes merged in, when given). */
function example(file: string, attributes: Record<string, unknown> = {}) {
  const event = JSON.parse(readFileSync(join(ROOT, 'examples', 'events', file), 'utf8')) as {
    id: string;
    attributes?: Record<string, unknown>;
    subject: { id: string };
  } & Record<string, unknown>;
  return {
    ...event,
    id: `${event.id}-${randomBytes(3).toString('hex')}`,
    ...(Object.keys(attributes).length
      ? { attributes: { ...(event.attributes ?? {}), ...attributes } }
      : {}),
  };
}

/** Posts the example and gives the run its policy starts for `flow`. */
async function post(file: string, flow: string, attributes: Record<string, unknown> = {}) {
  const event = example(file, attributes);
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/${flow}/${event.subject.id}/${event.id}`;
  return { runId, outcome: () => h.runOutcome(runId, 90_000) };
}

function stateWhen(runId: string, ready: (s: RunState) => boolean): Promise<RunState> {
  return h.eventually(async () => {
    const s = await h.client.workflow
      .getHandle(runId)
      .query<RunState>('state')
      .catch(() => undefined);
    return s && ready(s) ? s : undefined;
  }, 60_000);
}

const { entriesOf, groupsOf } = directoryReader(() => targets);

/** Ada's directory entries (by owner), with uid and whether enabled. */
const adaEntries = () => entriesOf(ADA);

const ada = () => getPerson(h.db.db, ADA);
const secondaryLocations = (person: { attributes: unknown } | undefined) =>
  (person?.attributes as { secondaryLocations?: unknown } | undefined)?.secondaryLocations;
const ADA_GROUPS = ['all-staff', 'deployers', 'engineering', 'site-london', 'vpn-users'];

beforeAll(async () => {
  slack = new FakeSlack(SLACK_TOKEN, {});
  await slack.start();
  const world = await referenceWorld('catalogue', {}, { slackApiUrl: slack.url });
  targets = world.targets;
  h = new Harness({
    definitions: [world.definitions],
    env: { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_API_URL: slack.url },
  });
  await h.start();
  await insertPersonIfAbsent(h.db.db, {
    id: 'p-sec',
    displayName: 'Sid Security',
    email: 'sid@example.com',
    status: 'active',
    attributes: { groups: ['security-responders'] },
  });
  for (const file of ['joiner-manager.json', 'joiner.json']) {
    const { outcome } = await post(file, 'joiner-standard');
    expect(await outcome()).toMatchObject({ ok: true });
  }
  expect(await groupsOf('alovelace')).toEqual(ADA_GROUPS);
}, 120_000);

afterAll(async () => {
  await h?.close();
  await targets?.stop();
  await slack?.stop();
});

test('role.location-changed and role.location-reverted: the site group follows the location', async () => {
  const moved = await post('location-changed.json', 'location-change');
  expect(await moved.outcome()).toMatchObject({ ok: true });
  expect(await ada()).toMatchObject({
    location: 'Berlin',
    attributes: expect.objectContaining({ previousLocation: 'London' }) as unknown,
  });
  expect(await groupsOf('alovelace')).toEqual([
    'all-staff',
    'deployers',
    'engineering',
    'site-berlin',
    'vpn-users',
  ]);
  const back = await post('location-reverted.json', 'location-change');
  expect(await back.outcome()).toMatchObject({ ok: true });
  expect((await ada())?.location).toBe('London');
  expect(await groupsOf('alovelace')).toEqual(ADA_GROUPS);
});

test('role.secondary-location-added and -removed: a second site group comes and goes', async () => {
  const added = await post('secondary-location-added.json', 'secondary-location-added');
  expect(await added.outcome()).toMatchObject({ ok: true });
  expect(secondaryLocations(await ada())).toEqual(['Berlin']);
  expect(await groupsOf('alovelace')).toEqual([
    'all-staff',
    'deployers',
    'engineering',
    'site-berlin',
    'site-london',
    'vpn-users',
  ]);
  const removed = await post('secondary-location-removed.json', 'secondary-location-removed');
  expect(await removed.outcome()).toMatchObject({ ok: true });
  expect(secondaryLocations(await ada())).toEqual([]);
  expect(await groupsOf('alovelace')).toEqual(ADA_GROUPS);
});

test('person.preleaver-notification: the manager is mailed the leave date, nothing else changes', async () => {
  const before = targets.smtp.messages.length;
  const run = await post('preleaver-notification.json', 'preleaver-notification');
  expect(await run.outcome()).toMatchObject({ ok: true });
  const [mail] = (await targets.smtp.waitFor(before + 1)).slice(before);
  expect(mail?.to).toEqual(['grace.hopper@example.com']);
  expect(mail?.subject).toMatch(/^Ada Lovelace leaves on 2026-09-30T17:00:00/);
  expect((await ada())?.status).toBe('active');
  expect(await groupsOf('alovelace')).toEqual(ADA_GROUPS);
});

test('account.takeover-suspected: suspended and disabled, security mailed and posted to, re-enabled on approval', async () => {
  const mails = targets.smtp.messages.length;
  const posts = slack.of('chat.postMessage').length;
  const run = await post('account-takeover.json', 'account-takeover');
  await stateWhen(run.runId, (s) => s.waitingOn?.kind === 'approval');
  expect((await ada())?.status).toBe('suspended');
  expect(await adaEntries()).toEqual([{ uid: 'alovelace', enabled: false }]);
  const sent = (await targets.smtp.waitFor(mails + 1)).slice(mails);
  expect(sent.some((m) => m.to.includes('security@example.com'))).toBe(true);
  expect(slack.of('chat.postMessage').slice(posts)).toEqual(
    expect.arrayContaining([expect.objectContaining({ channel: '#security' })]),
  );
  await h.client.workflow.getHandle(run.runId).executeUpdate('decide', {
    args: [
      { step: 're-enable', decision: 'approve', by: 'p-sec', onBehalfOf: 'p-sec', channel: 'api' },
    ],
  });
  expect(await run.outcome()).toMatchObject({ ok: true });
  expect((await ada())?.status).toBe('active');
  expect(await adaEntries()).toEqual([{ uid: 'alovelace', enabled: true }]);
  expect(await groupsOf('alovelace')).toEqual(ADA_GROUPS);
});

test('person.leaver then person.reactivation: termination-pending, then the leaver cancelled and the access back', async () => {
  const leaver = await post('leaver.json', 'leaver-standard', { gracePeriod: '1h' });
  await stateWhen(leaver.runId, (s) => s.waitingOn?.step === 'grace-period');
  expect((await ada())?.status).toBe('termination-pending');
  expect(await adaEntries()).toEqual([{ uid: 'alovelace', enabled: false }]);
  expect(await groupsOf('alovelace')).toEqual([]);
  const back = await post('reactivation.json', 'reactivation');
  expect(await back.outcome()).toMatchObject({ ok: true });
  expect(await leaver.outcome()).toMatchObject({ ok: false });
  expect((await ada())?.status).toBe('active');
  expect(await adaEntries()).toEqual([{ uid: 'alovelace', enabled: true }]);
  expect(await groupsOf('alovelace')).toEqual(ADA_GROUPS);
});

test('person.leaver to the end, then person.rehire: terminated, then the same person and account again', async () => {
  const leaver = await post('leaver.json', 'leaver-standard', { gracePeriod: '2s' });
  expect(await leaver.outcome()).toMatchObject({ ok: true });
  expect((await ada())?.status).toBe('terminated');
  expect(await adaEntries()).toEqual([{ uid: 'alovelace', enabled: false }]);
  const rehire = await post('rehire.json', 'joiner-standard');
  expect(await rehire.outcome()).toMatchObject({ ok: true });
  expect(await ada()).toMatchObject({ status: 'active', title: 'Senior Software Engineer' });
  expect(await adaEntries()).toEqual([{ uid: 'alovelace', enabled: true }]);
  expect(await groupsOf('alovelace')).toEqual(ADA_GROUPS);
});
