/**
 * Compile-time CEL: a typed environment built from shapes, in which the compiler parses and
 * type-checks every expression. Object shapes become CEL message types, so a misspelt field is
 * a type error with a "did you mean", and an expression's type comes back as a shape (which
 * `set` uses to type `vars`).
 */
import { Environment, serialize, type ASTNode } from '@marcbachmann/cel-js';
import { registerIdflowFunctions, useCodePointStrings } from './cel-functions';
import { didYouMean, listNames } from './diagnostics';
import {
  describeShape,
  isListShape,
  isMapShape,
  isObjectShape,
  type ObjectShape,
  type Shape,
} from './shapes';

/** A problem inside an expression, with its character range in the expression text. */
export interface ExprProblem {
  message: string;
  start: number;
  end: number;
}

export type ParseOutcome =
  { ok: true; ast: ASTNode; canonical: string } | { ok: false; problem: ExprProblem };
export type CheckOutcome =
  { ok: true; shape: Shape; celType: string } | { ok: false; problem: ExprProblem };

const SCALAR_CEL: Record<string, string> = {
  string: 'string',
  int: 'int',
  double: 'double',
  bool: 'bool',
  timestamp: 'google.protobuf.Timestamp',
  dyn: 'dyn',
};

const CEL_SCALAR: Record<string, Shape> = {
  string: 'string',
  int: 'int',
  uint: 'int',
  double: 'double',
  bool: 'bool',
  'google.protobuf.Timestamp': 'timestamp',
  dyn: 'dyn',
  null_type: 'dyn',
  list: { list: 'dyn' },
  map: { map: 'dyn' },
};

const UNSTORABLE = new Set(['bytes', 'google.protobuf.Duration', 'type']);

/** Why a value of CEL type `celType` cannot be kept as JSON, or undefined when it can. */
export function unstorable(celType: string): string | undefined {
  return UNSTORABLE.has(celType)
    ? `the expression gives a ${readableTypes(celType)}, which has no JSON form; convert it, e.g. with string(...) or int(...)`
    : undefined;
}

/** CEL's protobuf names of the well-known types, as people write them. */
function readableTypes(text: string): string {
  return text
    .replace(/google\.protobuf\.Timestamp/g, 'timestamp')
    .replace(/google\.protobuf\.Duration/g, 'duration');
}

function summary(err: unknown): string {
  const e = err as { summary?: string; message?: string };
  return e.summary ?? (e.message ?? String(err)).split('\n')[0] ?? String(err);
}

function rangeOf(err: unknown, fallbackEnd: number): { start: number; end: number } {
  const e = err as {
    range?: { start: number; end: number };
    node?: { start?: number; end?: number };
  };
  const start = e.range?.start ?? e.node?.start ?? 0;
  const end = e.range?.end ?? e.node?.end ?? fallbackEnd;
  return { start, end: Math.max(end, start + 1) };
}

/** Splits `list<map<string, int>>`-style type names at their top-level comma. */
function splitTypeArgs(inner: string): string[] {
  let depth = 0;
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === '<') depth++;
    else if (inner[i] === '>') depth--;
    else if (inner[i] === ',' && depth === 0)
      return [inner.slice(0, i).trim(), inner.slice(i + 1).trim()];
  }
  return [inner.trim()];
}

/** A typed CEL environment over a set of variables. */
export class CelTypes {
  private readonly env: Environment;
  private readonly celNames: Map<ObjectShape, string>;
  private readonly shapesByName: Map<string, ObjectShape>;
  private readonly variables: string[];

  private constructor(
    env: Environment,
    celNames: Map<ObjectShape, string>,
    shapesByName: Map<string, ObjectShape>,
    variables: string[],
  ) {
    this.env = env;
    this.celNames = celNames;
    this.shapesByName = shapesByName;
    this.variables = variables;
  }

