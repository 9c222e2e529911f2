/**
 * Flow schedules against a real Temporal server: a sync creates each schedule with its spec and
 * time zone, a second sync changes nothing (the conflict token stays), a changed definition
 * updates its schedules and keeps an operator's pause, a removed flow's schedule is deleted
 * while schedules idflow did not create stay, pause and unpause show in describe, a triggered
 * firing is a normal run (search attributes, state, audit), and Temporal computes the next
 * firings of a Monday 09:00 New York schedule across the start of daylight saving time.
 */
import { join } from 'node:path';
import type { ScheduleDescription } from '@temporalio/client';
import { listAudit } from '../../src/db/repos/audit';
import { applyDefinitions } from '../../src/definitions/apply';
import { temporalScheduleId } from '../../src/schedules/ids';
import {
  findSchedule,
  listSchedules,
  setPaused,
  triggerSchedule,
  UnknownScheduleError,
  type OperatorContext,
} from '../../src/schedules/operate';
import { syncActiveSchedules, type SyncResult } from '../../src/schedules/sync';
import type { RunState } from '../../src/temporal/contracts';
import { Harness, ROOT } from '../support/harness';

let h: Harness;
let ctx: OperatorContext;
const REPORT = 'it-sched-report';
const CLEANUP = 'it-sched-cleanup';
/** Schedules this file creates besides idflow's, deleted at the end. */
const foreign: string[] = [];

const id = (flow: string, schedule: string) => temporalScheduleId(h.taskQueue, flow, schedule);
const describe = (scheduleId: string): Promise<ScheduleDescription> =>
  h.client.schedule.getHandle(scheduleId).describe();
const sync = (): Promise<SyncResult> =>
  syncActiveSchedules(h.db.db, h.client, { taskQueue: h.taskQueue, actor: 'test' });
const ids = (refs: Array<{ scheduleId: string }>) => refs.map((r) => r.scheduleId);

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/schedules'] });
  await h.start();
  ctx = { db: h.db.db, client: h.client, taskQueue: h.taskQueue, actor: 'cli:operator' };
});

afterAll(async () => {
  if (h?.client) {
    for await (const s of h.client.schedule.list()) {
      if (s.scheduleId.startsWith(`idflow/${h.taskQueue}/`) || foreign.includes(s.scheduleId))
        await h.client.schedule
          .getHandle(s.scheduleId)
          .delete()
          .catch(() => undefined);
    }
  }
  await h?.close();
});

test('a sync creates each schedule of the active flows with its spec, time zone and marker', async () => {
  const result = await sync();
  expect(ids(result.created)).toEqual([
    id(CLEANUP, 'hourly'),
    id(REPORT, 'nightly'),
    id(REPORT, 'weekly'),
  ]);
  expect(result.updated).toEqual([]);
  expect(result.deleted).toEqual([]);

  const weekly = await describe(id(REPORT, 'weekly'));
  expect(weekly.spec.timezone).toBe('America/New_York');
  expect(weekly.spec.startAt?.toISOString()).toBe('2027-03-01T05:00:00.000Z');
  expect(weekly.spec.calendars).toEqual([
    expect.objectContaining({
      dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }],
      hour: [{ start: 9, end: 9, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
    }),
  ]);
  expect(weekly.policies.overlap).toBe('SKIP');
  expect(weekly.memo).toMatchObject({
    idflow: { managedBy: 'idflow', taskQueue: h.taskQueue, flow: REPORT, schedule: 'weekly' },
  });
  expect(weekly.action).toMatchObject({
    workflowType: 'scheduledRun',
    workflowId: `flow/${REPORT}/schedule.weekly`,
    taskQueue: h.taskQueue,
  });
  expect(weekly.state.paused).toBe(false);

  const audit = await listAudit(h.db.db, { action: 'schedule.created' });
  expect(audit.map((a) => a.target).sort()).toEqual([
    `schedule:${CLEANUP}.hourly`,
    `schedule:${REPORT}.nightly`,
    `schedule:${REPORT}.weekly`,
  ]);
});

