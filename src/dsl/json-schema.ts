/**
 * Connector op schemas are zod; the compiler reads them through their JSON Schema form
 * (`z.toJSONSchema`), a stable public representation: to derive the shape of an op's result
 * for `steps.<id>.output`, and to check the literal values written in an action's args.
 */
import * as z from 'zod';
import { show } from './diagnostics';
import { describe, EXPECTED } from './zod-messages';
import type { Shape } from './shapes';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/** JSON Schema of a zod schema, as the value goes in (`input`) or comes out (`output`). */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
}

function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== 'null');
  return schema.type;
}

/** The shape expressions see for values of `schema`; nested objects are named after `name`. */
export function shapeOfSchema(schema: JsonSchema, name: string): Shape {
  const options = schema.anyOf ?? schema.oneOf;
  if (options) {
    const shapes = options.filter((o) => o.type !== 'null').map((o) => shapeOfSchema(o, name));
    return shapes.length === 1 && shapes[0] !== undefined ? shapes[0] : 'dyn';
  }
  switch (typeOf(schema)) {
    case 'string':
      return schema.format === 'date-time' ? 'timestamp' : 'string';
    case 'integer':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'array':
      return { list: schema.items ? shapeOfSchema(schema.items, `${name}[]`) : 'dyn' };
    case 'object': {
      if (schema.properties) {
        const fields: Record<string, Shape> = {};
        for (const [key, prop] of Object.entries(schema.properties)) {
          fields[key] = shapeOfSchema(prop, `${name}.${key}`);
        }
        return { object: name, fields };
      }
      const extra = schema.additionalProperties;
      return { map: typeof extra === 'object' ? shapeOfSchema(extra, `${name}[]`) : 'dyn' };
    }
    default:
      return 'dyn';
  }
}

/** What `schema` accepts, in words: `text`, `a whole number`, `a list`. */
export function expectedOf(schema: JsonSchema): string {
  if (schema.enum) return `one of ${schema.enum.map((v) => `'${String(v)}'`).join(', ')}`;
  const type = typeOf(schema);
  if (type === 'string' && schema.format === 'date-time') return 'a timestamp';
  if (type === 'integer') return EXPECTED.int as string;
  return type ? (EXPECTED[type] ?? type) : 'any value';
}

/** Why the literal `value` does not fit `schema`, or undefined when it does. */
export function literalProblem(value: unknown, schema: JsonSchema): string | undefined {
  if (schema.const !== undefined && value !== schema.const)
    return `must be '${show(schema.const)}'`;
  if (schema.enum && !schema.enum.includes(value)) {
    return `must be ${expectedOf(schema)}, not ${describe(value)}`;
  }
  const type = typeOf(schema);
  const mismatch = `must be ${expectedOf(schema)}, not ${describe(value)}`;
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return mismatch;
      if (schema.minLength !== undefined && value.length < schema.minLength)
        return 'must not be empty';
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        return `must be at most ${schema.maxLength} characters`;
      }
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) {
        return 'must be an ISO 8601 timestamp with a time zone, like 2025-01-31T17:00:00Z';
      }
      if (schema.format === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
        return 'must be an email address';
      if (schema.pattern && !schema.format && !new RegExp(schema.pattern, 'u').test(value)) {
        return `must match ${schema.pattern}`;
      }
      return undefined;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : mismatch;
    case 'number':
      return typeof value === 'number' ? undefined : mismatch;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : mismatch;
    case 'array':
      return Array.isArray(value) ? undefined : mismatch;
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value)
        ? undefined
        : mismatch;
    default:
      return undefined;
  }
}
