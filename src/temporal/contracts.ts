/**
 * What workflows and activities pass to each other. Types only: the workflow sandbox imports
 * this module, so it may not import anything with runtime code.
 */
import type { Change, EntitlementRef } from '../access/types';
import type {
  Compiled,
  FlowIR,
  ForEachStepIR,
  JsonValue,
  PendingAction,
  PolicyIR,
  TemplateIR,
} from '../dsl/ir';
import type { ObjectShape, Shape } from '../dsl/shapes';
import type { IdentityEvent } from '../model/event';
import type { SubjectSnapshot } from '../model/person';
import type { RuleTrace } from '../policy/evaluate';
import type { RunStatus } from './search-attributes';

/** Input of the `runFlow` interpreter: everything a run needs, pinned for its life. */
export interface RunFlowInput {
  ir: FlowIR;
  hash: string;
  event: IdentityEvent;
  subject: SubjectSnapshot;
}

/** What `recordEvent` gives the dispatch workflow. */
export interface EventContext {
  subject: SubjectSnapshot;
  policies: PolicyIR[];
  /** Active flows the policies name, with their hashes. */
  flows: Record<string, Compiled<FlowIR>>;
  /**
   * The worker's IDFLOW_VISIBLE_PERSONAL_DATA: the runs' static summaries, which stay
   * unencrypted, may name the person (else they carry ids only).
   */
  visiblePersonalData?: boolean;
}

export interface RunRef {
  flow: string;
  workflowId: string;
  hash: string;
}

export interface DispatchResult {
  source: string;
  eventId: string;
  trace: RuleTrace[];
  runs: RunRef[];
}

/** One connector op call from an action step. */
export interface ConnectorCall {
  connector: string;
  connectorType: string;
  op: string;
  args: JsonValue;
  /** `<workflowId>:<stepId>`: a retry of the same call acts once. */
  idempotencyKey: string;
  runId: string;
  flow: string;
  stepId: string;
}

export interface NotificationCall {
  channel: string;
  channelType: string;
  to: string[];
  template: TemplateIR;
  data: Record<string, JsonValue>;
  /** CSV attachments (email): rows as a list of maps. */
  attachments?: Array<{ filename: string; rows: JsonValue }>;
  idempotencyKey: string;
  runId: string;
  flow: string;
  stepId: string;
}

export interface RunOutcome {
  runId: string;
  flow: string;
  hash: string;
  subjectId: string;
  status: Extract<RunStatus, 'Completed' | 'Failed' | 'Cancelled'>;
  error?: { step?: string; type: string; message: string };
  /** Why a cancelled run was cancelled (the timeline's event that cancelled it, or an operator). */
  cancelled?: { reason: string; by?: string };
  budgetExceeded?: { automatedMs: number; budgetMs: number };
}

export type StepStatus = 'running' | 'completed' | 'failed' | 'skipped' | 'parked' | 'cancelled';

/** One branch of a `parallel` step, as the step's record shows it. */
export interface BranchRecord {
  id: string;
  title: string;
  /** `cancelled`: a sibling failed under `failFast`, or the run was cancelled. */
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  startedAt: string;
  finishedAt?: string;
  /** Why the branch failed: the step that failed in it, and its error. */
  error?: { step?: string; type: string; message: string };
}

export interface StepRecord {
  id: string;
  kind: string;
  title: string;
  status: StepStatus;
  startedAt: string;
  finishedAt?: string;
  output?: JsonValue;
  error?: { type: string; message: string; attempts?: number };
  /**
   * Steps inside a branch of a `parallel` step: `<parallel step id>/<branch id>` of the
   * innermost branch. Absent for steps outside any parallel step.
   */
  branch?: string;
  /** A `parallel` step: each branch and how it stands. */
  branches?: BranchRecord[];
}

/** A person who may decide an approval, as resolved from the identity store. */
export interface Approver {
  id: string;
  displayName?: string;
  email?: string;
}

