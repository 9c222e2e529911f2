/**
 * A dry run of one event: the policy evaluation the dispatch workflow makes (same function, same
 * scope), then for each flow it would start the steps the run would take (see `FlowPlanner`).
 * Node-free: the worker's activity supplies the context and the reads.
 */
import { resolveInputs } from '../dsl/inputs';
import type { Compiled, FlowIR, JsonValue, PolicyIR } from '../dsl/ir';
import { toCel } from '../dsl/cel-runtime';
import { ATTRIBUTES, eventShape, PERSON_SHAPE } from '../dsl/shapes';
import { runWorkflowId, type IdentityEvent } from '../model/event';
import type { SubjectSnapshot } from '../model/person';
import { evaluatePolicies } from '../policy/evaluate';
import type { DryRunResult, FlowPlan } from './types';
import { PlanScope } from './values';
import { FlowPlanner, type DryRunDeps } from './walk';

/** What the dispatch workflow would be given: the subject and the active definitions. */
export interface DryRunContext {
  subject: SubjectSnapshot;
  subjectKnown: boolean;
  policies: PolicyIR[];
  flows: Record<string, Compiled<FlowIR> & { version?: number }>;
}

async function planFlow(
  flow: DryRunContext['flows'][string],
  event: IdentityEvent,
  subject: SubjectSnapshot,
  deps: DryRunDeps,
): Promise<FlowPlan> {
  const { ir } = flow;
  const plan: FlowPlan = {
    flow: ir.name,
    title: ir.title,
    ...(flow.version !== undefined ? { version: flow.version } : {}),
    hash: flow.hash,
    workflowId: runWorkflowId(ir.name, event.subject.id, event.id),
    steps: [],
  };
  const inputs = resolveInputs(ir.inputs, event.attributes);
  if (!inputs.ok) {
    plan.stops = `the run would fail at once (InvalidEventInput): ${inputs.problems.join('; ')}`;
    return plan;
  }
  const scope = new PlanScope(
    { ...event, attributes: inputs.attributes } as unknown as JsonValue,
    ir.event,
    subject as unknown as JsonValue,
    ir.vars,
  );
  const planner = new FlowPlanner(scope, deps);
  plan.steps = await planner.walk(ir.steps);
  if (planner.stops !== undefined) plan.stops = planner.stops;
  return plan;
}

/**
 * The dry run of `event`. `depsFor` gives each flow its own reads and its own copy of the
 * person (what one flow's identity-store writes would change, another flow does not see).
 */
export async function planEvent(
  event: IdentityEvent,
  context: DryRunContext,
  depsFor: (flow: string) => DryRunDeps,
): Promise<DryRunResult> {
  const scope = {
    event: toCel(event, eventShape(ATTRIBUTES)),
    subject: toCel(context.subject, PERSON_SHAPE),
    now: new Date(),
  };
  const decision = evaluatePolicies(context.policies, event.type, scope);
  const flows: FlowPlan[] = [];
  const notActive: string[] = [];
  for (const name of decision.flows) {
    const flow = context.flows[name];
    if (!flow) notActive.push(name);
    else flows.push(await planFlow(flow, event, context.subject, depsFor(name)));
  }
  return {
    event: { source: event.source, id: event.id, type: event.type, subjectId: event.subject.id },
    subjectKnown: context.subjectKnown,
    rules: decision.trace,
    flows,
    notActive,
    plannedAt: new Date().toISOString(),
  };
}
