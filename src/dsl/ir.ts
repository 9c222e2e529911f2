/**
 * The compiled form of definitions (the IR): pure JSON data that a run carries for its whole
 * life. The interpreter workflow imports these types, so this module has no Node imports and no
 * runtime dependencies. Every field is part of the content hash; source positions are not,
 * so reformatting a definition keeps its hash.
 */
import type { BusinessCalendar } from './business-time';
import type { ObjectShape, Shape } from './shapes';
import type { ScheduleIR } from './schedule-ir';

export type { ScheduleIR } from './schedule-ir';

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

/** One branch of a `parallel` step: a list of steps that runs beside the other branches. */
export interface ParallelBranchIR {
  id: string;
  title: string;
  steps: StepIR[];
}

/**
 * `parallel`: branches that run at the same time. The step completes when every branch has;
 * it fails when any branch fails, after waiting for the others, or at once with `failFast`,
 * which cancels the branches still running.
 */
export interface ParallelStepIR extends StepBaseIR {
  kind: 'parallel';
  failFast: boolean;
  branches: ParallelBranchIR[];
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

/**
 * `reconcile`: brings one person's access on a set of connectors to their desired state. The
 * plan is computed against what the targets hold when the step runs, under the roles and SoD
 * rules active then; every removal is carried out before any addition.
 */
export interface ReconcileStepIR extends StepBaseIR {
  kind: 'reconcile';
  /** The person whose access is reconciled (a person id); the run's subject unless given. */
  person: ValueIR;
  /** Connectors to reconcile; empty: every connector an active role grants on. */
  connectors: string[];
  /** Old entitlements kept for a while: removed by the same run when the timer fires. */
  grace?: { forMs: number; keep: EntitlementRefIR[] };
  /** Plan and record only; change nothing. */
  dryRun: boolean;
  /** Timeout and retry policy of each read and apply activity. */
  timeoutMs: number;
  retry: RetryIR;
}

/** One correlation rule: person fields and the CEL expressions over `record` they must equal. */
export interface CorrelationRuleIR {
  name: string;
  /** Person field (`email`, `attributes.<key>`) → CEL expression over `record`, in written order. */
  fields: Array<{ field: string; expr: string }>;
}

/** How records of one kind (HR records, accounts) are matched to persons: rules in order. */
export interface CorrelationIR {
  irVersion: typeof IR_VERSION;
  name: string;
  title: string;
  description?: string;
  for: 'person' | 'account';
  rules: CorrelationRuleIR[];
}

/** A person field and the SCIM attribute path it is read from. */
export interface ScimFieldIR {
  field: string;
  path: string;
}

/** How a SCIM client's users become persons and events (a Source's `scim` section). */
export interface ScimMappingIR {
  /** Person fields in a fixed order, `id` first: what each is read from. */
  person: ScimFieldIR[];
  /** The event's attributes: name → SCIM path. */
  attributes: Array<{ name: string; path: string }>;
  events: {
    create: string;
    mover: string;
    /** Absent: a change outside `moverOn` is kept as SCIM state only. */
    update?: string;
    deactivate: string;
    delete: string;
    reactivate: string;
  };
  /** Person fields whose change makes an update a mover. */
  moverOn: string[];
}

/** A system that sends events: how it authenticates, how fast it may send, its SCIM mapping. */
export interface SourceIR {
  irVersion: typeof IR_VERSION;
  name: string;
  title: string;
  description?: string;
  /** Whether API tokens bound to it (or unbound) may send its events. */
  bearer: boolean;
  /** Standard Webhooks: the environment variables holding the secrets, newest first. */
  webhook?: { secretEnvs: string[]; toleranceMs: number };
  /** Requests a minute carrying its events; absent: the deployment's default. */
  rateLimitPerMinute?: number;
  scim?: ScimMappingIR;
}

/**
 * `correlate`: matches a record to a person by a Correlation's rules (inlined, so the run keeps
 * the rules it started with). An explicit link (source, id) is consulted first; an ambiguous
 * rule waits for an operator's review.
 */
export interface CorrelateStepIR extends StepBaseIR {
  kind: 'correlate';
  correlation: CorrelationIR;
  record: ValueIR;
  /**
   * The record's identity in its source system, for explicit links; absent for accounts, whose
   * identity is the record's connector and account id.
   */
  link?: { source: ValueIR; id: ValueIR };
  onNoMatch: 'create' | 'orphan' | 'fail';
  timeoutMs: number;
  retry: RetryIR;
}

/**
 * How many persons or accounts one run may disable or delete before it parks for an operator:
 * `max` items, or `maxPercent` of the population the step goes over; either trips it.
 */
export interface BlastRadiusIR {
  max?: number;
  maxPercent?: number;
}

/**
 * What a `forEach` step goes over: persons or accounts of the identity store (a CEL filter over
 * each, read page by page when the step runs), or a list value computed at the step.
 */
export type PopulationIR =
  | { kind: 'persons'; where?: string }
  | { kind: 'accounts'; connector?: string; where?: string }
  | { kind: 'items'; items: ValueIR };

/**
 * `forEach`: runs `steps` once per item, `concurrency` items at a time, in batches of
 * `batchSize` items, each batch a child workflow (so no history grows with the population).
 * An item whose steps fail is counted and collected, not fatal, unless more than `maxFailures`
 * fail. `collect`, evaluated per item after its steps, gives the rows of the step's output.
 */
export interface ForEachStepIR extends StepBaseIR {
  kind: 'forEach';
  over: PopulationIR;
  /** The variable the item is bound to in expressions (`account`, `person`, `item`). */
  as: string;
  itemShape: Shape;
  concurrency: number;
  batchSize: number;
  maxFailures?: number;
  collect?: ValueIR;
  /**
   * Set when the item steps may disable or delete (the op effects they name): the limit the
   * step checks, before it changes anything, against how many items it would act on.
   */
  guard?: BlastRadiusIR & { effects: string[] };
  steps: StepIR[];
  /** Timeout and retry policy of the population reads. */
  timeoutMs: number;
  retry: RetryIR;
}

export type StepIR =
  | ForEachStepIR
  | CorrelateStepIR
  | ReconcileStepIR
  | ActionStepIR
  | IfStepIR
  | SwitchStepIR
  | ParallelStepIR
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
  /** When the flow runs on its own (Temporal Schedules); absent when it has none. */
  schedules?: ScheduleIR[];
}