  /** An environment declaring `variables` with their shapes. */
  static create(variables: Record<string, Shape>): CelTypes {
    const env = registerIdflowFunctions(
      new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true }),
    );
    const types = new CelTypes(env, new Map(), new Map(), []);
    types.declare(variables);
    return types;
  }

  /** A child environment that adds `variables`; this one must not declare anything afterwards. */
  extend(variables: Record<string, Shape>): CelTypes {
    const child = new CelTypes(
      this.env.clone(),
      new Map(this.celNames),
      new Map(this.shapesByName),
      [...this.variables],
    );
    child.declare(variables);
    return child;
  }

  private declare(variables: Record<string, Shape>): void {
    for (const [name, shape] of Object.entries(variables)) {
      this.env.registerVariable(name, this.celType(shape));
      this.variables.push(name);
    }
    // a new object type registers a type() overload, after which a clone's overload lists are
    // rebuilt from the library's: put the code-point string functions back
    useCodePointStrings(this.env);
  }

  /** The CEL type name for `shape`, registering object shapes as message types on first use. */
  private celType(shape: Shape): string {
    if (typeof shape === 'string') return SCALAR_CEL[shape] as string;
    if (isListShape(shape)) return `list<${this.celType(shape.list)}>`;
    if (isMapShape(shape)) return `map<string, ${this.celType(shape.map)}>`;
    const known = this.celNames.get(shape);
    if (known) return known;
    let name = shape.object;
    for (let n = 2; this.shapesByName.has(name); n++) name = `${shape.object}${n}`;
    this.celNames.set(shape, name);
    this.shapesByName.set(name, shape);
    const fields: Record<string, string> = {};
    for (const [key, field] of Object.entries(shape.fields)) fields[key] = this.celType(field);
    const ctor = { [name]: class {} }[name] as new () => object;
    this.env.registerType(name, { ctor, fields });
    return name;
  }

  /** The shape of values of the CEL type `name`. */
  shapeOfCelType(name: string): Shape {
    const scalar = CEL_SCALAR[name];
    if (scalar) return scalar;
    const object = this.shapesByName.get(name);
    if (object) return object;
    const generic = /^(list|map|optional)<(.+)>$/.exec(name);
    if (generic) {
      const args = splitTypeArgs(generic[2] as string);
      if (generic[1] === 'list') return { list: this.shapeOfCelType(args[0] as string) };
      if (generic[1] === 'map') return { map: this.shapeOfCelType(args[1] ?? 'dyn') };
      return this.shapeOfCelType(args[0] as string);
    }
    return 'dyn';
  }

  parse(expression: string): ParseOutcome {
    try {
      const ast = this.env.parse(expression).ast;
      return { ok: true, ast, canonical: serialize(ast) };
    } catch (err) {
      return {
        ok: false,
        problem: {
          message: `CEL syntax error: ${summary(err)}`,
          ...rangeOf(err, expression.length),
        },
      };
    }
  }

  /** Type-checks `expression`; returns its shape, or the first problem in it. */
  check(expression: string): CheckOutcome {
    const result = this.env.check(expression);
    if (result.valid) {
      const celType = result.type ?? 'dyn';
      return { ok: true, shape: this.shapeOfCelType(celType), celType };
    }
    const err = result.error;
    const { start, end } = rangeOf(err, expression.length);
    return { ok: false, problem: { message: this.explain(err), start, end } };
  }

  /** cel-js's message, made specific where we know more (missing fields get a "did you mean"). */
  private explain(err: unknown): string {
    const text = summary(err);
    const missing = /^No such key: (.+)$/.exec(text);
    const node = (err as { node?: { op?: string; args?: unknown[] } }).node;
    if (missing && node?.op === '.' && Array.isArray(node.args)) {
      const owner = node.args[0] as ASTNode;
      const ownerType = this.env.check(serialize(owner));
      const shape = ownerType.valid ? this.shapeOfCelType(ownerType.type ?? 'dyn') : undefined;
      if (shape && isObjectShape(shape)) {
        const field = missing[1] as string;
        return `${describeShape(shape)} has no field '${field}'${didYouMean(field, Object.keys(shape.fields))}`;
      }
    }
    if (text.startsWith('No such key')) return text.replace('No such key', 'no such field');
    const unknown = /^Unknown variable: (.+)$/i.exec(text);
    if (unknown) {
      const name = unknown[1] as string;
      return `unknown variable '${name}'; expressions here can read ${listNames(this.variables)}${didYouMean(name, this.variables)}`;
    }
    return `type error: ${readableTypes(text)}`;
  }
}
