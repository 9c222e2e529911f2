/**
 * The approval_tasks table: written by runs (one upsert per transition, guarded by version),
 * read by the approvals listing through the (person, deadline, task) index of
 * approval_assignees. Pagination is keyset on (deadline, task id).
 */
import { and, asc, eq, gt, inArray, ne, or, sql } from 'drizzle-orm';
import { taskIdOf } from '../../model/approval';
import type { ApprovalTaskRecord } from '../../temporal/contracts';
import type { Database } from '../client';
import { approvalAssignees, approvalTasks } from '../schema';

export type ApprovalTaskRow = typeof approvalTasks.$inferSelect;

const date = (iso: string | undefined) => (iso === undefined ? null : new Date(iso));
/** PostgreSQL text cannot hold NUL; a request rendered from odd event data may. */
const storable = (text: string) => text.split('\u0000').join('');

/**
 * Writes the task as the run sees it now, unless the table already holds this or a later
 * version; the task's assignees are replaced in the same transaction. Returns whether it wrote.
 */
export async function recordApprovalTask(db: Database, r: ApprovalTaskRecord): Promise<boolean> {
  const taskId = taskIdOf(r.workflowId, r.step);
  const values = {
    taskId,
    workflowId: r.workflowId,
    step: r.step,
    flow: r.flow,
    title: storable(r.title),
    subjectId: r.subject.id,
    subjectName: r.subject.displayName === undefined ? null : storable(r.subject.displayName),
    request: storable(r.request),
    access: r.access ?? null,
    mode: r.mode,
    status: r.status,
    level: r.level,
    approvers: r.approvers,
    openedAt: new Date(r.openedAt),
    deadline: new Date(r.deadline),
    nextReminderAt: date(r.nextReminderAt),
    nextEscalationAt: date(r.nextEscalationAt),
    closedAt: date(r.closedAt),
    version: r.version,
    updatedAt: new Date(),
  };
  const changes: Partial<typeof values> = { ...values };
  delete changes.taskId;
  return db.transaction(async (tx) => {
    const written = await tx
      .insert(approvalTasks)
      .values(values)
      .onConflictDoUpdate({
        target: approvalTasks.taskId,
        set: changes,
        setWhere: sql`${approvalTasks.version} < excluded.version`,
      })
      .returning({ taskId: approvalTasks.taskId });
    if (written.length === 0) return false;
    await tx.delete(approvalAssignees).where(eq(approvalAssignees.taskId, taskId));
    const pending = r.status === 'open' ? [...new Set(r.pending)] : [];
    if (pending.length) {
      await tx.insert(approvalAssignees).values(
        pending.map((personId) => ({
          taskId,
          personId,
          deadline: values.deadline,
          subjectId: r.subject.id,
        })),
      );
    }
    return true;
  });
}

/** Where a page starts: after this (deadline, task id). */
export interface TaskCursor {
  deadline: Date;
  taskId: string;
}

/** An open task, with the people of the query it waits on. */
export interface WaitingTask {
  task: ApprovalTaskRow;
  waitingOn: string[];
}

/**
 * Open tasks that wait on any of `persons`, soonest deadline first, after `cursor`, at most
 * `limit`; never a task whose subject is `notAbout`. One index range per person, merged.
 */
export async function waitingTasks(
  db: Database,
  query: { persons: string[]; notAbout: string; after?: TaskCursor; limit: number },
): Promise<{ tasks: WaitingTask[]; more: boolean }> {
  const a = approvalAssignees;
  const after = query.after
    ? or(
        gt(a.deadline, query.after.deadline),
        and(eq(a.deadline, query.after.deadline), gt(a.taskId, query.after.taskId)),
      )
    : undefined;
  const ranges = await Promise.all(
    [...new Set(query.persons)].map((person) =>
      db
        .select({ taskId: a.taskId, personId: a.personId, deadline: a.deadline })
        .from(a)
        .where(and(eq(a.personId, person), ne(a.subjectId, query.notAbout), after))
        .orderBy(asc(a.deadline), asc(a.taskId))
        .limit(query.limit + 1),
    ),
  );
  const byTask = new Map<string, { deadline: Date; waitingOn: string[] }>();
  for (const hit of ranges.flat()) {
    const entry = byTask.get(hit.taskId);
    if (entry) entry.waitingOn.push(hit.personId);
    else byTask.set(hit.taskId, { deadline: hit.deadline, waitingOn: [hit.personId] });
  }
  const ordered = [...byTask.entries()].sort(
    ([ta, a1], [tb, b1]) =>
      a1.deadline.getTime() - b1.deadline.getTime() || (ta < tb ? -1 : ta > tb ? 1 : 0),
  );
  const page = ordered.slice(0, query.limit);
  if (page.length === 0) return { tasks: [], more: false };
  const rows = await db
    .select()
    .from(approvalTasks)
    .where(
      inArray(
        approvalTasks.taskId,
        page.map(([id]) => id),
      ),
    );
  const byId = new Map(rows.map((r) => [r.taskId, r]));
  const tasks: WaitingTask[] = [];
  for (const [id, hit] of page) {
    const task = byId.get(id);
    if (task) tasks.push({ task, waitingOn: hit.waitingOn.sort() });
  }
  return { tasks, more: ordered.length > query.limit };
}

/** One task as last written, open or closed. */
export async function getApprovalTask(
  db: Database,
  taskId: string,
): Promise<ApprovalTaskRow | undefined> {
  const rows = await db
    .select()
    .from(approvalTasks)
    .where(eq(approvalTasks.taskId, taskId))
    .limit(1);
  return rows[0];
}

/**
 * Open tasks by flow, for the approvals-pending gauge: one pass over the partial index of open
 * tasks, however many closed ones the table holds.
 */
export async function openTasksByFlow(db: Database): Promise<Map<string, number>> {
  const rows = await db
    .select({ flow: approvalTasks.flow, open: sql<number>`count(*)::int` })
    .from(approvalTasks)
    .where(eq(approvalTasks.status, 'open'))
    .groupBy(approvalTasks.flow);
  return new Map(rows.map((r) => [r.flow, Number(r.open)]));
}
