/**
 * The scope a dry run evaluates a flow's expressions in: the interpreter's (`event`, `subject`,
 * `vars`, `steps`, `now`), plus what a dry run cannot know. A write is not done, so its output
 * is unknown; so is an approver's decision, and whatever a branch that may or may not be taken
 * sets. An expression that reads an unknown value is not evaluated: it says which values it
 * would need. Node-free.
 */
import {
  evaluateExpression,
  ExpressionError,
  stringify,
  toCel,
  type CelScope,
} from '../dsl/cel-runtime';
import type { JsonValue, ValueIR } from '../dsl/ir';
import type { ObjectShape, Shape } from '../dsl/shapes';
import { PERSON_SHAPE } from '../dsl/shapes';

/** What an expression or a value template gave: a value, the unknowns it needs, or an error. */
export interface Evaluated {
  value?: JsonValue;
  unknown: string[];
  /** Why it could not be evaluated (a real run fails the step: ExpressionFailed). */
  error?: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A pattern that finds `root.name` or `root["name"]` (or a bare `name` without a root). */
function referencePattern(root: string | undefined, name: string): RegExp {
  const n = escapeRegExp(name);
  if (root === undefined) return new RegExp(`(?<![\\w.$])${n}(?![\\w-])`);
  return new RegExp(`\\b${root}\\s*(?:\\.\\s*${n}(?![\\w-])|\\[\\s*(['"])${n}\\1\\s*\\])`);
}

export class PlanScope {
  readonly scope: CelScope;
  /** JSON copies of the variables set so far (what a forEach count's filter sees). */
  readonly varsJson: Record<string, JsonValue> = {};
  /** Unknown values by how expressions name them (`steps.create-account`, `vars.username`). */
  private readonly unknowns = new Map<string, { pattern: RegExp; why: string }>();
  /** Names set since the scope began, in order: what a branch that might not run set. */
  private readonly assigned: Array<{ kind: 'steps' | 'vars'; name: string }> = [];

  constructor(
    readonly eventJson: JsonValue,
    readonly eventShape: ObjectShape,
    readonly subjectJson: JsonValue,
    private readonly varShapes: Record<string, Shape>,
  ) {
    this.scope = {
      event: toCel(eventJson, eventShape),
      subject: toCel(subjectJson, PERSON_SHAPE),
      vars: {},
      steps: {},
    };
  }

  /** The unknown values `expression` reads, by name. */
  dependsOn(expression: string): string[] {
    const found: string[] = [];
    for (const [name, { pattern }] of this.unknowns) if (pattern.test(expression)) found.push(name);
    return found;
  }

  /** Why `name` is unknown. */
  why(name: string): string {
    return this.unknowns.get(name)?.why ?? 'unknown in a dry run';
  }

  evaluate(expression: string): Evaluated {
    const unknown = this.dependsOn(expression);
    if (unknown.length > 0) return { unknown };
    this.scope.now = new Date();
    try {
      return { value: evaluateExpression(expression, this.scope), unknown: [] };
    } catch (err) {
      if (err instanceof ExpressionError) return { unknown: [], error: err.message };
      throw err;
    }
  }

  /**
   * Renders a value template as the interpreter does; a part that reads an unknown value is
   * shown as `<unknown: name>` and named in `unknown`.
   */
  render(value: ValueIR): Evaluated {
    const unknown = new Set<string>();
    try {
      const rendered = this.renderPart(value, unknown);
      return { value: rendered, unknown: [...unknown] };
    } catch (err) {
      if (err instanceof ExpressionError) return { unknown: [...unknown], error: err.message };
      throw err;
    }
  }

  private renderPart(value: ValueIR, unknown: Set<string>): JsonValue {
    const expression = (expr: string): JsonValue => {
      const result = this.evaluate(expr);
      if (result.error !== undefined) throw new ExpressionError(result.error, expr);
      if (result.unknown.length > 0) {
        result.unknown.forEach((u) => unknown.add(u));
        return `<unknown: ${result.unknown.join(', ')}>`;
      }
      return result.value ?? null;
    };
    if ('lit' in value) return value.lit;
    if ('expr' in value) return expression(value.expr);
    if ('concat' in value)
      return value.concat
        .map((part) => (typeof part === 'string' ? part : stringify(expression(part.expr))))
        .join('');
    if ('list' in value) return value.list.map((item) => this.renderPart(item, unknown));
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value.map)) {
      const rendered = this.renderPart(item, unknown);
      // as the interpreter: a field whose expression gives no value is left out
      if (rendered === null && 'expr' in item) continue;
      out[key] = rendered;
    }
    return out;
  }

  setOutput(stepId: string, value: JsonValue, shape: Shape): void {
    this.unknowns.delete(`steps.${stepId}`);
    (this.scope.steps as Record<string, unknown>)[stepId] = { output: toCel(value, shape) };
    this.assigned.push({ kind: 'steps', name: stepId });
  }

  setVar(name: string, value: JsonValue): void {
    this.unknowns.delete(`vars.${name}`);
    this.varsJson[name] = value;
    (this.scope.vars as Record<string, unknown>)[name] = toCel(
      value,
      this.varShapes[name] ?? 'dyn',
    );
    this.assigned.push({ kind: 'vars', name });
  }

  /** A step's output a dry run cannot know (a write's, an approval's). */
  unknownOutput(stepId: string, why: string): void {
    delete (this.scope.steps as Record<string, unknown>)[stepId];
    this.unknowns.set(`steps.${stepId}`, { pattern: referencePattern('steps', stepId), why });
    this.assigned.push({ kind: 'steps', name: stepId });
  }

  unknownVar(name: string, why: string): void {
    delete (this.scope.vars as Record<string, unknown>)[name];
    delete this.varsJson[name];
    this.unknowns.set(`vars.${name}`, { pattern: referencePattern('vars', name), why });
    this.assigned.push({ kind: 'vars', name });
  }

  /** A variable of its own (a forEach item) whose value differs per item. */
  unknownRoot(name: string, why: string): void {
    this.unknowns.set(name, { pattern: referencePattern(undefined, name), why });
  }

  forgetRoot(name: string): void {
    this.unknowns.delete(name);
  }

  /** Where the record of assignments stands, to mark what came after it unknown. */
  mark(): number {
    return this.assigned.length;
  }

  /** Everything set since `mark` becomes unknown, for `why` (a branch that may not run). */
  unknownSince(mark: number, why: string): void {
    const since = this.assigned.slice(mark);
    for (const { kind, name } of since) {
      if (kind === 'steps') this.unknownOutput(name, why);
      else this.unknownVar(name, why);
    }
  }
}
