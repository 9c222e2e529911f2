/** `action`: call a connector op as an activity, with the step's timeout and retry policy. */
import type { ActionStepIR } from '../../src/dsl/ir';
import type { FlowRun } from '../run';
import { callWithParking } from './call';
import { visibleText } from '../../src/temporal/visible';

export async function runAction(run: FlowRun, step: ActionStepIR): Promise<void> {
  const record = run.begin(step);
  const args = run.render(step.args, step);
  const call = {
    connector: step.connector,
    connectorType: step.connectorType,
    op: step.op,
    args,
    idempotencyKey: run.keyFor(step.id),
    runId: run.runId,
    flow: run.input.ir.name,
    stepId: step.id,
  };
  const { runConnectorOp } = run.activities(step);
  const result = await callWithParking(run, step, record, step, () =>
    runConnectorOp.executeWithOptions({ summary: visibleText(`${step.id}: ${step.title}`) }, [
      call,
    ]),
  );
  if (!result.done) return;
  run.setOutput(step.id, result.value, step.output);
  run.finishStep(record, 'completed', { output: result.value });
}
