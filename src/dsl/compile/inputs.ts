/**
 * A flow's `inputs`: the event attributes it expects, with their types. They type
 * `event.attributes` in the flow's expressions (an attribute not declared is an error), and
 * the run checks them when it starts.
 */
import { show } from '../diagnostics';
import { fitsInputShape } from '../inputs';
import type { InputIR, JsonValue } from '../ir';
import type { ObjectShape, Shape } from '../shapes';
import type { FlowDocument } from '../schema';
import { timestampProblem } from '../literals';
import { describe } from '../zod-messages';
import type { FlowCompiler } from './flow';

type InputType = NonNullable<FlowDocument['inputs']>[string]['type'];

const SHAPES: Record<InputType, Shape> = {
  string: 'string',
  int: 'int',
  double: 'double',
  bool: 'bool',
  timestamp: 'timestamp',
  list: { list: 'dyn' },
  map: { map: 'dyn' },
};

export function compileInputs(
  fc: FlowCompiler,
  inputs: NonNullable<FlowDocument['inputs']>,
): { shape: ObjectShape; ir: Record<string, InputIR> } {
  const fields: Record<string, Shape> = {};
  const ir: Record<string, InputIR> = {};
  for (const [name, input] of Object.entries(inputs)) {
    const path = ['inputs', name];
    const shape = SHAPES[input.type];
    fields[name] = shape;
    if (input.enum && input.type !== 'string') {
      fc.error(
        [...path, 'enum'],
        'bad-input',
        `enum lists allowed text values, so it needs type: string (not ${input.type})`,
      );
    }
    if (input.default !== undefined) {
      const problem =
        input.type === 'timestamp'
          ? timestampProblem(input.default)
          : fitsInputShape(input.default, shape)
            ? undefined
            : `must be a ${input.type}, not ${describe(input.default)}`;
      if (problem) {
        fc.error([...path, 'default'], 'bad-input', `default ${problem}`);
      } else if (input.enum && !input.enum.includes(input.default as string)) {
        fc.error(
          [...path, 'default'],
          'bad-input',
          `default '${show(input.default)}' is not one of the enum values`,
        );
      }
      if (input.required === true) {
        fc.error(
          [...path, 'required'],
          'bad-input',
          'an input with a default is never missing: drop required: true or the default',
        );
      }
    }
    ir[name] = {
      shape,
      required: input.default === undefined && input.required !== false,
      ...(input.default !== undefined ? { default: input.default as JsonValue } : {}),
      ...(input.enum ? { enum: input.enum } : {}),
    };
  }
  return { shape: { object: 'Inputs', fields }, ir };
}
