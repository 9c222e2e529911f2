/**
 * `runFlow`: the one interpreter of compiled flows. It runs the IR it was started with for its
 * whole life (editing or activating definitions never changes a running flow), answers the
 * `state` query, and takes operators' `operator` updates for parked steps.
 */
import {
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  proxyLocalActivities,
  proxySinks,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { resolveInputs } from '../src/dsl/inputs';
import { IR_VERSION } from '../src/dsl/ir';
import type {
  ApprovalTask,
  CancelRequest,
  DecisionRequest,
  OperatorAction,
  RunFlowInput,
  RunMetricsSinks,
  RunOutcome,
  RunState,
} from '../src/temporal/contracts';
import { FlowRun } from './run';
import { runSteps } from './steps';
import { closeAbandonedTasks } from './steps/approval';
import { handleReviews } from './steps/correlate';
import { forEachProgressSignal } from './steps/for-each';
import { visibleText } from '../src/temporal/visible';

export const stateQuery = defineQuery<RunState>('state');
export const operatorUpdate = defineUpdate<RunState, [OperatorAction]>('operator');
/**
 * Why the run is about to be cancelled (a later event of the person's timeline cancelled or
 * superseded it); the cancellation itself is Temporal's. The reason goes to the outcome.
 */
export const cancelRunSignal = defineSignal<[CancelRequest]>('cancel');
/** An approver's decision; the validator refuses what may not count (see FlowRun.validateDecision). */
export const decideUpdate = defineUpdate<ApprovalTask, [DecisionRequest]>('decide');

const { recordRunOutcome } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m', backoffCoefficient: 2 },
});

/** The worker's run metrics (a sink: not called during replay, no command in the history). */
const { runMetrics } = proxySinks<RunMetricsSinks>();

export interface RunFlowResult {
  status: 'Completed';
  vars: RunState['vars'];
  stepsExecuted: number;
  budgetExceeded: boolean;
}

function failureOf(err: unknown): RunOutcome['error'] {
  if (err instanceof ApplicationFailure) {
    const details = err.details?.[0] as { step?: string } | undefined;
    return {
      ...(details?.step ? { step: details.step } : {}),
      type: err.type ?? 'Error',
      message: err.message,
    };
  }
  return { type: 'Error', message: err instanceof Error ? err.message : String(err) };
}

export async function runFlow(input: RunFlowInput): Promise<RunFlowResult> {
  const { ir, hash, event, subject } = input;
  const version: unknown = ir.irVersion;
  if (version !== IR_VERSION) {
    throw ApplicationFailure.nonRetryable(
      `this worker runs IR version ${IR_VERSION}; the run carries version ${JSON.stringify(version)}`,
      'UnsupportedIrVersion',
    );
  }
  const inputs = resolveInputs(ir.inputs, event.attributes);
  const run = new FlowRun(input, inputs.ok ? inputs.attributes : (event.attributes ?? {}));
  setHandler(stateQuery, () => run.snapshot());
  setHandler(
    operatorUpdate,
    (action: OperatorAction) => {
      run.acceptOperator(action);
      return run.snapshot();
    },
    { validator: (action: OperatorAction) => run.validateOperator(action) },
  );

  setHandler(decideUpdate, (request: DecisionRequest) => run.applyDecision(request), {
    validator: (request: DecisionRequest) => run.validateDecision(request),
  });
  handleReviews(run);
  setHandler(forEachProgressSignal, (progress) => run.progress(progress));
  let cancelRequest: CancelRequest | undefined;
  setHandler(cancelRunSignal, (request: CancelRequest) => {
    cancelRequest ??= request;
  });
  const root = CancellationScope.current();
  runMetrics.started(ir.name);

  const outcome: RunOutcome = {
    runId: workflowInfo().workflowId,
    flow: ir.name,
    hash,
    subjectId: subject.id,
    status: 'Completed',
  };
  let cancelled: Error | undefined;
  try {
    if (!inputs.ok) {
      throw ApplicationFailure.nonRetryable(
        `the event does not carry what flow '${ir.name}' needs: ${inputs.problems.join('; ')}`,
        'InvalidEventInput',
      );
    }
    await runSteps(run, ir.steps);
  } catch (err) {
    if (root.consideredCancelled && isCancellation(err)) cancelled = err as Error;
    else {
      outcome.status = 'Failed';
      outcome.error = failureOf(err);
    }
  }
  // a cancelled run still closes its books: its approval tasks, its outcome, its status
  await CancellationScope.nonCancellable(async () => {
    if (!cancelled) {
      try {
        // grace periods end even when a later step failed: access kept for a while is still removed
        await run.settle();
      } catch (err) {
        if (root.consideredCancelled && isCancellation(err)) cancelled = err as Error;
        else if (outcome.status !== 'Failed') {
          outcome.status = 'Failed';
          outcome.error = failureOf(err);
        }
      }
    }
    if (cancelled) {
      outcome.status = 'Cancelled';
      outcome.cancelled = cancelRequest ?? { reason: 'cancelled in Temporal' };
      try {
        // what a grace period still kept goes now: a cancelled run leaves no access behind
        await run.finishDeferredNow();
      } catch (err) {
        outcome.error = failureOf(err);
      }
    }
    await closeAbandonedTasks(run);
    run.checkBudget();
    const budget = run.budget();
    if (budget.exceeded)
      outcome.budgetExceeded = { automatedMs: budget.automatedMs, budgetMs: budget.budgetMs };
    run.setStatus(outcome.status);
    runMetrics.finished(ir.name, outcome.status);
    await recordRunOutcome.executeWithOptions(
      { summary: visibleText(`record the run's outcome: ${outcome.status}`) },
      [outcome],
    );
  });
  // Temporal records the run as cancelled: the cancellation it was asked for went through
  if (cancelled) throw cancelled;
  if (outcome.error) {
    throw ApplicationFailure.nonRetryable(
      outcome.error.message,
      outcome.error.type,
      outcome.error.step ? { step: outcome.error.step } : undefined,
    );
  }
  return {
    status: 'Completed',
    vars: run.vars,
    stepsExecuted: run.snapshot().stepsExecuted,
    budgetExceeded: outcome.budgetExceeded !== undefined,
  };
}