test('Temporal fires Monday 09:00 New York at 14:00 UTC, and at 13:00 UTC once DST has begun', async () => {
  const weekly = await describe(id(REPORT, 'weekly'));
  expect(weekly.info.nextActionTimes.slice(0, 4).map((t) => t.toISOString())).toEqual([
    '2027-03-01T14:00:00.000Z',
    '2027-03-08T14:00:00.000Z',
    '2027-03-15T13:00:00.000Z',
    '2027-03-22T13:00:00.000Z',
  ]);
});

test('a second sync changes nothing: every schedule keeps its conflict token', async () => {
  const all = [id(CLEANUP, 'hourly'), id(REPORT, 'nightly'), id(REPORT, 'weekly')];
  const before = await Promise.all(all.map(describe));
  const result = await sync();
  expect(ids(result.unchanged)).toEqual(all);
  expect([...result.created, ...result.updated, ...result.deleted]).toEqual([]);
  const after = await Promise.all(all.map(describe));
  expect(after.map((d) => Buffer.from(d.raw.conflictToken ?? []).toString('hex'))).toEqual(
    before.map((d) => Buffer.from(d.raw.conflictToken ?? []).toString('hex')),
  );
});

test('pause and unpause show in describe, with who and why, and are audited', async () => {
  await setPaused(ctx, { flow: REPORT, schedule: 'weekly' }, true, 'holiday season');
  let weekly = await describe(id(REPORT, 'weekly'));
  expect(weekly.state).toMatchObject({
    paused: true,
    note: 'paused by cli:operator: holiday season',
  });
  await setPaused(ctx, { flow: REPORT, schedule: 'weekly' }, false);
  weekly = await describe(id(REPORT, 'weekly'));
  expect(weekly.state.paused).toBe(false);
  const rows = await listAudit(h.db.db, { target: `schedule:${REPORT}.weekly` });
  expect(
    rows.filter((r) => r.action !== 'schedule.created').map((r) => [r.actor, r.action, r.detail]),
  ).toEqual([
    [
      'cli:operator',
      'schedule.paused',
      { scheduleId: id(REPORT, 'weekly'), reason: 'holiday season' },
    ],
    ['cli:operator', 'schedule.unpaused', { scheduleId: id(REPORT, 'weekly') }],
  ]);
});

test('an unknown schedule is a clear error', async () => {
  await expect(
    findSchedule(h.client, h.taskQueue, { flow: REPORT, schedule: 'nope' }),
  ).rejects.toThrow(
    new UnknownScheduleError(
      `no schedule '${REPORT}/nope' on task queue ${h.taskQueue}: 'idflow schedules list' shows the schedules there, and 'idflow schedules sync' creates those of the active flows`,
    ),
  );
});

test('a triggered firing is a run like any other: search attributes, state, audit, result', async () => {
  await triggerSchedule(ctx, { flow: REPORT, schedule: 'nightly' });
  const action = await h.eventually(async () => {
    const d = await describe(id(REPORT, 'nightly'));
    return d.info.recentActions[0];
  });
  const { workflowId, firstExecutionRunId } = action.action.workflow;
  expect(workflowId.startsWith(`flow/${REPORT}/schedule.nightly-`)).toBe(true);
  const outcome = await h.runOutcome(workflowId);
  expect(outcome).toMatchObject({
    ok: true,
    result: { status: 'Completed', vars: { scope: 'contractors' } },
  });
  // the firing's time as Temporal hands it to the run (TemporalScheduledStartTime): to the second
  const firedFor = new Date(Math.floor(action.scheduledAt.getTime() / 1000) * 1000).toISOString();
  expect((outcome as { result: { vars: { firedFor: string } } }).result.vars.firedFor).toBe(
    `${REPORT}/nightly/${firedFor}`,
  );

  const handle = h.client.workflow.getHandle(workflowId);
  const described = await handle.describe();
  expect(described.type).toBe('scheduledRun');
  // its summary in the memo too, where GET /v1/runs reads it without describing the run
  const summary = await described.staticSummary();
  expect(summary).toContain(REPORT);
  expect(described.memo?.summary).toBe(summary);
  expect(described.searchAttributes).toMatchObject({
    IdflowFlow: [REPORT],
    IdflowEventType: ['schedule.fired'],
    IdflowStatus: ['Completed'],
  });
  expect(described.searchAttributes.IdflowSubject).toBeUndefined();
  expect(described.searchAttributes.IdflowDefinitionHash?.[0]).toMatch(/^sha256:/);
  const state = await handle.query<RunState>('state');
  expect(state.status).toBe('Completed');
  expect(state.steps.map((s) => [s.id, s.status])).toEqual([
    ['remember', 'completed'],
    ['tell', 'completed'],
  ]);

  const fired = await listAudit(h.db.db, { action: 'schedule.fired', runId: workflowId });
  expect(fired).toHaveLength(1);
  expect(fired[0]).toMatchObject({
    actor: 'idflow:scheduler',
    target: `schedule:${REPORT}.nightly`,
    outcome: 'ok',
    detail: { flow: REPORT, schedule: 'nightly', scheduledAt: firedFor },
    dedupeKey: `schedule.fired:${workflowId}/${firstExecutionRunId}`,
  });
  const completed = await listAudit(h.db.db, { action: 'run.completed', runId: workflowId });
  expect(completed.map((r) => r.target)).toEqual([`schedule:${REPORT}.nightly`]);
  const triggered = await listAudit(h.db.db, { action: 'schedule.triggered' });
  expect(triggered.map((r) => [r.actor, r.target])).toEqual([
    ['cli:operator', `schedule:${REPORT}.nightly`],
  ]);
});

