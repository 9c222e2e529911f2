/**
 * The definition language (DSL), v1, as zod schemas: strict objects everywhere (an unknown key
 * is an error), one schema per document kind, one per step kind. TypeScript types come from
 * these schemas; `idflow schema` turns them into JSON Schema for editors.
 */
import * as z from 'zod';
import { CONNECTOR_TYPES } from '../connectors/registry';
import { WEEKDAYS } from './business-time';
import { DURATION_PATTERN } from './duration';
import { OVERLAP_POLICIES, SCHEDULE_EVERY } from './schedule-ir';
import type { PendingAction } from './ir';

export const API_VERSION = 'idflow/v1';

/** Document kinds of v1. Later versions add Schedule. */
export const DOCUMENT_KINDS = [
  'Flow',
  'Policy',
  'Connector',
  'Template',
  'Role',
  'SodRule',
  'Correlation',
  'Source',
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** Step kinds of v1, each the one key that names what a step does. */
export const STEP_KINDS = [
  'action',
  'if',
  'switch',
  'parallel',
  'set',
  'wait',
  'notify',
  'fail',
  'approval',
  'reconcile',
  'correlate',
  'forEach',
] as const;
export type StepKindName = (typeof STEP_KINDS)[number];

export const NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const STEP_ID_PATTERN = /^[a-z][a-zA-Z0-9]*(?:[-_][a-zA-Z0-9]+)*$/;
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/;
export const ENV_NAME_PATTERN = /^[A-Z][A-Z0-9_]*$/;

export const Name = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(NAME_PATTERN, 'must be lowercase words joined by dashes, like joiner-standard');

const StepId = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(
    STEP_ID_PATTERN,
    'must start with a lowercase letter and use letters, digits, - or _, like create-account',
  );

const Identifier = z
  .string()
  .regex(IDENTIFIER_PATTERN, 'must be an identifier (letters, digits, _), like username');

export const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration such as 500ms, 30s, 5m, 2h, 1d or 1h30m');

/** A CEL expression, written bare (no `${}`): conditions and switch subjects. */
const Expression = z
  .string()
  .min(1, 'must not be empty')
  .meta({ description: 'A CEL expression.' });

/** Any YAML value; strings in it may interpolate `${expr}`. */
const ValueTemplate = z.unknown().meta({
  description:
    'A value; strings may interpolate CEL with ${expr}; exactly "${expr}" keeps its type.',
});

/** A secret, given only by the name of the environment variable that holds it. */
export const SecretRef = z.strictObject({
  secretEnv: z
    .string()
    .regex(ENV_NAME_PATTERN, 'must be an environment variable name, like LDAP_BIND_PASSWORD'),
});

export const Metadata = z.strictObject({
  name: Name,
  title: z.string().min(1).optional(),
  description: z.string().optional(),
  owner: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const RetryPolicy = z.strictObject({
  maxAttempts: z.int().min(1).max(100).optional(),
  initialInterval: Duration.optional(),
  backoffCoefficient: z.number().min(1).max(10).optional(),
  maximumInterval: Duration.optional(),
});

const stepBase = {
  id: StepId,
  title: z.string().min(1).optional(),
  description: z.string().optional(),
};

export const ActionStep = z.strictObject({
  ...stepBase,
  action: z.strictObject({
    connector: Name,
    op: z.string().min(1),
    args: z.record(z.string(), ValueTemplate).optional(),
    timeout: Duration.optional(),
    retry: RetryPolicy.optional(),
  }),
});

/** A list of steps; lazy because `if` and `switch` nest lists of steps. */
export const StepList: z.ZodType<Step[]> = z.lazy(() =>
  z.array(Step).min(1, 'needs at least one step'),
);

export const IfStep: z.ZodType<IfStep> = z.strictObject({
  ...stepBase,
  if: z.strictObject({
    condition: Expression,
    then: StepList,
    else: StepList.optional(),
  }),
});

const CaseValue = z.union([z.string(), z.number(), z.boolean()]);

export const SwitchStep: z.ZodType<SwitchStep> = z.strictObject({
  ...stepBase,
  switch: z.strictObject({
    on: Expression,
    cases: z
      .array(
        z.strictObject({
          is: z.union([CaseValue, z.array(CaseValue).min(1)]),
          then: StepList,
        }),
      )
      .min(1, 'needs at least one case'),
    default: StepList.optional(),
  }),
});

export const ParallelStep: z.ZodType<ParallelStep> = z.strictObject({
  ...stepBase,
  parallel: z.strictObject({
    failFast: z.boolean().optional(),
    branches: z
      .array(
        z.strictObject({
          id: StepId,
          title: z.string().min(1).optional(),
          description: z.string().optional(),
          steps: StepList,
        }),
      )
      .min(1, 'needs at least one branch'),
  }),
});

export const SetStep = z.strictObject({
  ...stepBase,
  set: z
    .record(Identifier, ValueTemplate)
    .refine((values) => Object.keys(values).length > 0, 'sets no values'),
});

export const WaitStep = z.strictObject({
  ...stepBase,
  wait: z
    .strictObject({ for: Duration.optional(), until: ValueTemplate.optional() })
    .refine(
      (w) => (w.for === undefined) !== (w.until === undefined),
      'needs exactly one of for (a duration) and until (a timestamp)',
    ),
});

export const NotifyStep = z.strictObject({
  ...stepBase,
  notify: z.strictObject({
    channel: z.string().min(1),
    to: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    template: Name,
    data: z.record(Identifier, ValueTemplate).optional(),
    attachments: z
      .array(
        z.strictObject({
          filename: z
            .string()
            .regex(/^[\w][\w.-]*\.csv$/, 'must be a file name ending in .csv, like dormant.csv'),
          rows: ValueTemplate,
        }),
      )
      .optional(),
  }),
});

export const FailStep = z.strictObject({
  ...stepBase,
  fail: z.strictObject({
    reason: z.string().min(1),
    code: z
      .string()
      .regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a PascalCase error type, like MissingManager')
      .optional(),
  }),
});

/** Who approves: a CEL expression giving a person id or a list of them, or a group or role. */
const ApproverRef = z.union([
  Expression,
  z.strictObject({ group: z.string().min(1) }),
  z.strictObject({ role: z.string().min(1) }),
]);

const ClockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day, HH:MM, like 09:00');

export const BusinessHours = z.strictObject({
  timezone: z.string().min(1),
  days: z.array(z.enum(WEEKDAYS)).min(1).optional(),
  from: ClockTime.optional(),
  to: ClockTime.optional(),
  holidays: z.array(z.iso.date()).optional(),
});

/** What an approval asks: an approval step's `approval:`, and a SoD rule's. */
export const ApprovalBody = z.strictObject({
  approvers: z.array(ApproverRef).min(1, 'needs at least one approver'),
  mode: z.enum(['any', 'all']).optional(),
  request: z.string().min(1),
  access: ValueTemplate.optional(),
  remindEvery: Duration.optional(),
  escalate: z
    .array(z.strictObject({ after: Duration, to: z.array(ApproverRef).min(1) }))
    .optional(),
  timeout: Duration,
  onTimeout: z.enum(['reject', 'approve', 'park']).optional(),
  businessHours: BusinessHours.optional(),
  notify: z.strictObject({ channel: z.string().min(1) }).optional(),
});

export const ApprovalStep = z.strictObject({
  ...stepBase,
  approval: ApprovalBody,
});

/**
 * The entitlement keys connector types declare (`groups`), each a list of literal names. Which
 * of them a connector takes depends on its type, so the compiler checks that; other keys are
 * kept for the compiler too, which names what the connector's type declares.
 */
const ENTITLEMENT_KEYS = [
  ...new Set(
    Object.values(CONNECTOR_TYPES).flatMap((spec) =>
      Object.values(spec.access?.entitlements ?? {}).map((kind) => kind.key),
    ),
  ),
];

const EntitlementList = z
  .array(z.string().min(1))
  .min(1, 'needs at least one name')
  .meta({ description: 'Literal names (no ${}), as the connector type declares them.' });

const entitlementKeys = Object.fromEntries(
  ENTITLEMENT_KEYS.map((key) => [key, EntitlementList.optional()]),
);

/**
 * Entitlements on one connector, by the keys its type declares: `{connector, groups: [...]}`.
 * Keys past the declared ones are accepted here and refused by the compiler with the
 * connector's own list (the JSON Schema for editors stays closed; see json-schema-export).
 */
export const EntitlementSet = z
  .object({ connector: Name, ...entitlementKeys })
  .catchall(z.unknown())
  .meta({ id: 'EntitlementSet' });

const AccountGrant = z.strictObject({
  id: z.string().min(1),
  attributes: z.record(z.string().min(1), ValueTemplate).optional(),
});

/** What a role grants on one connector: an account, entitlements, or both. */
export const RoleGrant = z
  .object({ connector: Name, account: AccountGrant.optional(), ...entitlementKeys })
  .catchall(z.unknown())
  .meta({ id: 'RoleGrant' });

export const ReconcileStep = z.strictObject({
  ...stepBase,
  reconcile: z.strictObject({
    person: z.string().min(1).optional(),
    connectors: z.array(Name).optional(),
    grace: z
      .strictObject({
        for: Duration,
        keep: z.array(EntitlementSet).min(1, 'needs at least one entitlement to keep'),
      })
      .optional(),
    dryRun: z.boolean().optional(),
    timeout: Duration.optional(),
    retry: RetryPolicy.optional(),
  }),
});

export const CorrelateStep = z.strictObject({
  ...stepBase,
  correlate: z.strictObject({
    using: Name,
    record: ValueTemplate,
    link: z.strictObject({ source: ValueTemplate, id: ValueTemplate }).optional(),
    onNoMatch: z.enum(['create', 'orphan', 'fail']).optional(),
    timeout: Duration.optional(),
    retry: RetryPolicy.optional(),
  }),
});

/**
 * How many persons or accounts one run may disable or delete before it parks for an operator:
 * a count, a percentage of the population the step goes over, or both (either trips it).
 */
export const BlastRadius = z
  .strictObject({
    max: z.int().min(0).optional(),
    maxPercent: z.number().min(0).max(100).optional(),
  })
  .refine((b) => b.max !== undefined || b.maxPercent !== undefined, 'needs max, maxPercent or both')
  .meta({
    description:
      'Most persons or accounts one run may disable or delete before it parks for review: a count, a percentage of the population, or both.',
  });

/** `forEach`: a list of steps for every person, account or list item, in batches. */
export const ForEachStep: z.ZodType<ForEachStep> = z.strictObject({
  ...stepBase,
  forEach: z
    .strictObject({
      persons: z.strictObject({ where: Expression.optional() }).optional(),
      accounts: z
        .strictObject({ connector: Name.optional(), where: Expression.optional() })
        .optional(),
      items: ValueTemplate.optional(),
      as: Identifier.optional(),
      concurrency: z.int().min(1).max(100).optional(),
      batchSize: z.int().min(1).max(1000).optional(),
      maxFailures: z.int().min(0).optional(),
      collect: ValueTemplate.optional(),
      blastRadius: BlastRadius.optional(),
      steps: StepList,
    })
    .refine(
      (f) => [f.persons, f.accounts, f.items].filter((over) => over !== undefined).length === 1,
      'needs exactly one of persons, accounts and items: what the steps run for',
    ),
});

/** Union options in STEP_KINDS order: the structural check relies on it. */
export const Step: z.ZodType<Step> = z
  .union([
    ActionStep,
    IfStep,
    SwitchStep,
    ParallelStep,
    SetStep,
    WaitStep,
    NotifyStep,
    FailStep,
    ApprovalStep,
    ReconcileStep,
    CorrelateStep,
    ForEachStep,
  ])
  .meta({
    id: 'Step',
    description: 'One step: an id, an optional title, and exactly one of the step kinds.',
  });

/** A schedule's start or end: a date (in the schedule's time zone) or a timestamp with a zone. */
const ScheduleBound = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/,
    'must be a date, like 2027-03-01, or a timestamp with a time zone, like 2027-03-01T09:00:00Z',
  );

/**
 * When a flow runs on its own: one entry of a Flow's `schedules`. Which fields apply depends on
 * `every`; the compiler refuses the ones that do not (see compile/schedule.ts).
 */
export const FlowSchedule = z.strictObject({
  id: Name,
  title: z.string().min(1).optional(),
  every: z.enum(SCHEDULE_EVERY),
  at: ClockTime.optional().meta({
    description: 'Time of day, HH:MM (once, daily, weekly, monthly).',
  }),
  minute: z.int().min(0).max(59).optional().meta({ description: 'Minute past the hour (hourly).' }),
  days: z.array(z.enum(WEEKDAYS)).min(1).optional().meta({ description: 'Weekdays (weekly).' }),
  dayOfMonth: z
    .union([z.int().min(1).max(31), z.literal('last')])
    .optional()
    .meta({ description: 'Day of the month, 1-31 or last (monthly).' }),
  date: z.iso
    .date('must be a date, YYYY-MM-DD, like 2027-03-01')
    .optional()
    .meta({ description: 'The day, YYYY-MM-DD (once).' }),
  cron: z.string().min(1).optional().meta({
    description: 'Five fields: minute hour day-of-month month day-of-week (every: cron).',
  }),
  timezone: z.string().min(1).optional().meta({ description: 'IANA time zone; UTC by default.' }),
  start: ScheduleBound.optional(),
  end: ScheduleBound.optional(),
  jitter: Duration.optional(),
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  inputs: z.record(Identifier, z.unknown()).optional().meta({
    description: "Literal values for the flow's inputs: the run's event attributes.",
  }),
  paused: z.boolean().optional(),
});

export const InputType = z.enum(['string', 'int', 'double', 'bool', 'timestamp', 'list', 'map']);

export const FlowDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Flow'),
  metadata: Metadata,
  summary: z.string().min(1).optional(),
  inputs: z
    .record(
      Identifier,
      z.strictObject({
        type: InputType,
        required: z.boolean().optional(),
        default: z.unknown().optional(),
        enum: z.array(z.string()).min(1).optional(),
        description: z.string().optional(),
      }),
    )
    .optional(),
  executionBudget: Duration.optional(),
  stepBudget: z.int().min(1).max(100_000).optional(),
  schedules: z.array(FlowSchedule).min(1, 'needs at least one schedule').optional(),
  blastRadius: BlastRadius.optional(),
  steps: StepList,
});

