/**
 * Run-time evaluation of CEL expressions and value templates, shared by the interpreter
 * workflow and the policy evaluator. Node-free and deterministic. Expressions were type-checked
 * by the compiler; here every variable is dynamic and values are converted from JSON by their
 * declared shapes (see `toCel`), and results back to JSON (see `fromCel`): no BigInt, Date or
 * Map ever leaves this module, and no text with half a character (a lone UTF-16 surrogate) either:
 * PostgreSQL, JSON consumers and directories refuse it, so it is an error of the expression.
 */
import { Environment } from '@marcbachmann/cel-js';
import { registerIdflowFunctions, type StringSemantics } from './cel-functions';
import { hasLoneSurrogate } from './cel-strings';
import type { JsonValue, ValueIR } from './ir';
import type { Shape } from './shapes';

/** An expression that could not be evaluated against the run's data. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
  }
}

/** Variables expressions can read, already converted with `toCel`. */
export type CelScope = Record<string, unknown>;

/** How to evaluate: see `StringSemantics`. The default is CEL's, on code points. */
export type EvaluationOptions = StringSemantics;

interface Runtime {
  env: Environment;
  parsed: Map<string, ReturnType<Environment['parse']>>;
}

const runtimes: { codePoints?: Runtime; utf16?: Runtime } = {};

/**
 * Temporal's workflow sandbox replaces `Date` with a deterministic wrapper that shares the
 * original prototype, so dates made there report the original constructor, which cel-js does
 * not recognise as a timestamp ("Unsupported type: Date"). Pointing the shared prototype's
 * `constructor` at the wrapper makes timestamps work inside workflows; outside the sandbox the
 * two are the same function and nothing changes.
 */
function alignDateConstructor(): void {
  const probe = new Date(0);
  if (probe.constructor !== Date) {
    Object.defineProperty(Date.prototype, 'constructor', {
      value: Date,
      writable: true,
      configurable: true,
    });
  }
}

function runtime({ utf16 = false }: EvaluationOptions): Runtime {
  const key = utf16 ? 'utf16' : 'codePoints';
  let found = runtimes[key];
  if (!found) {
    alignDateConstructor();
    const env = new Environment({
      unlistedVariablesAreDyn: true,
      homogeneousAggregateLiterals: false,
      enableOptionalTypes: true,
    });
    found = { env: registerIdflowFunctions(env, { utf16 }), parsed: new Map() };
    runtimes[key] = found;
  }
  return found;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** Evaluates `expression` and returns its value as JSON. */
export function evaluateExpression(
  expression: string,
  scope: CelScope,
  options: EvaluationOptions = {},
): JsonValue {
  return checked(evaluate(expression, scope, options), options, `'${expression}'`, expression, '');
}

function evaluate(expression: string, scope: CelScope, options: EvaluationOptions): JsonValue {
  const { env, parsed } = runtime(options);
  let fn = parsed.get(expression);
  if (!fn) {
    try {
      fn = env.parse(expression);
    } catch (err) {
      throw new ExpressionError(
        `cannot parse '${expression}': ${firstLine(String(err))}`,
        expression,
      );
    }
    parsed.set(expression, fn);
  }
  let value: unknown;
  try {
    value = fn(scope);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ExpressionError(`'${expression}' failed: ${firstLine(message)}`, expression);
  }
  return fromCel(value, expression);
}

/**
 * Evaluates a value template (see `ValueIR`). In a mapping, a field whose expression yields no
 * value (`${subject.?department}` when there is none) is left out rather than set to null.
 * Every rendered value is whole text: one with a lone surrogate is an `ExpressionError` naming
 * the field and the expression or literal it came from.
 */
export function renderValue(
  value: ValueIR,
  scope: CelScope,
  options: EvaluationOptions = {},
): JsonValue {
  return render(value, scope, options, '');
}

function render(
  value: ValueIR,
  scope: CelScope,
  options: EvaluationOptions,
  field: string,
): JsonValue {
  const expression = (expr: string) =>
    checked(evaluate(expr, scope, options), options, `'${expr}'`, expr, field);
  if ('lit' in value) return checked(value.lit, options, 'the literal text', '', field);
  if ('expr' in value) return expression(value.expr);
  if ('concat' in value) {
    const text = value.concat
      .map((part) => (typeof part === 'string' ? part : stringify(expression(part.expr))))
      .join('');
    return checked(text, options, 'the text template', '', field);
  }
  if ('list' in value) {
    return value.list.map((item, i) => render(item, scope, options, `${field}[${i}]`));
  }
  const out: Record<string, JsonValue> = {};
  for (const [key, item] of Object.entries(value.map)) {
    const at = field ? `${field}.${key}` : key;
    checked(key, options, 'the field name', '', at);
    const rendered = render(item, scope, options, at);
    if (rendered === null && 'expr' in item) continue;
    out[key] = rendered;
  }
  return out;
}

/** `whole(...)`, except for runs replaying the UTF-16 evaluation, which had no such check. */
function checked(
  value: JsonValue,
  options: EvaluationOptions,
  source: string,
  expression: string,
  field: string,
): JsonValue {
  return options.utf16 ? value : whole(value, source, expression, field);
}

/**
 * `value` if all its text (strings and keys, at any depth) is made of whole characters; else an
 * `ExpressionError` naming where: `field` of the rendered value (empty for the whole), then the
 * place inside `value` (`*` for a key that is itself broken). It never quotes the text, which is
 * often personal data.
 */
function whole(value: JsonValue, source: string, expression: string, field: string): JsonValue {
  const inside = brokenAt(value);
  if (inside === undefined) return value;
  const at = (field + inside).replace(/^\./, '');
  const message =
    `${at ? `field '${at}': ` : ''}${source} gave text with half a character ` +
    `(a lone UTF-16 surrogate, as when text is cut inside an emoji), which cannot be stored`;
  // the message names keys and expressions, which must not carry the broken text on either
  throw new ExpressionError(message.replace(/\p{Cs}/gu, '\uFFFD'), expression);
}

/** Where in `value` a string or key holds a lone surrogate (`''` for `value` itself), if anywhere. */
function brokenAt(value: JsonValue): string | undefined {
  if (typeof value === 'string') return hasLoneSurrogate(value) ? '' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const inside = brokenAt(item);
      if (inside !== undefined) return `[${i}]${inside}`;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    if (hasLoneSurrogate(key)) return '.*';
    const inside = brokenAt(item);
    if (inside !== undefined) return `.${key}${inside}`;
  }
  return undefined;
}

