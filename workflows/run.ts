/**
 * The state of one flow run inside the interpreter: the CEL scope expressions read, the record
 * of every step, the run's status (search attribute, Web UI details), budgets, and the
 * activity proxies with each step's timeout and retry policy.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  type ActivityInterfaceFor,
  type LocalActivityInterfaceFor,
  proxyLocalActivities,
  condition,
  log,
  proxyActivities,
  proxySinks,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  ExpressionError,
  renderValue,
  toCel,
  type CelScope,
  type EvaluationOptions,
} from '../src/dsl/cel-runtime';
import type { JsonValue, StepIR, ValueIR } from '../src/dsl/ir';
import { PERSON_SHAPE, type Shape } from '../src/dsl/shapes';
import type {
  ApprovalDecision,
  ApprovalTask,
  DecisionRequest,
  ForEachProgress,
  OperatorAction,
  RunFlowInput,
  RunMetricsSinks,
  RunState,
  StepRecord,
  WaitingOn,
} from '../src/temporal/contracts';
import {
  IdflowOverBudget,
  IdflowPendingApprovers,
  IdflowStatus,
  type RunStatus,
} from '../src/temporal/search-attributes';
import { hasPatch } from './patches';

/** Options of one activity call: the step's timeout and retry policy, and where it runs. */
export interface CallOptions {
  timeoutMs: number;
  /** A local activity (short work on idflow's own database) rather than a regular one. */
  local: boolean;
  retry: {
    maximumAttempts: number;
    initialIntervalMs: number;
    backoffCoefficient: number;
    maximumIntervalMs: number;
  };
}

/** A step that cannot go on: the run fails with this type and a message naming the step. */
export function stepFailure(step: StepIR, type: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`step '${step.id}' failed: ${message}`, type, {
    step: step.id,
  });
}

/**
 * One item of a `forEach` step, run by a batch workflow: its steps see the item under `name`,
 * never park (an item that fails is counted by the step), and act under keys of their own.
 */
export interface ItemMode {
  name: string;
  shape: Shape;
  key: string;
  value: JsonValue;
  /** The forEach step's id. */
  step: string;
  /** The run the item belongs to. */
  runId: string;
}

/** The worker's run metrics (a sink: not called during replay, no command in the history). */
const { runMetrics } = proxySinks<RunMetricsSinks>();

/** What an operator may do to a step the blast-radius guard parked, and nothing else may. */
export const BLAST_RADIUS_EXCEEDED = 'BlastRadiusExceeded';

export class FlowRun {
  readonly scope: CelScope;
  readonly vars: Record<string, JsonValue> = {};
  /**
   * Persons or accounts this run's guarded forEach steps have gone on to act on: the blast
   * radius is the run's, so a second such step counts the first's too.
   */
  actedOn = 0;
  /** Outputs of the steps run so far, as JSON with their shapes (what forEach items start from). */
  readonly outputs: Record<string, { value: JsonValue; shape: Shape }> = {};
  private readonly steps: StepRecord[] = [];
  private status: RunStatus = 'Running';
  private currentStep?: string;
  /**
   * What the run waits on, by step, in the order the waits began: one at most, but for the
   * branches of a parallel step, which may wait at once. Details are the Web UI's lines.
   */
  private readonly waits = new Map<string, { on: WaitingOn; details: string }>();
  /** The innermost parallel branch (`<step>/<branch>`) of each step inside one. */
  private readonly branchOf = new Map<string, string>();
  private stepsExecuted = 0;
  /** Automated time up to `automatedSince`; see `accrue`. */
  private automatedMs = 0;
  private automatedSince: number;
  /**
   * Strands of the run working at once: 1, or while parallel steps run, their branches still
   * going. The run is automated while fewer of its strands wait than there are strands.
   */
  private strands = 1;
  /** Whether the run has flagged itself over its execution budget. */
  private overBudget = false;
  /** Operators' decisions on parked steps, by step, set by the `operator` update. */
  private readonly operatorActions = new Map<string, OperatorAction>();
  /** Approval tasks of this run, open and closed. */
  readonly approvals: ApprovalTask[] = [];
  /** Work that goes on beside the steps (a grace period's removal), awaited before the run ends. */
  private readonly deferred: Array<{
    step: string;
    until: string;
    done: Promise<Error | undefined>;
    /** Whether the work has completed (not failed, not cancelled). */
    completed: boolean;
    /** The same work without its wait, for a run cancelled before it is done. */
    now?: () => Promise<void>;
  }> = [];

