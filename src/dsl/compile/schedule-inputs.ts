/**
 * The `inputs` of a flow's schedule: literal values that become each scheduled run's event
 * attributes, so they are checked against the flow's `inputs` when the flow compiles, not when
 * a run starts at night.
 */
import { didYouMean, listNames, type Path } from '../diagnostics';
import { fitsInputShape } from '../inputs';
import type { InputIR, JsonValue } from '../ir';
import { timestampProblem } from '../literals';
import type { FlowSchedule } from '../schema';
import { describe } from '../zod-messages';

/** Where errors go: the flow compiler's reporter, at a path inside the Flow document. */
export interface ScheduleReporter {
  error(path: Path, code: string, message: string, key?: boolean): void;
}

/** How a message names a value of an input's type. */
const KIND_NAMES: Record<string, string> = {
  string: 'text',
  int: 'a whole number',
  double: 'a number',
  bool: 'true or false',
  list: 'a list',
  map: 'a mapping',
};

/**
 * A schedule's `inputs`, checked the way a run checks its event's attributes: each one declared
 * by the flow, of its type and enum, literal (a schedule's inputs are not evaluated), and every
 * required input given. Undefined when any is wrong (each reported).
 */
export function compileScheduleInputs(
  report: ScheduleReporter,
  flow: string,
  inputs: Record<string, InputIR>,
  s: FlowSchedule,
  path: Path,
): Record<string, JsonValue> | undefined {
  const given = s.inputs ?? {};
  const at: Path = [...path, 'inputs'];
  const declared = Object.keys(inputs);
  let ok = true;
  const fail = (where: Path, message: string, key = false) => {
    ok = false;
    report.error(where, 'bad-schedule-input', message, key);
  };
  for (const [name, value] of Object.entries(given)) {
    const input = inputs[name];
    if (!input) {
      fail(
        [...at, name],
        declared.length
          ? `flow '${flow}' has no input '${name}'; its inputs: ${declared.join(', ')}${didYouMean(name, declared)}`
          : `flow '${flow}' declares no inputs, so a schedule gives it none`,
        true,
      );
      continue;
    }
    if (value === undefined || value === null) {
      if (input.required) fail([...at, name], `'${name}' is a required input, not null`);
      continue;
    }
    if (typeof value === 'string' && value.includes('${')) {
      fail(
        [...at, name],
        `'${name}' must be a literal value: a schedule's inputs are not evaluated`,
      );
      continue;
    }
    const shape = input.shape;
    const problem =
      shape === 'timestamp'
        ? timestampProblem(value)
        : fitsInputShape(value, shape)
          ? undefined
          : `must be ${KIND_NAMES[typeof shape === 'string' ? shape : 'list' in shape ? 'list' : 'map'] ?? 'a value'}, not ${describe(value)}`;
    if (problem) fail([...at, name], `'${name}' ${problem}`);
    else if (input.enum && !input.enum.includes(value as string))
      fail(
        [...at, name],
        `'${name}' must be one of ${listNames(input.enum)}, not ${describe(value)}`,
      );
  }
  const missing = Object.entries(inputs)
    .filter(([name, input]) => input.required && given[name] === undefined)
    .map(([name]) => name);
  if (missing.length) {
    fail(
      s.inputs ? at : [...path, 'id'],
      `schedule '${s.id}' must give the flow's required input${missing.length === 1 ? '' : 's'} ${listNames(missing)} in inputs`,
      s.inputs !== undefined,
    );
  }
  return ok ? (given as Record<string, JsonValue>) : undefined;
}
