/**
 * Event inputs a flow declares, checked when a run starts: required inputs present, values of
 * the declared type and enum, defaults filled in. Node-free: the interpreter runs it.
 */
import type { InputIR, JsonValue } from './ir';
import type { Shape } from './shapes';

/** Whether `value` fits the shape of an input (`string`, `int`, …, `list`, `map`). */
export function fitsInputShape(value: unknown, shape: Shape): boolean {
  if (typeof shape === 'object') {
    if ('list' in shape) return Array.isArray(value);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }
  switch (shape) {
    case 'string':
      return typeof value === 'string';
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'double':
      return typeof value === 'number';
    case 'bool':
      return typeof value === 'boolean';
    case 'timestamp':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'dyn':
      return true;
  }
}

function shapeName(shape: Shape): string {
  if (typeof shape === 'string') return shape;
  return 'list' in shape ? 'list' : 'map';
}

/**
 * The event's attributes with defaults applied, or the list of problems (missing required
 * inputs, wrong types, values outside the enum).
 */
export function resolveInputs(
  inputs: Record<string, InputIR>,
  attributes: Record<string, JsonValue> | undefined,
): { ok: true; attributes: Record<string, JsonValue> } | { ok: false; problems: string[] } {
  const resolved: Record<string, JsonValue> = { ...(attributes ?? {}) };
  const problems: string[] = [];
  for (const [name, input] of Object.entries(inputs)) {
    const value = resolved[name];
    if (value === undefined || value === null) {
      if (input.default !== undefined) resolved[name] = input.default;
      else if (input.required) problems.push(`attributes.${name} is required`);
      continue;
    }
    if (!fitsInputShape(value, input.shape)) {
      problems.push(
        `attributes.${name} must be a ${shapeName(input.shape)}, not ${JSON.stringify(value)}`,
      );
    } else if (input.enum && !input.enum.includes(value as string)) {
      problems.push(
        `attributes.${name} must be one of ${input.enum.join(', ')}, not ${JSON.stringify(value)}`,
      );
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, attributes: resolved };
}