export const EventType = z
  .string()
  .regex(EVENT_TYPE_PATTERN, 'must be a dotted event type, like person.joiner');

/** What an event may do to a run still pending for the person; `queue` when unsaid. */
export const PENDING_ACTIONS = [
  'queue',
  'supersede',
  'cancel',
  'alongside',
] as const satisfies readonly PendingAction[];

/** A key of a rule's `pending`: the pending run's event type, or `*` for any other. */
export const PENDING_KEY_PATTERN = new RegExp(
  `^(?:\\*|${EVENT_TYPE_PATTERN.source.slice(1, -1)})$`,
);

const PendingKey = z
  .string()
  .regex(
    PENDING_KEY_PATTERN,
    "must be a dotted event type, like person.leaver, or '*' for every other event type",
  );

export const PolicyDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Policy'),
  metadata: Metadata,
  rules: z
    .array(
      z.strictObject({
        name: Name.optional(),
        description: z.string().optional(),
        on: z.array(EventType).min(1, 'needs at least one event type'),
        when: Expression.optional(),
        run: z.array(Name).min(1, 'needs at least one flow'),
        priority: z.int().optional(),
        fallback: z.boolean().optional(),
        pending: z.record(PendingKey, z.enum(PENDING_ACTIONS)).optional().meta({
          description:
            'What this event does to runs still pending for the person, by their event type or *: queue (default), supersede, cancel or alongside.',
        }),
      }),
    )
    .min(1, 'needs at least one rule'),
});

