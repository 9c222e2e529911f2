/**
 * Walks a flow's IR in order the way the interpreter would, without running it: conditions are
 * evaluated (both branches shown when they read a value a dry run cannot know), read-only
 * connector ops are called for real through `deps`, writes are described, a reconcile shows the
 * plan computed against the live targets, approvals and waits say what they would wait on.
 * Node-free: everything that touches a target or the database comes through `DryRunDeps`.
 */
import type { AccessPlan } from '../access/types';
import { connectorType } from '../connectors/registry';
import { formatDuration } from '../dsl/duration';
import type {
  ActionStepIR,
  ApproverIR,
  EntitlementRefIR,
  ForEachStepIR,
  IfStepIR,
  JsonValue,
  StepIR,
  SwitchStepIR,
  WaitStepIR,
} from '../dsl/ir';
import { overBlastRadius } from '../population/guard';
import type { PopulationPage } from '../temporal/contracts';
import type { PlannedBranch, StepPlan } from './types';
import type { PlanScope } from './values';

/** What a dry run reads and computes with, supplied by the worker. */
export interface DryRunDeps {
  /** Calls a read-only connector op against the target. */
  read(call: {
    connector: string;
    connectorType: string;
    op: string;
    args: JsonValue;
    stepId: string;
  }): Promise<JsonValue>;
  /** An identity-store write, applied to the person later steps (a reconcile) plan for. */
  simulate(op: string, args: JsonValue): void;
  /** The plan a reconcile step would carry out for `personId`, read from the live targets. */
  planAccess(input: {
    personId: string;
    connectors: string[];
    keep?: EntitlementRefIR[];
    stepId: string;
  }): Promise<AccessPlan>;
  /** How many items a forEach step's population holds, and how many match its filter. */
  count(page: PopulationPage): Promise<{ matched: number; scanned: number }>;
  /** Credential-like fields of rendered arguments replaced. */
  redact(value: JsonValue): JsonValue;
}

/** What a step could not do: the run would stop here. */
class Stop extends Error {}

function failureOf(err: unknown): { type: string; message: string } {
  const typed = err as { type?: unknown; message?: unknown };
  return {
    type: typeof typed?.type === 'string' && typed.type ? typed.type : 'Error',
    message: typeof typed?.message === 'string' ? typed.message : String(err),
  };
}

