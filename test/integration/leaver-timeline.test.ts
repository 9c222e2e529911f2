/**
 * The reference leaver on a person's timeline, against slapd, SMTP and the reference policies:
 * a reactivation while a planned leaver waits for the last day cancels it before anything
 * changed; a new leave date supersedes the pending leaver (the timer moves); a rehire while a
 * leaver is in its grace period cancels it and the joiner enables the same account again with
 * its groups. Dates and grace periods are second-scale (the leaver's noticePeriod/gracePeriod).
 */
import { listAudit } from '../../src/db/repos/audit';
import { getPerson } from '../../src/db/repos/persons';
import { runWorkflowId } from '../../src/model/event';
import type { RunState } from '../../src/temporal/contracts';
import type { Targets } from '../../src/targets';
import { directoryReader } from '../support/directory';
import { Harness, makeEvent } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

let targets: Targets;
let h: Harness;

const FLOWS: Record<string, string> = {
  'person.joiner': 'joiner-standard',
  'person.rehire': 'joiner-standard',
  'person.leaver': 'leaver-standard',
  'person.reactivation': 'reactivation',
};

beforeAll(async () => {
  const world = await referenceWorld('leaver-timeline');
  targets = world.targets;
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
}, 120_000);

afterAll(async () => {
  await h?.close();
  await targets?.stop();
});

async function send(
  type: keyof typeof FLOWS,
  subject: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const event = makeEvent(type, subject, extra);
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = runWorkflowId(FLOWS[type] as string, subject.id as string, event.id as string);
  return { event, runId };
}

async function ended(workflowId: string): Promise<string> {
  return h.eventually(async () => {
    const d = await h.client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined);
    return !d || d.status.name === 'RUNNING' ? undefined : d.status.name;
  }, 90_000);
}

async function waitingAt(runId: string, step: string): Promise<RunState> {
  return h.eventually(async () => {
    const s = await h.client.workflow
      .getHandle(runId)
      .query<RunState>('state')
      .catch(() => undefined);
    return s?.waitingOn?.step === step ? s : undefined;
  }, 60_000);
}

const dir = directoryReader(() => targets);

/** The person's directory entries (by owner): uid, enabled, groups. */
async function directory(personId: string) {
  const entries = await dir.entriesOf(personId);
  return Promise.all(entries.map(async (e) => ({ ...e, groups: await dir.groupsOf(e.uid) })));
}

const status = async (id: string) => (await getPerson(h.db.db, id))?.status;
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

async function joined(id: string, givenName: string, familyName: string) {
  const { runId } = await send('person.joiner', {
    id,
    givenName,
    familyName,
    email: `${id}@example.com`,
    department: 'Engineering',
    employmentType: 'employee',
  });
  expect(await ended(runId)).toBe('COMPLETED');
  const entries = await directory(id);
  expect(entries).toHaveLength(1);
  expect(entries[0]?.enabled).toBe(true);
  expect(entries[0]?.groups).toContain('engineering');
  return entries;
}

test('a reactivation while a planned leaver waits for the last day: Cancelled with the reason, nothing changed', async () => {
  const before = await joined('p-tl-wait', 'Wendy', 'Waiting');
  const leaver = await send(
    'person.leaver',
    { id: 'p-tl-wait', employmentType: 'employee' },
    { effectiveAt: inSeconds(60), attributes: { noticePeriod: '30s', gracePeriod: '1h' } },
  );
  await waitingAt(leaver.runId, 'wait-for-notice-day');
  const back = await send('person.reactivation', { id: 'p-tl-wait' });
  expect(await ended(leaver.runId)).toBe('CANCELLED');
  expect(await ended(back.runId)).toBe('COMPLETED');
  const [cancelled] = await listAudit(h.db.db, { runId: leaver.runId, action: 'run.cancelled' });
  expect(cancelled?.detail).toMatchObject({
    cancelled: { reason: `cancelled by person.reactivation test-hr/${back.event.id as string}` },
  });
  expect(await status('p-tl-wait')).toBe('active');
  expect(await directory('p-tl-wait')).toEqual(before);
});

test('a new leave date supersedes the pending leaver: nothing happens at the old date, the new one applies', async () => {
  const before = await joined('p-tl-move', 'Mo', 'Moved');
  // the notice goes out at once and the last day is 10 s away: room for the new date to arrive
  // while the first leaver waits for its last day, however slow the machine
  const firstDay = Date.now() + 10_000;
  const first = await send(
    'person.leaver',
    { id: 'p-tl-move', employmentType: 'employee' },
    {
      effectiveAt: new Date(firstDay).toISOString(),
      attributes: { noticePeriod: '10s', gracePeriod: '1h' },
    },
  );
  await waitingAt(first.runId, 'wait-for-last-day');
  const later = await send(
    'person.leaver',
    { id: 'p-tl-move', employmentType: 'employee' },
    { effectiveAt: inSeconds(16), attributes: { noticePeriod: '1s', gracePeriod: '1h' } },
  );
  expect(await ended(first.runId)).toBe('CANCELLED');
  // past the first date
  await new Promise((r) => setTimeout(r, Math.max(0, firstDay + 1_500 - Date.now())));
  expect(await status('p-tl-move')).toBe('active');
  expect(await directory('p-tl-move')).toEqual(before);
  await waitingAt(later.runId, 'grace-period');
  expect(await status('p-tl-move')).toBe('termination-pending');
  expect(await directory('p-tl-move')).toEqual([
    { uid: before[0]?.uid, enabled: false, groups: [] },
  ]);
  await h.client.workflow.getHandle(later.runId).cancel();
}, 60_000);

test('a rehire while a leaver is in its grace period cancels it; the same account is enabled again with its groups', async () => {
  const before = await joined('p-tl-rehire', 'Rhea', 'Returning');
  const leaver = await send(
    'person.leaver',
    { id: 'p-tl-rehire', employmentType: 'employee' },
    { attributes: { gracePeriod: '1h' } },
  );
  await waitingAt(leaver.runId, 'grace-period');
  expect(await directory('p-tl-rehire')).toEqual([
    { uid: before[0]?.uid, enabled: false, groups: [] },
  ]);
  const rehire = await send('person.rehire', {
    id: 'p-tl-rehire',
    givenName: 'Rhea',
    familyName: 'Returning',
    email: 'p-tl-rehire@example.com',
    department: 'Engineering',
    employmentType: 'employee',
  });
  expect(await ended(leaver.runId)).toBe('CANCELLED');
  expect(await ended(rehire.runId)).toBe('COMPLETED');
  expect(await status('p-tl-rehire')).toBe('active');
  expect(await directory('p-tl-rehire')).toEqual(before);
  const deletions = await listAudit(h.db.db, { runId: leaver.runId, action: 'ldap.deleteAccount' });
  expect(deletions).toEqual([]);
});
