/**
 * Approvals and delegations. Only an assigned approver, or an active delegate of one, decides;
 * the subject never decides on their own access; a decision on a closed task is refused. The
 * run's `decide` update checks the same rules again (the task may change meanwhile) and its id
 * makes a double click decide once. Every decision and every refusal writes an audit row.
 */
import { createHash } from 'node:crypto';
import {
  QueryNotRegisteredError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../../db/client';
import { waitingTasks } from '../../db/repos/approval-tasks';
import { appendAudit } from '../../db/repos/audit';
import {
  activeDelegators,
  getDelegation,
  insertDelegation,
  listDelegations,
  revokeDelegation,
  type DelegationRow,
} from '../../db/repos/delegations';
import { parseTaskId, taskIdOf } from '../../model/approval';
import { isRunWorkflowId } from '../../model/event';
import type { ApprovalTask, DecisionRequest, RunState } from '../../temporal/contracts';
import {
  ConflictProblem,
  ForbiddenProblem,
  HttpProblem,
  NotFoundProblem,
  ValidationProblem,
} from '../problems';
import {
  decodeCursor,
  displayNames,
  encodeCursor,
  summaryOf,
  type ApprovalSummary,
} from './approval-listing';
import { callTemporal, type DependencyMonitor } from './dependencies';
import type { Principal } from './tokens';

export interface ApprovalView {
  taskId: string;
  workflowId: string;
  step: string;
  title: string;
  flow: string;
  subject: ApprovalTask['subject'];
  request: string;
  access?: ApprovalTask['access'];
  mode: ApprovalTask['mode'];
  status: ApprovalTask['status'];
  approvers: Array<{ id: string; displayName?: string }>;
  openedAt: string;
  deadline: string;
  nextReminderAt?: string;
  nextEscalationAt?: string;
  decisions: ApprovalTask['decisions'];
  history: ApprovalTask['history'];
  links: { self: string; decision: string };
}

export function viewOf(task: ApprovalTask): ApprovalView {
  const taskId = taskIdOf(task.workflowId, task.step);
  return {
    taskId,
    workflowId: task.workflowId,
    step: task.step,
    title: task.title,
    flow: task.flow,
    subject: task.subject,
    request: task.request,
    ...(task.access !== undefined ? { access: task.access } : {}),
    mode: task.mode,
    status: task.status,
    approvers: task.approvers.map((a) => ({
      id: a.id,
      ...(a.displayName ? { displayName: a.displayName } : {}),
    })),
    openedAt: task.openedAt,
    deadline: task.deadline,
    ...(task.nextReminderAt ? { nextReminderAt: task.nextReminderAt } : {}),
    ...(task.nextEscalationAt ? { nextEscalationAt: task.nextEscalationAt } : {}),
    decisions: task.decisions,
    history: task.history,
    links: { self: `/v1/approvals/${taskId}`, decision: `/v1/approvals/${taskId}/decision` },
  };
}

/** Who is deciding: a person, through a channel. */
export interface Decider {
  personId: string;
  actor: string;
  channel: 'api' | 'slack';
}

const REFUSAL_STATUS: Record<string, number> = {
  NotAnApprover: 403,
  SubjectCannotApprove: 403,
  TaskClosed: 409,
  AlreadyDecided: 409,
};

export class ApprovalService {
  constructor(
    private readonly db: Database,
    private readonly temporal: Client,
    private readonly dependencies?: DependencyMonitor,
  ) {}

  /** Refused at once while Temporal is known down, abandoned when it goes down meanwhile. */
  private temporalCall<T>(fn: () => Promise<T>): Promise<T> {
    return callTemporal(this.temporal, this.dependencies, fn, 10_000);
  }

  /** The tasks of a run's state for `step` (the last one is the current). */
  private async task(workflowId: string, step: string): Promise<ApprovalTask | undefined> {
    // Only flow runs answer the `state` query; any other workflow has no approval tasks.
    if (!isRunWorkflowId(workflowId)) return undefined;
    try {
      const state = await this.temporalCall(() =>
        this.temporal.workflow.getHandle(workflowId).query<RunState>('state'),
      );
      return state.approvals.filter((t) => t.step === step).pop();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError)
        return undefined;
      throw err;
    }
  }

  /** May `principal` see the tasks of `approver`? Themself, their delegates, admins. */
  private async mayActFor(principal: Principal, approver: string): Promise<boolean> {
    if (principal.scopes.has('admin') || principal.personId === approver) return true;
    if (!principal.personId) return false;
    return (await activeDelegators(this.db, principal.personId, new Date())).includes(approver);
  }

  /**
   * The open tasks waiting on `approver` or on anyone who delegates to them now, soonest
   * deadline first, a page at a time — read from the approval_tasks table (one index range per
   * person), never from the runs. Requests about `approver` themself are left out.
   */
  async pending(
    approver: string,
    principal: Principal,
    page: { limit: number; cursor?: string },
  ): Promise<{ tasks: ApprovalSummary[]; next?: string }> {
    if (!(await this.mayActFor(principal, approver))) {
      throw new ForbiddenProblem(
        `token '${principal.name}' may not list the approvals of ${approver}`,
      );
    }
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    const delegators = await activeDelegators(this.db, approver, new Date());
    const { tasks, more } = await waitingTasks(this.db, {
      persons: [approver, ...delegators],
      notAbout: approver,
      limit: page.limit,
      ...(after ? { after } : {}),
    });
    const names = await displayNames(this.db, [
      ...new Set(tasks.flatMap(({ task }) => task.approvers)),
    ]);
    const last = tasks[tasks.length - 1]?.task;
    return {
      tasks: tasks.map(({ task, waitingOn }) => summaryOf(task, waitingOn, names)),
      ...(more && last
        ? { next: encodeCursor({ deadline: last.deadline, taskId: last.taskId }) }
        : {}),
    };
  }

  async get(taskId: string, principal: Principal): Promise<ApprovalView> {
    const task = await this.resolve(taskId);
    const allowed = principal.scopes.has('admin') || principal.scopes.has('runs:read');
    const involved = await Promise.all(
      [...task.approvers.map((a) => a.id), ...task.decisions.map((d) => d.onBehalfOf)].map((id) =>
        this.mayActFor(principal, id),
      ),
    );
    if (!allowed && !involved.some(Boolean))
      throw new ForbiddenProblem(`token '${principal.name}' is not an approver of this task`);
    return viewOf(task);
  }

  private async resolve(taskId: string): Promise<ApprovalTask> {
    const ref = parseTaskId(taskId);
    if (!ref) throw new NotFoundProblem(`no approval task ${taskId}`);
    const task = await this.task(ref.workflowId, ref.step);
    if (!task) throw new NotFoundProblem(`no approval task ${taskId}`);
    return task;
  }

  private async refuse(
    decider: Decider,
    taskId: string,
    status: number,
    reason: string,
  ): Promise<never> {
    await appendAudit(this.db, {
      actor: decider.actor,
      action: 'approval.decision-refused',
      target: `approval:${taskId}`,
      outcome: 'refused',
      detail: { person: decider.personId, channel: decider.channel, reason },
      ...(parseTaskId(taskId) ? { runId: parseTaskId(taskId)?.workflowId } : {}),
    });
    if (status === 409) throw new ConflictProblem(reason);
    if (status === 403) throw new ForbiddenProblem(reason);
    throw new HttpProblem(status, 'refused', 'Refused', reason);
  }

  async decide(
    taskId: string,
    decider: Decider,
    body: { decision: 'approve' | 'reject'; comment?: string },
  ): Promise<ApprovalView> {
    const task = await this.resolve(taskId);
    // a double click that arrives after the first click was taken: the same person's same
    // decision is already recorded, so it is answered as the first was, not refused
    const recorded = body.decision === 'approve' ? 'approved' : 'rejected';
    if (task.decisions.some((d) => d.by === decider.personId && d.decision === recorded))
      return viewOf(task);
    if (task.status !== 'open')
      return this.refuse(decider, taskId, 409, `the approval is already ${task.status}`);
    if (decider.personId === task.subject.id) {
      return this.refuse(
        decider,
        taskId,
        403,
        `${decider.personId} is the subject of this request and may not decide it`,
      );
    }
    const undecided = task.approvers
      .filter((a) => !task.decisions.some((d) => d.onBehalfOf === a.id))
      .map((a) => a.id);
    let onBehalfOf = undecided.includes(decider.personId) ? decider.personId : undefined;
    if (!onBehalfOf) {
      const delegators = await activeDelegators(this.db, decider.personId, new Date());
      onBehalfOf = undecided.find((id) => delegators.includes(id));
    }
    if (!onBehalfOf) {
      const already = task.decisions.some((d) => d.onBehalfOf === decider.personId);
      return already
        ? this.refuse(decider, taskId, 409, `${decider.personId} has already decided`)
        : this.refuse(
            decider,
            taskId,
            403,
            `${decider.personId} is not an approver of this task, nor a delegate of one now`,
          );
    }
    const request: DecisionRequest = {
      step: task.step,
      decision: body.decision,
      by: decider.personId,
      onBehalfOf,
      channel: decider.channel,
      ...(body.comment ? { comment: body.comment } : {}),
    };
    // the same person deciding the same way on the same task is one update: a double click decides once
    const updateId = createHash('sha256')
      .update(`${taskId}\n${decider.personId}\n${body.decision}`)
      .digest('hex');
    let result: ApprovalTask;
    try {
      result = await this.temporalCall(() =>
        this.temporal.workflow
          .getHandle(task.workflowId)
          .executeUpdate<ApprovalTask, [DecisionRequest]>('decide', { args: [request], updateId }),
      );
    } catch (err) {
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type && REFUSAL_STATUS[cause.type]) {
        return this.refuse(decider, taskId, REFUSAL_STATUS[cause.type] as number, cause.message);
      }
      throw err;
    }
    await appendAudit(this.db, {
      actor: decider.actor,
      action: 'approval.decision',
      target: `approval:${taskId}`,
      outcome: body.decision === 'approve' ? 'approved' : 'rejected',
      detail: {
        person: decider.personId,
        onBehalfOf,
        channel: decider.channel,
        comment: body.comment ?? null,
        step: task.step,
      },
      runId: task.workflowId,
      // both clicks of a double click reach the update and are answered alike; the fact is one
      dedupeKey: `approval.decision:${updateId}`,
    });
    return viewOf(result);
  }

  async createDelegation(
    principal: Principal,
    input: { from: string; to: string; startsAt: Date; endsAt: Date },
  ): Promise<DelegationRow> {
    if (!principal.scopes.has('admin') && principal.personId !== input.from) {
      throw new ForbiddenProblem(
        `token '${principal.name}' may only delegate its own person's approvals`,
      );
    }
    const problems = [];
    if (input.to === input.from)
      problems.push({ path: '/to', message: 'must be another person than from' });
    if (input.endsAt <= input.startsAt)
      problems.push({ path: '/endsAt', message: 'must be after startsAt' });
    if (problems.length) throw new ValidationProblem('delegation', problems);
    const row = await insertDelegation(this.db, {
      fromPerson: input.from,
      toPerson: input.to,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      createdBy: principal.name,
    });
    await appendAudit(this.db, {
      actor: `token:${principal.name}`,
      action: 'delegation.created',
      target: `person:${input.from}`,
      outcome: 'ok',
      detail: {
        id: row.id,
        to: input.to,
        startsAt: input.startsAt.toISOString(),
        endsAt: input.endsAt.toISOString(),
      },
    });
    return row;
  }

  async delegations(principal: Principal, person?: string): Promise<DelegationRow[]> {
    const who = person ?? principal.personId;
    if (!principal.scopes.has('admin') && who !== principal.personId) {
      throw new ForbiddenProblem(
        `token '${principal.name}' may only list its own person's delegations`,
      );
    }
    return listDelegations(this.db, who);
  }

  async revokeDelegation(principal: Principal, id: string): Promise<void> {
    const row = await getDelegation(this.db, id);
    if (!row || row.revokedAt) throw new NotFoundProblem(`no delegation ${id}`);
    if (!principal.scopes.has('admin') && principal.personId !== row.fromPerson) {
      throw new ForbiddenProblem(`only ${row.fromPerson} or an admin may revoke this delegation`);
    }
    await revokeDelegation(this.db, id);
    await appendAudit(this.db, {
      actor: `token:${principal.name}`,
      action: 'delegation.revoked',
      target: `person:${row.fromPerson}`,
      outcome: 'ok',
      detail: { id, to: row.toPerson },
    });
  }
}
