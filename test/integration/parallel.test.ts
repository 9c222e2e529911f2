/**
 * The `parallel` step against a real Temporal server: branches run at the same time, failFast
 * cancels the others, waiting for all names every failed branch, the state query shows each
 * branch and its steps, and an operator acts on a step parked inside a branch.
 */
import { and, eq } from 'drizzle-orm';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import { definitionVersions } from '../../src/db/schema';
import type { OperatorAction, RunState } from '../../src/temporal/contracts';
import { Harness, makeEvent } from '../support/harness';

let h: Harness;

async function start(type: string, flow: string, subject: string): Promise<string> {
  const event = makeEvent(type, { id: subject, givenName: 'Pat' });
  expect((await h.postEvent(event)).status).toBe(202);
  return `flow/${flow}/${subject}/${event.id as string}`;
}

const state = (runId: string) => h.runState(runId);
const operator = (runId: string, action: OperatorAction) => h.operate(runId, action);

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/runtime', 'test/fixtures/parallel'] });
  await h.start();
  await h.db.db
    .update(definitionVersions)
    .set({ active: false })
    .where(
      and(eq(definitionVersions.kind, 'Connector'), eq(definitionVersions.name, 'flaky-store')),
    );
  for (const id of ['p-par-sec', 'p-par-fin'])
    await insertPersonIfAbsent(h.db.db, { id, displayName: id, status: 'active' });
});

afterAll(async () => {
  await h?.close();
});

test('two branches that each wait 2 s finish together in about 2 s, not 4 s', async () => {
  const runId = await start('test.parallel-waits', 'it-parallel-waits', 'p-par-waits');
  const outcome = await h.runOutcome(runId);
  expect(outcome).toMatchObject({ ok: true, result: { vars: { right: true, found: false } } });
  const s = (await state(runId)) as RunState;
  const both = s.steps.find((r) => r.id === 'both');
  expect(both?.status).toBe('completed');
  expect(both?.branches?.map((b) => [b.id, b.title, b.status])).toEqual([
    ['left', 'Left', 'completed'],
    ['right', 'right', 'completed'],
  ]);
  const took = Date.parse(both?.finishedAt as string) - Date.parse(both?.startedAt as string);
  expect(took).toBeGreaterThanOrEqual(2_000);
  expect(took).toBeLessThan(3_800); // one after the other would take 4 s or more
  // the branch steps' records name their branch; steps outside have none
  expect(s.steps.map((r) => [r.id, r.branch, r.status])).toEqual([
    ['both', undefined, 'completed'],
    ['left-wait', 'both/left', 'completed'],
    ['right-wait', 'both/right', 'completed'],
    ['left-read', 'both/left', 'completed'],
    ['right-set', 'both/right', 'completed'],
    ['after', undefined, 'completed'],
  ]);
});

test('failFast: the first failing branch cancels the other and fails the step', async () => {
  const runId = await start('test.parallel-fail-fast', 'it-parallel-fail-fast', 'p-par-fast');
  const began = Date.now();
  const outcome = await h.runOutcome(runId);
  expect(Date.now() - began).toBeLessThan(15_000); // not the slow branch's 60 s
  expect(outcome).toMatchObject({ ok: false, type: 'DirectoryRefused' });
  expect((outcome as { message: string }).message).toContain("branch 'quick' failed");
  const s = (await state(runId)) as RunState;
  expect(s.status).toBe('Failed');
  expect(s.waitingOn).toBeUndefined();
  const contain = s.steps.find((r) => r.id === 'contain');
  expect(contain?.status).toBe('failed');
  expect(contain?.branches?.map((b) => [b.id, b.status, b.error?.step])).toEqual([
    ['quick', 'failed', 'give-up'],
    ['slow', 'cancelled', undefined],
  ]);
  expect(s.steps.find((r) => r.id === 'long-wait')).toMatchObject({
    status: 'cancelled',
    branch: 'contain/slow',
  });
  expect(s.steps.some((r) => r.id === 'never')).toBe(false);
});

