/**
 * `parallel`: runs branches at the same time, each a list of steps. Without `failFast` the step
 * waits for every branch and fails naming each one that failed; with it, the first failure
 * cancels the branches still running (a cancellation scope) and fails the step. Each branch
 * shows in the step's record (`branches`), and its steps' records carry `branch`.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
} from '@temporalio/workflow';
import type { ParallelBranchIR, ParallelStepIR, StepIR } from '../../src/dsl/ir';
import type { BranchRecord } from '../../src/temporal/contracts';
import type { FlowRun } from '../run';
import { runSteps } from './index';

/** Ids of `steps` and of every step nested in them. */
export function stepIdsOf(steps: readonly StepIR[]): string[] {
  return steps.flatMap((step) => {
    switch (step.kind) {
      case 'if':
        return [step.id, ...stepIdsOf(step.then), ...stepIdsOf(step.else)];
      case 'switch':
        return [
          step.id,
          ...step.cases.flatMap((c) => stepIdsOf(c.then)),
          ...stepIdsOf(step.default),
        ];
      case 'parallel':
        return [step.id, ...step.branches.flatMap((b) => stepIdsOf(b.steps))];
      default:
        return [step.id];
    }
  });
}

type BranchError = NonNullable<BranchRecord['error']>;

/** What a failed branch's error says: the step that failed, its error type and message. */
function branchError(err: unknown): BranchError {
  if (err instanceof ApplicationFailure) {
    const details = err.details?.[0] as { step?: unknown } | undefined;
    return {
      ...(typeof details?.step === 'string' ? { step: details.step } : {}),
      type: err.type ?? 'Error',
      message: err.message,
    };
  }
  return { type: 'Error', message: err instanceof Error ? err.message : String(err) };
}

/** The step's failure: one failed branch keeps its error type; several are `BranchesFailed`. */
function failureOf(step: ParallelStepIR, failed: Array<[string, BranchError]>): ApplicationFailure {
  if (failed.length === 1) {
    const [id, error] = failed[0] as [string, BranchError];
    return ApplicationFailure.nonRetryable(
      `step '${step.id}' failed: branch '${id}' failed: ${error.message}`,
      error.type,
      { step: error.step ?? step.id },
    );
  }
  const each = failed.map(([id, e]) => `branch '${id}': ${e.type}: ${e.message}`).join('; ');
  return ApplicationFailure.nonRetryable(
    `step '${step.id}' failed: ${failed.length} branches failed: ${each}`,
    'BranchesFailed',
    { step: step.id },
  );
}

export async function runParallel(run: FlowRun, step: ParallelStepIR): Promise<void> {
  const record = run.begin(step);
  const startedAt = new Date().toISOString();
  const branches: BranchRecord[] = step.branches.map((b) => ({
    id: b.id,
    title: b.title,
    status: 'running',
    startedAt,
  }));
  record.branches = branches;
  const scope = new CancellationScope();
  const failed: Array<[string, BranchError]> = [];

  const runBranch = async (branch: ParallelBranchIR, summary: BranchRecord): Promise<void> => {
    const ids = stepIdsOf(branch.steps);
    run.enterBranch(`${step.id}/${branch.id}`, ids);
    try {
      await runSteps(run, branch.steps);
      summary.status = 'completed';
    } catch (err) {
      if (isCancellation(err) && scope.consideredCancelled) {
        summary.status = 'cancelled';
        run.cancelSteps(new Set(ids));
      } else {
        const error = branchError(err);
        summary.status = 'failed';
        summary.error = error;
        failed.push([branch.id, error]);
        if (step.failFast && !scope.consideredCancelled) scope.cancel();
      }
    }
    summary.finishedAt = new Date().toISOString();
  };

  // the run's automated time goes on while any branch works, though another waits
  await scope.run(() =>
    run.concurrently(step.branches.map((b, i) => () => runBranch(b, branches[i] as BranchRecord))),
  );
  if (failed.length > 0) {
    const failure = failureOf(step, failed);
    run.finishStep(record, 'failed', {
      error: { type: failure.type ?? 'Error', message: failure.message },
    });
    throw failure;
  }
  if (CancellationScope.current().consideredCancelled) {
    run.finishStep(record, 'cancelled');
    throw new CancelledFailure(`step '${step.id}' was cancelled`);
  }
  run.finishStep(record, 'completed');
}