test("a changed definition updates its schedules and keeps an operator's pause; a removed flow's schedule goes, others' schedules stay", async () => {
  // schedules idflow did not create: one under an idflow id without idflow's memo, one elsewhere
  const spec = { calendars: [{ hour: 4 }], startAt: new Date('2031-01-01T00:00:00Z') };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'notIdflow',
    taskQueue: h.taskQueue,
  };
  const lookalike = id(CLEANUP, 'hand-made');
  const elsewhere = `it-sched-${h.taskQueue}-hand-made`;
  foreign.push(lookalike, elsewhere);
  await h.client.schedule.create({ scheduleId: lookalike, spec, action });
  await h.client.schedule.create({ scheduleId: elsewhere, spec, action });

  await setPaused(ctx, { flow: REPORT, schedule: 'nightly' }, true, 'not during the audit');
  await applyDefinitions(h.db.db, [join(ROOT, 'test/fixtures/schedules-changed')], {
    replace: true,
    actor: 'test',
  });
  // the listing that finds what to delete lags behind creations: sync until it has seen both
  const result: SyncResult = { created: [], updated: [], deleted: [], unchanged: [], foreign: [] };
  await h.eventually(async () => {
    const r = await sync();
    for (const what of ['created', 'updated', 'deleted', 'foreign'] as const)
      result[what].push(...r[what]);
    return result.deleted.length && result.foreign.length ? true : undefined;
  });
  expect(ids(result.updated)).toEqual([id(REPORT, 'nightly'), id(REPORT, 'weekly')]);
  expect(ids(result.deleted)).toEqual([id(CLEANUP, 'hourly')]);
  expect(ids(result.foreign)).toEqual([lookalike]);

  const nightly = await describe(id(REPORT, 'nightly'));
  expect(nightly.spec.calendars?.[0]?.hour).toEqual([{ start: 3, end: 3, step: 1 }]);
  expect(nightly.state).toMatchObject({
    paused: true,
    note: 'paused by cli:operator: not during the audit',
  });
  await expect(describe(id(CLEANUP, 'hourly'))).rejects.toThrow();
  expect((await describe(lookalike)).action.workflowType).toBe('notIdflow');
  await expect(
    findSchedule(h.client, h.taskQueue, { flow: CLEANUP, schedule: 'hand-made' }),
  ).rejects.toThrow(UnknownScheduleError);
  expect((await describe(elsewhere)).action.workflowType).toBe('notIdflow');

  const listed = await listSchedules(h.client, h.taskQueue);
  expect(listed.map((s) => [s.flow, s.schedule, s.action?.when])).toEqual(
    expect.arrayContaining([
      [REPORT, 'nightly', 'every day at 03:00'],
      [REPORT, 'weekly', 'every Monday at 09:00'],
    ]),
  );
  expect(listed.map((s) => s.scheduleId)).not.toContain(lookalike);

  const again = await sync();
  expect([...again.created, ...again.updated, ...again.deleted]).toEqual([]);
  const deleted = await listAudit(h.db.db, { action: 'schedule.deleted' });
  expect(deleted.map((r) => r.target)).toEqual([`schedule:${CLEANUP}.hourly`]);
});