test('without failFast the step waits for every branch and names each failure', async () => {
  const runId = await start('test.parallel-all', 'it-parallel-all', 'p-par-all');
  const outcome = await h.runOutcome(runId);
  expect(outcome).toMatchObject({ ok: false, type: 'BranchesFailed' });
  const message = (outcome as { message: string }).message;
  expect(message).toContain("branch 'directory': DirectoryRefused");
  expect(message).toContain("branch 'crm': CrmRefused");
  const s = (await state(runId)) as RunState;
  expect(s.steps.find((r) => r.id === 'contain')?.branches?.map((b) => [b.id, b.status])).toEqual([
    ['directory', 'failed'],
    ['crm', 'failed'],
    ['mail', 'completed'],
  ]);
  expect(s.vars).toEqual({ mail: true });
});

test('a step parked in one branch while the other waits: both waits show; an operator retries, then skips it', async () => {
  const runId = await start('test.parallel-park', 'it-parallel-park', 'p-par-park');
  const both = await h.eventually(async () => {
    const s = await state(runId);
    return s?.waiting?.length === 2 ? s : undefined;
  });
  expect(both.status).toBe('Parked');
  expect(both.waitingOn).toMatchObject({ kind: 'operator', step: 'create' });
  expect(both.waiting?.map((w) => [w.kind, w.step])).toEqual([
    ['timer', 'pause'],
    ['operator', 'create'],
  ]);
  expect(both.steps.find((r) => r.id === 'create')).toMatchObject({
    status: 'parked',
    branch: 'contain/store',
  });
  // the timer branch ends; the run stays parked on the other branch's step
  const parked = await h.eventually(async () => {
    const s = await state(runId);
    return s?.steps.find((r) => r.id === 'pause')?.status === 'completed' ? s : undefined;
  });
  expect(parked.status).toBe('Parked');
  expect(parked.waiting).toBeUndefined();
  const refused = (await operator(runId, {
    action: 'retry',
    step: 'pause',
    by: 'ops@example.com',
  }).catch((err: unknown) => err)) as { cause?: { message?: string } };
  expect(refused.cause?.message).toBe("the run is parked on step 'create', not 'pause'");

  // a retry runs the step again; the connector is still not active, so it parks again
  await operator(runId, { action: 'retry', step: 'create', by: 'ops@example.com' });
  const again = await h.eventually(async () => {
    const s = await state(runId);
    return s?.status === 'Parked' ? s : undefined;
  });
  expect(again.waitingOn).toMatchObject({ kind: 'operator', step: 'create' });

  await operator(runId, { action: 'skip', step: 'create', by: 'ops@example.com' });
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true, result: { vars: { done: true } } });
  const s = (await state(runId)) as RunState;
  expect(s.steps.find((r) => r.id === 'contain')?.branches?.map((b) => b.status)).toEqual([
    'completed',
    'completed',
  ]);
  expect(s.steps.find((r) => r.id === 'create')?.status).toBe('skipped');
});

test('two approvals open at once in two branches: both show as waits, each is decided on its own', async () => {
  const runId = await start('test.parallel-approvals', 'it-parallel-approvals', 'p-par-approvals');
  const both = await h.eventually(async () => {
    const s = await state(runId);
    return s?.waiting?.length === 2 ? s : undefined;
  });
  expect(both.status).toBe('Waiting');
  expect(both.waiting?.map((w) => [w.kind, w.step]).sort()).toEqual([
    ['approval', 'ask-finance'],
    ['approval', 'ask-security'],
  ]);
  expect(both.approvals.map((a) => [a.step, a.status]).sort()).toEqual([
    ['ask-finance', 'open'],
    ['ask-security', 'open'],
  ]);
  const decide = (step: string, by: string) =>
    h.client.workflow.getHandle(runId).executeUpdate('decide', {
      args: [{ step, decision: 'approve', by, onBehalfOf: by, channel: 'api' }],
    });
  await decide('ask-finance', 'p-par-fin');
  const one = await h.eventually(async () => {
    const s = await state(runId);
    return s?.waiting === undefined && s?.waitingOn ? s : undefined;
  });
  expect(one.waitingOn).toMatchObject({ kind: 'approval', step: 'ask-security' });
  expect(one.status).toBe('Waiting');
  await decide('ask-security', 'p-par-sec');
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true, result: { vars: { both: true } } });
});
