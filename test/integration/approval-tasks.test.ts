/**
 * The approval_tasks table on PostgreSQL (a database of its own): a write never
 * replaces a newer one, a retried write changes nothing, assignees follow the latest write, and
 * keyset pages over several people return every task once, in (deadline, task id) order —
 * the database and the merge in JavaScript agree on the order of task ids.
 */
import { join } from 'node:path';
import * as fc from 'fast-check';
import { openDatabase, type DatabaseHandle } from '../../src/db/client';
import {
  getApprovalTask,
  recordApprovalTask,
  waitingTasks,
  type TaskCursor,
} from '../../src/db/repos/approval-tasks';
import { taskIdOf } from '../../src/model/approval';
import type { ApprovalTaskRecord } from '../../src/temporal/contracts';
import { ROOT } from '../support/definitions';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

let handle: DatabaseHandle;
let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
  handle = await openDatabase({ databaseUrl: testDb.url, dataDir: join(ROOT, '.idflow'), max: 2 });
  await handle.migrate();
}, 60_000);

afterAll(async () => {
  await handle?.close();
  await testDb?.drop();
});

function record(workflowId: string, overrides: Partial<ApprovalTaskRecord>): ApprovalTaskRecord {
  return {
    workflowId,
    step: 'ask',
    flow: 'access',
    title: 'Access',
    subject: { id: 's-1', displayName: 'Sue Subject' },
    request: 'Access?',
    mode: 'all',
    status: 'open',
    level: 0,
    approvers: ['a', 'b'],
    pending: ['a', 'b'],
    openedAt: '2026-01-01T00:00:00.000Z',
    deadline: '2026-01-08T00:00:00.000Z',
    version: 1,
    ...overrides,
  };
}

async function assignees(workflowId: string): Promise<string[]> {
  const page = await waitingTasks(handle.db, {
    persons: ['a', 'b', 'c'],
    notAbout: 'nobody',
    limit: 200,
  });
  return page.tasks.find((t) => t.task.workflowId === workflowId)?.waitingOn ?? [];
}

test('an older or repeated write never replaces a newer one', async () => {
  const id = 'flow/access/s-1/e-1';
  expect(await recordApprovalTask(handle.db, record(id, { version: 20 }))).toBe(true);
  expect(
    await recordApprovalTask(
      handle.db,
      record(id, { version: 10, status: 'approved', pending: [] }),
    ),
  ).toBe(false);
  expect((await getApprovalTask(handle.db, taskIdOf(id, 'ask')))?.status).toBe('open');
  expect(await assignees(id)).toEqual(['a', 'b']);

  expect(await recordApprovalTask(handle.db, record(id, { version: 30, pending: ['b'] }))).toBe(
    true,
  );
  expect(await recordApprovalTask(handle.db, record(id, { version: 30, pending: ['b'] }))).toBe(
    false,
  );
  expect(await assignees(id)).toEqual(['b']);

  expect(
    await recordApprovalTask(
      handle.db,
      record(id, {
        version: 40,
        status: 'approved',
        pending: ['b'],
        closedAt: '2026-01-02T00:00:00.000Z',
      }),
    ),
  ).toBe(true);
  expect(await assignees(id)).toEqual([]);
  expect(await getApprovalTask(handle.db, taskIdOf(id, 'ask'))).toMatchObject({
    status: 'approved',
    version: 40,
  });
});

test('requests about the listing person are left out', async () => {
  const id = 'flow/access/c/e-self';
  await recordApprovalTask(
    handle.db,
    record(id, { subject: { id: 'c' }, approvers: ['c'], pending: ['c'] }),
  );
  const page = await waitingTasks(handle.db, { persons: ['c'], notAbout: 'c', limit: 50 });
  expect(page.tasks).toEqual([]);
});

test('pages over several people return every task once, in (deadline, task id) order', async () => {
  // task ids differ in case, '-' and '_' (base64url), and many share a deadline
  const people = ['p-x', 'p-y'];
  const expected: Array<{ taskId: string; deadline: string }> = [];
  for (let i = 0; i < 60; i++) {
    const workflowId = `flow/page/${i % 2 ? 'A' : 'a'}-${i}_${'~'.repeat(i % 3)}/e`;
    const deadline = new Date(Date.UTC(2026, 1, 1, 0, i % 4)).toISOString();
    const pending = i % 3 === 0 ? people : [people[i % 2] as string];
    await recordApprovalTask(
      handle.db,
      record(workflowId, { deadline, approvers: pending, pending, version: 1 }),
    );
    expected.push({ taskId: taskIdOf(workflowId, 'ask'), deadline });
  }
  const order = expected
    .sort(
      (x, y) =>
        x.deadline.localeCompare(y.deadline) ||
        (x.taskId < y.taskId ? -1 : x.taskId > y.taskId ? 1 : 0),
    )
    .map((t) => t.taskId);

  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 25 }), async (limit) => {
      const seen: string[] = [];
      let after: TaskCursor | undefined;
      for (;;) {
        const page = await waitingTasks(handle.db, {
          persons: people,
          notAbout: 'nobody',
          limit,
          ...(after ? { after } : {}),
        });
        seen.push(...page.tasks.map((t) => t.task.taskId));
        const last = page.tasks[page.tasks.length - 1]?.task;
        if (!page.more || !last) break;
        after = { deadline: last.deadline, taskId: last.taskId };
      }
      expect(seen).toEqual(order);
    }),
    { numRuns: 15 },
  );
});
