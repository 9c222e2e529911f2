/**
 * What workflows and activities pass to each other. Types only: the workflow sandbox imports
 * this module, so it may not import anything with runtime code.
 */
import type { Compiled, FlowIR, JsonValue, PolicyIR, TemplateIR } from '../dsl/ir';
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
  status: Extract<RunStatus, 'Completed' | 'Failed'>;
  error?: { step?: string; type: string; message: string };
  budgetExceeded?: { automatedMs: number; budgetMs: number };
}

export type StepStatus = 'running' | 'completed' | 'failed' | 'skipped' | 'parked';

export interface StepRecord {
  id: string;
  kind: string;
  title: string;
  status: StepStatus;
  startedAt: string;
  finishedAt?: string;
  output?: JsonValue;
  error?: { type: string; message: string; attempts?: number };
}

/** What a run waits on, for the `state` query and the Web UI. */
export type WaitingOn =
  | { kind: 'timer'; step: string; until: string }
  | {
      kind: 'operator';
      step: string;
      since: string;
      error: { type: string; message: string; attempts?: number };
    };

/** Answer of the `state` query. */
export interface RunState {
  flow: string;
  hash: string;
  status: RunStatus;
  currentStep?: string;
  waitingOn?: WaitingOn;
  steps: StepRecord[];
  vars: Record<string, JsonValue>;
  stepsExecuted: number;
  automatedMs: number;
  budgetExceeded: boolean;
}

/** An operator's decision on a parked step. */
export interface OperatorAction {
  action: 'retry' | 'skip' | 'abort';
  step: string;
  by: string;
  reason?: string;
}
