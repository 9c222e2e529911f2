/** `set`: compute named values from the state before the step; they become `vars.<name>`. */
import type { JsonValue, SetStepIR } from '../../src/dsl/ir';
import type { FlowRun } from '../run';

export function runSet(run: FlowRun, step: SetStepIR): void {
  const record = run.begin(step);
  const values: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(step.values)) values[name] = run.render(value, step);
  for (const [name, value] of Object.entries(values)) run.setVar(name, value);
  run.finishStep(record, 'completed', { output: values });
}
