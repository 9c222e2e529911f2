/**
 * Calling an activity for a step: failures that are permanent (non-retryable) fail the run
 * naming the step; failures that used up every retry park the run until an operator retries,
 * skips or aborts the step. Nothing fails silently.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { StepIR } from '../../src/dsl/ir';
import type { StepRecord } from '../../src/temporal/contracts';
import { stepFailure, type CallOptions, type FlowRun } from '../run';

export type CallResult<T> = { done: true; value: T } | { done: false };

function describe(err: ActivityFailure): { type: string; message: string } {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure)
    return { type: cause.type ?? 'Error', message: cause.message };
  return { type: cause?.name ?? 'ActivityFailure', message: cause?.message ?? err.message };
}

export async function callWithParking<T>(
  run: FlowRun,
  step: StepIR,
  record: StepRecord,
  options: CallOptions,
  call: () => Promise<T>,
): Promise<CallResult<T>> {
  for (;;) {
    try {
      return { done: true, value: await call() };
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const error = describe(err);
      if (err.retryState === 'NON_RETRYABLE_FAILURE') {
        run.finishStep(record, 'failed', { error });
        throw stepFailure(step, error.type, `${error.type}: ${error.message}`);
      }
      const attempts = options.retry.maximumAttempts;
      record.status = 'parked';
      record.error = { ...error, attempts };
      const action = await run.park(step, { ...error, attempts });
      if (action.action === 'retry') {
        record.status = 'running';
        delete record.error;
        continue;
      }
      if (action.action === 'skip') {
        run.finishStep(record, 'skipped', { error: { ...error, attempts } });
        return { done: false };
      }
      run.finishStep(record, 'failed', { error: { ...error, attempts } });
      throw ApplicationFailure.nonRetryable(
        `step '${step.id}' was aborted by ${action.by}${action.reason ? `: ${action.reason}` : ''} (after ${error.type}: ${error.message})`,
        'AbortedByOperator',
        { step: step.id },
      );
    }
  }
}
