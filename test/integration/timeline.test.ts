/**
 * One timeline per person: a person's events apply in the order idflow accepted them, whatever
 * the number of events in flight; different persons' events run at the same time; a later
 * event's policy cancels, supersedes or runs alongside what is still pending; a worker killed
 * while a timeline holds a pending run and a queued event loses neither.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listAudit } from '../../src/db/repos/audit';
import { getPerson } from '../../src/db/repos/persons';
import { runWorkflowId, timelineWorkflowId } from '../../src/model/event';
import type { TimelineState } from '../../src/temporal/contracts';
import { Harness, makeEvent, ROOT } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = new Harness({
    definitions: ['test/fixtures/runtime/connectors.yaml', 'test/fixtures/timeline'],
  });
  await h.start();
}, 120_000);

afterAll(async () => {
  await h?.close();
});

type Audit = Awaited<ReturnType<typeof listAudit>>[number];

const timelineId = (personId: string) => timelineWorkflowId(h.taskQueue, personId);

async function timelineAudit(personId: string): Promise<Audit[]> {
  return listAudit(h.db.db, { runId: timelineId(personId) });
}

/** The timeline's audit rows once `count` events have finished on it. */
async function settledAudit(personId: string, count: number): Promise<Audit[]> {
  return h.eventually(async () => {
    const rows = await timelineAudit(personId);
    return rows.filter((r) => r.action === 'timeline.finished').length >= count ? rows : undefined;
  });
}

const detail = (row: Audit) => row.detail as { seq: number; event: string; type: string };

async function post(event: Record<string, unknown>): Promise<void> {
  const res = await h.postEvent(event);
  expect(res.status).toBe(202);
}

/** Waits until the run waits on the timer of `step`. */
async function waitingAt(workflowId: string, step: string): Promise<void> {
  await h.eventually(async () => {
    const state = await h.runState(workflowId);
    return state?.waitingOn?.step === step ? true : undefined;
  });
}

async function statusName(workflowId: string): Promise<string> {
  return (await h.client.workflow.getHandle(workflowId).describe()).status.name;
}

async function finished(workflowId: string): Promise<string> {
  return h.eventually(async () => {
    const status = await statusName(workflowId).catch(() => 'NOT_FOUND');
    return status === 'RUNNING' || status === 'NOT_FOUND' ? undefined : status;
  }, 40_000);
}

async function personStatus(id: string): Promise<string | undefined> {
  return (await getPerson(h.db.db, id))?.status;
}

