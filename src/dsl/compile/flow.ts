/**
 * Compiles one Flow document to its IR. Two passes: the first collects every step (ids, kinds,
 * the connector op and result shape of each action); the second walks the steps in the order
 * they run, tracking what has definitely happened on every path (steps done, vars set), so an
 * expression can only read what exists by then, and lowers each step.
 */
import { connectorType } from '../../connectors/registry';
import type { ConnectorTypeSpec, OpSpec } from '../../connectors/spec';
import { CelTypes } from '../cel-check';
import { didYouMean, type Path, suggest } from '../diagnostics';
import { parseDuration } from '../duration';
import { contentHash } from '../hash';
import { IR_VERSION, type Compiled, type FlowIR, type StepIR } from '../ir';
import { jsonSchemaOf, shapeOfSchema } from '../json-schema';
import {
  APPROVAL_OUTPUT_SHAPE,
  CORRELATE_OUTPUT_SHAPE,
  describeShape,
  FOR_EACH_OUTPUT_SHAPE,
  eventShape,
  PERSON_SHAPE,
  RECONCILE_OUTPUT_SHAPE,
  type ObjectShape,
  type Shape,
} from '../shapes';
import { stepKind, type ConnectorDocument, type FlowDocument, type Step } from '../schema';
import type { SourceDocument } from '../source';
import { compileInputs } from './inputs';
import { compileSchedules } from './schedule';
import { isBroken, type Definitions, type Entry, type Reporter } from './report';
import { compileStep } from './steps';
import { ValueCompiler, type ExprEnv, type FlowInfo, type StepInfo } from './values';

/** What has definitely happened on every path to a point in the flow. */
export interface FlowState {
  done: Set<string>;
  set: Set<string>;
  /** The step that ends the run on every path to here, if any. */
  endedBy?: string;
}

export interface ResolvedAction {
  connector: Entry<ConnectorDocument>;
  spec: ConnectorTypeSpec;
  op: OpSpec;
  output: Shape;
}

export function cloneState(state: FlowState): FlowState {
  return {
    done: new Set(state.done),
    set: new Set(state.set),
    ...(state.endedBy ? { endedBy: state.endedBy } : {}),
  };
}

/** The state after branches that all start from the same point: what every live branch did. */
export function mergeStates(branches: FlowState[]): FlowState {
  const live = branches.filter((b) => !b.endedBy);
  if (live.length === 0) return cloneState(branches[0] as FlowState);
  const [first, ...rest] = live as [FlowState, ...FlowState[]];
  return {
    done: new Set([...first.done].filter((id) => rest.every((b) => b.done.has(id)))),
    set: new Set([...first.set].filter((name) => rest.every((b) => b.set.has(name)))),
  };
}

export class FlowCompiler {
  readonly info: FlowInfo;
  readonly actions = new Map<string, ResolvedAction>();
  readonly values: ValueCompiler;
  private readonly varShapes = new Map<string, { shape: Shape; step: string }>();
  /** Set when a connector or template this flow uses had structural errors. */
  dependsOnRepaired = false;
  private base!: CelTypes;
  private scope?: CelTypes;
  private event!: ObjectShape;
  /** The item variable of the `forEach` step whose item steps are being compiled. */
  private item?: Record<string, Shape>;

  constructor(
    readonly entry: Entry<FlowDocument>,
    readonly defs: Definitions,
    readonly report: Reporter,
  ) {
    this.values = new ValueCompiler(report, entry.sd);
    this.info = {
      steps: new Map(),
      vars: new Set(),
      broken: entry.repaired?.brokenSteps ?? new Set(),
    };
  }

  get sd(): SourceDocument {
    return this.entry.sd;
  }

  error(path: Path, code: string, message: string, key = false): void {
    this.report.error(this.sd, path, code, message, { key });
  }

  compile(): Compiled<FlowIR> | undefined {
    const { value: ir, clean } = this.report.clean(() => this.lower());
    if (!clean || !ir || this.dependsOnRepaired) return undefined;
    return { ir, hash: contentHash(ir) };
  }

