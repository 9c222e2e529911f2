/**
 * Expressions and value templates inside a definition: parse, check references against what
 * has happened by then, type-check, and lower to IR. Problems are reported at the exact
 * character inside the YAML string.
 */
import { unstorable, type CelTypes, type ExprProblem } from '../cel-check';
import { didYouMean, type Path } from '../diagnostics';
import type { JsonValue, ValueIR } from '../ir';
import { describeShape, type Shape } from '../shapes';
import type { StepKindName } from '../schema';
import type { SourceDocument } from '../source';
import { parseTemplate } from '../template';
import { collectReferences, type Reference } from './refs';
import type { Reporter } from './report';

export interface StepInfo {
  id: string;
  kind: StepKindName;
  /** Position in document order, from 0. */
  order: number;
}

/** Flow-wide facts the messages draw on. */
export interface FlowInfo {
  steps: Map<string, StepInfo>;
  /** Every variable some `set` step in the flow assigns. */
  vars: Set<string>;
  /** Steps replaced after structural errors: references to them are not checked. */
  broken: ReadonlySet<string>;
}

/** What has definitely happened on every path to the current point of a flow. */
export interface Availability {
  done: ReadonlySet<string>;
  set: ReadonlySet<string>;
}

export interface ExprEnv {
  types: CelTypes;
  info?: FlowInfo;
  available?: Availability;
  /** The step the expression belongs to. */
  step?: StepInfo;
  /** Inside a `set` step: the names it assigns and the one being computed. */
  setting?: { names: ReadonlySet<string>; current: string };
}

export interface Checked {
  canonical: string;
  shape: Shape;
  celType: string;
}

function isLiteral(ir: ValueIR): ir is { lit: JsonValue } {
  return 'lit' in ir;
}

export class ValueCompiler {
  constructor(
    private readonly report: Reporter,
    private readonly sd: SourceDocument,
  ) {}

  private problem(path: Path, code: string, expr: string, p: ExprProblem): void {
    this.report.error(this.sd, path, code, p.message, {
      within: { text: expr, offset: p.start, length: Math.max(1, p.end - p.start) },
    });
  }

  /** Parses, checks references of and type-checks one expression (the text inside `${}`). */
  expression(path: Path, expr: string, env: ExprEnv): Checked | undefined {
    const parsed = env.types.parse(expr);
    if (!parsed.ok) {
      this.problem(path, 'cel-syntax', expr, parsed.problem);
      return undefined;
    }
    let referencesOk = true;
    if (env.info) {
      for (const ref of collectReferences(parsed.ast)) {
        const message = this.referenceProblem(ref, expr, env);
        if (message) {
          referencesOk = false;
          this.problem(path, 'bad-reference', expr, { message, start: ref.start, end: ref.end });
        }
      }
    }
    if (!referencesOk) return undefined;
    const checked = env.types.check(expr);
    if (!checked.ok) {
      this.problem(path, 'cel-type', expr, checked.problem);
      return undefined;
    }
    return { canonical: parsed.canonical, shape: checked.shape, celType: checked.celType };
  }

  private referenceProblem(ref: Reference, expr: string, env: ExprEnv): string | undefined {
    const info = env.info as FlowInfo;
    const available = env.available ?? { done: new Set(), set: new Set() };
    if (ref.root === 'steps') {
      if (info.broken.has(ref.name)) return undefined;
      const target = info.steps.get(ref.name);
      if (!target) {
        const dashed = [...info.steps.keys()].find(
          (id) => id.startsWith(`${ref.name}-`) && expr.includes(`steps.${id}`),
        );
        if (dashed) {
          return `write steps["${dashed}"]: in an expression '-' means minus, so steps.${dashed} reads as steps.${ref.name} - …`;
        }
        return `no step '${ref.name}' in this flow${didYouMean(ref.name, info.steps.keys())}`;
      }
      if (!['action', 'approval', 'reconcile', 'correlate', 'forEach'].includes(target.kind)) {
        return `step '${ref.name}' is a ${target.kind} step; only action, approval, reconcile, correlate and forEach steps have an output`;
      }
      if (env.step?.id === ref.name)
        return `step '${ref.name}' cannot read its own output (a cycle)`;
      if (!available.done.has(ref.name)) {
        return env.step && target.order > env.step.order
          ? `step '${ref.name}' has not run yet here: it comes after step '${env.step.id}'`
          : `step '${ref.name}' has not run on every path to here (it sits in another branch); read it inside that branch`;
      }
      return undefined;
    }
    if (!info.vars.has(ref.name))
      return `no step sets vars.${ref.name}${didYouMean(ref.name, info.vars)}`;
    if (available.set.has(ref.name)) return undefined;
    if (env.setting?.current === ref.name)
      return `vars.${ref.name} refers to itself before it has a value (a cycle)`;
    if (env.setting?.names.has(ref.name)) {
      return `vars.${ref.name} is set by this same step, and values of one set step cannot see each other; set it in an earlier step`;
    }
    return `vars.${ref.name} is not set on every path to here: it is set later, or only in some branches`;
  }

