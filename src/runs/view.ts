/**
 * One run as an operator reads it: Temporal's description (status, times, search attributes,
 * summary) joined with the run's own `state` query (steps with timings, outputs and errors,
 * approvals, what it waits on and until when), secrets redacted. A run whose worker no longer
 * answers queries (closed long ago, or no worker polling) is shown from the description alone.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { JsonValue } from '../dsl/ir';
import type { ApprovalTask, RunState, StepRecord, WaitingOn } from '../temporal/contracts';
import { RunNotFoundError } from './errors';
import { runAttributes, type RunSummary } from './list';
import type { Redactor } from './redact';

/** The interpreter's workflow type: only its executions are idflow runs. */
export const RUN_WORKFLOW_TYPE = 'runFlow';

/** How long a run's worker has to answer the state query before the view makes do without. */
export const STATE_QUERY_TIMEOUT_MS = 3_000;

export interface StepView {
  id: string;
  kind: string;
  title: string;
  status: StepRecord['status'];
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  output?: JsonValue;
  error?: { type: string; message: string; attempts?: number };
  branch?: string;
  branches?: StepRecord['branches'];
}

export interface WaitView {
  kind: WaitingOn['kind'];
  step: string;
  /** What the run waits for, in words: "approval by m-1, m-2", "timer", "an operator …". */
  what: string;
  since?: string;
  /** When the wait ends by itself (a timer's time, an approval's deadline); absent: not by itself. */
  until?: string;
  approvers?: string[];
  error?: { type: string; message: string; attempts?: number };
  reviewId?: string;
}

export interface ApprovalView {
  step: string;
  title: string;
  request: string;
  status: ApprovalTask['status'];
  mode: ApprovalTask['mode'];
  level: number;
  /** Who is asked now (the current escalation level). */
  approvers: Array<{ id: string; displayName?: string }>;
  openedAt: string;
  deadline: string;
  decisions: ApprovalTask['decisions'];
}

/** A run as a list shows it, with its execution's run id and what its state query tells. */
export interface RunView extends RunSummary {
  runId: string;
  /**
   * `live`: from the run's state query. `description`: the run did not answer (closed and no
   * worker replays it, or none polls), so steps, approvals and waits are not known.
   */
  source: 'live' | 'description';
  currentStep?: string;
  waitingOn?: WaitView;
  /** Every wait in progress when several strands wait at once. */
  waiting?: WaitView[];
  steps: StepView[];
  approvals: ApprovalView[];
  vars?: Record<string, JsonValue>;
  stepsExecuted?: number;
  automatedMs?: number;
  budgetMs?: number;
  links: { self: string; graph: string };
}

/** A run's API path (the workflow id is one path segment, its slashes encoded). */
export function runPath(workflowId: string): string {
  return `/v1/runs/${encodeURIComponent(workflowId)}`;
}

/** A wait in words, for the view and the CLI's "waiting on …" line. */
export function waitView(w: WaitingOn): WaitView {
  switch (w.kind) {
    case 'timer':
      return { kind: w.kind, step: w.step, what: 'a timer', until: w.until };
    case 'approval':
      return {
        kind: w.kind,
        step: w.step,
        what: `approval by ${w.approvers.join(', ') || 'nobody assigned'}`,
        since: w.since,
        until: w.deadline,
        approvers: w.approvers,
      };
    case 'operator':
      return {
        kind: w.kind,
        step: w.step,
        what: `an operator to retry, skip or abort (${w.error.type})`,
        since: w.since,
        error: w.error,
      };
    case 'review':
      return {
        kind: w.kind,
        step: w.step,
        what: `correlation review ${w.reviewId}`,
        since: w.since,
        reviewId: w.reviewId,
      };
    default: {
      const never: never = w;
      return never;
    }
  }
}