  private lower(): FlowIR | undefined {
    const doc = this.entry.doc;
    this.collect(doc.steps, ['steps']);
    const inputs = compileInputs(this, doc.inputs ?? {});
    const schedules =
      doc.schedules && compileSchedules(this, doc.metadata.name, doc.schedules, inputs.ir);
    const event = eventShape(inputs.shape);
    this.event = event;
    this.base = CelTypes.create({
      event,
      subject: PERSON_SHAPE,
      steps: this.stepsShape(),
      now: 'timestamp',
    });
    const summary = doc.summary
      ? this.values.value(
          ['summary'],
          doc.summary,
          { types: CelTypes.create({ event, subject: PERSON_SHAPE }) },
          'summary',
        )
      : undefined;
    const { ir: steps } = this.list(doc.steps, ['steps'], { done: new Set(), set: new Set() });
    const budget = doc.executionBudget === undefined ? 15_000 : parseDuration(doc.executionBudget);
    return {
      irVersion: IR_VERSION,
      name: doc.metadata.name,
      title: doc.metadata.title ?? doc.metadata.name,
      ...(doc.metadata.description ? { description: doc.metadata.description } : {}),
      ...(doc.metadata.owner ? { owner: doc.metadata.owner } : {}),
      labels: doc.metadata.labels ?? {},
      ...(summary ? { summary: summary.ir } : {}),
      inputs: inputs.ir,
      event,
      vars: Object.fromEntries([...this.varShapes].map(([name, v]) => [name, v.shape])),
      executionBudgetMs: budget ?? 15_000,
      stepBudget: doc.stepBudget ?? 1_000,
      steps,
      ...(schedules ? { schedules } : {}),
    };
  }

  /** Pass 1: ids, kinds and resolved actions of every step, nested ones included. */
  private collect(steps: Step[], path: Path): void {
    steps.forEach((step, i) => {
      const at = [...path, i];
      const kind = stepKind(step);
      if (this.info.steps.has(step.id)) {
        this.error(
          [...at, 'id'],
          'duplicate-step-id',
          `step id '${step.id}' is used twice in this flow; step ids must be unique`,
        );
      } else {
        this.info.steps.set(step.id, { id: step.id, kind, order: this.info.steps.size });
      }
      if ('action' in step) this.resolveAction(step.id, step.action, [...at, 'action']);
      if ('set' in step) Object.keys(step.set).forEach((name) => this.info.vars.add(name));
      if ('if' in step) {
        this.collect(step.if.then, [...at, 'if', 'then']);
        if (step.if.else) this.collect(step.if.else, [...at, 'if', 'else']);
      }
      if ('switch' in step) {
        step.switch.cases.forEach((c, j) =>
          this.collect(c.then, [...at, 'switch', 'cases', j, 'then']),
        );
        if (step.switch.default) this.collect(step.switch.default, [...at, 'switch', 'default']);
      }
      if ('parallel' in step) {
        step.parallel.branches.forEach((b, j) =>
          this.collect(b.steps, [...at, 'parallel', 'branches', j, 'steps']),
        );
      }
      if ('forEach' in step) this.collect(step.forEach.steps, [...at, 'forEach', 'steps']);
    });
  }

  private resolveAction(id: string, action: { connector: string; op: string }, path: Path): void {
    const connector = this.defs.connectors.get(action.connector);
    if (!connector && isBroken(this.defs, 'Connector', action.connector)) return;
    if (!connector) {
      const names = [...this.defs.connectors.keys()];
      this.error(
        [...path, 'connector'],
        'unknown-connector',
        `no connector named '${action.connector}'${names.length ? suggest(action.connector, names, 'connectors') : ' (no Connector documents are defined)'}`,
      );
      return;
    }
    if (connector.repaired) this.dependsOnRepaired = true;
    const spec = connectorType(connector.doc.type);
    if (!spec) return;
    const op = spec.ops[action.op];
    if (!op) {
      const ops = Object.keys(spec.ops);
      const hint = didYouMean(action.op, ops);
      this.error(
        [...path, 'op'],
        'unknown-op',
        `connector '${action.connector}' (type ${spec.type}) has no op '${action.op}'${hint || `; its ops are ${ops.join(', ')}`}`,
      );
      return;
    }
    const output = shapeOfSchema(jsonSchemaOf(op.result, 'output'), `${id}.output`);
    this.actions.set(id, { connector, spec, op, output });
  }