export interface ApprovalDecision {
  /** Who decided. */
  by: string;
  /** The approver the decision counts for: `by` itself, or whom `by` is a delegate of. */
  onBehalfOf: string;
  decision: 'approved' | 'rejected';
  at: string;
  channel: 'api' | 'slack' | 'timeout' | 'operator';
  comment?: string;
}

export interface ApprovalEvent {
  at: string;
  kind: 'assigned' | 'reminded' | 'escalated' | 'decided' | 'timed-out' | 'parked' | 'reopened';
  approvers: string[];
}

export type ApprovalStatus = 'open' | 'approved' | 'rejected' | 'expired';

/** An approval step's task, as approvers and the approvals API see it. */
export interface ApprovalTask {
  workflowId: string;
  step: string;
  title: string;
  flow: string;
  subject: { id: string; displayName?: string; employeeId?: string };
  request: string;
  access?: JsonValue;
  mode: 'any' | 'all';
  status: ApprovalStatus;
  /** The approvers currently assigned (the current escalation level). */
  approvers: Approver[];
  level: number;
  openedAt: string;
  deadline: string;
  nextReminderAt?: string;
  nextEscalationAt?: string;
  decisions: ApprovalDecision[];
  history: ApprovalEvent[];
}

/**
 * An approval task as a run writes it to the approval_tasks table at each transition: ids, not
 * names (but the subject's display name), and the approvers it still waits on. `version` grows
 * with every write of the run; an older write never replaces a newer one.
 */
export interface ApprovalTaskRecord {
  workflowId: string;
  step: string;
  flow: string;
  title: string;
  subject: { id: string; displayName?: string };
  request: string;
  access?: JsonValue;
  mode: 'any' | 'all';
  status: ApprovalStatus;
  level: number;
  approvers: string[];
  /** Approvers who have not decided yet; empty once the task is closed. */
  pending: string[];
  openedAt: string;
  deadline: string;
  nextReminderAt?: string;
  nextEscalationAt?: string;
  closedAt?: string;
  version: number;
}

/** A decision sent to a run (the `decide` update), already authenticated by the gateway. */
export interface DecisionRequest {
  step: string;
  decision: 'approve' | 'reject';
  by: string;
  onBehalfOf: string;
  channel: 'api' | 'slack';
  comment?: string;
}

/** What a run waits on, for the `state` query and the Web UI. */
export type WaitingOn =
  | { kind: 'timer'; step: string; until: string }
  | { kind: 'approval'; step: string; since: string; approvers: string[]; deadline: string }
  | {
      kind: 'operator';
      step: string;
      since: string;
      error: { type: string; message: string; attempts?: number };
    }
  | { kind: 'review'; step: string; since: string; reviewId: string; candidates: string[] };

/** Answer of the `state` query. */
export interface RunState {
  flow: string;
  hash: string;
  status: RunStatus;
  currentStep?: string;
  waitingOn?: WaitingOn;
  /**
   * Every wait in progress, when there are several at once (branches of a parallel step
   * waiting on approvals, timers or operators), in the order they began; `waitingOn` is the
   * first step parked for an operator, else the first of them.
   */
  waiting?: WaitingOn[];
  steps: StepRecord[];
  approvals: ApprovalTask[];
  vars: Record<string, JsonValue>;
  stepsExecuted: number;
  /**
   * The run's automated time so far: wall time while at least one of its strands (the run, or
   * a branch of a parallel step) works rather than waits on a timer, an approval, a
   * correlation review or an operator.
   */
  automatedMs: number;
  /** The flow's execution budget for that time. */
  budgetMs: number;
  /** Whether automated time went over the budget (the run then carries IdflowOverBudget). */
  overBudget: boolean;
  /** Same as overBudget (the name earlier versions answered with). */
  budgetExceeded: boolean;
}