function stepView(s: StepRecord): StepView {
  const duration =
    s.finishedAt !== undefined ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : undefined;
  return {
    id: s.id,
    kind: s.kind,
    title: s.title,
    status: s.status,
    startedAt: s.startedAt,
    ...(s.finishedAt !== undefined ? { finishedAt: s.finishedAt } : {}),
    ...(duration !== undefined && Number.isFinite(duration) ? { durationMs: duration } : {}),
    ...(s.output !== undefined ? { output: s.output } : {}),
    ...(s.error ? { error: s.error } : {}),
    ...(s.branch ? { branch: s.branch } : {}),
    ...(s.branches ? { branches: s.branches } : {}),
  };
}

function approvalView(t: ApprovalTask): ApprovalView {
  return {
    step: t.step,
    title: t.title,
    request: t.request,
    status: t.status,
    mode: t.mode,
    level: t.level,
    approvers: t.approvers.map((a) => ({
      id: a.id,
      ...(a.displayName ? { displayName: a.displayName } : {}),
    })),
    openedAt: t.openedAt,
    deadline: t.deadline,
    decisions: t.decisions,
  };
}

/** The run's state, or undefined when it does not answer within the timeout. */
async function liveState(
  client: Client,
  workflowId: string,
  timeoutMs: number,
): Promise<RunState | undefined> {
  try {
    return await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflow.getHandle(workflowId).query<RunState>('state'),
    );
  } catch {
    return undefined;
  }
}

/**
 * The run's handle and Temporal description: what every run operation starts from.
 * RunNotFoundError when no workflow has the id or its type is not the interpreter's.
 */
export async function describeRun(client: Client, workflowId: string) {
  const handle = client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RunNotFoundError(workflowId);
    throw err;
  }
  if (description.type !== RUN_WORKFLOW_TYPE) throw new RunNotFoundError(workflowId);
  return { handle, description };
}

/** One run by workflow id; RunNotFoundError when no idflow run has it. */
export async function showRun(
  client: Client,
  workflowId: string,
  redactor: Redactor,
  options: { queryTimeoutMs?: number } = {},
): Promise<RunView> {
  const { description } = await describeRun(client, workflowId);
  const attributes = runAttributes(description.searchAttributes);
  if (attributes.flow === undefined) throw new RunNotFoundError(workflowId);
  const [summary, state] = await Promise.all([
    description.staticSummary().catch(() => undefined),
    liveState(client, workflowId, options.queryTimeoutMs ?? STATE_QUERY_TIMEOUT_MS),
  ]);
  const self = runPath(workflowId);
  const base = {
    workflowId,
    runId: description.runId,
    flow: attributes.flow,
    ...(attributes.person ? { person: attributes.person } : {}),
    ...(attributes.eventType ? { eventType: attributes.eventType } : {}),
    status: state?.status ?? attributes.status ?? description.status.name,
    executionStatus: description.status.name,
    ...((state?.hash ?? attributes.definitionHash)
      ? { definitionHash: state?.hash ?? attributes.definitionHash }
      : {}),
    startedAt: description.startTime.toISOString(),
    ...(description.closeTime ? { closedAt: description.closeTime.toISOString() } : {}),
    ...(summary ? { summary } : {}),
    links: { self, graph: `${self}/graph` },
  };
  if (!state) {
    return redactor.value<RunView>({
      ...base,
      ...(attributes.overBudget !== undefined ? { overBudget: attributes.overBudget } : {}),
      source: 'description',
      steps: [],
      approvals: [],
    });
  }
  const overBudget =
    (state as Partial<RunState>).overBudget ?? state.budgetExceeded ?? attributes.overBudget;
  const budgetMs = (state as Partial<RunState>).budgetMs;
  return redactor.value<RunView>({
    ...base,
    ...(overBudget !== undefined ? { overBudget } : {}),
    source: 'live',
    ...(state.currentStep ? { currentStep: state.currentStep } : {}),
    ...(state.waitingOn ? { waitingOn: waitView(state.waitingOn) } : {}),
    ...(state.waiting && state.waiting.length > 1 ? { waiting: state.waiting.map(waitView) } : {}),
    steps: state.steps.map(stepView),
    approvals: state.approvals.map(approvalView),
    vars: state.vars,
    stepsExecuted: state.stepsExecuted,
    automatedMs: state.automatedMs,
    ...(budgetMs !== undefined ? { budgetMs } : {}),
  });
}
