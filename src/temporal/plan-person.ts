/**
 * Running the `planPerson` workflow and waiting for its plan: what `GET /v1/persons/{id}/plan`
 * and `idflow plan person` share. The plan is computed on the worker (the only process with the
 * targets' credentials); the caller waits at most a minute. Failures come back as the errors
 * below, told apart by the failure's type, never by its class.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { AccessPlan } from '../access/types';
import type { planPerson, PlanPersonInput } from '../../workflows/plan-person';
import { planPersonText } from './summaries';
import { visibleText } from './visible';

/** How long a caller waits for a plan; the workflow is given no longer to live. */
export const PLAN_TIMEOUT_MS = 60_000;

/** `plan/<personId>/<uuid>`: a preview of its own each time, never mistaken for a flow run. */
export function planWorkflowId(personId: string): string {
  return `plan/${personId}/${randomUUID()}`;
}

/** The identity store has no such person. */
export class PlanPersonNotFoundError extends Error {
  constructor(readonly personId: string) {
    super(`no person with id ${personId} in the identity store`);
  }
}

/** No plan within PLAN_TIMEOUT_MS: no worker polling, or a target too slow to read. */
export class PlanTimedOutError extends Error {
  constructor(readonly workflowId: string) {
    super(
      `no plan within ${PLAN_TIMEOUT_MS / 1000} s (workflow ${workflowId}): is a worker running, and do the targets answer? (idflow connectors test)`,
    );
  }
}

/** The plan could not be computed: a target refused or failed; `type` is the failure's type. */
export class PlanFailedError extends Error {
  constructor(
    readonly workflowId: string,
    readonly type: string,
    message: string,
  ) {
    super(`the plan could not be computed (${type}): ${message}`);
  }
}

interface FailureLike {
  name?: string;
  type?: string | null;
  message?: string;
  cause?: unknown;
}

/** The failures a workflow failure wraps, outermost first. */
function causes(err: unknown): FailureLike[] {
  const chain: FailureLike[] = [];
  for (let e = err as FailureLike | undefined; e && chain.length < 10; e = e.cause as FailureLike)
    chain.push(e);
  return chain;
}

/**
 * What a failed preview workflow (a plan or a dry run) is to its caller: timed out, or failed
 * with the type and message of the first typed failure in its chain.
 */
export function planFailure(
  workflowId: string,
  err: WorkflowFailedError,
): PlanTimedOutError | PlanFailedError {
  const chain = causes(err.cause);
  if (chain.some((c) => c.name === 'TimeoutFailure')) return new PlanTimedOutError(workflowId);
  const typed = chain.find((c) => typeof c.type === 'string' && c.type);
  return new PlanFailedError(
    workflowId,
    typed?.type ?? 'WorkflowFailed',
    typed?.message ?? err.message,
  );
}

export async function executePlanPerson(
  client: Client,
  taskQueue: string,
  input: PlanPersonInput,
): Promise<AccessPlan> {
  const workflowId = planWorkflowId(input.personId);
  const text = planPersonText(input.personId, input.connectors);
  try {
    return await client.workflow.execute<typeof planPerson>('planPerson', {
      taskQueue,
      workflowId,
      args: [input],
      workflowExecutionTimeout: PLAN_TIMEOUT_MS,
      staticSummary: visibleText(text.summary),
      staticDetails: visibleText(text.details),
    });
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    if (causes(err.cause).some((c) => c.type === 'PersonNotFound'))
      throw new PlanPersonNotFoundError(input.personId);
    throw planFailure(workflowId, err);
  }
}
