/**
 * Durability: a worker killed with SIGKILL in the middle of a run is replaced and the run
 * finishes where it stopped, with every side effect applied exactly once; a connector call
 * repeated with the same idempotency key (a worker that died after the commit) acts once.
 */
import { createActivities } from '../../activities';
import { ActiveConnectors } from '../../src/connectors/active';
import { listAudit } from '../../src/db/repos/audit';
import { getPerson } from '../../src/db/repos/persons';
import { idempotencyKeys } from '../../src/db/schema';
import { createLogger } from '../../src/logging';
import { like } from 'drizzle-orm';
import { Harness, makeEvent } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/runtime'] });
  await h.start();
});

afterAll(async () => {
  await h?.close();
});

test('a worker killed mid-run is replaced and the run completes, each side effect once', async () => {
  const event = makeEvent('test.slow', { id: 'p-slow', givenName: 'Sam' });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/it-slow/p-slow/${event.id as string}`;

  // the first side effect is done and the run sleeps in step 'pause': kill the worker now
  await h.eventually(async () =>
    (await listAudit(h.db.db, { runId, action: 'person.created' })).length ? true : undefined,
  );
  await h.stopWorker('SIGKILL');
  expect(h.worker?.signalCode).toBe('SIGKILL');
  const parked = await h.client.workflow.getHandle(runId).describe();
  expect(parked.status.name).toBe('RUNNING');

  await h.startWorker();
  expect(await h.outcome(runId)).toMatchObject({ ok: true, result: { status: 'Completed' } });

  const audit = await listAudit(h.db.db, { runId });
  expect(audit.map((a) => a.action)).toEqual([
    'person.created',
    'person.attributes-set',
    'person.status-changed',
    'run.completed',
  ]);
  const person = await getPerson(h.db.db, 'p-slow');
  expect(person).toMatchObject({
    status: 'active',
    givenName: 'Sam',
    attributes: { onboarded: true },
  });
  const keys = await h.db.db
    .select()
    .from(idempotencyKeys)
    .where(like(idempotencyKeys.key, `${runId}:%`));
  expect(keys.map((k) => k.key).sort()).toEqual([
    `${runId}:activate`,
    `${runId}:create`,
    `${runId}:tag`,
  ]);
});

test('SIGTERM stops the worker cleanly (exit 0), and another worker takes over', async () => {
  const event = makeEvent('test.slow', { id: 'p-term', givenName: 'Toni' });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/it-slow/p-term/${event.id as string}`;
  await h.eventually(async () =>
    (await listAudit(h.db.db, { runId, action: 'person.created' })).length ? true : undefined,
  );
  await h.stopWorker('SIGTERM');
  expect(h.worker?.exitCode).toBe(0);
  await h.startWorker();
  expect(await h.outcome(runId)).toMatchObject({ ok: true });
  expect((await listAudit(h.db.db, { runId })).map((a) => a.action)).toEqual([
    'person.created',
    'person.attributes-set',
    'person.status-changed',
    'run.completed',
  ]);
});

test('a connector call retried with the same idempotency key returns the first result and acts once', async () => {
  const activities = createActivities({
    db: h.db.db,
    logger: createLogger('silent'),
    connectors: new ActiveConnectors(h.db.db),
  });
  const call = {
    connector: 'people',
    connectorType: 'idstore',
    op: 'upsertPerson',
    args: { id: 'p-once', givenName: 'Once' },
    idempotencyKey: 'flow/manual/p-once/e-1:create',
    runId: 'flow/manual/p-once/e-1',
    flow: 'manual',
    stepId: 'create',
  };
  const first = await activities.runConnectorOp(call);
  const second = await activities.runConnectorOp(call);
  expect(second).toEqual(first);
  expect(first).toMatchObject({ created: true, changed: true });
  expect((await listAudit(h.db.db, { runId: call.runId })).map((a) => a.action)).toEqual([
    'person.created',
  ]);

  // a new call (new key) on the same person converges: nothing to change
  const again = await activities.runConnectorOp({
    ...call,
    idempotencyKey: 'flow/manual/p-once/e-2:create',
  });
  expect(again).toMatchObject({ created: false, changed: false });
});

test('arguments that do not fit the op are refused without retries (InvalidRequest)', async () => {
  const activities = createActivities({
    db: h.db.db,
    logger: createLogger('silent'),
    connectors: new ActiveConnectors(h.db.db),
  });
  await expect(
    activities.runConnectorOp({
      connector: 'people',
      connectorType: 'idstore',
      op: 'setStatus',
      args: { personId: 'p-once', status: 'gone' },
      idempotencyKey: 'k:1',
      runId: 'r',
      flow: 'manual',
      stepId: 's',
    }),
  ).rejects.toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
});

test('two runs creating the same new person at once both succeed: one creates, one converges', async () => {
  const activities = createActivities({
    db: h.db.db,
    logger: createLogger('silent'),
    connectors: new ActiveConnectors(h.db.db),
  });
  const call = (n: number) =>
    activities.runConnectorOp({
      connector: 'people',
      connectorType: 'idstore',
      op: 'upsertPerson',
      args: { id: 'p-race', givenName: 'Race' },
      idempotencyKey: `flow/race/p-race/e-${n}:create`,
      runId: `flow/race/p-race/e-${n}`,
      flow: 'race',
      stepId: 'create',
    });
  const results = (await Promise.all([call(1), call(2), call(3)])) as Array<{ created: boolean }>;
  expect(results.map((r) => r.created).sort()).toEqual([false, false, true]);
});