  /** A bare condition that must be a bool. */
  condition(path: Path, expr: string, env: ExprEnv): string | undefined {
    const checked = this.expression(path, expr, env);
    if (!checked) return undefined;
    if (checked.shape !== 'bool' && checked.shape !== 'dyn') {
      this.report.error(
        this.sd,
        path,
        'not-a-condition',
        `a condition must be true or false, but this gives ${describeShape(checked.shape)}`,
      );
      return undefined;
    }
    return checked.canonical;
  }

  /** A value template: literal data in which strings may interpolate `${expr}`. */
  value(
    path: Path,
    raw: unknown,
    env: ExprEnv,
    name: string,
  ): { ir: ValueIR; shape: Shape } | undefined {
    if (typeof raw === 'string') return this.text(path, raw, env);
    if (Array.isArray(raw)) {
      const items = raw.map((item, i) => this.value([...path, i], item, env, `${name}[]`));
      if (items.some((i) => i === undefined)) return undefined;
      const done = items as { ir: ValueIR; shape: Shape }[];
      const shapes = new Set(done.map((i) => JSON.stringify(i.shape)));
      const shape: Shape = { list: shapes.size === 1 && done[0] ? done[0].shape : 'dyn' };
      const irs = done.map((i) => i.ir);
      return { ir: irs.every(isLiteral) ? { lit: irs.map((i) => i.lit) } : { list: irs }, shape };
    }
    if (raw !== null && typeof raw === 'object') {
      const fields: Record<string, Shape> = {};
      const irs: Record<string, ValueIR> = {};
      let ok = true;
      for (const [key, item] of Object.entries(raw)) {
        const compiled = this.value([...path, key], item, env, `${name}.${key}`);
        if (!compiled) ok = false;
        else {
          fields[key] = compiled.shape;
          irs[key] = compiled.ir;
        }
      }
      if (!ok) return undefined;
      const all = Object.values(irs);
      const ir: ValueIR = all.every(isLiteral)
        ? {
            lit: Object.fromEntries(
              Object.entries(irs).map(([k, v]) => [k, (v as { lit: JsonValue }).lit]),
            ),
          }
        : { map: irs };
      return { ir, shape: { object: name, fields } };
    }
    if (typeof raw === 'number')
      return { ir: { lit: raw }, shape: Number.isInteger(raw) ? 'int' : 'double' };
    if (typeof raw === 'boolean') return { ir: { lit: raw }, shape: 'bool' };
    return { ir: { lit: null }, shape: 'dyn' };
  }

  private text(path: Path, raw: string, env: ExprEnv): { ir: ValueIR; shape: Shape } | undefined {
    const parsed = parseTemplate(raw);
    if (!parsed.ok) {
      this.report.error(this.sd, path, 'bad-interpolation', parsed.message, {
        within: { text: raw, offset: parsed.offset, length: 2 },
      });
      return undefined;
    }
    const { segments } = parsed;
    const only = segments[0];
    if (segments.length === 1 && only && 'expr' in only) {
      const checked = this.expression(path, only.expr, env);
      if (!checked) return undefined;
      const why = unstorable(checked.celType);
      if (why) {
        this.report.error(this.sd, path, 'unstorable-value', why, {
          within: { text: only.expr, offset: 0, length: only.expr.length },
        });
        return undefined;
      }
      return { ir: { expr: checked.canonical }, shape: checked.shape };
    }
    if (!segments.some((s) => 'expr' in s)) return { ir: { lit: raw }, shape: 'string' };
    const parts: Array<string | { expr: string }> = [];
    let ok = true;
    for (const segment of segments) {
      if ('text' in segment) {
        parts.push(segment.text);
        continue;
      }
      const checked = this.expression(path, segment.expr, env);
      if (checked) parts.push({ expr: checked.canonical });
      else ok = false;
    }
    return ok ? { ir: { concat: parts }, shape: 'string' } : undefined;
  }
}
