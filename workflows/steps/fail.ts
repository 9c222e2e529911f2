/** `fail`: end the run as failed with the step's reason and error type. */
import { ApplicationFailure } from '@temporalio/workflow';
import { stringify } from '../../src/dsl/cel-runtime';
import type { FailStepIR } from '../../src/dsl/ir';
import type { FlowRun } from '../run';

export function runFail(run: FlowRun, step: FailStepIR): never {
  const record = run.begin(step);
  const reason = stringify(run.render(step.reason, step));
  run.finishStep(record, 'failed', { error: { type: step.code, message: reason } });
  throw ApplicationFailure.nonRetryable(`step '${step.id}': ${reason}`, step.code, {
    step: step.id,
  });
}