  constructor(
    readonly input: RunFlowInput,
    /** The event's attributes with the flow's input defaults applied. */
    readonly attributes: Record<string, JsonValue>,
    readonly item?: ItemMode,
  ) {
    const { ir, event, subject } = input;
    this.scope = {
      event: toCel({ ...event, attributes }, ir.event),
      subject: toCel(subject, PERSON_SHAPE),
      vars: {},
      steps: {},
      ...(item ? { [item.name]: toCel(item.value, item.shape) } : {}),
    };
    this.automatedSince = Date.now();
  }

  get workflowId(): string {
    return workflowInfo().workflowId;
  }

  /** The run this is (for a forEach item: the run the item belongs to). */
  get runId(): string {
    return this.item ? this.item.runId : this.workflowId;
  }

  /**
   * The idempotency key of a step's side effect: `<run>:<step>`, and for a forEach item
   * `<run>:<forEach step>[<item key>]/<step>`, so every item acts once and apart from the others.
   */
  keyFor(stepId: string): string {
    return this.item
      ? `${this.item.runId}:${this.item.step}[${this.item.key}]/${stepId}`
      : `${this.workflowId}:${stepId}`;
  }

  /** How this run evaluates expressions at this point of its history. */
  evaluation(): EvaluationOptions {
    return { utf16: !hasPatch('cel-code-point-strings') };
  }

  /** Evaluates a value template with the current time as `now`. */
  render(value: ValueIR, step: StepIR): JsonValue {
    this.scope.now = new Date();
    try {
      return renderValue(value, this.scope, this.evaluation());
    } catch (err) {
      if (err instanceof ExpressionError) throw stepFailure(step, 'ExpressionFailed', err.message);
      throw err;
    }
  }

  /** Counts a step against the step budget and records that it started. */
  begin(step: StepIR): StepRecord {
    this.stepsExecuted++;
    this.checkBudget();
    if (this.stepsExecuted > this.input.ir.stepBudget) {
      throw ApplicationFailure.nonRetryable(
        `the run executed more than ${this.input.ir.stepBudget} steps (its step budget) at step '${step.id}'`,
        'StepBudgetExceeded',
      );
    }
    this.currentStep = step.id;
    const record: StepRecord = {
      id: step.id,
      kind: step.kind,
      title: step.title,
      status: 'running',
      startedAt: new Date().toISOString(),
    };
    const branch = this.branchOf.get(step.id);
    if (branch !== undefined) record.branch = branch;
    this.steps.push(record);
    return record;
  }

  /** Marks `stepIds` as steps of branch `label` (`<parallel step>/<branch>`) in their records. */
  enterBranch(label: string, stepIds: readonly string[]): void {
    for (const id of stepIds) this.branchOf.set(id, label);
  }

  /** Whether `stepId` runs inside a branch of a parallel step. */
  inBranch(stepId: string): boolean {
    return this.branchOf.has(stepId);
  }

  /**
   * A cancelled branch's steps: those still running or parked end `cancelled`, and whatever
   * they waited on is no longer waited on.
   */
  cancelSteps(stepIds: ReadonlySet<string>): void {
    const at = new Date().toISOString();
    for (const record of this.steps) {
      if (!stepIds.has(record.id) || !['running', 'parked'].includes(record.status)) continue;
      Object.assign(record, { status: 'cancelled', finishedAt: at });
      if (record.branches) {
        for (const b of record.branches)
          if (b.status === 'running') Object.assign(b, { status: 'cancelled', finishedAt: at });
      }
    }
    for (const id of stepIds) {
      this.operatorActions.delete(id);
      if (this.waits.has(id)) this.resume(id);
    }
  }

  finishStep(
    record: StepRecord,
    status: StepRecord['status'],
    extra: Partial<StepRecord> = {},
  ): void {
    Object.assign(record, { status, finishedAt: new Date().toISOString(), ...extra });
    if (this.currentStep === record.id) this.currentStep = undefined;
    this.checkBudget();
  }

  setOutput(stepId: string, output: JsonValue, shape: Shape): void {
    this.outputs[stepId] = { value: output, shape };
    (this.scope.steps as Record<string, unknown>)[stepId] = { output: toCel(output, shape) };
  }

  setVar(name: string, value: JsonValue): void {
    this.vars[name] = value;
    (this.scope.vars as Record<string, unknown>)[name] = toCel(
      value,
      this.input.ir.vars[name] ?? 'dyn',
    );
  }

