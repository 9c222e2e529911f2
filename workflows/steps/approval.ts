/**
 * `approval`: assign the request to approvers, remind them, escalate through the chain, and end
 * on a decision or on the timeout — approve, reject, or park for an operator. Decisions arrive
 * as `decide` updates, validated against the task (see FlowRun.validateDecision). Durations
 * count calendar time, or business time when the step has business hours.
 *
 * Each transition (assigned, reminded, escalated, decided, closed) is written to the
 * approval_tasks table by a local activity, so approvers' listings read an index; the run stays
 * the authority on decisions. Runs recorded before this write existed (patch
 * `approval-task-table`) replay without it and start writing at their next transition.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  proxyActivities,
  proxyLocalActivities,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { addBusinessTime } from '../../src/dsl/business-time';
import { stringify } from '../../src/dsl/cel-runtime';
import type { ApprovalStepIR, ApproverIR, JsonValue } from '../../src/dsl/ir';
import { APPROVAL_OUTPUT_SHAPE } from '../../src/dsl/shapes';
import type {
  ApprovalEvent,
  ApprovalTask,
  ApprovalTaskRecord,
  Approver,
} from '../../src/temporal/contracts';
import { hasPatch } from '../patches';
import type { FlowRun } from '../run';
import { visibleText } from '../../src/temporal/visible';

const { resolveApprovers, writeApprovalTask } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m', backoffCoefficient: 2 },
});

/** Notifications reach Slack and other systems: regular activities, retried for a while. */
const { notifyApprovers, closeApprovalTask } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    maximumInterval: '1m',
    backoffCoefficient: 2,
    maximumAttempts: 10,
  },
});

function at(ms: number): string {
  return new Date(ms).toISOString();
}

/** The last version each run wrote, and what each task looked like when last written. */
const versions = new WeakMap<FlowRun, number>();
const written = new WeakMap<ApprovalTask, string>();

function undecidedOf(task: ApprovalTask): Approver[] {
  return task.approvers.filter((a) => !task.decisions.some((d) => d.onBehalfOf === a.id));
}

function recordOf(task: ApprovalTask, status = task.status): Omit<ApprovalTaskRecord, 'version'> {
  return {
    workflowId: task.workflowId,
    step: task.step,
    flow: task.flow,
    title: task.title,
    subject: {
      id: task.subject.id,
      ...(task.subject.displayName ? { displayName: task.subject.displayName } : {}),
    },
    request: task.request,
    ...(task.access !== undefined ? { access: task.access } : {}),
    mode: task.mode,
    status,
    level: task.level,
    approvers: task.approvers.map((a) => a.id),
    pending: status === 'open' ? undecidedOf(task).map((a) => a.id) : [],
    openedAt: task.openedAt,
    deadline: task.deadline,
    ...(task.nextReminderAt && status === 'open' ? { nextReminderAt: task.nextReminderAt } : {}),
    ...(task.nextEscalationAt && status === 'open'
      ? { nextEscalationAt: task.nextEscalationAt }
      : {}),
  };
}

/**
 * Writes the task to the approval_tasks table if it changed since the last write (runs with the
 * patch only); returns whether the run writes the table. Versions grow with every write of the
 * run and start above workflow time × 1000, so a reset run's writes win over its old ones.
 */
async function writeTask(
  run: FlowRun,
  task: ApprovalTask,
  transition: string,
  status = task.status,
): Promise<boolean> {
  if (!hasPatch('approval-task-table')) return false;
  const record = recordOf(task, status);
  const fingerprint = JSON.stringify(record);
  if (written.get(task) === fingerprint) return true;
  const version = Math.max((versions.get(run) ?? 0) + 1, Date.now() * 1000);
  versions.set(run, version);
  try {
    await writeApprovalTask.executeWithOptions(
      { summary: visibleText(`${task.step}: ${transition}`) },
      [{ ...record, ...(status !== 'open' ? { closedAt: at(Date.now()) } : {}), version }],
    );
    written.set(task, fingerprint);
  } catch (err) {
    // the table only serves listings (a database outage is retried, not thrown): a value it
    // refuses must not end the approval, which the run decides on its own state
    log.warn('approval task not written to the approval_tasks table', {
      step: task.step,
      transition,
      failure:
        err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
          ? err.cause.type
          : 'unknown',
    });
  }
  return true;
}