test('ten events for one person posted at once apply one after another, in acceptance order', async () => {
  const personId = 'tl-order';
  const events = Array.from({ length: 10 }, (_, i) =>
    makeEvent('test.note', { id: personId }, { attributes: { n: i + 1 } }),
  );
  await Promise.all(events.map(post));
  const runs = events.map((e) => runWorkflowId('it-note', personId, e.id as string));
  for (const run of runs) expect(await finished(run)).toBe('COMPLETED');

  const audit = await settledAudit(personId, 10);
  const accepted = audit.filter((r) => r.action === 'timeline.accepted').map(detail);
  expect(accepted.map((d) => d.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // started and finished strictly in acceptance order, never two at once
  const steps = audit
    .filter((r) => r.action === 'timeline.started' || r.action === 'timeline.finished')
    .map((r) => `${r.action === 'timeline.started' ? 'start' : 'end'}:${detail(r).seq}`);
  expect(steps).toEqual(accepted.flatMap((d) => [`start:${d.seq}`, `end:${d.seq}`]));

  // each run saw the note of the event accepted just before it
  const noteOf = (key: string) => {
    const event = events.find((e) => `test-hr/${e.id as string}` === key);
    return (event?.attributes as { n: number }).n;
  };
  const order = accepted.map((d) => noteOf(d.event));
  const person = await getPerson(h.db.db, personId);
  expect((person?.attributes as { note?: number }).note).toBe(order[9]);
  for (let i = 0; i < order.length; i++) {
    const state = await h.runState(
      runWorkflowId('it-note', personId, events[(order[i] ?? 0) - 1]?.id as string),
    );
    const write = state?.steps.find((s) => s.id === 'before');
    const seen = (write?.output as { person?: { attributes: { note?: number } } }).person
      ?.attributes.note;
    expect(seen ?? 'none').toBe(i === 0 ? 'none' : order[i - 1]);
  }
});

test("ten persons' events run at the same time", async () => {
  // ten planned leaves, one per person, dated well ahead: if one person's timeline waited for
  // another's, at most one of them could be waiting for its date at a time
  const persons = Array.from({ length: 10 }, (_, i) => `tl-many-${i}`);
  const effectiveAt = new Date(Date.now() + 120_000).toISOString();
  const leaves = persons.map((id) => makeEvent('test.leave', { id }, { effectiveAt }));
  await Promise.all(leaves.map(post));
  const leaveRuns = leaves.map((e, i) =>
    runWorkflowId('it-leave', persons[i] as string, e.id as string),
  );
  for (const run of leaveRuns) await waitingAt(run, 'wait-for-date');
  const states = await Promise.all(leaveRuns.map((run) => h.runState(run)));
  expect(states.map((s) => s?.waitingOn?.step)).toEqual(persons.map(() => 'wait-for-date'));

  // each person's return cancels that person's leave only
  const backs = persons.map((id) => makeEvent('test.back', { id }));
  await Promise.all(backs.map(post));
  for (const run of leaveRuns) expect(await finished(run)).toBe('CANCELLED');
  for (const [i, back] of backs.entries())
    expect(await finished(runWorkflowId('it-back', persons[i] as string, back.id as string))).toBe(
      'COMPLETED',
    );
  for (const id of persons) expect(await personStatus(id)).toBe('active');
});

test('a return cancels a planned leave still waiting for its date: the run ends Cancelled with the reason', async () => {
  const personId = 'tl-return-early';
  const leave = makeEvent(
    'test.leave',
    { id: personId },
    { effectiveAt: new Date(Date.now() + 60_000).toISOString() },
  );
  await post(leave);
  const leaveRun = runWorkflowId('it-leave', personId, leave.id as string);
  await waitingAt(leaveRun, 'wait-for-date');

  const back = makeEvent('test.back', { id: personId });
  await post(back);
  expect(await finished(leaveRun)).toBe('CANCELLED');
  expect(await finished(runWorkflowId('it-back', personId, back.id as string))).toBe('COMPLETED');

  const state = await h.runState(leaveRun);
  expect(state?.status).toBe('Cancelled');
  const [cancelled] = await listAudit(h.db.db, { runId: leaveRun, action: 'run.cancelled' });
  expect(cancelled?.detail).toMatchObject({
    cancelled: { reason: `cancelled by test.back test-hr/${back.id as string}` },
  });
  expect(await personStatus(personId)).toBe('active');
  const changes = await listAudit(h.db.db, { target: `person:${personId}` });
  expect(changes.some((a) => JSON.stringify(a.detail).includes('termination-pending'))).toBe(false);
});

test('a return during the grace period cancels the leave before termination', async () => {
  const personId = 'tl-return-grace';
  // a grace period long enough for the return to arrive within it on a slow machine
  const leave = makeEvent(
    'test.leave',
    { id: personId },
    { effectiveAt: new Date(Date.now() + 500).toISOString(), attributes: { grace: '8s' } },
  );
  await post(leave);
  const leaveRun = runWorkflowId('it-leave', personId, leave.id as string);
  await waitingAt(leaveRun, 'grace');
  const graceEnd = Date.now() + 8_000; // at the latest
  expect(await personStatus(personId)).toBe('termination-pending');

  await post(makeEvent('test.back', { id: personId }));
  expect(await finished(leaveRun)).toBe('CANCELLED');
  await h.eventually(async () => ((await personStatus(personId)) === 'active' ? true : undefined));
  // past the grace period: nothing terminates
  await new Promise((r) => setTimeout(r, Math.max(0, graceEnd + 500 - Date.now())));
  expect(await personStatus(personId)).toBe('active');
});

test('a new leave date supersedes the pending one, earlier or later', async () => {
  const personId = 'tl-moved';
  const first = makeEvent(
    'test.leave',
    { id: personId },
    { effectiveAt: new Date(Date.now() + 60_000).toISOString() },
  );
  await post(first);
  const firstRun = runWorkflowId('it-leave', personId, first.id as string);
  await waitingAt(firstRun, 'wait-for-date');

  // brought forward: the first run is superseded, the new date applies
  const sooner = makeEvent(
    'test.leave',
    { id: personId },
    { effectiveAt: new Date(Date.now() + 1_500).toISOString(), attributes: { grace: '6s' } },
  );
  await post(sooner);
  expect(await finished(firstRun)).toBe('CANCELLED');
  const [superseded] = await listAudit(h.db.db, { runId: firstRun, action: 'run.cancelled' });
  expect(superseded?.detail).toMatchObject({
    cancelled: { reason: `superseded by test.leave test-hr/${sooner.id as string}` },
  });
  const soonerRun = runWorkflowId('it-leave', personId, sooner.id as string);
  await waitingAt(soonerRun, 'grace');
  const oldGraceEnd = Date.now() + 6_000; // at the latest
  expect(await personStatus(personId)).toBe('termination-pending');

  // pushed back during the grace period: no termination at the old grace end
  const later = makeEvent(
    'test.leave',
    { id: personId },
    { effectiveAt: new Date(oldGraceEnd + 4_000).toISOString() },
  );
  await post(later);
  expect(await finished(soonerRun)).toBe('CANCELLED');
  const laterRun = runWorkflowId('it-leave', personId, later.id as string);
  await waitingAt(laterRun, 'wait-for-date');
  await new Promise((r) => setTimeout(r, Math.max(0, oldGraceEnd + 500 - Date.now())));
  expect(await personStatus(personId)).toBe('termination-pending');
  expect(await finished(laterRun)).toBe('COMPLETED');
  expect(await personStatus(personId)).toBe('terminated');
}, 60_000);

test('an alert runs alongside a pending leave; a note queues behind it', async () => {
  const personId = 'tl-alongside';
  const leave = makeEvent(
    'test.leave',
    { id: personId },
    { effectiveAt: new Date(Date.now() + 60_000).toISOString() },
  );
  await post(leave);
  const leaveRun = runWorkflowId('it-leave', personId, leave.id as string);
  await waitingAt(leaveRun, 'wait-for-date');

  const alert = makeEvent('test.alert', { id: personId });
  const note = makeEvent('test.note', { id: personId }, { attributes: { n: 7 } });
  await post(alert);
  await post(note);
  expect(await finished(runWorkflowId('it-alert', personId, alert.id as string))).toBe('COMPLETED');
  const alerted = (await getPerson(h.db.db, personId))?.attributes as { alerted?: boolean };
  expect(alerted.alerted).toBe(true);

  // the note's decision comes through its own dispatch, not after the alert's run
  const timeline = await h.eventually(async () => {
    const t = await h.client.workflow
      .getHandle(timelineId(personId))
      .query<TimelineState>('timeline');
    return t.entries.some((e) => e.type === 'test.note' && e.state === 'decided') ? t : undefined;
  });
  expect(timeline.entries.map((e) => [e.type, e.state])).toEqual([
    ['test.leave', 'running'],
    ['test.note', 'decided'],
  ]);
  // the same through the API and the CLI
  const api = await h.request('GET', `/v1/persons/${personId}/timeline`);
  expect(api.status).toBe(200);
  expect((api.body as unknown as TimelineState).entries.map((e) => e.seq)).toEqual(
    timeline.entries.map((e) => e.seq),
  );
  const cli = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'bin', 'idflow.js'), 'persons', 'timeline', personId],
    { env: h.env() },
  );
  expect(
    cli.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t').slice(1, 3)),
  ).toEqual([
    ['running', 'test.leave'],
    ['decided', 'test.note'],
  ]);
  await h.client.workflow.getHandle(leaveRun).cancel();
  expect(await finished(leaveRun)).toBe('CANCELLED');
  expect(await finished(runWorkflowId('it-note', personId, note.id as string))).toBe('COMPLETED');
});

