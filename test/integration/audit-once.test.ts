/**
 * An audit row describes a fact once: an activity retried after its completion was lost (the
 * worker or Temporal went away between the commit and the report) or replayed writes the same
 * dedupe key, and the second row is dropped. Activities are called twice as a retry would call
 * them, with the same activity context; and a dispatch whose recordDecision is retried after it
 * wrote leaves one `event.dispatched` row. A remote change whose attempt was cut off after the
 * target applied it is audited by its retry as this call's change, not as "unchanged".
 */
import { join } from 'node:path';
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { NativeConnection, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { createActivities } from '../../activities';
import { createScimConnector } from '../../activities/connectors/scim';
import { ActiveConnectors } from '../../src/connectors/active';
import { listAudit } from '../../src/db/repos/audit';
import { idempotencyKeys } from '../../src/db/schema';
import { createLogger } from '../../src/logging';
import { dispatchWorkflowId, type IdentityEvent } from '../../src/model/event';
import { workflowBundle } from '../../src/temporal/bundle';
import { startScimTarget } from '../../src/targets/scim';
import type { ApprovalTask, RunOutcome } from '../../src/temporal/contracts';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { opContext } from '../support/op-context';

let h: Harness;
const logger = createLogger('silent');

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/runtime'] });
  await h.start();
});

afterAll(async () => {
  await h?.close();
});

/** Runs `fn` as attempt `attempt` of one activity of one workflow run. */
function asActivity<T>(attempt: number, fn: () => Promise<T>): Promise<T> {
  const info = {
    activityId: '7',
    activityType: 'test',
    attempt,
    isLocal: true,
    workflowExecution: { workflowId: 'flow/it-audit/p-once/e-1', runId: 'run-0001' },
    startToCloseTimeoutMs: 10_000,
  };
  const context = { info, cancellationSignal: new AbortController().signal } as unknown as Context;
  return asyncLocalStorage.run(context, fn);
}

/** Calls `fn` twice, as an activity's first attempt and its retry. */
async function twice(fn: () => Promise<unknown>): Promise<void> {
  await asActivity(1, fn);
  await asActivity(2, fn);
}

test('records, connector ops, notifications and approvals audited twice leave one row each', async () => {
  const db = h.db.db;
  const activities = createActivities({ db, logger, connectors: new ActiveConnectors(db) });
  const event = makeEvent('test.leaver', { id: 'p-once' }) as unknown as IdentityEvent;
  await twice(() => activities.recordEvent(event));
  await twice(() =>
    activities.recordDecision({ source: event.source, id: event.id, trace: [], runs: [] }),
  );
  const outcome: RunOutcome = {
    runId: 'flow/it-audit/p-once/e-1',
    flow: 'it-audit',
    hash: 'h',
    subjectId: 'p-once',
    status: 'Failed',
    error: { step: 'x', type: 'TargetNotFound', message: 'no person' },
    budgetExceeded: { automatedMs: 20, budgetMs: 10 },
  };
  await twice(() => activities.recordRunOutcome(outcome));

  // the first attempt's effect committed but its kept result was lost: only the key holds
  const forget = (key: string) => db.delete(idempotencyKeys).where(eq(idempotencyKeys.key, key));
  const call = {
    connector: 'people',
    connectorType: 'idstore',
    op: 'upsertPerson',
    args: { id: 'p-once', givenName: 'Once' },
    idempotencyKey: 'flow/it-audit/p-once/e-1:record',
    runId: 'flow/it-audit/p-once/e-1',
    flow: 'it-audit',
    stepId: 'record',
  };
  await asActivity(1, () => activities.runConnectorOp(call));
  await forget(call.idempotencyKey);
  await asActivity(2, () => activities.runConnectorOp(call));

  const notification = {
    channel: 'log',
    channelType: 'log',
    to: ['p-once'],
    template: { name: 't', text: 'hello' },
    data: {},
    idempotencyKey: 'flow/it-audit/p-once/e-1:tell',
    runId: 'flow/it-audit/p-once/e-1',
    flow: 'it-audit',
    stepId: 'tell',
  };
  await asActivity(1, () => activities.sendNotification(notification));
  await forget(notification.idempotencyKey);
  await asActivity(2, () => activities.sendNotification(notification));

  const task = {
    workflowId: 'flow/it-audit/p-once/e-1',
    step: 'ok',
    level: 0,
    status: 'approved',
    request: 'Keep the mailbox?',
    subject: { id: 'p-once' },
    deadline: new Date().toISOString(),
    decisions: [],
    history: [],
  } as unknown as ApprovalTask;
  const assign = {
    task,
    kind: 'assigned' as const,
    to: [],
    channel: 'log',
    channelType: 'log',
    idempotencyKey: 'flow/it-audit/p-once/e-1:ok:assigned:0',
  };
  await asActivity(1, () => activities.notifyApprovers(assign));
  await forget(`${assign.idempotencyKey}:audit`);
  await asActivity(2, () => activities.notifyApprovers(assign));
  const close = { task, idempotencyKey: 'flow/it-audit/p-once/e-1:ok:close:1' };
  await asActivity(1, () => activities.closeApprovalTask(close));
  await forget(close.idempotencyKey);
  await asActivity(2, () => activities.closeApprovalTask(close));

  const rows = [
    ...(await listAudit(db, { runId: dispatchWorkflowId(event.source, event.id) })),
    ...(await listAudit(db, { runId: 'flow/it-audit/p-once/e-1' })),
  ];
  expect(rows.map((r) => r.action).sort()).toEqual([
    'approval.assigned',
    'approval.closed',
    'event.dispatched',
    'event.received',
    'notification.sent',
    'person.created',
    'run.budget-exceeded',
    'run.failed',
  ]);
  expect(rows.every((r) => r.dedupeKey)).toBe(true);
});

