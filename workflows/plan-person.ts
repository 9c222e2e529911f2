/**
 * `planPerson`: the plan a reconcile step would compute for one person, against the live
 * targets, changing nothing — for `idflow plan person` and `GET /v1/persons/{id}/plan`. It runs
 * on the worker because only the worker holds the targets' credentials; the gateway and the CLI
 * start it (id `plan/<personId>/<uuid>`) and wait for the answer.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AccessPlan } from '../src/access/types';
import { visibleText } from '../src/temporal/visible';

export interface PlanPersonInput {
  personId: string;
  /** Connectors to plan for; empty: every connector an active role or grant names. */
  connectors: string[];
}

/** Reads the targets: an ordinary activity, retried a few times, never longer than a minute. */
const { planAccess } = proxyActivities<Pick<Activities, 'planAccess'>>({
  startToCloseTimeout: '60s',
  retry: {
    maximumAttempts: 3,
    initialInterval: '1s',
    backoffCoefficient: 2,
    nonRetryableErrorTypes: ['PersonNotFound'],
  },
});

export async function planPerson(input: PlanPersonInput): Promise<AccessPlan> {
  const { workflowId } = workflowInfo();
  return planAccess.executeWithOptions(
    { summary: visibleText(`plan access of ${input.personId}`) },
    [
      {
        personId: input.personId,
        connectors: input.connectors,
        // a preview: idflow's record of the person's accounts is left as it is
        record: false,
        runId: workflowId,
        flow: 'plan-person',
        stepId: 'plan',
      },
    ],
  );
}
