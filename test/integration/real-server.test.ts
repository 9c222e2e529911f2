/**
 * idflow on a real Temporal server (v1.29.1 on PostgreSQL, from scripts/temporal-server.sh)
 * rather than the suite's dev server: a joiner completes with its side effects, an approval
 * decided through the API completes its run, and a run waiting on an approval outlives the
 * worker that started it.
 */
import { listAudit } from '../../src/db/repos/audit';
import { getPerson, insertPersonIfAbsent } from '../../src/db/repos/persons';
import { TokenService } from '../../src/gateway/services/tokens';
import { taskIdOf } from '../../src/model/approval';
import { Harness, makeEvent } from '../support/harness';
import { startRealTemporal, type RealTemporal } from '../support/real-temporal';

let temporal: RealTemporal | undefined;
let h: Harness;
let managerToken = '';

beforeAll(async () => {
  // a server of this file's own (benchmarks start and stop the shared one); the script builds it
  // first when scripts/setup.sh has not: minutes, not seconds
  temporal = await startRealTemporal({
    dir: '.idflow/test/temporal-server',
    database: 'temporal_idflow_test',
  });
  h = new Harness({
    definitions: ['test/fixtures/runtime', 'test/fixtures/approvals'],
    temporalAddress: temporal.address,
    temporalNamespace: temporal.namespace,
  });
  await h.start();
  await insertPersonIfAbsent(h.db.db, {
    id: 'p-mgr',
    displayName: 'Mina Manager',
    email: 'mgr@example.com',
    status: 'active',
  });
  managerToken = (
    await new TokenService(h.db.db).create({
      name: 'p-mgr',
      scopes: ['approvals'],
      personId: 'p-mgr',
      actor: 'test',
    })
  ).token;
}, 20 * 60_000);

afterAll(async () => {
  await h?.close();
  await temporal?.stop();
});

/** Sends a test.approve event; resolves once its ap-basic run waits on the manager. */
async function waitingOnManager(subject: string): Promise<{ runId: string; taskId: string }> {
  const event = makeEvent('test.approve', { id: subject, managerId: 'p-mgr' });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/ap-basic/${subject}/${event.id as string}`;
  const task = await h.eventually(async () =>
    (await h.runState(runId))?.approvals.find((t) => t.status === 'open'),
  );
  return { runId, taskId: taskIdOf(runId, task.step) };
}

function approve(taskId: string) {
  return h.request('POST', `/v1/approvals/${taskId}/decision`, {
    token: managerToken,
    body: { decision: 'approve' },
  });
}

test('a joiner answered 202 completes with its side effects', async () => {
  const event = makeEvent('test.slow', { id: 'p-real', givenName: 'Rea' });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/it-slow/p-real/${event.id as string}`;
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true, result: { status: 'Completed' } });
  expect(await getPerson(h.db.db, 'p-real')).toMatchObject({
    status: 'active',
    givenName: 'Rea',
    attributes: { onboarded: true },
  });
  expect((await listAudit(h.db.db, { runId })).map((a) => a.action)).toEqual([
    'person.created',
    'person.attributes-set',
    'person.status-changed',
    'run.completed',
  ]);
});

test('an approval decided through the API completes its run', async () => {
  const { runId, taskId } = await waitingOnManager('s-real-approve');
  const decided = await approve(taskId);
  expect(decided.status).toBe(200);
  expect(decided.body).toMatchObject({ status: 'approved' });
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true, result: { status: 'Completed' } });
  expect((await getPerson(h.db.db, 's-real-approve'))?.attributes).toEqual({ financeShare: true });
});

test('a run waiting on an approval outlives its worker: a new worker takes it to the end', async () => {
  const { runId, taskId } = await waitingOnManager('s-real-outlives');
  await h.stopWorker('SIGKILL');
  expect((await h.client.workflow.getHandle(runId).describe()).status.name).toBe('RUNNING');

  await h.startWorker();
  // the killed worker held the run in its cache: until the server gives up on that worker's
  // sticky queue (the SDK's 10 s), a decision can outlast the gateway's 10 s deadline and be
  // answered 503 with Retry-After; the approver sends it again, and it decides once
  const decided = await h.eventually(async () => {
    const res = await approve(taskId);
    return res.status === 503 ? undefined : res;
  }, 60_000);
  expect(decided.status).toBe(200);
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true, result: { status: 'Completed' } });
  expect((await getPerson(h.db.db, 's-real-outlives'))?.attributes).toEqual({
    financeShare: true,
  });
  expect((await listAudit(h.db.db, { runId, action: 'approval.decision' })).length).toBe(1);
});