/**
 * What flow runs tell the worker's metrics, through a Temporal workflow sink: called once per
 * run event (never while a history replays), no command in the history. Labels stay bounded:
 * flow names come from definitions.
 */
// a type, not an interface: Temporal's Sinks is a record, which only a type alias satisfies
export type RunMetricsSinks = {
  runMetrics: {
    started(flow: string): void;
    parked(flow: string): void;
    finished(flow: string, status: 'Completed' | 'Failed' | 'Cancelled'): void;
    overBudget(flow: string): void;
  };
};

/**
 * An operator's decision on a parked step. `approve` lets a step parked by the blast-radius
 * guard go on and act on every item it counted; elsewhere only retry, skip and abort fit.
 */
export interface OperatorAction {
  action: 'retry' | 'skip' | 'abort' | 'approve';
  step: string;
  by: string;
  reason?: string;
}

/** What `planAccess` reads and computes for a reconcile step, `idflow plan person` and the API. */
export interface PlanAccessInput {
  personId: string;
  /** Connectors to plan for; empty: every connector an active role or grant names. */
  connectors: string[];
  /** Entitlements the step's grace option keeps: their removals go to `kept`. */
  keep?: EntitlementRef[];
  /** Update idflow's record of the person's accounts from what was read (not for previews). */
  record: boolean;
  runId: string;
  flow: string;
  stepId: string;
}

/** What `applyAccess` carries out: changes of one plan, in order. */
export interface ApplyAccessInput {
  personId: string;
  changes: Change[];
  /** `<workflowId>:<stepId>/<phase>`: each change's key adds its index, so a retry acts once. */
  idempotencyKey: string;
  runId: string;
  flow: string;
  stepId: string;
}

export interface ApplyAccessResult {
  /** Per change, in order: whether the target changed. */
  changed: boolean[];
}

/** Why a run is being cancelled: sent to the run (the `cancel` signal) before it is cancelled. */
export interface CancelRequest {
  reason: string;
  /** The event (`<source>/<id>`) whose policy cancelled the run, when a timeline did. */
  by?: string;
}

/** An event as the gateway hands it to the person's timeline at acceptance (the `accept` signal). */
export interface TimelineAccept {
  source: string;
  id: string;
  type: string;
}

/** One run a timeline entry starts: what the dispatch workflow decided, pinned for the run. */
export interface TimelineRun {
  flow: string;
  workflowId: string;
  hash: string;
  /** The run's one-line summary, for its memo (a payload: encrypted when keys are set). */
  summary: string;
  /**
   * The run's static summary, kept unencrypted for the Web UI: ids only unless personal data
   * may be visible. Absent in decisions from before it: the timeline then uses `summary`, as a
   * payload encrypted like any other.
   */
  visibleSummary?: string;
  input: RunFlowInput;
}

/** The dispatch decision of one event, handed to the person's timeline (the `decide` signal). */
export interface TimelineDecision extends TimelineAccept {
  runs: TimelineRun[];
  /** What this event does to runs still pending for the person, by their event type. */
  pending: Record<string, PendingAction>;
  /** The dispatch failed before it could decide: the event starts nothing and holds no place. */
  failed?: boolean;
}

export type TimelineEntryState = 'accepted' | 'decided' | 'running' | 'done' | 'cancelled';

/** One event on a person's timeline. */
export interface TimelineEntry extends TimelineAccept {
  /** Position in acceptance order on this person's timeline (1, 2, …; carried across runs). */
  seq: number;
  state: TimelineEntryState;
  acceptedAt: string;
  startedAt?: string;
  finishedAt?: string;
  decision?: TimelineDecision;
  /** Set when a later event's policy cancels or supersedes this one. */
  cancel?: { action: 'cancel' | 'supersede'; by: string };
  /** How each of its runs ended. */
  outcomes?: Array<{ workflowId: string; status: string }>;
}