test('the same event sent twice takes one place on the timeline', async () => {
  const personId = 'tl-dup';
  const event = makeEvent('test.note', { id: personId }, { attributes: { n: 1 } });
  const answers = await Promise.all([h.postEvent(event), h.postEvent(event), h.postEvent(event)]);
  expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
  expect(await finished(runWorkflowId('it-note', personId, event.id as string))).toBe('COMPLETED');
  expect((await h.postEvent(event)).status).toBe(200);
  const audit = await settledAudit(personId, 1);
  expect(audit.filter((a) => a.action === 'timeline.accepted')).toHaveLength(1);
  expect(audit.filter((a) => a.action === 'timeline.started')).toHaveLength(1);
});

test('a worker killed while a leave is pending and an event queued: after restart both apply once, in order', async () => {
  const personId = 'tl-killed';
  const leave = makeEvent(
    'test.leave',
    { id: personId },
    { effectiveAt: new Date(Date.now() + 7_000).toISOString() },
  );
  await post(leave);
  const leaveRun = runWorkflowId('it-leave', personId, leave.id as string);
  await waitingAt(leaveRun, 'wait-for-date');
  const note = makeEvent('test.note', { id: personId }, { attributes: { n: 9 } });
  await post(note);
  const noteRun = runWorkflowId('it-note', personId, note.id as string);
  await h.eventually(async () => {
    const t = await h.client.workflow
      .getHandle(timelineId(personId))
      .query<TimelineState>('timeline');
    return t.entries.some((e) => e.type === 'test.note' && e.state === 'decided')
      ? true
      : undefined;
  });

  await h.stopWorker('SIGKILL');
  expect(h.worker?.signalCode).toBe('SIGKILL');
  await new Promise((r) => setTimeout(r, 1_000));
  await h.startWorker();

  expect(await finished(leaveRun)).toBe('COMPLETED');
  expect(await finished(noteRun)).toBe('COMPLETED');
  const audit = await settledAudit(personId, 2);
  expect(
    audit
      .filter((a) => a.action === 'timeline.started' || a.action === 'timeline.finished')
      .map((a) => `${a.action}:${detail(a).type}`),
  ).toEqual([
    'timeline.started:test.leave',
    'timeline.finished:test.leave',
    'timeline.started:test.note',
    'timeline.finished:test.note',
  ]);
  const changes = await listAudit(h.db.db, { target: `person:${personId}` });
  expect(changes.filter((a) => a.action === 'person.status-changed')).toHaveLength(2);
  expect(changes.filter((a) => a.action === 'run.completed')).toHaveLength(2);
  expect(await personStatus(personId)).toBe('terminated');
}, 60_000);