/**
 * What happens to the accounts of a connector that manages accounts (`ldap`, `scim`) once their
 * person is terminated: `disable` (the default) keeps them disabled, `delete` deletes them.
 * Only connector types whose accounts roles can grant take it; elsewhere it is an unknown key.
 */
export const ConnectorAccounts = z
  .strictObject({
    onTermination: z.enum(['delete', 'disable']).optional().meta({
      description:
        "a terminated person's accounts here: disable (default) keeps them disabled; delete deletes them",
    }),
  })
  .meta({ description: "what reconcile does with a person's accounts on this connector" });
export type ConnectorAccounts = z.infer<typeof ConnectorAccounts>;

const connectorOptions = Object.values(CONNECTOR_TYPES).map((spec) =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal('Connector'),
    metadata: Metadata,
    type: z.literal(spec.type),
    config: spec.config.optional(),
    ...(spec.access?.accounts ? { accounts: ConnectorAccounts.optional() } : {}),
    timeout: Duration.optional(),
    retry: RetryPolicy.optional(),
  }),
);

export const ConnectorDocument = z.discriminatedUnion(
  'type',
  connectorOptions as [(typeof connectorOptions)[number], ...(typeof connectorOptions)[number][]],
);

export const TemplateDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Template'),
  metadata: Metadata,
  subject: z.string().min(1).optional(),
  text: z.string().min(1),
  html: z.string().min(1).optional(),
});

