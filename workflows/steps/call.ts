/**
 * Calling an activity for a step: failures that are permanent (non-retryable) fail the run
 * naming the step; failures that used up every retry park the run until an operator retries,
 * skips or aborts the step. Nothing fails silently.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { StepIR } from '../../src/dsl/ir';
import type { StepRecord } from '../../src/temporal/contracts';
import { stepFailure, type CallOptions, type FlowRun } from '../run';

export type CallResult<T> = { done: true; value: T } | { done: false };

interface CallError {
  type: string;
  message: string;
  /** Retrying cannot help: the run fails at once. */
  permanent: boolean;
}

/**
 * What went wrong with an activity call, or undefined when `err` is not an activity's failure.
 * Regular activities fail with an ActivityFailure around the cause; local activities with the
 * cause itself (an ApplicationFailure, or a TimeoutFailure).
 */
function classify(err: unknown): CallError | undefined {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    const type =
      cause instanceof ApplicationFailure
        ? (cause.type ?? 'Error')
        : (cause?.name ?? 'ActivityFailure');
    return {
      type,
      message: cause?.message ?? err.message,
      permanent: err.retryState === 'NON_RETRYABLE_FAILURE',
    };
  }
  if (err instanceof ApplicationFailure) {
    return {
      type: err.type ?? 'Error',
      message: err.message,
      permanent: err.nonRetryable === true,
    };
  }
  if (err instanceof TimeoutFailure)
    return { type: 'Timeout', message: err.message, permanent: false };
  return undefined;
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
      // a parallel branch cancelled (failFast) stops here: its step is cancelled, not parked
      if (run.inBranch(step.id) && isCancellation(err)) throw err;
      const failure = classify(err);
      if (!failure) throw err;
      const error = { type: failure.type, message: failure.message };
      if (failure.permanent) {
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