test('an accepted event whose decision never comes stops holding the timeline after the decision timeout', async () => {
  const personId = 'tl-ghost';
  await h.client.workflow.start('personTimeline', {
    taskQueue: h.taskQueue,
    workflowId: timelineId(personId),
    args: [{ personId, decisionTimeoutMs: 2_000 }],
  });
  // accepted, but its dispatch never decides (a dispatch that failed before it could)
  await h.client.workflow
    .getHandle(timelineId(personId))
    .signal('accept', { source: 'test-hr', id: 'ghost-1', type: 'test.note' });
  const note = makeEvent('test.note', { id: personId }, { attributes: { n: 1 } });
  await post(note);
  expect(await finished(runWorkflowId('it-note', personId, note.id as string))).toBe('COMPLETED');
  const audit = await settledAudit(personId, 1);
  expect(audit.map((a) => `${a.action}:${detail(a).event}`)).toEqual([
    'timeline.accepted:test-hr/ghost-1',
    `timeline.accepted:test-hr/${note.id as string}`,
    'timeline.abandoned:test-hr/ghost-1',
    `timeline.started:test-hr/${note.id as string}`,
    `timeline.finished:test-hr/${note.id as string}`,
  ]);
});

test('a timeline continues as new after its share of events and keeps the order across', async () => {
  const personId = 'tl-long';
  const first = await h.client.workflow.start('personTimeline', {
    taskQueue: h.taskQueue,
    workflowId: timelineId(personId),
    args: [{ personId, continueAfter: 2 }],
  });
  const events = Array.from({ length: 5 }, (_, i) =>
    makeEvent('test.note', { id: personId }, { attributes: { n: i + 1 } }),
  );
  for (const e of events) await post(e);
  for (const e of events)
    expect(await finished(runWorkflowId('it-note', personId, e.id as string))).toBe('COMPLETED');
  // it continues as new once its last event has finished and been written down
  await h.eventually(async () => {
    const current = await h.client.workflow.getHandle(timelineId(personId)).describe();
    return current.runId !== first.firstExecutionRunId ? true : undefined;
  });
  expect(
    (await h.client.workflow.getHandle(timelineId(personId), first.firstExecutionRunId).describe())
      .status.name,
  ).toBe('CONTINUED_AS_NEW');
  const audit = await timelineAudit(personId);
  expect(audit.filter((a) => a.action === 'timeline.started').map((a) => detail(a).seq)).toEqual([
    1, 2, 3, 4, 5,
  ]);
  expect((await getPerson(h.db.db, personId))?.attributes).toMatchObject({ note: 5, seen: '4' });
});