export const RoleDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Role'),
  metadata: Metadata,
  description: z.string().optional(),
  birthright: z.boolean().optional(),
  when: Expression.optional(),
  grants: z.array(RoleGrant).min(1, 'needs at least one grant'),
});

const SodSide = z.strictObject({
  roles: z.array(Name).optional(),
  entitlements: z.array(EntitlementSet).optional(),
});

export const SodRuleDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('SodRule'),
  metadata: Metadata,
  description: z.string().optional(),
  between: z
    .array(SodSide)
    .length(2, 'needs exactly two sides: the two things one person may not hold together'),
  action: z.enum(['block', 'approval']),
  approval: ApprovalBody.optional(),
});

/**
 * How a record (an HR record, a discovered account) is matched to a person: rules tried in
 * order, each naming person fields and the CEL values (over `record`) they must equal.
 */
export const CorrelationDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Correlation'),
  metadata: Metadata,
  description: z.string().optional(),
  for: z.enum(['person', 'account']),
  rules: z
    .array(
      z.strictObject({
        name: Name,
        description: z.string().optional(),
        fields: z
          .record(z.string().min(1), Expression)
          .refine((f) => Object.keys(f).length > 0, 'needs at least one field'),
      }),
    )
    .min(1, 'needs at least one rule'),
});