  private stepsShape(): ObjectShape {
    const fields: Record<string, Shape> = {};
    for (const [id, info] of this.info.steps) {
      if (this.info.broken.has(id))
        fields[id] = { object: `steps.${id}`, fields: { output: 'dyn' } };
      if (info.kind === 'approval')
        fields[id] = { object: `steps.${id}`, fields: { output: APPROVAL_OUTPUT_SHAPE } };
      if (info.kind === 'reconcile')
        fields[id] = { object: `steps.${id}`, fields: { output: RECONCILE_OUTPUT_SHAPE } };
      if (info.kind === 'correlate')
        fields[id] = { object: `steps.${id}`, fields: { output: CORRELATE_OUTPUT_SHAPE } };
      if (info.kind === 'forEach')
        fields[id] = { object: `steps.${id}`, fields: { output: FOR_EACH_OUTPUT_SHAPE } };
      if (info.kind !== 'action') continue;
      const output = this.actions.get(id)?.output ?? 'dyn';
      fields[id] = { object: `steps.${id}`, fields: { output } };
    }
    return { object: 'Steps', fields };
  }

  /** The expression environment at a point of the flow. */
  env(state: FlowState, step: StepInfo, setting?: ExprEnv['setting']): ExprEnv {
    this.scope ??= this.base.extend({
      vars: {
        object: 'Vars',
        fields: Object.fromEntries([...this.varShapes].map(([name, v]) => [name, v.shape])),
      },
    });
    return {
      types: this.item ? this.scope.extend(this.item) : this.scope,
      info: this.info,
      available: state,
      step,
      ...(setting ? { setting } : {}),
    };
  }

  /** Whether expressions can read a variable called `name` (CEL refuses its own identifiers). */
  canName(name: string): boolean {
    try {
      CelTypes.create({ [name]: 'dyn' });
      return true;
    } catch {
      return false;
    }
  }

  /** Compiles `work` with a `forEach` step's item variable in every expression's scope. */
  withItem<T>(item: Record<string, Shape>, work: () => T): T {
    const outer = this.item;
    this.item = item;
    try {
      return work();
    } finally {
      this.item = outer;
    }
  }

  /**
   * The environment of a `forEach` filter, evaluated over the identity store as it is read: the
   * item, the event, the subject, the run's variables and `now`, but no step outputs.
   */
  filterEnv(item: Record<string, Shape>): ExprEnv {
    return {
      types: CelTypes.create({
        event: this.event,
        subject: PERSON_SHAPE,
        now: 'timestamp',
        vars: {
          object: 'Vars',
          fields: Object.fromEntries([...this.varShapes].map(([name, v]) => [name, v.shape])),
        },
        ...item,
      }),
    };
  }

  /** Records the shape of a variable a set step assigns; a variable keeps one type. */
  declareVar(name: string, shape: Shape, step: string, path: Path): void {
    const known = this.varShapes.get(name);
    if (known) {
      const same =
        JSON.stringify(known.shape) === JSON.stringify(shape) ||
        known.shape === 'dyn' ||
        shape === 'dyn';
      if (!same) {
        this.error(
          path,
          'var-type-changed',
          `vars.${name} was set as ${describeShape(known.shape)} by step '${known.step}'; here it would become ${describeShape(shape)}. A variable keeps one type`,
        );
      }
      return;
    }
    this.varShapes.set(name, { shape, step });
    this.scope = undefined;
  }

  /** Compiles a list of steps that runs in order, starting from `state`. */
  list(steps: Step[], path: Path, state: FlowState): { ir: StepIR[]; state: FlowState } {
    const ir: StepIR[] = [];
    let current = state;
    for (const [i, step] of steps.entries()) {
      if (current.endedBy) {
        this.error(
          [...path, i, 'id'],
          'unreachable-step',
          `step '${step.id}' can never run: every path through step '${current.endedBy}' before it ends the run`,
        );
        break;
      }
      const result = compileStep(this, step, [...path, i], current);
      if (result.ir) ir.push(result.ir);
      current = result.state;
    }
    return { ir, state: current };
  }
}

export function compileFlow(
  entry: Entry<FlowDocument>,
  defs: Definitions,
  report: Reporter,
): Compiled<FlowIR> | undefined {
  return new FlowCompiler(entry, defs, report).compile();
}