/** How an interpolated value reads inside text. */
export function stringify(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * JSON → CEL by shape: `int` fields become BigInt, `timestamp` fields Date; in `dyn` data every
 * integral number becomes an int. Absent and null object fields are dropped, so `has(x.f)`
 * tells whether a value is there.
 */
export function toCel(value: unknown, shape: Shape): unknown {
  if (value === null || value === undefined) return null;
  if (typeof shape === 'string') {
    switch (shape) {
      case 'int':
        return typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : value;
      case 'timestamp': {
        if (typeof value !== 'string') return value;
        const date = new Date(value);
        return Number.isNaN(date.getTime()) ? value : date;
      }
      case 'dyn':
        return dynToCel(value);
      default:
        return value;
    }
  }
  if ('list' in shape) return Array.isArray(value) ? value.map((v) => toCel(v, shape.list)) : value;
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === null || item === undefined) continue;
    const fieldShape = 'map' in shape ? shape.map : shape.fields[key];
    out[key] = fieldShape ? toCel(item, fieldShape) : dynToCel(item);
  }
  return out;
}

function dynToCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(dynToCel);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = dynToCel(item);
    return out;
  }
  return value;
}

/** CEL → JSON: BigInt → number, timestamp → ISO string, duration → `"90s"`, Map → object. */
export function fromCel(value: unknown, expression: string): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'bigint':
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new ExpressionError(
          `'${expression}' gave ${value}, beyond the safe integer range`,
          expression,
        );
      }
      return Number(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new ExpressionError(
          `'${expression}' gave ${value}, which is not a finite number`,
          expression,
        );
      }
      return value;
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      throw new ExpressionError(`'${expression}' gave a ${typeof value}`, expression);
  }
  if (value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => fromCel(item, expression));
  if (value instanceof Map) {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of value) out[String(key)] = fromCel(item, expression);
    return out;
  }
  if (value instanceof Uint8Array) {
    throw new ExpressionError(
      `'${expression}' gave bytes; convert them with .base64() or .string()`,
      expression,
    );
  }
  const object = value as Record<string, unknown>;
  if (typeof object.hasValue === 'function' && typeof object.orValue === 'function') {
    return fromCel((object.orValue as (d: null) => unknown)(null), expression);
  }
  if (typeof object.seconds === 'bigint' && typeof object.nanos === 'number')
    return (value as { toString(): string }).toString();
  if (typeof object.valueOf === 'function' && typeof object.valueOf() === 'bigint') {
    return fromCel(object.valueOf(), expression);
  }
  const out: Record<string, JsonValue> = {};
  for (const [key, item] of Object.entries(object)) out[key] = fromCel(item, expression);
  return out;
}