/**
 * A SCIM attribute path as RFC 7644 writes them: `userName`, `name.givenName`,
 * `emails[primary eq true].value`, or an extension's attribute after its schema URN
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`).
 */
export const ScimPath = z
  .string()
  .min(1, 'must not be empty')
  .max(300, 'must be at most 300 characters')
  .meta({
    description:
      'A SCIM attribute path: userName, name.givenName, emails[primary eq true].value, or urn:…:enterprise:2.0:User:department',
  });

/** How SCIM writes from this source become persons and idflow events. */
const SourceScim = z.strictObject({
  person: z.record(z.string(), ScimPath).optional().meta({
    description:
      'Person field (id, employeeId, givenName, familyName, displayName, email, department, title, jobCode, managerId, location, employmentType) → the SCIM attribute path it is read from; merged over the defaults.',
  }),
  attributes: z
    .record(
      z.string().regex(IDENTIFIER_PATTERN, 'must be an identifier, like costCenter'),
      ScimPath,
    )
    .optional()
    .meta({ description: "The event's attributes: name → the SCIM attribute path." }),
  events: z
    .strictObject({
      create: EventType.optional(),
      mover: EventType.optional(),
      update: z.union([EventType, z.literal(false)]).optional(),
      deactivate: EventType.optional(),
      delete: EventType.optional(),
      reactivate: EventType.optional(),
    })
    .optional()
    .meta({
      description:
        'The event type each SCIM write becomes; update: false keeps changes outside moverOn as SCIM state only.',
    }),
  moverOn: z
    .array(z.string())
    .min(1, 'needs at least one person field')
    .optional()
    .meta({ description: 'Person fields whose change makes an update a mover.' }),
});

/**
 * A system that sends idflow events: how it authenticates (bearer tokens bound to it, and/or
 * Standard Webhooks signatures), how fast it may send, and, for a SCIM client (an HR system or
 * identity provider pushing users), how its users map to persons and events.
 */
export const SourceDefinitionDocument = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Source'),
  metadata: Metadata,
  description: z.string().optional(),
  auth: z
    .strictObject({
      bearer: z.boolean().optional().meta({
        description: 'Whether API tokens may send its events (default true).',
      }),
      webhook: z
        .strictObject({
          secrets: z
            .array(SecretRef)
            .min(1, 'needs at least one secret')
            .max(10, 'takes at most 10 secrets'),
          tolerance: Duration.optional(),
        })
        .optional()
        .meta({
          description:
            'Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature): the secrets, newest first; all are accepted, for rotation. tolerance: how old a timestamp may be (default 5m).',
        }),
    })
    .optional(),
  rateLimit: z
    .strictObject({ perMinute: z.int().min(1).max(1_000_000) })
    .optional()
    .meta({ description: "Requests a minute carrying this source's events." }),
  scim: SourceScim.optional(),
});