/**
 * Tasks still open when the run ends (a failed branch beside a waiting one): the table marks
 * them expired, so they leave approvers' listings.
 */
export async function closeAbandonedTasks(run: FlowRun): Promise<void> {
  for (const task of run.approvals.filter((t) => t.status === 'open'))
    await writeTask(run, task, 'abandoned', 'expired');
}

function names(approvers: Approver[]): string {
  return (
    approvers.map((a) => (a.displayName ? `${a.displayName} (${a.id})` : a.id)).join(', ') ||
    'nobody'
  );
}

async function resolve(
  run: FlowRun,
  step: ApprovalStepIR,
  refs: ApproverIR[],
): Promise<Approver[]> {
  const ids: string[] = [];
  const groups: string[] = [];
  const roles: string[] = [];
  for (const ref of refs) {
    if ('group' in ref) groups.push(ref.group);
    else if ('role' in ref) roles.push(ref.role);
    else {
      const value = run.render({ expr: ref.expr }, step);
      for (const id of Array.isArray(value) ? value : [value])
        if (typeof id === 'string' && id) ids.push(id);
    }
  }
  return resolveApprovers.executeWithOptions(
    { summary: visibleText(`${step.id}: find the approvers`) },
    [{ ids, groups, roles, subjectId: run.input.subject.id }],
  );
}

async function notify(
  run: FlowRun,
  step: ApprovalStepIR,
  task: ApprovalTask,
  kind: ApprovalEvent['kind'],
  to: Approver[],
): Promise<void> {
  task.history.push({ at: at(Date.now()), kind, approvers: to.map((a) => a.id) });
  if (to.length === 0) return;
  await notifyApprovers.executeWithOptions({ summary: visibleText(`${step.id}: ${kind}`) }, [
    {
      task,
      kind,
      to,
      channel: step.notifyChannel,
      channelType: step.notifyChannelType,
      idempotencyKey: `${run.workflowId}:${step.id}:${kind}:${task.history.length}`,
    },
  ]);
}

/** Opens the task and waits until it is decided or times out; returns the closed task. */
async function openAndWait(
  run: FlowRun,
  step: ApprovalStepIR,
  request: string,
  access: JsonValue | undefined,
): Promise<ApprovalTask> {
  const calendar = step.businessHours;
  const add = (from: number, ms: number) =>
    calendar ? addBusinessTime(from, ms, calendar) : from + ms;
  const start = Date.now();
  const deadline = add(start, step.timeoutMs);
  const escalations = step.escalate.map((e) => add(start, e.afterMs));
  const subject = run.input.subject;
  const task: ApprovalTask = {
    workflowId: run.workflowId,
    step: step.id,
    title: step.title,
    flow: run.input.ir.name,
    subject: {
      id: subject.id,
      ...(subject.displayName ? { displayName: subject.displayName } : {}),
      ...(subject.employeeId ? { employeeId: subject.employeeId } : {}),
    },
    request,
    ...(access !== undefined ? { access } : {}),
    mode: step.mode,
    status: 'open',
    approvers: await resolve(run, step, step.approvers),
    level: 0,
    openedAt: at(start),
    deadline: at(deadline),
    decisions: [],
    history: [],
  };
  run.approvals.push(task);
  await writeTask(run, task, 'assigned');
  await notify(run, step, task, 'assigned', task.approvers);
  // reminders keep to a grid from the last assignment or escalation, so slow deliveries do not drift them
  let noticeBase = Date.now();
  let reminders = 0;
  for (;;) {
    const undecided = undecidedOf(task);
    const nextEscalation = escalations[task.level] ?? Infinity;
    if (undecided.length === 0 && task.status === 'open' && nextEscalation !== Infinity) {
      // nobody to ask at this level (no manager, say): go up the chain now
      await escalate(run, step, task);
      noticeBase = Date.now();
      reminders = 0;
      continue;
    }
    const nextReminder = step.remindEveryMs
      ? add(noticeBase, (reminders + 1) * step.remindEveryMs)
      : Infinity;
    const next = Math.min(deadline, nextReminder, nextEscalation);
    task.nextReminderAt = Number.isFinite(nextReminder) ? at(nextReminder) : undefined;
    task.nextEscalationAt = Number.isFinite(nextEscalation) ? at(nextEscalation) : undefined;
    run.waitForApproval(
      {
        kind: 'approval',
        step: step.id,
        since: task.openedAt,
        approvers: undecided.map((a) => a.id),
        deadline: task.deadline,
      },
      [
        `**Waiting for approval** at step \`${step.id}\` (${step.title}) by ${names(undecided)} since ${task.openedAt}.`,
        Number.isFinite(nextReminder) ? `Next reminder ${at(nextReminder)}.` : '',
        Number.isFinite(nextEscalation) ? `Escalates ${at(nextEscalation)}.` : '',
        `Times out ${task.deadline} (${step.onTimeout}).`,
      ]
        .filter(Boolean)
        .join(' '),
    );
    run.publishPendingApprovers();
    const decided = task.decisions.length;
    // with the table, a decision that leaves the task open (mode all) is written too
    const table = await writeTask(run, task, 'waiting');
    const woken = () => task.status !== 'open' || (table && task.decisions.length !== decided);
    if (await condition(woken, Math.max(1, next - Date.now()))) {
      if (task.status !== 'open') break;
      continue;
    }
    const now = Date.now();
    if (now >= deadline) {
      timeOut(step, task);
      break;
    }
    if (now >= nextEscalation) {
      await escalate(run, step, task);
      noticeBase = nextEscalation;
      reminders = 0;
    } else if (now >= nextReminder) {
      reminders += 1;
      await notify(run, step, task, 'reminded', undecided);
    }
  }
  run.approvalClosed(step.id);
  await writeTask(run, task, task.status);
  return task;
}

