/**
 * The `forEach` step against a real Temporal server and PostgreSQL: it goes over the persons a
 * filter selects in batches (child workflows), counts and collects failures without failing,
 * collects rows, reports progress, and a step whose items disable parks on the blast-radius
 * guard before changing anything until an operator approves.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { inArray, sql } from 'drizzle-orm';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import { persons } from '../../src/db/schema';
import type { OperatorAction, RunState } from '../../src/temporal/contracts';
import { Harness, makeEvent } from '../support/harness';

let h: Harness;

async function start(type: string, flow: string, subject: string, attributes = {}) {
  const event = makeEvent(type, { id: subject }, { attributes });
  expect((await h.postEvent(event)).status).toBe(202);
  return `flow/${flow}/${subject}/${event.id as string}`;
}

const state = (runId: string) => h.runState(runId);
const operator = (runId: string, action: OperatorAction) => h.operate(runId, action);

const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/runtime', 'test/fixtures/foreach'] });
  await h.start();
  const marked = ids('p-fe-m', 30);
  for (const [i, id] of marked.entries()) {
    await insertPersonIfAbsent(h.db.db, {
      id,
      status: 'active',
      department: 'Marking',
      attributes: i % 10 === 4 ? { bad: true } : {},
    });
  }
  for (const id of ids('p-fe-other', 5))
    await insertPersonIfAbsent(h.db.db, { id, status: 'active', department: 'Elsewhere' });
  for (const id of ids('p-fe-g', 5))
    await insertPersonIfAbsent(h.db.db, { id, status: 'active', department: 'Guarded' });
  for (const [i, id] of ['p-fe-t1', 'p-fe-t2', 'p-fe-t3', 'p-fe-t4'].entries()) {
    const department = i < 2 ? 'Twice-A' : 'Twice-B';
    await insertPersonIfAbsent(h.db.db, { id, status: 'active', department });
  }
  await h.db.db.execute(sql`
    insert into persons (id, status)
    select 'p-fe-long-' || lpad(g::text, 4, '0'), 'active' from generate_series(1, 1000) as g`);
});

afterAll(async () => {
  await h?.close();
});

test('goes over exactly the persons the filter selects, in batches, and counts failures', async () => {
  const runId = await start('test.foreach-persons', 'it-foreach-persons', 'p-fe-run1', {
    department: 'Marking',
  });
  const outcome = await h.runOutcome(runId, 60_000);
  expect(outcome).toMatchObject({ ok: true, result: { vars: { done: 27, failed: 3 } } });
  const s = (await state(runId)) as RunState;
  const each = s.steps.find((r) => r.id === 'each');
  const output = each?.output as Record<string, unknown>;
  expect(each?.status).toBe('completed');
  expect(output).toMatchObject({ total: 30, completed: 27, failed: 3, batches: 5 });
  expect(output.scanned).toBe(1044); // every person read once (30 + 5 + 5 + 4 + 1,000)
  const failures = output.failures as Array<Record<string, string>>;
  expect(failures.map((f) => f.key).sort()).toEqual(['p-fe-m-004', 'p-fe-m-014', 'p-fe-m-024']);
  expect(failures[0]).toMatchObject({ step: 'refuse', type: 'FlaggedBad' });
  const rows = output.rows as Array<{ id: string; marked: boolean }>;
  expect(rows).toHaveLength(27);
  expect(new Set(rows.map((r) => r.id)).size).toBe(27);
  // the items' steps acted on exactly the selected persons, once each
  const stored = await h.db.db
    .select()
    .from(persons)
    .where(inArray(persons.id, [...ids('p-fe-m', 30), ...ids('p-fe-other', 5)]));
  const markedNow = stored.filter(
    (p) => (p.attributes as Record<string, unknown>).mark === 'marked',
  );
  expect(markedNow.map((p) => p.id).sort()).toEqual(
    ids('p-fe-m', 30).filter((_, i) => i % 10 !== 4),
  );
  // the run's own history stays small: the items ran in child workflows
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  expect(history.events?.length ?? 0).toBeLessThan(60);
});

test('over its blast radius a disabling step parks before changing anything; approve goes on', async () => {
  const runId = await start('test.foreach-guard', 'it-foreach-guard', 'p-fe-run2', {
    department: 'Guarded',
  });
  const parked = await h.eventually(async () => {
    const s = await state(runId);
    return s?.status === 'Parked' ? s : undefined;
  });
  expect(parked.waitingOn).toMatchObject({
    kind: 'operator',
    step: 'disable-all',
    error: { type: 'BlastRadiusExceeded' },
  });
  const message = (parked.waitingOn as { error: { message: string } }).error.message;
  expect(message).toContain('would act on 5 of 1,044 persons (0.5 %)');
  expect(message).toContain('3 persons');
  expect(message).not.toMatch(/p-fe-g/); // counts, never who
  const before = await h.db.db
    .select()
    .from(persons)
    .where(inArray(persons.id, ids('p-fe-g', 5)));
  expect(before.every((p) => p.status === 'active')).toBe(true);
  // retry and skip fit other parked steps; approve only this one
  await expect(
    operator(runId, { action: 'approve', step: 'elsewhere', by: 'ops-1' }),
  ).rejects.toThrow();
  await operator(runId, { action: 'approve', step: 'disable-all', by: 'ops-1', reason: 'planned' });
  const outcome = await h.runOutcome(runId, 60_000);
  expect(outcome.ok).toBe(true);
  const after = await h.db.db
    .select()
    .from(persons)
    .where(inArray(persons.id, ids('p-fe-g', 5)));
  expect(after.every((p) => p.status === 'disabled')).toBe(true);
  const s = (await state(runId)) as RunState;
  expect(s.steps.find((r) => r.id === 'disable-all')?.output).toMatchObject({
    total: 5,
    completed: 5,
    approvedBy: 'ops-1',
  });
});

test('a list value: index keys, collected rows, and maxFailures fails the step', async () => {
  const runId = await start('test.foreach-list', 'it-foreach-list', 'p-fe-run3');
  const outcome = await h.runOutcome(runId, 60_000);
  expect(outcome).toMatchObject({ ok: false, type: 'ItemsFailed' });
  const s = (await state(runId)) as RunState;
  const step = s.steps.find((r) => r.id === 'each-number');
  expect(step?.status).toBe('failed');
  expect(step?.output).toMatchObject({ total: 4, completed: 3, failed: 1, rows: [10, 20, 40] });
});

test('approve is refused on a step parked for another reason', async () => {
  // validated by the run itself: nothing is parked here at all
  const runId = await start('test.foreach-list', 'it-foreach-list', 'p-fe-run4');
  await h.runOutcome(runId, 60_000);
  await expect(
    operator(runId, { action: 'approve', step: 'each-number', by: 'ops-1' }),
  ).rejects.toThrow();
});

test('a batch whose history grows long continues as new and loses no item', async () => {
  const runId = await start('test.foreach-long-batch', 'it-foreach-long-batch', 'p-fe-run5');
  const outcome = await h.runOutcome(runId, 180_000);
  expect(outcome.ok).toBe(true);
  const s = (await state(runId)) as RunState;
  const output = s.steps.find((r) => r.id === 'each-long')?.output as Record<string, unknown>;
  expect(output).toMatchObject({ total: 1000, completed: 1000, failed: 0, batches: 1 });
  expect(new Set(output.rows as string[]).size).toBe(1000);
  // walk the batch's chain of runs back from the last one: each continued the one before
  const batchId = `foreach/${runId}/each-long/batch-0`;
  const runs: number[] = [];
  let runIdOf: string | undefined = (await h.client.workflow.getHandle(batchId).describe()).runId;
  while (runIdOf) {
    const history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> = await h.client.workflow
      .getHandle(batchId, runIdOf)
      .fetchHistory();
    runs.push(history.events?.length ?? 0);
    const first = history.events?.[0];
    runIdOf = first?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
  }
  expect(runs.length).toBeGreaterThanOrEqual(2); // the batch continued as new
  expect(Math.max(...runs)).toBeLessThan(10_000);
}, 200_000);

test("the blast radius is the run's: a second disabling step counts the first's persons", async () => {
  const runId = await start('test.foreach-guard-twice', 'it-foreach-guard-twice', 'p-fe-run6');
  const parked = await h.eventually(async () => {
    const s = await state(runId);
    return s?.status === 'Parked' ? s : undefined;
  }, 60_000);
  expect(parked.waitingOn).toMatchObject({ step: 'second-department' });
  expect((parked.waitingOn as { error: { message: string } }).error.message).toContain(
    'would act on 4 of 1,044 persons (0.4 %), over the blast radius of 3 persons (2 of them by earlier steps of this run)',
  );
  const stored = await h.db.db
    .select()
    .from(persons)
    .where(inArray(persons.id, ['p-fe-t1', 'p-fe-t2', 'p-fe-t3', 'p-fe-t4']));
  // the first step's two are disabled; the second step's two are not, until an operator says so
  expect(Object.fromEntries(stored.map((p) => [p.id, p.status]))).toEqual({
    'p-fe-t1': 'disabled',
    'p-fe-t2': 'disabled',
    'p-fe-t3': 'active',
    'p-fe-t4': 'active',
  });
  await operator(runId, { action: 'abort', step: 'second-department', by: 'ops-2' });
  expect(await h.runOutcome(runId)).toMatchObject({ ok: false, type: 'AbortedByOperator' });
});
