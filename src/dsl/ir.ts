/**
 * The compiled form of definitions (the IR): pure JSON data that a run carries for its whole
 * life. The interpreter workflow imports these types, so this module has no Node imports and no
 * runtime dependencies. Every field is part of the content hash; source positions are not,
 * so reformatting a definition keeps its hash.
 */
import type { BusinessCalendar } from './business-time';
import type { ObjectShape, Shape } from './shapes';

/** Bumped when the IR changes incompatibly; the interpreter refuses versions it does not know. */
export const IR_VERSION = 1;

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

/**
 * A value computed at run time from a value template in YAML:
 * - `lit`: a literal subtree with no `${…}` in it;
 * - `expr`: a string that is exactly one `${expr}`, keeping the expression's type;
 * - `concat`: text with interpolations, always a string;
 * - `list` / `map`: containers with at least one computed value inside.
 */
export type ValueIR =
  | { lit: JsonValue }
  | { expr: string }
  | { concat: Array<string | { expr: string }> }
  | { list: ValueIR[] }
  | { map: Record<string, ValueIR> };

/** Temporal retry policy for one action, resolved from step, connector and connector type. */
export interface RetryIR {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

interface StepBaseIR {
  id: string;
  title: string;
}

export interface ActionStepIR extends StepBaseIR {
  kind: 'action';
  connector: string;
  connectorType: string;
  op: string;
  args: ValueIR;
  /** Start-to-close timeout of one attempt. */
  timeoutMs: number;
  /** Run as a local activity (ops on idflow's own database), else as a regular activity. */
  local: boolean;
  retry: RetryIR;
  /** Shape of the op's result, as `steps.<id>.output`. */
  output: Shape;
}

export interface IfStepIR extends StepBaseIR {
  kind: 'if';
  condition: string;
  then: StepIR[];
  else: StepIR[];
}

export interface SwitchCaseIR {
  is: JsonPrimitive[];
  then: StepIR[];
}

export interface SwitchStepIR extends StepBaseIR {
  kind: 'switch';
  on: string;
  cases: SwitchCaseIR[];
  default: StepIR[];
}

export interface SetStepIR extends StepBaseIR {
  kind: 'set';
  values: Record<string, ValueIR>;
}

export interface WaitStepIR extends StepBaseIR {
  kind: 'wait';
  /** Exactly one of `forMs` and `until` is set. */
  forMs?: number;
  until?: ValueIR;
}

export interface TemplateIR {
  name: string;
  subject?: string;
  text: string;
  html?: string;
}

export interface NotifyStepIR extends StepBaseIR {
  kind: 'notify';
  /** `log`, or the name of a notification connector. */
  channel: string;
  channelType: string;
  to: ValueIR;
  template: TemplateIR;
  data: ValueIR;
  /** CSV files (email only): each a list of maps, one row per map. */
  attachments?: Array<{ filename: string; rows: ValueIR }>;
  /** The channel connector's timeout and retry policy (absent for `log`). */
  timeoutMs?: number;
  retry?: RetryIR;
}

export interface FailStepIR extends StepBaseIR {
  kind: 'fail';
  reason: ValueIR;
  code: string;
}

/** Who may decide: a CEL expression giving person ids, or the members of a group or role. */
export type ApproverIR = { expr: string } | { group: string } | { role: string };

export interface ApprovalStepIR extends StepBaseIR {
  kind: 'approval';
  approvers: ApproverIR[];
  /** `any`: the first decision counts; `all`: every approver must approve (one rejection rejects). */
  mode: 'any' | 'all';
  request: ValueIR;
  access?: ValueIR;
  /** Durations from the step's start; business time when `businessHours` is set. */
  remindEveryMs?: number;
  escalate: Array<{ afterMs: number; to: ApproverIR[] }>;
  timeoutMs: number;
  onTimeout: 'reject' | 'approve' | 'park';
  businessHours?: BusinessCalendar;
  /** Where approvers without Slack are notified: `log` or a notification connector. */
  notifyChannel: string;
  notifyChannelType: string;
}

export type StepIR =
  | ActionStepIR
  | IfStepIR
  | SwitchStepIR
  | SetStepIR
  | WaitStepIR
  | NotifyStepIR
  | FailStepIR
  | ApprovalStepIR;

export type StepKind = StepIR['kind'];

export interface InputIR {
  shape: Shape;
  required: boolean;
  default?: JsonValue;
  enum?: string[];
}

export interface FlowIR {
  irVersion: typeof IR_VERSION;
  name: string;
  title: string;
  description?: string;
  owner?: string;
  labels: Record<string, string>;
  /**
   * The run's static summary in the Web UI; without it the run reads
   * "<title>: <display name> (<employee id>) — <flow name>".
   */
  summary?: ValueIR;
  inputs: Record<string, InputIR>;
  /** Shape of `event`, with `attributes` typed by the inputs. */
  event: ObjectShape;
  /** Shapes of every `vars.<name>` the flow sets. */
  vars: Record<string, Shape>;
  executionBudgetMs: number;
  stepBudget: number;
  steps: StepIR[];
}

export interface RuleIR {
  name: string;
  on: string[];
  when?: string;
  run: string[];
  priority: number;
  fallback: boolean;
}

export interface PolicyIR {
  irVersion: typeof IR_VERSION;
  name: string;
  title: string;
  rules: RuleIR[];
}

export interface ConnectorIR {
  name: string;
  type: string;
  /** Type-specific configuration; secrets appear only as `{ secretEnv: NAME }`. */
  config: Record<string, JsonValue>;
}

/** A compiled definition with its content hash (sha256 over the canonical JSON of `ir`). */
export interface Compiled<T> {
  ir: T;
  hash: string;
}
