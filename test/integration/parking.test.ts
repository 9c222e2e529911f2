/**
 * No silent failure: a step whose retries are used up parks the run with the step, error type,
 * message and attempts; an operator retries, skips or aborts it with `idflow runs`, and the
 * decision is audited.
 */
import { and, eq } from 'drizzle-orm';
import { listAudit } from '../../src/db/repos/audit';
import { definitionVersions } from '../../src/db/schema';
import type { RunState } from '../../src/temporal/contracts';
import { Harness, makeEvent } from '../support/harness';

let h: Harness;

const idflow = (...args: string[]) => h.idflow(...args);

async function setConnectorActive(active: boolean): Promise<void> {
  await h.db.db
    .update(definitionVersions)
    .set({ active })
    .where(
      and(eq(definitionVersions.kind, 'Connector'), eq(definitionVersions.name, 'flaky-store')),
    );
}

/** Sends a test.park event and waits until its run is parked. */
async function parkedRun(subject: string): Promise<{ runId: string; state: RunState }> {
  const event = makeEvent('test.park', { id: subject });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/it-parking/${subject}/${event.id as string}`;
  const state = await h.eventually(async () => {
    const s = await h.client.workflow
      .getHandle(runId)
      .query<RunState>('state')
      .catch(() => undefined); // not started yet
    if (s?.status === 'Completed' || s?.status === 'Failed')
      throw new Error(`${runId} ended ${s.status} without parking`);
    return s?.status === 'Parked' ? s : undefined;
  });
  return { runId, state };
}

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/runtime'] });
  await h.start();
  await setConnectorActive(false);
});

afterAll(async () => {
  await h?.close();
});

test('a step that exhausts its retries parks the run; `idflow runs retry` resumes it', async () => {
  const { runId, state } = await parkedRun('p-park-retry');
  expect(state.waitingOn).toMatchObject({
    kind: 'operator',
    step: 'create',
    error: { type: 'ConnectorNotConfigured', attempts: 2 },
  });
  expect(state.waitingOn?.kind === 'operator' && state.waitingOn.error.message).toContain(
    "connector 'flaky-store' is not active",
  );
  const described = await h.client.workflow.getHandle(runId).describe();
  expect(described.status.name).toBe('RUNNING');

  const listed = await h.eventually(async () => {
    const out = await idflow('runs', 'list', '--status', 'Parked');
    return out.stdout.includes(runId) ? out : undefined;
  });
  expect(listed.code).toBe(0);

  await setConnectorActive(true);
  await new Promise((resolve) => setTimeout(resolve, 5_500)); // the worker's connector cache expires
  const retried = await idflow('runs', 'retry', runId, '--reason', 'connector reactivated');
  expect(retried).toMatchObject({ code: 0 });
  expect(await h.outcome(runId)).toMatchObject({ ok: true, result: { vars: { done: true } } });
  const audit = await listAudit(h.db.db, { runId });
  // the run goes on as soon as the update is accepted, so the rows may come in either order
  expect(audit.map((a) => a.action).sort()).toEqual([
    'person.created',
    'run.completed',
    'run.step-retry',
  ]);
  const decision = audit.find((a) => a.action === 'run.step-retry');
  expect(decision?.actor).toMatch(/^cli:/);
  expect(decision?.detail).toEqual({ step: 'create', reason: 'connector reactivated' });
  await setConnectorActive(false);
  await new Promise((resolve) => setTimeout(resolve, 5_500)); // and forgets it again
});

test('`idflow runs skip` passes over the parked step; `abort` fails the run', async () => {
  const skipped = await parkedRun('p-park-skip');
  expect((await idflow('runs', 'skip', skipped.runId)).code).toBe(0);
  expect(await h.outcome(skipped.runId)).toMatchObject({ ok: true });
  const state = await h.client.workflow.getHandle(skipped.runId).query<RunState>('state');
  expect(state.steps.map((s) => [s.id, s.status])).toEqual([
    ['create', 'skipped'],
    ['after', 'completed'],
  ]);

  const aborted = await parkedRun('p-park-abort');
  expect(
    (await idflow('runs', 'abort', aborted.runId, '--reason', 'person left before joining')).code,
  ).toBe(0);
  const outcome = await h.outcome(aborted.runId);
  expect(outcome).toMatchObject({ ok: false, type: 'AbortedByOperator' });
  expect((outcome as { message: string }).message).toContain('person left before joining');
});

test('operator actions on a run that is not parked are refused', async () => {
  const { runId } = await parkedRun('p-park-twice');
  expect((await idflow('runs', 'abort', runId)).code).toBe(0);
  await h.outcome(runId);
  const refused = await idflow('runs', 'retry', runId);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('is not parked');
});
