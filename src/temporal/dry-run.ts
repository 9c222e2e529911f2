/**
 * Running the `dryRunEvent` workflow and waiting for its answer: what `POST /v1/plan` and
 * `idflow plan event` share. Failures come back as the plan-person errors (timed out, failed),
 * told apart by the failure's type, never by its class.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { DryRunInput, DryRunResult } from '../dryrun/types';
import type { dryRunEvent } from '../../workflows/dry-run';
import { PLAN_TIMEOUT_MS, planFailure } from './plan-person';
import { visibleText } from './visible';

/** `dryrun/<personId>/<uuid>`: a dry run of its own each time, never mistaken for a run. */
export function dryRunWorkflowId(personId: string): string {
  return `dryrun/${personId}/${randomUUID()}`;
}

export async function executeDryRun(
  client: Client,
  taskQueue: string,
  input: DryRunInput,
): Promise<DryRunResult> {
  const workflowId = dryRunWorkflowId(input.event.subject.id);
  try {
    return await client.workflow.execute<typeof dryRunEvent>('dryRunEvent', {
      taskQueue,
      workflowId,
      args: [input],
      workflowExecutionTimeout: PLAN_TIMEOUT_MS,
      staticSummary: visibleText(
        `Dry run of ${input.event.type} for ${input.event.subject.id} (changes nothing)`,
      ),
    });
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    throw planFailure(workflowId, err);
  }
}
