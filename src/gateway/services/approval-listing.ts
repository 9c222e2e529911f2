/**
 * The approvals listing as approvers read it: tasks as their runs last wrote them to the
 * approval_tasks table, approvers' names from the identity store, and opaque page cursors.
 */
import type { Database } from '../../db/client';
import type { ApprovalTaskRow, TaskCursor } from '../../db/repos/approval-tasks';
import { getPersons } from '../../db/repos/persons';
import type { ApprovalTask } from '../../temporal/contracts';
import { ValidationProblem } from '../problems';

/** A task in an approver's listing, as its run last wrote it to the approval_tasks table. */
export interface ApprovalSummary {
  taskId: string;
  workflowId: string;
  step: string;
  title: string;
  flow: string;
  subject: { id: string; displayName?: string };
  request: string;
  access?: ApprovalTask['access'];
  mode: ApprovalTask['mode'];
  status: ApprovalTask['status'];
  level: number;
  approvers: Array<{ id: string; displayName?: string }>;
  /** Who among the approver and the people delegating to them this task waits on. */
  waitingOn: string[];
  openedAt: string;
  deadline: string;
  nextReminderAt?: string;
  nextEscalationAt?: string;
  links: { self: string; decision: string };
}

export function summaryOf(
  task: ApprovalTaskRow,
  waitingOn: string[],
  names: Map<string, string>,
): ApprovalSummary {
  return {
    taskId: task.taskId,
    workflowId: task.workflowId,
    step: task.step,
    title: task.title,
    flow: task.flow,
    subject: {
      id: task.subjectId,
      ...(task.subjectName ? { displayName: task.subjectName } : {}),
    },
    request: task.request,
    ...(task.access !== null ? { access: task.access as ApprovalTask['access'] } : {}),
    mode: task.mode as ApprovalTask['mode'],
    status: task.status as ApprovalTask['status'],
    level: task.level,
    approvers: task.approvers.map((id) => ({
      id,
      ...(names.has(id) ? { displayName: names.get(id) } : {}),
    })),
    waitingOn,
    openedAt: task.openedAt.toISOString(),
    deadline: task.deadline.toISOString(),
    ...(task.nextReminderAt ? { nextReminderAt: task.nextReminderAt.toISOString() } : {}),
    ...(task.nextEscalationAt ? { nextEscalationAt: task.nextEscalationAt.toISOString() } : {}),
    links: {
      self: `/v1/approvals/${task.taskId}`,
      decision: `/v1/approvals/${task.taskId}/decision`,
    },
  };
}

/** Display names of persons by id, from the identity store. */
export async function displayNames(db: Database, ids: string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  if (ids.length === 0) return names;
  for (const p of await getPersons(db, ids)) {
    const name = p.displayName ?? [p.givenName, p.familyName].filter(Boolean).join(' ');
    if (name) names.set(p.id, name);
  }
  return names;
}

/** An opaque page cursor: where the last page ended (deadline, task id). */
export function encodeCursor(cursor: TaskCursor): string {
  return Buffer.from(JSON.stringify([cursor.deadline.toISOString(), cursor.taskId])).toString(
    'base64url',
  );
}

export function decodeCursor(value: string): TaskCursor {
  const bad = () =>
    new ValidationProblem('query', [
      { path: '/cursor', message: 'is not a cursor of this listing (use the `next` it answered)' },
    ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    !/^[A-Za-z0-9_-]{1,2000}$/.test(parsed[1]) ||
    Number.isNaN(Date.parse(parsed[0]))
  )
    throw bad();
  return { deadline: new Date(parsed[0]), taskId: parsed[1] };
}