test('a dispatch whose recordDecision is retried after it wrote leaves one event.dispatched row', async () => {
  const taskQueue = `${h.taskQueue}-inproc`;
  const real = createActivities({ db: h.db.db, logger, connectors: new ActiveConnectors(h.db.db) });
  let calls = 0;
  const connection = await NativeConnection.connect({ address: h.temporalAddress });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await workflowBundle(join(ROOT, '.idflow', 'bundle')),
    activities: {
      ...real,
      // the decision and its audit row are committed; then the completion is lost
      async recordDecision(decision: Parameters<typeof real.recordDecision>[0]) {
        calls += 1;
        await real.recordDecision(decision);
        if (calls === 1) throw new Error('the worker went away before reporting');
      },
    },
  });
  const event = makeEvent('test.nothing', { id: 'p-retried' }) as unknown as IdentityEvent;
  const workflowId = dispatchWorkflowId(event.source, event.id);
  try {
    await worker.runUntil(async () => {
      await h.client.workflow.execute('dispatchEvent', { taskQueue, workflowId, args: [event] });
    });
  } finally {
    await connection.close();
  }
  expect(calls).toBe(2);
  const rows = await listAudit(h.db.db, { action: 'event.dispatched' });
  expect(rows.filter((r) => r.runId === workflowId)).toHaveLength(1);
});

test('a remote change applied by an attempt cut off before its audit row is audited by the retry as made', async () => {
  process.env.AUDIT_ONCE_SCIM_TOKEN = 'scim-audit-once-5c2e';
  const target = await startScimTarget({ token: 'scim-audit-once-5c2e', groups: ['sales'] });
  try {
    const config = {
      baseUrl: target.url,
      auth: { type: 'bearer', token: { secretEnv: 'AUDIT_ONCE_SCIM_TOKEN' } },
    };
    const connectors = {
      get: (name: string) =>
        Promise.resolve(name === 'crm' ? { name, type: 'scim', config } : undefined),
    } as unknown as ActiveConnectors;
    const db = h.db.db;
    const activities = createActivities({ db, logger, connectors });
    const { ops } = createScimConnector(5_000);
    const direct = opContext('crm', config);
    const { user } = await ops.createUser({ user: { userName: 'cut-off@example.com' } }, direct);
    const groupId = [...target.groups.values()].find((g) => g.displayName === 'sales')
      ?.id as string;
    const runId = 'flow/it-audit/p-cut/e-1';
    const call = (key: string) => ({
      connector: 'crm',
      connectorType: 'scim',
      op: 'addGroupMember',
      args: { groupId, userId: user.id },
      idempotencyKey: `${runId}:${key}`,
      runId,
      flow: 'it-audit',
      stepId: key,
    });

    // attempt 1 added the member, then its worker was killed before it wrote the row
    await ops.addGroupMember({ groupId, userId: user.id }, direct);
    await asActivity(2, () => activities.runConnectorOp(call('sales')));
    // a first attempt that finds the member already there changed nothing
    await asActivity(1, () => activities.runConnectorOp(call('again')));
    // and a retry of a call whose first attempt wrote its row leaves that row alone
    await asActivity(3, () => activities.runConnectorOp(call('again')));

    const rows = await listAudit(db, { runId, action: 'scim.addGroupMember' });
    expect(
      rows.map((r) => [
        (r.detail as Record<string, unknown>).step,
        r.outcome,
        (r.detail as Record<string, unknown>).alreadyApplied ?? null,
      ]),
    ).toEqual([
      ['sales', 'ok', true],
      ['again', 'unchanged', null],
    ]);
    expect(rows[0]?.detail).toMatchObject({ attempt: 2, result: { changed: false } });
    const members = (target.groups.get(groupId)?.members ?? []) as Array<{ value: string }>;
    expect(members.filter((m) => m.value === user.id)).toHaveLength(1);
  } finally {
    await target.stop();
  }
});
