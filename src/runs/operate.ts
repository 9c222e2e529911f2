/**
 * An operator's decision on a parked run — retry, skip or abort the parked step, or approve a
 * step the blast-radius guard parked — with one set of rules for `idflow runs retry|skip|abort|
 * approve` and `POST /v1/runs/{id}/<action>`: only an idflow run, only while it is parked, only
 * on a step it is parked on, `approve` only on the guard's park. The run's own update validator
 * checks the same again, so a decision that raced another is refused rather than doubled.
 * Every decision taken or refused is audited with who asked.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { appendAudit } from '../db/repos/audit';
import type { OperatorAction, RunState, WaitingOn } from '../temporal/contracts';
import { RunNotOperableError } from './errors';
import { describeRun } from './view';

export const OPERATOR_ACTIONS = ['retry', 'skip', 'abort', 'approve'] as const;
export type OperatorActionName = (typeof OPERATOR_ACTIONS)[number];

/** The failure type of a blast-radius park (workflows/run.ts BLAST_RADIUS_EXCEEDED). */
export const BLAST_RADIUS_EXCEEDED = 'BlastRadiusExceeded';

export interface OperateRequest {
  action: OperatorActionName;
  /** Who decides, for the run and the audit log: `cli:<user>`, `token:<name>`. */
  by: string;
  reason?: string;
  /** The parked step (when several strands are parked); default: the one the run names first. */
  step?: string;
}

export interface OperateResult {
  workflowId: string;
  action: OperatorActionName;
  step: string;
  /** The run's status right after the decision was accepted. */
  status: string;
}

type OperatorWait = Extract<WaitingOn, { kind: 'operator' }>;

/** The steps a run is parked on, the one it names first first. */
function parkedSteps(state: RunState): OperatorWait[] {
  const all = [state.waitingOn, ...(state.waiting ?? [])].filter(
    (w): w is OperatorWait => w?.kind === 'operator',
  );
  return all.filter((w, i) => all.findIndex((o) => o.step === w.step) === i);
}

/** Which parked step the request decides, or why it cannot decide any. */
export function chooseStep(
  workflowId: string,
  state: RunState,
  request: Pick<OperateRequest, 'action' | 'step'>,
): OperatorWait {
  const parked = parkedSteps(state);
  if (parked.length === 0)
    throw new RunNotOperableError(
      workflowId,
      `${workflowId} is not parked (status ${state.status}); nothing to ${request.action}`,
      state.status,
    );
  const wait = request.step === undefined ? parked[0] : parked.find((w) => w.step === request.step);
  if (!wait)
    throw new RunNotOperableError(
      workflowId,
      `${workflowId} is parked on ${parked.map((w) => `'${w.step}'`).join(', ')}, not '${request.step}'`,
      state.status,
    );
  if (request.action === 'approve' && wait.error.type !== BLAST_RADIUS_EXCEEDED)
    throw new RunNotOperableError(
      workflowId,
      `step '${wait.step}' of ${workflowId} is parked on ${wait.error.type}, not on the blast-radius guard; retry, skip or abort it`,
      state.status,
    );
  return wait;
}

/** Applies an operator's decision to a parked run and audits it (refusals too). */
export async function operateRun(
  deps: { client: Client; db: Database },
  workflowId: string,
  request: OperateRequest,
): Promise<OperateResult> {
  const { handle } = await describeRun(deps.client, workflowId);
  const reason = request.reason !== undefined ? { reason: request.reason } : {};
  const audit = (outcome: 'ok' | 'refused', step: string | undefined, why?: string) =>
    appendAudit(deps.db, {
      actor: request.by,
      action: `run.step-${request.action}`,
      target: `run:${workflowId}`,
      outcome,
      detail: { ...(step ? { step } : {}), ...reason, ...(why ? { refused: why } : {}) },
      runId: workflowId,
    });
  let step: string | undefined = request.step;
  try {
    const state = await handle.query<RunState>('state');
    step = chooseStep(workflowId, state, request).step;
    const action: OperatorAction = { action: request.action, step, by: request.by, ...reason };
    let after: RunState;
    try {
      after = await handle.executeUpdate<RunState, [OperatorAction]>('operator', {
        args: [action],
      });
    } catch (err) {
      // the run's validator refused: another decision came first, or it stopped being parked
      if (err instanceof WorkflowUpdateFailedError)
        throw new RunNotOperableError(
          workflowId,
          `${workflowId}: ${err.cause?.message ?? err.message}`,
        );
      throw err;
    }
    await audit('ok', step);
    return { workflowId, action: request.action, step, status: after.status };
  } catch (err) {
    if (err instanceof RunNotOperableError) await audit('refused', step, err.message);
    throw err;
  }
}