/** Input of `personTimeline`; what a continue-as-new carries over. */
export interface TimelineInput {
  personId: string;
  /** The next sequence number to give. */
  nextSeq?: number;
  /** Entries not finished yet, in acceptance order. */
  entries?: TimelineEntry[];
  /** Keys (`<source>/<id>`) of recently finished entries: a duplicate of one is ignored. */
  recent?: string[];
  /** Entries this execution finishes before it continues as new (default 500). */
  continueAfter?: number;
  /** How long an accepted event may wait for its decision before it stops holding the timeline. */
  decisionTimeoutMs?: number;
  /** Keys of events abandoned for want of a decision (a late decision still counts). */
  abandoned?: string[];
}

/** Answer of the timeline's `timeline` query (entries without their pinned run inputs). */
export interface TimelineState {
  personId: string;
  entries: Array<Omit<TimelineEntry, 'decision'> & { runs: string[] }>;
  recent: string[];
  finishedInThisRun: number;
}

/** One item of a `forEach` step: a stable key (person id, account record id, list index) and its value. */
export interface ForEachItem {
  key: string;
  value: JsonValue;
}

/**
 * What the item steps of a `forEach` step start from: the run's pinned input with the flow's
 * steps cut down to the item steps, the resolved event attributes, the variables set before the
 * step and the outputs of earlier steps (JSON, with their shapes).
 */
export interface ItemContext {
  run: RunFlowInput;
  attributes: Record<string, JsonValue>;
  vars: Record<string, JsonValue>;
  outputs: Record<string, { value: JsonValue; shape: Shape }>;
  /** The run the items belong to: audit rows and idempotency keys name it. */
  runId: string;
}

/** What `readPopulation` reads: a page of a `forEach` step's persons or accounts. */
export interface PopulationPage {
  over: { kind: 'persons' | 'accounts'; connector?: string; where?: string };
  as: string;
  /** What the filter sees besides the item, as JSON, and the shapes to read it with. */
  scope: {
    event: JsonValue;
    eventShape: ObjectShape;
    subject: JsonValue;
    vars: Record<string, JsonValue>;
    varShapes: Record<string, Shape>;
    /** The step's `now`, fixed when it started, so every page filters alike. */
    now: string;
  };
  /** Read after this key (the last page's cursor); from the start without it. */
  after?: string;
  /** Stop once this many items matched. */
  limit: number;
  /** Only count: no items returned, every row read. */
  countOnly?: boolean;
}

export interface PopulationResult {
  items: ForEachItem[];
  /** Rows read (matching or not). */
  scanned: number;
  /** Rows that matched the filter (with countOnly: all of them). */
  matched: number;
  /** Where the next page starts; absent when the population is read to its end. */
  cursor?: string;
}

/** How a batch of items, or the whole step, went. */
export interface ForEachTally {
  scanned: number;
  total: number;
  completed: number;
  failed: number;
  failures: Array<{ key: string; step: string; type: string; message: string }>;
  rows: JsonValue[];
  truncated: boolean;
  batches: number;
}

/** Input of the `forEachItems` workflow that goes over a forEach step's items in batches. */
export interface ForEachInput {
  step: ForEachStepIR;
  context: ItemContext;
  /** Where progress goes: the run's workflow id. */
  parentWorkflowId: string;
  /** The list of a list-valued forEach (rendered by the run); absent for queries. */
  items?: ForEachItem[];
  /** The filter's scope (queries). */
  scope?: PopulationPage['scope'];
  /** Carried across continue-as-new. */
  cursor?: string;
  offset?: number;
  tally?: ForEachTally;
  done?: boolean;
}

/** Input of one `forEachBatch` child: a batch of items. */
export interface ForEachBatchInput {
  step: ForEachStepIR;
  context: ItemContext;
  items: ForEachItem[];
}

/** How far a forEach step has got, as the run's state and the Web UI show it. */
export interface ForEachProgress {
  step: string;
  scanned: number;
  total: number;
  completed: number;
  failed: number;
  batches: number;
}
