/**
 * What a dry run of an event answers (`idflow plan event`, `POST /v1/plan`): the rules that
 * match and why, the flows that would start with their versions, and for each flow the steps
 * it would take. Plain JSON, so it crosses Temporal and HTTP as it is.
 */
import type { AccessPlan } from '../access/types';
import type { JsonValue, StepKind } from '../dsl/ir';
import type { IdentityEvent } from '../model/event';
import type { RuleTrace } from '../policy/evaluate';

/** What the worker is asked to compute. */
export interface DryRunInput {
  event: IdentityEvent;
  /** Who asked (`token:<name>`, `cli:<user>`): the audit row names them. */
  actor: string;
}

/**
 * How a step would be taken: `read` steps were carried out against the target (their result
 * is the target's current state); `write` steps are described and not done; the others are
 * decided (`decide`), computed (`set`), or would wait (`wait`, `approval`), tell (`notify`),
 * stop the run (`stop`), or are shown without being run (`describe`).
 */
export type StepMode =
  'read' | 'write' | 'decide' | 'set' | 'wait' | 'approval' | 'notify' | 'stop' | 'describe';

/** A connector call a step would make. */
export interface PlannedCall {
  connector: string;
  connectorType: string;
  op: string;
  /** The rendered arguments, credential-like fields redacted; unknown parts as `<unknown: …>`. */
  args: JsonValue;
  /** A read's answer (the target now). */
  result?: JsonValue;
  /** A read that failed: its type and message. */
  error?: { type: string; message: string };
}

/** A condition of an `if`, a `switch` or a branch, as it evaluated now. */
export interface PlannedCondition {
  expression: string;
  /** Its value; absent when it could not be known or evaluated. */
  value?: JsonValue;
  /** The values it depends on that a dry run cannot know (a write's output, an approval). */
  unknown?: string[];
  /** Why it could not be evaluated (the run would fail on it). */
  error?: string;
}

/** One branch of an `if`, `switch` or `parallel` step. */
export interface PlannedBranch {
  label: string;
  /** `yes`: taken; `no`: not taken (its steps not shown); `unknown`: might be; `parallel`: runs beside the others. */
  taken: 'yes' | 'no' | 'unknown' | 'parallel';
  steps: StepPlan[];
}

export interface StepPlan {
  id: string;
  kind: StepKind;
  title: string;
  mode: StepMode;
  /** One line saying what the step would do, for a person reading the plan. */
  summary: string;
  call?: PlannedCall;
  condition?: PlannedCondition;
  branches?: PlannedBranch[];
  /** A reconcile's plan against the live targets: removals before additions. */
  reconcile?: AccessPlan;
  /** A reconcile's plan that could not be computed. */
  reconcileError?: { type: string; message: string };
  /** A forEach's population and the blast-radius guard's verdict. */
  population?: { matched: number; population?: number; guard?: string };
  /** Values a `set` step computes, or a notification's or approval's rendered fields. */
  values?: Record<string, JsonValue>;
  /** What the step's values depend on that a dry run cannot know. */
  unknown?: string[];
  /** Notes: why a value is as shown, what a real run would do differently. */
  notes?: string[];
}

export interface FlowPlan {
  flow: string;
  title: string;
  /** The active version that would run: its number (absent for versions stored before numbering) and hash. */
  version?: number;
  hash: string;
  /** The workflow id the run would get. */
  workflowId: string;
  steps: StepPlan[];
  /** Why the run would stop before its end (a `fail` step, an expression that fails, bad inputs). */
  stops?: string;
}

export interface DryRunResult {
  event: { source: string; id: string; type: string; subjectId: string };
  /** Whether the identity store knows the subject (a joiner's is often new). */
  subjectKnown: boolean;
  /** Every rule of the active policies, with whether and why it matched. */
  rules: RuleTrace[];
  /** Flows the matching rules start, in order. */
  flows: FlowPlan[];
  /** Flows a matching rule names that are not active: no run would start for them. */
  notActive: string[];
  /** When the plan was computed. */
  plannedAt: string;
}