function approverText(approver: ApproverIR, scope: PlanScope): string {
  if ('group' in approver) return `members of group ${approver.group}`;
  if ('role' in approver) return `holders of role ${approver.role}`;
  const result = scope.evaluate(approver.expr);
  if (result.unknown.length) return `${approver.expr} (unknown: ${result.unknown.join(', ')})`;
  if (result.error !== undefined) return `${approver.expr} (${result.error})`;
  const ids = Array.isArray(result.value) ? result.value : [result.value];
  return ids.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

export class FlowPlanner {
  /** Why the run would stop before its end, once a step on the certain path stops it. */
  stops?: string;
  /** How many branches deep the walk is in paths that may or may not be taken. */
  private uncertain = 0;
  /** What guarded forEach steps before this one would act on (the blast radius is the run's). */
  private actedOn = 0;

  constructor(
    private readonly scope: PlanScope,
    private readonly deps: DryRunDeps,
  ) {}

  async walk(steps: readonly StepIR[]): Promise<StepPlan[]> {
    const out: StepPlan[] = [];
    for (const step of steps) {
      if (this.stops !== undefined) break;
      try {
        out.push(await this.step(step));
      } catch (err) {
        if (!(err instanceof Stop)) throw err;
        out.push(this.stopped(step, err.message));
      }
    }
    return out;
  }

  /** A step the run would fail at: on the certain path the walk ends there. */
  private stopped(step: StepIR, message: string): StepPlan {
    if (this.uncertain === 0) this.stops = `step '${step.id}' ${message}`;
    return {
      id: step.id,
      kind: step.kind,
      title: step.title,
      mode: 'stop',
      summary: `the run would fail here: ${message}`,
    };
  }

  private base(step: StepIR, mode: StepPlan['mode'], summary: string): StepPlan {
    return { id: step.id, kind: step.kind, title: step.title, mode, summary };
  }

  private render(value: Parameters<PlanScope['render']>[0]): {
    value: JsonValue;
    unknown: string[];
  } {
    const result = this.scope.render(value);
    if (result.error !== undefined) throw new Stop(`fails: ${result.error}`);
    return { value: result.value ?? null, unknown: result.unknown };
  }

  private async step(step: StepIR): Promise<StepPlan> {
    switch (step.kind) {
      case 'action':
        return this.action(step);
      case 'if':
        return this.ifStep(step);
      case 'switch':
        return this.switchStep(step);
      case 'parallel': {
        const branches: PlannedBranch[] = [];
        for (const b of step.branches)
          branches.push({ label: b.title, taken: 'parallel', steps: await this.walk(b.steps) });
        return {
          ...this.base(step, 'decide', `runs ${step.branches.length} branches at the same time`),
          branches,
        };
      }
      case 'set': {
        const values: Record<string, JsonValue> = {};
        const unknown: string[] = [];
        for (const [name, value] of Object.entries(step.values)) {
          const rendered = this.render(value);
          values[name] = rendered.value;
          if (rendered.unknown.length) {
            unknown.push(...rendered.unknown);
            this.scope.unknownVar(name, `set from ${rendered.unknown.join(', ')}`);
          } else this.scope.setVar(name, rendered.value);
        }
        const names = Object.keys(values).join(', ');
        return {
          ...this.base(step, 'set', `sets ${names}`),
          values,
          ...(unknown.length ? { unknown: [...new Set(unknown)] } : {}),
        };
      }
      case 'wait':
        return this.wait(step);
      case 'notify': {
        const to = this.render(step.to);
        this.scope.unknownOutput(step.id, 'a notification is not sent in a dry run');
        return {
          ...this.base(
            step,
            'notify',
            `would send '${step.template.name}' through ${step.channel} (not sent)`,
          ),
          values: { to: to.value, template: step.template.name, channel: step.channel },
          ...(to.unknown.length ? { unknown: to.unknown } : {}),
        };
      }
      case 'fail': {
        const reason = this.render(step.reason);
        if (this.uncertain > 0)
          return this.base(
            step,
            'stop',
            `the run would fail here (${step.code}): ${JSON.stringify(reason.value)}`,
          );
        throw new Stop(`fails the run (${step.code}): ${JSON.stringify(reason.value)}`);
      }
      case 'approval': {
        const approvers = step.approvers.map((a) => approverText(a, this.scope));
        const request = this.render(step.request);
        this.scope.unknownOutput(step.id, `the decision of approval '${step.id}'`);
        const escalate = step.escalate.map(
          (e) =>
            `after ${formatDuration(e.afterMs)} to ${e.to.map((a) => approverText(a, this.scope)).join('; ')}`,
        );
        return {
          ...this.base(
            step,
            'approval',
            `would wait for ${step.mode === 'all' ? 'every one' : 'one'} of ${approvers.join('; ')} to decide, at most ${formatDuration(step.timeoutMs)} (then ${step.onTimeout})`,
          ),
          values: {
            approvers,
            mode: step.mode,
            request: request.value,
            timeout: formatDuration(step.timeoutMs),
            onTimeout: step.onTimeout,
            escalate,
          },
          ...(request.unknown.length ? { unknown: request.unknown } : {}),
        };
      }
      case 'reconcile':
        return this.reconcile(step);
      case 'correlate':
        this.scope.unknownOutput(step.id, 'a correlation is not run in a dry run');
        return this.base(
          step,
          'describe',
          `would match a record to a person by correlation '${step.correlation.name}' (no match: ${step.onNoMatch}); not run in a dry run`,
        );
      case 'forEach':
        return this.forEach(step);
      default: {
        const never: never = step;
        throw new Error(`unknown step kind in IR: ${JSON.stringify(never)}`);
      }
    }
  }

  private async action(step: ActionStepIR): Promise<StepPlan> {
    const op = connectorType(step.connectorType)?.ops[step.op];
    const args = this.render(step.args);
    const call = {
      connector: step.connector,
      connectorType: step.connectorType,
      op: step.op,
      args: this.deps.redact(args.value),
    };
    const unknown = args.unknown.length ? { unknown: args.unknown } : {};
    const name = `${step.connector}.${step.op}`;
    if (op?.readOnly && args.unknown.length === 0) {
      try {
        const result = await this.deps.read({ ...call, args: args.value, stepId: step.id });
        this.scope.setOutput(step.id, result, step.output);
        return {
          ...this.base(step, 'read', `read ${name} (done: the target's current answer)`),
          call: { ...call, result },
        };
      } catch (err) {
        const error = failureOf(err);
        this.scope.unknownOutput(step.id, `the read ${name} failed`);
        return {
          ...this.base(step, 'read', `read ${name} failed: ${error.type}`),
          call: { ...call, error },
        };
      }
    }
    if (op?.readOnly) {
      this.scope.unknownOutput(step.id, `the read ${name} needs unknown arguments`);
      return {
        ...this.base(step, 'read', `would read ${name} (not read: its arguments are unknown)`),
        call,
        ...unknown,
      };
    }
    const notes: string[] = [];
    if (step.connectorType === 'idstore' && args.unknown.length === 0) {
      this.deps.simulate(step.op, args.value);
      notes.push('later steps plan for the person as this write would leave them');
    }
    this.scope.unknownOutput(step.id, `the output of ${name}, a write not done in a dry run`);
    return {
      ...this.base(step, 'write', `would call ${name} (a write: not done)`),
      call,
      ...unknown,
      ...(notes.length ? { notes } : {}),
    };
  }

  /** Walks branches that may or may not be taken; what they set becomes unknown after them. */
  private async maybe(
    branches: Array<{ label: string; steps: readonly StepIR[] }>,
    why: string,
  ): Promise<PlannedBranch[]> {
    const mark = this.scope.mark();
    this.uncertain++;
    const out: PlannedBranch[] = [];
    try {
      for (const b of branches)
        out.push({ label: b.label, taken: 'unknown', steps: await this.walk(b.steps) });
    } finally {
      this.uncertain--;
    }
    this.scope.unknownSince(mark, why);
    return out;
  }

  private async ifStep(step: IfStepIR): Promise<StepPlan> {
    const condition = this.scope.evaluate(step.condition);
    if (condition.error !== undefined) throw new Stop(`fails: ${condition.error}`);
    if (condition.unknown.length) {
      const branches = await this.maybe(
        [
          { label: 'then', steps: step.then },
          { label: 'else', steps: step.else },
        ],
        `set in a branch of '${step.id}' that may not be taken`,
      );
      return {
        ...this.base(
          step,
          'decide',
          `cannot tell which branch: the condition reads unknown values`,
        ),
        condition: { expression: step.condition, unknown: condition.unknown },
        branches,
      };
    }
    if (typeof condition.value !== 'boolean')
      throw new Stop(
        `fails: condition '${step.condition}' gave ${JSON.stringify(condition.value)}, not true or false`,
      );
    const taken = condition.value ? 'then' : 'else';
    const branches: PlannedBranch[] = [
      { label: 'then', taken: condition.value ? 'yes' : 'no', steps: [] },
      { label: 'else', taken: condition.value ? 'no' : 'yes', steps: [] },
    ];
    const chosen = branches[condition.value ? 0 : 1] as PlannedBranch;
    chosen.steps = await this.walk(condition.value ? step.then : step.else);
    return {
      ...this.base(step, 'decide', `condition is ${condition.value}: takes ${taken}`),
      condition: { expression: step.condition, value: condition.value },
      // a branch with no steps (an `if` without `else`) is left out when not taken
      branches: branches.filter(
        (b) => b.taken === 'yes' || (b.label === 'then' ? step.then : step.else).length > 0,
      ),
    };
  }

  private async switchStep(step: SwitchStepIR): Promise<StepPlan> {
    const on = this.scope.evaluate(step.on);
    if (on.error !== undefined) throw new Stop(`fails: ${on.error}`);
    const cases = [
      ...step.cases.map((c) => ({
        label: `is ${c.is.map((v) => JSON.stringify(v)).join(', ')}`,
        steps: c.then,
      })),
      { label: 'default', steps: step.default },
    ];
    if (on.unknown.length) {
      return {
        ...this.base(step, 'decide', 'cannot tell which case: the value reads unknown values'),
        condition: { expression: step.on, unknown: on.unknown },
        branches: await this.maybe(cases, `set in a case of '${step.id}' that may not be taken`),
      };
    }
    const index = step.cases.findIndex((c) => c.is.includes(on.value as never));
    const chosen = index >= 0 ? index : cases.length - 1;
    const branches: PlannedBranch[] = cases.map((c, i) => ({
      label: c.label,
      taken: i === chosen ? 'yes' : 'no',
      steps: [],
    }));
    (branches[chosen] as PlannedBranch).steps = await this.walk(cases[chosen]?.steps ?? []);
    return {
      ...this.base(
        step,
        'decide',
        `value is ${JSON.stringify(on.value)}: takes ${cases[chosen]?.label}`,
      ),
      condition: { expression: step.on, value: on.value ?? null },
      branches,
    };
  }

  private wait(step: WaitStepIR): StepPlan {
    let ms = step.forMs ?? 0;
    if (step.until) {
      const until = this.render(step.until);
      if (until.unknown.length) {
        this.scope.unknownOutput(step.id, 'how long the wait lasts');
        return {
          ...this.base(step, 'wait', 'would wait until a time that is unknown in a dry run'),
          unknown: until.unknown,
        };
      }
      const at = typeof until.value === 'string' ? Date.parse(until.value) : NaN;
      if (Number.isNaN(at))
        throw new Stop(`fails: until gave ${JSON.stringify(until.value)}, not a timestamp`);
      ms = Math.max(0, at - Date.now());
    }
    this.scope.setOutput(
      step.id,
      { waitedMs: ms },
      { object: 'WaitOutput', fields: { waitedMs: 'int' } },
    );
    if (ms === 0) return this.base(step, 'wait', 'no wait: the time has passed');
    const until = new Date(Date.now() + ms).toISOString();
    return {
      ...this.base(step, 'wait', `would wait until ${until} (${formatDuration(ms)})`),
      values: { until },
    };
  }

  private async reconcile(step: Extract<StepIR, { kind: 'reconcile' }>): Promise<StepPlan> {
    const person = this.render(step.person);
    this.scope.unknownOutput(step.id, `the outcome of reconcile '${step.id}'`);
    const on = step.connectors.length
      ? step.connectors.join(', ')
      : 'every connector roles grant on';
    if (person.unknown.length || typeof person.value !== 'string')
      return {
        ...this.base(
          step,
          'write',
          `would reconcile access on ${on} of a person unknown in a dry run`,
        ),
        ...(person.unknown.length ? { unknown: person.unknown } : {}),
      };
    const notes = step.dryRun ? ['the step itself only plans (dryRun): it changes nothing'] : [];
    try {
      const plan = await this.deps.planAccess({
        personId: person.value,
        connectors: step.connectors,
        ...(step.grace ? { keep: step.grace.keep } : {}),
        stepId: step.id,
      });
      const counts = `${plan.removals.length} removal(s), then ${plan.additions.length} addition(s)`;
      return {
        ...this.base(
          step,
          'write',
          `would reconcile ${person.value}'s access on ${on}: ${counts} (planned against the live targets, nothing changed)`,
        ),
        reconcile: plan,
        ...(notes.length ? { notes } : {}),
      };
    } catch (err) {
      const error = failureOf(err);
      return {
        ...this.base(
          step,
          'write',
          `would reconcile ${person.value}'s access on ${on}; the plan could not be read: ${error.type}`,
        ),
        reconcileError: error,
      };
    }
  }

  private async forEach(step: ForEachStepIR): Promise<StepPlan> {
    const noun = step.over.kind === 'items' ? 'items' : step.over.kind;
    let population: StepPlan['population'];
    const notes: string[] = [];
    let unknown: string[] = [];
    if (step.over.kind === 'items') {
      const items = this.render(step.over.items);
      if (items.unknown.length) unknown = items.unknown;
      else if (!Array.isArray(items.value))
        throw new Stop(`fails: items gave ${JSON.stringify(items.value)}, not a list`);
      else population = { matched: items.value.length };
    } else {
      unknown = step.over.where ? this.scope.dependsOn(step.over.where) : [];
      if (!unknown.length) {
        try {
          const counted = await this.deps.count({
            over: step.over,
            as: step.as,
            scope: {
              event: this.scope.eventJson,
              eventShape: this.scope.eventShape,
              subject: this.scope.subjectJson,
              vars: this.scope.varsJson,
              varShapes: {},
              now: new Date().toISOString(),
            },
            limit: 0,
            countOnly: true,
          });
          population = { matched: counted.matched, population: counted.scanned };
        } catch (err) {
          const error = failureOf(err);
          notes.push(`the population could not be counted: ${error.type}: ${error.message}`);
        }
      }
    }
    if (population && step.guard) {
      const over = overBlastRadius(
        step.guard,
        { ...population, matched: population.matched + this.actedOn },
        noun,
      );
      population.guard = over
        ? `the blast-radius guard would park the run: it ${over}`
        : 'within the blast radius';
      this.actedOn += population.matched;
    }
    this.scope.unknownRoot(step.as, `each ${step.as} of the forEach '${step.id}'`);
    const mark = this.scope.mark();
    this.uncertain++;
    let steps: StepPlan[];
    try {
      steps = await this.walk(step.steps);
    } finally {
      this.uncertain--;
      this.scope.forgetRoot(step.as);
    }
    this.scope.unknownSince(mark, `set per item of forEach '${step.id}'`);
    this.scope.unknownOutput(step.id, `what forEach '${step.id}' collects`);
    const count = population ? `${population.matched} ${noun}` : `an unknown number of ${noun}`;
    return {
      ...this.base(
        step,
        'describe',
        `would run ${step.steps.length} step(s) for each of ${count}, ${step.concurrency} at a time`,
      ),
      ...(population ? { population } : {}),
      branches: [{ label: `for each ${step.as}`, taken: 'yes', steps }],
      ...(unknown.length ? { unknown } : {}),
      ...(notes.length ? { notes } : {}),
    };
  }
}