  /**
   * Lets `work` go on beside the following steps (it may wait on timers); the run ends only
   * once it has. Its failure fails the run when the run settles.
   */
  defer(step: string, until: string, work: Promise<void>, now?: () => Promise<void>): void {
    const entry: (typeof this.deferred)[number] = {
      step,
      until,
      completed: false,
      done: work.then(
        () => {
          entry.completed = true;
          return undefined;
        },
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      ),
      ...(now ? { now } : {}),
    };
    this.deferred.push(entry);
  }

  /**
   * A cancelled run: deferred work that had not finished is done now, without its wait (a
   * grace period's removal), so nothing it would have taken away stays. Throws the first failure.
   */
  async finishDeferredNow(): Promise<void> {
    let first: Error | undefined;
    for (const next of this.deferred) {
      if (next.completed || !next.now) continue;
      try {
        await next.now();
      } catch (err) {
        first ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    if (first !== undefined) throw first;
  }

  /** Waits for deferred work, in the order it was deferred; throws the first failure. */
  async settle(): Promise<void> {
    let first: Error | undefined;
    for (const next of this.deferred) {
      this.wait(
        { kind: 'timer', step: next.step, until: next.until },
        `Waiting until ${next.until} at step \`${next.step}\`: a grace period ends`,
      );
      const err = await next.done;
      this.resume(next.step);
      first ??= err;
    }
    if (first !== undefined) throw first;
  }

  /**
   * What the run waits on (outside parallel steps, the one wait): the first step parked for an
   * operator if any, since that needs someone; else the first wait that began.
   */
  private get waitingOn(): WaitingOn | undefined {
    const ons = [...this.waits.values()].map((w) => w.on);
    return ons.find((on) => on.kind === 'operator') ?? ons[0];
  }

  /** Parked while any step waits on an operator, else waiting while any step waits. */
  private waitingStatus(): RunStatus {
    const ons = [...this.waits.values()].map((w) => w.on);
    return ons.some((on) => on.kind === 'operator') ? 'Parked' : 'Waiting';
  }

  private showWaits(): void {
    setCurrentDetails([...this.waits.values()].map((w) => w.details).join('\n\n'));
  }

  /**
   * Marks the run as waiting at `on.step` (timer, approval, operator); time spent waiting is
   * not automated time. Branches of a parallel step may wait at once: each wait is kept.
   */
  wait(on: WaitingOn, details: string): void {
    this.accrue();
    this.checkBudget();
    this.waits.set(on.step, { on, details });
    this.setStatus(this.waitingStatus());
    this.showWaits();
  }

  /** Marks the run as waiting on an approval, or updates what that step waits on. */
  waitForApproval(on: WaitingOn, details: string): void {
    if (this.waits.has(on.step)) {
      this.waits.set(on.step, { on, details });
      this.showWaits();
    } else {
      this.wait(on, details);
    }
  }

  /** An approval task closed: the step goes on, and nobody is pending on it any more. */
  approvalClosed(step?: string): void {
    this.resume(step);
    this.publishPendingApprovers();
  }

  /** The wait at `step` is over (every wait, without a step); the run runs when none is left. */
  resume(step?: string): void {
    this.accrue();
    if (step === undefined) this.waits.clear();
    else this.waits.delete(step);
    if (this.waits.size > 0) {
      this.setStatus(this.waitingStatus());
      this.showWaits();
      return;
    }
    this.setStatus('Running');
    setCurrentDetails('');
  }

  /**
   * Refuses operator actions that do not fit: the run must be parked on that step, and only a
   * step the blast-radius guard parked can be approved.
   */
  validateOperator(action: OperatorAction): void {
    const operatorWaits = [...this.waits.values()]
      .map((w) => w.on)
      .filter((on) => on.kind === 'operator');
    const parked = operatorWaits.map((on) => on.step);
    if (parked.length === 0)
      throw new Error(`the run is not parked (status ${this.status}); nothing to ${action.action}`);
    if (!parked.includes(action.step)) {
      const where =
        parked.length === 1
          ? `step '${parked[0]}'`
          : `steps ${parked.map((s) => `'${s}'`).join(', ')}`;
      throw new Error(`the run is parked on ${where}, not '${action.step}'`);
    }
    const chosen = this.operatorActions.get(action.step);
    if (chosen)
      throw new Error(`an operator already chose to ${chosen.action} step '${action.step}'`);
    const wait = operatorWaits.find((on) => on.step === action.step);
    if (action.action === 'approve' && wait?.error.type !== BLAST_RADIUS_EXCEEDED) {
      throw new Error(
        `step '${action.step}' is parked on ${wait?.error.type ?? 'an error'}, not on the blast-radius guard; retry, skip or abort it`,
      );
    }
  }

  acceptOperator(action: OperatorAction): void {
    this.operatorActions.set(action.step, action);
  }

  /** Parks the run on `step` until an operator retries, skips or aborts it. */
  async park(
    step: StepIR,
    error: { type: string; message: string; attempts?: number },
  ): Promise<OperatorAction> {
    if (this.item) {
      // a forEach item does not park: the step counts it as failed and goes on with the others
      const after = error.attempts ? ` (after ${error.attempts} attempts)` : '';
      throw stepFailure(step, error.type, `${error.type}: ${error.message}${after}`);
    }
    if (!this.item) runMetrics.parked(this.input.ir.name);
    const since = new Date().toISOString();
    const attempts = error.attempts ? ` after ${error.attempts} attempts` : '';
    this.wait(
      { kind: 'operator', step: step.id, since, error },
      `**Parked** at step \`${step.id}\` (${step.title}) since ${since}${attempts}: ${error.type}: ${error.message}. Retry, skip or abort it with \`idflow runs retry|skip|abort ${this.workflowId}\`.`,
    );
    await condition(() => this.operatorActions.has(step.id));
    const action = this.operatorActions.get(step.id) as OperatorAction;
    this.operatorActions.delete(step.id);
    this.resume(step.id);
    return action;
  }

  /** How far a forEach step has got: its record's output, and the Web UI's details. */
  progress(p: ForEachProgress): void {
    const record = [...this.steps].reverse().find((s) => s.id === p.step);
    if (!record || record.status !== 'running') return;
    record.output = {
      scanned: p.scanned,
      total: p.total,
      completed: p.completed,
      failed: p.failed,
      batches: p.batches,
    };
    const done = p.completed + p.failed;
    this.showProgress(
      `Step \`${p.step}\`: ${done} of ${p.total} items done so far (${p.failed} failed), ${p.scanned} read, in ${p.batches} batches`,
    );
  }

  /** Shows how a long step is getting on, in the Web UI, while the run waits on nothing else. */
  showProgress(details: string): void {
    if (this.waits.size === 0 && !this.item) setCurrentDetails(details);
  }

  /** The open approval task of `step`, for a decision. */
  openTask(step: string): ApprovalTask | undefined {
    return this.approvals.find((t) => t.step === step && t.status === 'open');
  }

  /**
   * Refuses decisions that may not count, with a failure type the gateway maps to HTTP: the
   * task must be open, the decider a current approver or their delegate, never the subject.
   */
  validateDecision(request: DecisionRequest): void {
    const task = this.openTask(request.step);
    const refuse = (type: string, message: string) => {
      throw ApplicationFailure.nonRetryable(message, type);
    };
    if (!task) {
      const closed = this.approvals.find((t) => t.step === request.step);
      return refuse(
        'TaskClosed',
        closed
          ? `the approval is already ${closed.status}`
          : `no approval at step '${request.step}'`,
      );
    }
    const subject = this.input.subject.id;
    if (request.by === subject || request.onBehalfOf === subject) {
      return refuse('SubjectCannotApprove', 'the subject of a request never decides it');
    }
    if (!task.approvers.some((a) => a.id === request.onBehalfOf)) {
      return refuse('NotAnApprover', `${request.onBehalfOf} is not an approver of this task now`);
    }
    if (task.decisions.some((d) => d.onBehalfOf === request.onBehalfOf)) {
      return refuse('AlreadyDecided', `${request.onBehalfOf} has already decided`);
    }
  }

  /** Records a decision (validated) and closes the task when it is decided. */
  applyDecision(request: DecisionRequest): ApprovalTask {
    const task = this.openTask(request.step) as ApprovalTask;
    const decision: ApprovalDecision = {
      by: request.by,
      onBehalfOf: request.onBehalfOf,
      decision: request.decision === 'approve' ? 'approved' : 'rejected',
      at: new Date().toISOString(),
      channel: request.channel,
      ...(request.comment ? { comment: request.comment } : {}),
    };
    task.decisions.push(decision);
    const approvedBy = new Set(
      task.decisions.filter((d) => d.decision === 'approved').map((d) => d.onBehalfOf),
    );
    if (decision.decision === 'rejected') task.status = 'rejected';
    else if (task.mode === 'any' || task.approvers.every((a) => approvedBy.has(a.id)))
      task.status = 'approved';
    if (task.status !== 'open')
      task.history.push({ at: decision.at, kind: 'decided', approvers: [decision.by] });
    return structuredCloneTask(task);
  }

  /** Keeps IdflowPendingApprovers equal to the approvers of the open tasks. */
  publishPendingApprovers(): void {
    const pending = this.approvals
      .filter((t) => t.status === 'open')
      .flatMap((t) =>
        t.approvers.filter((a) => !t.decisions.some((d) => d.onBehalfOf === a.id)).map((a) => a.id),
      );
    upsertSearchAttributes([{ key: IdflowPendingApprovers, value: [...new Set(pending)] }]);
  }

  setStatus(status: RunStatus): void {
    if (status === this.status || this.item) return;
    this.status = status;
    upsertSearchAttributes([{ key: IdflowStatus, value: status }]);
  }

  /** Whether some strand of the run works (not every strand waits). */
  private get automated(): boolean {
    return this.waits.size < this.strands;
  }

  /** Adds the time since the last change of waits or strands, if the run was automated then. */
  private accrue(): void {
    const now = Date.now();
    if (this.automated) this.automatedMs += now - this.automatedSince;
    this.automatedSince = now;
  }

  /**
   * Runs `branches` at once in place of the strand that runs them (a parallel step's branches):
   * the run counts as automated while any of them works. Each branch must settle (not throw).
   */
  async concurrently(branches: Array<() => Promise<void>>): Promise<void> {
    this.accrue();
    this.strands += branches.length - 1;
    try {
      await Promise.all(
        branches.map(async (branch) => {
          try {
            await branch();
          } finally {
            this.accrue();
            this.strands -= 1;
          }
        }),
      );
    } finally {
      this.accrue();
      this.strands += 1;
    }
  }

  /** Automated time so far (waits excluded), and whether it went over the execution budget. */
  budget(): { automatedMs: number; budgetMs: number; exceeded: boolean } {
    const automatedMs = this.automatedMs + (this.automated ? Date.now() - this.automatedSince : 0);
    const budgetMs = this.input.ir.executionBudgetMs;
    return { automatedMs, budgetMs, exceeded: automatedMs > budgetMs };
  }

  /**
   * Flags the run once its automated time is over its budget: IdflowOverBudget = true (the
   * Web UI's and `idflow runs list --over-budget`'s query), the metric, a log line. Never
   * stops the run. Checked as steps begin and end, as waits begin, and as the run ends.
   */
  checkBudget(): void {
    if (this.item || this.overBudget) return;
    const { automatedMs, budgetMs, exceeded } = this.budget();
    if (!exceeded || !hasPatch('execution-budget-flag')) return;
    this.overBudget = true;
    upsertSearchAttributes([{ key: IdflowOverBudget, value: true }]);
    runMetrics.overBudget(this.input.ir.name);
    log.warn('run over its execution budget', {
      flow: this.input.ir.name,
      automatedMs,
      budgetMs,
      ...(this.currentStep ? { step: this.currentStep } : {}),
    });
  }

  /** Activities with the given step's timeout and retry policy. */
  activities(
    options: CallOptions,
  ): ActivityInterfaceFor<Activities> | LocalActivityInterfaceFor<Activities> {
    const common = {
      startToCloseTimeout: options.timeoutMs,
      // a cancelled run ends only once a change already on its way to a target has landed, so
      // the event that cancelled it never acts before that change does
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: {
        maximumAttempts: options.retry.maximumAttempts,
        initialInterval: options.retry.initialIntervalMs,
        backoffCoefficient: options.retry.backoffCoefficient,
        maximumInterval: options.retry.maximumIntervalMs,
      },
    };
    return options.local
      ? proxyLocalActivities<Activities>(common)
      : proxyActivities<Activities>(common);
  }

  snapshot(): RunState {
    const { automatedMs, budgetMs, exceeded } = this.budget();
    return {
      flow: this.input.ir.name,
      hash: this.input.hash,
      status: this.status,
      ...(this.currentStep ? { currentStep: this.currentStep } : {}),
      ...(this.waitingOn ? { waitingOn: this.waitingOn } : {}),
      ...(this.waits.size > 1 ? { waiting: [...this.waits.values()].map((w) => w.on) } : {}),
      steps: this.steps.map((s) =>
        s.branches ? { ...s, branches: s.branches.map((b) => ({ ...b })) } : { ...s },
      ),
      approvals: this.approvals.map((a) => structuredCloneTask(a)),
      vars: { ...this.vars },
      stepsExecuted: this.stepsExecuted,
      automatedMs,
      budgetMs,
      overBudget: exceeded,
      budgetExceeded: exceeded,
    };
  }
}

/** A deep copy of a task (JSON data), so queries and updates never hand out live state. */
function structuredCloneTask(task: ApprovalTask): ApprovalTask {
  return JSON.parse(JSON.stringify(task)) as ApprovalTask;
}