export const DOCUMENT_SCHEMAS = {
  Flow: FlowDocument,
  Policy: PolicyDocument,
  Connector: ConnectorDocument,
  Template: TemplateDocument,
  Role: RoleDocument,
  SodRule: SodRuleDocument,
  Correlation: CorrelationDocument,
  Source: SourceDefinitionDocument,
} as const satisfies Record<DocumentKind, z.ZodType>;

export type FlowDocument = z.infer<typeof FlowDocument>;
export type FlowSchedule = z.infer<typeof FlowSchedule>;
export type PolicyDocument = z.infer<typeof PolicyDocument>;
export type ConnectorDocument = z.infer<typeof ConnectorDocument>;

/** The `accounts` setting of a Connector document, on the types that take one. */
export function connectorAccounts(doc: ConnectorDocument): ConnectorAccounts | undefined {
  return 'accounts' in doc ? (doc.accounts as ConnectorAccounts | undefined) : undefined;
}
export type TemplateDocument = z.infer<typeof TemplateDocument>;
export type RoleDocument = z.infer<typeof RoleDocument>;
export type SodRuleDocument = z.infer<typeof SodRuleDocument>;
export type CorrelationDocument = z.infer<typeof CorrelationDocument>;
export type SourceDefinitionDocument = z.infer<typeof SourceDefinitionDocument>;
export type EntitlementSet = z.infer<typeof EntitlementSet>;
export type RoleGrant = z.infer<typeof RoleGrant>;
export type Step =
  | ActionStep
  | IfStep
  | SwitchStep
  | ParallelStep
  | SetStep
  | WaitStep
  | NotifyStep
  | FailStep
  | ApprovalStep
  | ReconcileStep
  | CorrelateStep
  | ForEachStep;
export type CorrelateStep = z.infer<typeof CorrelateStep>;
export type ApprovalStep = z.infer<typeof ApprovalStep>;
export type ApprovalBody = z.infer<typeof ApprovalBody>;
export type ReconcileStep = z.infer<typeof ReconcileStep>;
export type ActionStep = z.infer<typeof ActionStep>;
interface StepFields {
  id: string;
  title?: string;
  description?: string;
}
type CaseValue = z.infer<typeof CaseValue>;
/** Written by hand because it nests steps; the schema above is checked against it. */
export interface IfStep extends StepFields {
  if: { condition: string; then: Step[]; else?: Step[] };
}
/** Written by hand because it nests steps; the schema above is checked against it. */
export interface SwitchStep extends StepFields {
  switch: {
    on: string;
    cases: Array<{ is: CaseValue | CaseValue[]; then: Step[] }>;
    default?: Step[];
  };
}
/** Written by hand because it nests steps; the schema above is checked against it. */
export interface ParallelStep extends StepFields {
  parallel: {
    failFast?: boolean;
    branches: Array<{ id: string; title?: string; description?: string; steps: Step[] }>;
  };
}
/** Written by hand because it nests steps; the schema above is checked against it. */
export interface ForEachStep extends StepFields {
  forEach: {
    persons?: { where?: string };
    accounts?: { connector?: string; where?: string };
    items?: unknown;
    as?: string;
    concurrency?: number;
    batchSize?: number;
    maxFailures?: number;
    collect?: unknown;
    blastRadius?: BlastRadius;
    steps: Step[];
  };
}
export type BlastRadius = z.infer<typeof BlastRadius>;
export type SetStep = z.infer<typeof SetStep>;
export type WaitStep = z.infer<typeof WaitStep>;
export type NotifyStep = z.infer<typeof NotifyStep>;
export type FailStep = z.infer<typeof FailStep>;
export type RetryPolicy = z.infer<typeof RetryPolicy>;

/** The kind key of a parsed step, for exhaustive handling. */
export function stepKind(step: Step): StepKindName {
  if ('action' in step) return 'action';
  if ('if' in step) return 'if';
  if ('switch' in step) return 'switch';
  if ('parallel' in step) return 'parallel';
  if ('set' in step) return 'set';
  if ('wait' in step) return 'wait';
  if ('notify' in step) return 'notify';
  if ('approval' in step) return 'approval';
  if ('reconcile' in step) return 'reconcile';
  if ('correlate' in step) return 'correlate';
  if ('forEach' in step) return 'forEach';
  return 'fail';
}