/**
 * What an event does to a run still pending for the same person (see `RuleIR.pending`):
 * - `queue`: wait until the pending run ends, then run (the default);
 * - `supersede`: cancel the pending run without restoring; this event's runs take its place;
 * - `cancel`: cancel the pending run; this event's runs restore what it changed;
 * - `alongside`: run now, next to the pending run, not ordered against it.
 */
export type PendingAction = 'queue' | 'supersede' | 'cancel' | 'alongside';

export interface RuleIR {
  name: string;
  on: string[];
  when?: string;
  run: string[];
  priority: number;
  fallback: boolean;
  /**
   * What this rule's event does to runs still pending for the person, by the pending run's
   * event type or `*`; absent when the policy says nothing (so its hash stays as it was).
   */
  pending?: Record<string, PendingAction>;
}

export interface PolicyIR {
  irVersion: typeof IR_VERSION;
  name: string;
  title: string;
  rules: RuleIR[];
}

/** One entitlement on one connector: a group, or another kind the connector type declares. */
export interface EntitlementRefIR {
  connector: string;
  /** The entitlement kind the connector type declares (`group`). */
  kind: string;
  /** As written in the definition (a group's cn or DN, a SCIM group's displayName). */
  value: string;
}

/** The account a role requires on a connector, with the attributes it must carry. */
export interface AccountGrantIR {
  /** The account's name in the target (uid, userName); rendered over the person. */
  id: ValueIR;
  attributes: Record<string, ValueIR>;
}

/** What a role grants on one connector. */
export interface RoleGrantIR {
  connector: string;
  connectorType: string;
  account?: AccountGrantIR;
  /** Literal entitlements: what idflow manages is known without evaluating anyone's roles. */
  entitlements: Array<{ kind: string; value: string }>;
}

/** A business role: who holds it (birthright, or a CEL rule over the person) and what it grants. */
export interface RoleIR {
  irVersion: typeof IR_VERSION;
  name: string;
  title: string;
  description?: string;
  birthright: boolean;
  /** CEL over `subject` (a person as the identity store keeps them) and `now`; absent when birthright. */
  when?: string;
  grants: RoleGrantIR[];
}

/** One side of a separation-of-duties rule: roles, and entitlements however granted. */
export interface SodSideIR {
  roles: string[];
  entitlements: EntitlementRefIR[];
}

/** Two sides that one person may not hold together. */
export interface SodRuleIR {
  irVersion: typeof IR_VERSION;
  name: string;
  title: string;
  description?: string;
  left: SodSideIR;
  right: SodSideIR;
  /** `block`: the grant completing the pair is refused; `approval`: it waits on `approval`. */
  action: 'block' | 'approval';
  /** The approval a grant waits on (`action: approval`); its `id` is filled in per run. */
  approval?: ApprovalStepIR;
}

export interface ConnectorIR {
  name: string;
  type: string;
  /** Type-specific configuration; secrets appear only as `{ secretEnv: NAME }`. */
  config: Record<string, JsonValue>;
  /**
   * What reconcile does with a terminated person's accounts here (connectors that manage
   * accounts only); absent: they are disabled.
   */
  accounts?: { onTermination: 'delete' | 'disable' };
}

/** A compiled definition with its content hash (sha256 over the canonical JSON of `ir`). */
export interface Compiled<T> {
  ir: T;
  hash: string;
}
