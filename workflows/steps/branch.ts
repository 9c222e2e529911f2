/** `if` and `switch`: choose a list of steps by a condition or a value. */
import { evaluateExpression, ExpressionError } from '../../src/dsl/cel-runtime';
import type { IfStepIR, JsonValue, StepIR, SwitchStepIR } from '../../src/dsl/ir';
import { stepFailure, type FlowRun } from '../run';

function evaluate(run: FlowRun, step: StepIR, expr: string): JsonValue {
  run.scope.now = new Date();
  try {
    return evaluateExpression(expr, run.scope, run.evaluation());
  } catch (err) {
    if (err instanceof ExpressionError) throw stepFailure(step, 'ExpressionFailed', err.message);
    throw err;
  }
}

/** The branch an `if` step takes. */
export function chooseIf(run: FlowRun, step: IfStepIR): StepIR[] {
  const record = run.begin(step);
  const value = evaluate(run, step, step.condition);
  if (typeof value !== 'boolean') {
    throw stepFailure(
      step,
      'ExpressionFailed',
      `condition '${step.condition}' gave ${JSON.stringify(value)}, not true or false`,
    );
  }
  run.finishStep(record, 'completed', { output: { branch: value ? 'then' : 'else' } });
  return value ? step.then : step.else;
}

/** The branch a `switch` step takes. */
export function chooseSwitch(run: FlowRun, step: SwitchStepIR): StepIR[] {
  const record = run.begin(step);
  const value = evaluate(run, step, step.on);
  const index = step.cases.findIndex((c) => c.is.includes(value as never));
  run.finishStep(record, 'completed', {
    output: { value, case: index >= 0 ? index + 1 : 'default' },
  });
  return index >= 0 ? (step.cases[index]?.then ?? []) : step.default;
}