async function escalate(run: FlowRun, step: ApprovalStepIR, task: ApprovalTask): Promise<void> {
  const level = step.escalate[task.level];
  if (!level) return;
  task.level += 1;
  task.approvers = await resolve(run, step, level.to);
  await notify(run, step, task, 'escalated', task.approvers);
}

function timeOut(step: ApprovalStepIR, task: ApprovalTask): void {
  const now = at(Date.now());
  task.history.push({ at: now, kind: 'timed-out', approvers: task.approvers.map((a) => a.id) });
  if (step.onTimeout === 'park') {
    task.status = 'expired';
    return;
  }
  const decision = step.onTimeout === 'approve' ? 'approved' : 'rejected';
  task.decisions.push({
    by: 'idflow:timeout',
    onBehalfOf: 'idflow:timeout',
    decision,
    at: now,
    channel: 'timeout',
  });
  task.status = decision;
}

export async function runApproval(run: FlowRun, step: ApprovalStepIR): Promise<void> {
  const record = run.begin(step);
  const request = stringify(run.render(step.request, step));
  const access = step.access ? run.render(step.access, step) : undefined;
  let task: ApprovalTask;
  for (;;) {
    task = await openAndWait(run, step, request, access);
    await closeApprovalTask.executeWithOptions(
      { summary: visibleText(`${step.id}: ${task.status}`) },
      [{ task, idempotencyKey: `${run.workflowId}:${step.id}:close:${run.approvals.length}` }],
    );
    if (task.status !== 'expired') break;
    const action = await run.park(step, {
      type: 'ApprovalTimedOut',
      message: `nobody decided by ${task.deadline}; retry reopens the approval, skip goes on with decision 'expired'`,
    });
    if (action.action === 'skip') break;
    if (action.action === 'abort') {
      run.finishStep(record, 'failed', {
        error: { type: 'ApprovalTimedOut', message: 'aborted by an operator' },
      });
      throw ApplicationFailure.nonRetryable(
        `step '${step.id}' was aborted by ${action.by}${action.reason ? `: ${action.reason}` : ''} after its approval timed out`,
        'AbortedByOperator',
        { step: step.id },
      );
    }
  }
  const final = task.decisions[task.decisions.length - 1];
  const output = {
    decision: task.status,
    ...(final
      ? {
          decidedBy: final.by,
          onBehalfOf: final.onBehalfOf,
          decidedAt: final.at,
          channel: final.channel,
        }
      : {}),
    ...(final?.comment ? { comment: final.comment } : {}),
    decisions: task.decisions,
    history: task.history,
  } as unknown as JsonValue;
  run.setOutput(step.id, output, APPROVAL_OUTPUT_SHAPE);
  run.finishStep(record, 'completed', { output });
}