test('a dispatch whose person has no timeline (the gateway stopped before it signalled) starts one', async () => {
  const personId = 'tl-no-gateway';
  const event = makeEvent('test.note', { id: personId }, { attributes: { n: 3 } });
  await h.client.workflow.start('dispatchEvent', {
    taskQueue: h.taskQueue,
    workflowId: `event/test-hr/${event.id as string}`,
    args: [event, { timeline: timelineId(personId) }],
  });
  expect(await finished(runWorkflowId('it-note', personId, event.id as string))).toBe('COMPLETED');
  const audit = await settledAudit(personId, 1);
  expect(audit.map((a) => a.action)).toEqual([
    'timeline.accepted',
    'timeline.started',
    'timeline.finished',
  ]);
});

test('an event whose dispatch failed gives up its place at once, flagged in the audit', async () => {
  const personId = 'tl-dispatch-failed';
  const timeline = h.client.workflow.getHandle(timelineId(personId));
  await h.client.workflow.start('personTimeline', {
    taskQueue: h.taskQueue,
    workflowId: timelineId(personId),
    args: [{ personId }],
  });
  await timeline.signal('accept', { source: 'test-hr', id: 'broken-1', type: 'test.note' });
  const note = makeEvent('test.note', { id: personId }, { attributes: { n: 1 } });
  await post(note);
  // the failed dispatch's decision: no runs
  await timeline.signal('decide', {
    source: 'test-hr',
    id: 'broken-1',
    type: 'test.note',
    runs: [],
    pending: {},
    failed: true,
  });
  expect(await finished(runWorkflowId('it-note', personId, note.id as string))).toBe('COMPLETED');
  const audit = await settledAudit(personId, 2);
  const broken = audit.find(
    (a) => a.action === 'timeline.finished' && detail(a).event === 'test-hr/broken-1',
  );
  expect(broken).toMatchObject({
    outcome: 'flagged',
    detail: { outcomes: [{ workflowId: 'event/test-hr/broken-1', status: 'DispatchFailed' }] },
  });
});
