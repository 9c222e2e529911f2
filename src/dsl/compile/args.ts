/**
 * An action's `args` against its op's declared argument schema: unknown and missing
 * arguments, literals that do not fit, and expressions whose type does not fit.
 */
import { didYouMean, type Path } from '../diagnostics';
import type { JsonValue, ValueIR } from '../ir';
import { expectedOf, literalProblem, type JsonSchema } from '../json-schema';
import { timestampProblem } from '../literals';
import { describeShape, isListShape, isMapShape, isObjectShape, type Shape } from '../shapes';
import type { SourceDocument } from '../source';
import { hasInterpolation } from '../template';
import type { Reporter } from './report';
import type { ExprEnv, ValueCompiler } from './values';

function schemaType(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
}

/** Whether values of `shape` can be what `schema` asks for (dyn always can: checked at run time). */
function fits(shape: Shape, schema: JsonSchema): boolean {
  if (shape === 'dyn') return true;
  switch (schemaType(schema)) {
    case undefined:
      return true;
    case 'string':
      return shape === 'string' || (schema.format === 'date-time' && shape === 'timestamp');
    case 'integer':
      return shape === 'int';
    case 'number':
      return shape === 'int' || shape === 'double';
    case 'boolean':
      return shape === 'bool';
    case 'array':
      return isListShape(shape) && (!schema.items || fits(shape.list, schema.items));
    case 'object':
      return isObjectShape(shape) || isMapShape(shape);
    default:
      return true;
  }
}

function containsInterpolation(raw: unknown): boolean {
  if (typeof raw === 'string') return hasInterpolation(raw);
  if (Array.isArray(raw)) return raw.some(containsInterpolation);
  if (raw !== null && typeof raw === 'object')
    return Object.values(raw).some(containsInterpolation);
  return false;
}

export class ArgsChecker {
  constructor(
    private readonly report: Reporter,
    private readonly sd: SourceDocument,
    private readonly values: ValueCompiler,
    private readonly env: ExprEnv,
    private readonly op: string,
  ) {}

  /** Checks `raw` (the args mapping) against `schema` and lowers it. */
  check(path: Path, raw: unknown, schema: JsonSchema): ValueIR | undefined {
    if (typeof raw === 'string' && hasInterpolation(raw)) {
      const compiled = this.values.value(path, raw, this.env, 'args');
      if (!compiled) return undefined;
      if (!fits(compiled.shape, schema)) {
        this.report.error(
          this.sd,
          path,
          'arg-type',
          `${this.subject(path)} must be ${expectedOf(schema)}, but the expression gives ${describeShape(compiled.shape)}`,
        );
        return undefined;
      }
      return compiled.ir;
    }
    const type = schemaType(schema);
    if (type === 'object' && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
      return this.object(path, raw as Record<string, unknown>, schema);
    }
    if (type === 'array' && Array.isArray(raw)) {
      const items = raw.map((item, i) => this.check([...path, i], item, schema.items ?? {}));
      if (items.some((i) => i === undefined)) return undefined;
      const irs = items as ValueIR[];
      return irs.every((i) => 'lit' in i) ? { lit: raw as JsonValue } : { list: irs };
    }
    const problem =
      type === 'string' && schema.format === 'date-time' && typeof raw === 'string'
        ? (literalProblem(raw, { ...schema, format: undefined, pattern: undefined }) ??
          timestampProblem(raw))
        : literalProblem(raw, schema);
    if (problem) {
      this.report.error(this.sd, path, 'arg-value', `${this.subject(path)} ${problem}`);
      return undefined;
    }
    if (containsInterpolation(raw)) return this.values.value(path, raw, this.env, 'args')?.ir;
    return { lit: raw as JsonValue };
  }

  private object(
    path: Path,
    raw: Record<string, unknown>,
    schema: JsonSchema,
  ): ValueIR | undefined {
    const properties = schema.properties;
    const extra = schema.additionalProperties;
    const irs: Record<string, ValueIR> = {};
    let ok = true;
    for (const [key, value] of Object.entries(raw)) {
      const propSchema =
        properties?.[key] ?? (typeof extra === 'object' ? extra : extra === false ? undefined : {});
      if (!propSchema) {
        const known = Object.keys(properties ?? {});
        this.report.error(
          this.sd,
          [...path, key],
          'unknown-arg',
          `${this.op} has no argument '${key}'${didYouMean(key, known)}`,
          { key: true },
        );
        ok = false;
        continue;
      }
      const ir = this.check([...path, key], value, propSchema);
      if (ir) irs[key] = ir;
      else ok = false;
    }
    for (const required of schema.required ?? []) {
      if (!(required in raw)) {
        this.report.error(this.sd, path, 'missing-arg', `${this.op} needs argument '${required}'`);
        ok = false;
      }
    }
    if (!ok) return undefined;
    const all = Object.values(irs);
    return all.every((i) => 'lit' in i)
      ? {
          lit: Object.fromEntries(
            Object.entries(irs).map(([k, v]) => [k, (v as { lit: JsonValue }).lit]),
          ),
        }
      : { map: irs };
  }

  private subject(path: Path): string {
    const args = path.lastIndexOf('args');
    const inside = path.slice(args + 1);
    return inside.length === 0 ? `the args of ${this.op}` : `argument '${inside.join('.')}'`;
  }
}
