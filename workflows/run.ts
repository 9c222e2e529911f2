/**
 * The state of one flow run inside the interpreter: the CEL scope expressions read, the record
 * of every step, the run's status (search attribute, Web UI details), budgets, and the
 * activity proxies with each step's timeout and retry policy.
 */
import {
  ApplicationFailure,
  type ActivityInterfaceFor,
  type LocalActivityInterfaceFor,
  proxyLocalActivities,
  condition,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ExpressionError, renderValue, toCel, type CelScope } from '../src/dsl/cel-runtime';
import type { JsonValue, StepIR, ValueIR } from '../src/dsl/ir';
import { PERSON_SHAPE } from '../src/dsl/shapes';
import type {
  OperatorAction,
  RunFlowInput,
  RunState,
  StepRecord,
  WaitingOn,
} from '../src/temporal/contracts';
import { IdflowStatus, type RunStatus } from '../src/temporal/search-attributes';

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

export class FlowRun {
  readonly scope: CelScope;
  readonly vars: Record<string, JsonValue> = {};
  private readonly steps: StepRecord[] = [];
  private status: RunStatus = 'Running';
  private currentStep?: string;
  private waitingOn?: WaitingOn;
  private stepsExecuted = 0;
  private automatedMs = 0;
  private automatedSince: number;
  /** An operator's decision on the parked step, set by the `operator` update. */
  private operatorAction?: OperatorAction;

  constructor(
    readonly input: RunFlowInput,
    attributes: Record<string, JsonValue>,
  ) {
    const { ir, event, subject } = input;
    this.scope = {
      event: toCel({ ...event, attributes }, ir.event),
      subject: toCel(subject, PERSON_SHAPE),
      vars: {},
      steps: {},
    };
    this.automatedSince = Date.now();
  }

  get workflowId(): string {
    return workflowInfo().workflowId;
  }

  /** Evaluates a value template with the current time as `now`. */
  render(value: ValueIR, step: StepIR): JsonValue {
    this.scope.now = new Date();
    try {
      return renderValue(value, this.scope);
    } catch (err) {
      if (err instanceof ExpressionError) throw stepFailure(step, 'ExpressionFailed', err.message);
      throw err;
    }
  }

  /** Counts a step against the step budget and records that it started. */
  begin(step: StepIR): StepRecord {
    this.stepsExecuted++;
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
    this.steps.push(record);
    return record;
  }

  finishStep(
    record: StepRecord,
    status: StepRecord['status'],
    extra: Partial<StepRecord> = {},
  ): void {
    Object.assign(record, { status, finishedAt: new Date().toISOString(), ...extra });
    if (this.currentStep === record.id) this.currentStep = undefined;
  }

  setOutput(stepId: string, output: JsonValue, shape: Parameters<typeof toCel>[1]): void {
    (this.scope.steps as Record<string, unknown>)[stepId] = { output: toCel(output, shape) };
  }

  setVar(name: string, value: JsonValue): void {
    this.vars[name] = value;
    (this.scope.vars as Record<string, unknown>)[name] = toCel(
      value,
      this.input.ir.vars[name] ?? 'dyn',
    );
  }

  /** Marks the run as waiting (timer or operator); time spent waiting is not automated time. */
  wait(on: WaitingOn, details: string): void {
    this.automatedMs += Date.now() - this.automatedSince;
    this.waitingOn = on;
    this.setStatus(on.kind === 'operator' ? 'Parked' : 'Waiting');
    setCurrentDetails(details);
  }

  resume(): void {
    this.waitingOn = undefined;
    this.automatedSince = Date.now();
    this.setStatus('Running');
    setCurrentDetails('');
  }

  /** Refuses operator actions that do not fit: the run must be parked on that step. */
  validateOperator(action: OperatorAction): void {
    const parked = this.waitingOn?.kind === 'operator' ? this.waitingOn.step : undefined;
    if (!parked)
      throw new Error(`the run is not parked (status ${this.status}); nothing to ${action.action}`);
    if (parked !== action.step)
      throw new Error(`the run is parked on step '${parked}', not '${action.step}'`);
    if (this.operatorAction)
      throw new Error(
        `an operator already chose to ${this.operatorAction.action} step '${parked}'`,
      );
  }

  acceptOperator(action: OperatorAction): void {
    this.operatorAction = action;
  }

  /** Parks the run on `step` until an operator retries, skips or aborts it. */
  async park(
    step: StepIR,
    error: { type: string; message: string; attempts?: number },
  ): Promise<OperatorAction> {
    this.wait(
      { kind: 'operator', step: step.id, since: new Date().toISOString(), error },
      `**Parked** at step \`${step.id}\` (${step.title}): ${error.type}: ${error.message}. Retry, skip or abort it with \`idflow runs\`.`,
    );
    await condition(() => this.operatorAction !== undefined);
    const action = this.operatorAction as OperatorAction;
    this.operatorAction = undefined;
    this.resume();
    return action;
  }

  setStatus(status: RunStatus): void {
    if (status === this.status) return;
    this.status = status;
    upsertSearchAttributes([{ key: IdflowStatus, value: status }]);
  }

  /** Automated time so far (waits excluded), and whether it went over the execution budget. */
  budget(): { automatedMs: number; budgetMs: number; exceeded: boolean } {
    const automatedMs = this.automatedMs + (this.waitingOn ? 0 : Date.now() - this.automatedSince);
    const budgetMs = this.input.ir.executionBudgetMs;
    return { automatedMs, budgetMs, exceeded: automatedMs > budgetMs };
  }

  /** Activities with the given step's timeout and retry policy. */
  activities(
    options: CallOptions,
  ): ActivityInterfaceFor<Activities> | LocalActivityInterfaceFor<Activities> {
    const common = {
      startToCloseTimeout: options.timeoutMs,
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
    const { automatedMs, exceeded } = this.budget();
    return {
      flow: this.input.ir.name,
      hash: this.input.hash,
      status: this.status,
      ...(this.currentStep ? { currentStep: this.currentStep } : {}),
      ...(this.waitingOn ? { waitingOn: this.waitingOn } : {}),
      steps: this.steps.map((s) => ({ ...s })),
      vars: { ...this.vars },
      stepsExecuted: this.stepsExecuted,
      automatedMs,
      budgetExceeded: exceeded,
    };
  }
}
