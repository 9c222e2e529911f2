/**
 * A Correlation's rules evaluated over one record: for each rule, the text each person field
 * must equal, or `skipped` when the record lacks a value for one of them (a field it does not
 * carry, null, empty text). Runs in the interpreter (deterministic, no Node imports); the
 * lookup of the values on the database is an activity's.
 */
import { ExpressionError, evaluateExpression, stringify, toCel } from './cel-runtime';
import type { EvaluationOptions } from './cel-runtime';
import type { CorrelationIR, JsonValue } from './ir';
import { ACCOUNT_RECORD_SHAPE, PERSON_RECORD_SHAPE } from './shapes';

export type EvaluatedRule =
  | { name: string; values: Array<{ field: string; value: string }> }
  | { name: string; skipped: 'absent' };

function text(value: JsonValue): string | undefined {
  if (value === null || value === undefined) return undefined;
  const s = typeof value === 'string' ? value : stringify(value);
  return s === '' ? undefined : s;
}

export function evaluateRules(
  correlation: CorrelationIR,
  record: JsonValue,
  options: EvaluationOptions = {},
): EvaluatedRule[] {
  const shape = correlation.for === 'person' ? PERSON_RECORD_SHAPE : ACCOUNT_RECORD_SHAPE;
  const scope = { record: toCel(record, shape) };
  return correlation.rules.map((rule): EvaluatedRule => {
    const values: Array<{ field: string; value: string }> = [];
    for (const { field, expr } of rule.fields) {
      let value: string | undefined;
      try {
        value = text(evaluateExpression(expr, scope, options));
      } catch (err) {
        // a field the record does not carry: the rule has nothing to match on
        if (!(err instanceof ExpressionError)) throw err;
      }
      if (value === undefined) return { name: rule.name, skipped: 'absent' };
      values.push({ field, value });
    }
    return { name: rule.name, values };
  });
}
