/**
 * idflow's tables (drizzle). Migrations in migrations/ are generated from this file with
 * `npm run db:generate`; the same migrations serve PostgreSQL and PGlite.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  json,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Text compared byte by byte (collation "C") whatever the database's collation: keyset
 * pagination compares these in the database and in JavaScript, and both must agree.
 */
const bytewiseText = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });

/** Identity events as received; one row per (source, id). */
export const events = pgTable(
  'events',
  {
    source: text('source').notNull(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    subjectId: text('subject_id').notNull(),
    occurredAt: ts('occurred_at').notNull(),
    effectiveAt: ts('effective_at'),
    body: jsonb('body').notNull(),
    dispatchWorkflowId: text('dispatch_workflow_id').notNull(),
    receivedAt: ts('received_at').notNull().defaultNow(),
    /** Each policy rule considered: matched or not, and why. */
    decision: jsonb('decision'),
    /** The runs started for this event: flow, workflow id, definition hash. */
    runs: jsonb('runs'),
    decidedAt: ts('decided_at'),
  },
  (t) => [primaryKey({ columns: [t.source, t.id] }), index('events_subject_idx').on(t.subjectId)],
);

/** The identity store: one row per person. */
export const persons = pgTable(
  'persons',
  {
    id: text('id').primaryKey(),
    employeeId: text('employee_id'),
    givenName: text('given_name'),
    familyName: text('family_name'),
    displayName: text('display_name'),
    email: text('email'),
    department: text('department'),
    title: text('title'),
    jobCode: text('job_code'),
    managerId: text('manager_id'),
    location: text('location'),
    employmentType: text('employment_type'),
    status: text('status').notNull().default('pending'),
    validFrom: ts('valid_from'),
    validUntil: ts('valid_until'),
    attributes: jsonb('attributes')
      .notNull()
      .default(sql`'{}'::jsonb`),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('persons_employee_id_idx').on(t.employeeId),
    index('persons_manager_idx').on(t.managerId),
  ],
);

/** Append-only audit trail (a trigger refuses UPDATE and DELETE). */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    at: ts('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target: text('target').notNull(),
    outcome: text('outcome').notNull(),
    detail: jsonb('detail')
      .notNull()
      .default(sql`'{}'::jsonb`),
    runId: text('run_id'),
    /**
     * What makes this row one fact (for example `<workflowId>/<runId>/<activityId>/<action>`):
     * a second write with the same key is dropped, so activity retries and replays cannot
     * double a row. Rows written once by nature (an operator's CLI action) leave it null.
     */
    dedupeKey: text('dedupe_key'),
    /**
     * The hash chain: `prevHash` is the previous row's `hash` (64 zeros for the first row),
     * `hash` the SHA-256 of `prevHash` and this row's canonical content. Written under one
     * lock in the row's own transaction, so concurrent writers cannot fork the chain. Rows
     * written before the chain existed have neither.
     */
    prevHash: text('prev_hash'),
    hash: text('hash'),
  },
  (t) => [
    index('audit_target_idx').on(t.target),
    index('audit_run_idx').on(t.runId),
    uniqueIndex('audit_dedupe_key_idx').on(t.dedupeKey),
    index('audit_at_idx').on(t.at),
    index('audit_actor_idx').on(t.actor),
    index('audit_action_idx').on(t.action),
  ],
);

/**
 * Signed checkpoints of the audit chain's head: written before rows are pruned, so the chain
 * still verifies from the checkpoint onwards and the pruned prefix is accounted for.
 */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: ts('at').notNull().defaultNow(),
  /** The last row the checkpoint covers and its hash. */
  headSeq: bigint('head_seq', { mode: 'number' }).notNull(),
  headHash: text('head_hash').notNull(),
  /** Rows with seq at or below this were pruned after the checkpoint was written. */
  prunedThroughSeq: bigint('pruned_through_seq', { mode: 'number' }),
  rowsPruned: bigint('rows_pruned', { mode: 'number' }).notNull().default(0),
  /** Which key signed it, the algorithm and the signature (base64). */
  keyId: text('key_id').notNull(),
  algorithm: text('algorithm').notNull(),
  signature: text('signature').notNull(),
  actor: text('actor').notNull(),
});

/** API tokens; only a SHA-256 of each token is stored. */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  scopes: text('scopes').array().notNull(),
  personId: text('person_id'),
  /**
   * The event source the token sends as (a Source definition's name): its SCIM writes become
   * events of this source, and it may send no other source's events.
   */
  source: text('source'),
  createdAt: ts('created_at').notNull().defaultNow(),
  expiresAt: ts('expires_at'),
  revokedAt: ts('revoked_at'),
  lastUsedAt: ts('last_used_at'),
});

/** Compiled definition versions; at most one active version per (kind, name). */
export const definitionVersions = pgTable(
  'definition_versions',
  {
    kind: text('kind').notNull(),
    name: text('name').notNull(),
    hash: text('hash').notNull(),
    /**
     * The compiled IR as written (json, not jsonb: the order of a map's keys is what a report's
     * CSV columns follow, and jsonb would reorder them).
     */
    ir: json('ir').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    active: boolean('active').notNull().default(false),
    activatedAt: ts('activated_at'),
    /** 1, 2, … per (kind, name), in the order versions were stored. */
    version: integer('version').notNull(),
    /** The YAML document the version was compiled from, and its file (absent for old rows). */
    source: text('source'),
    sourcePath: text('source_path'),
    /** The git commit and its author when the definitions were applied from a git checkout. */
    gitCommit: text('git_commit'),
    gitAuthor: text('git_author'),
    /** Who stored the version. */
    appliedBy: text('applied_by').notNull().default('unknown'),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.name, t.hash] }),
    uniqueIndex('definition_version_idx').on(t.kind, t.name, t.version),
    uniqueIndex('definition_active_idx')
      .on(t.kind, t.name)
      .where(sql`${t.active}`),
  ],
);

/** Results of side effects by idempotency key (`<workflowId>:<stepId>`): a retry returns them. */
export const idempotencyKeys = pgTable('idempotency_keys', {
  key: text('key').primaryKey(),
  operation: text('operation').notNull(),
  result: jsonb('result').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** Delegations: `toPerson` may decide approvals of `fromPerson` between `startsAt` and `endsAt`. */
export const delegations = pgTable(
  'delegations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    fromPerson: text('from_person').notNull(),
    toPerson: text('to_person').notNull(),
    startsAt: ts('starts_at').notNull(),
    endsAt: ts('ends_at').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [
    index('delegations_to_idx').on(t.toPerson),
    index('delegations_from_idx').on(t.fromPerson),
  ],
);

/** Slack messages sent to approvers, so the outcome can replace their buttons later. */
export const approvalMessages = pgTable(
  'approval_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workflowId: text('workflow_id').notNull(),
    step: text('step').notNull(),
    personId: text('person_id').notNull(),
    slackUser: text('slack_user').notNull(),
    channel: text('channel').notNull(),
    ts: text('ts').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('approval_messages_task_idx').on(t.workflowId, t.step),
    index('approval_messages_user_idx').on(t.slackUser),
  ],
);

/**
 * Approval tasks as their runs last wrote them (local activities at each transition: assigned,
 * reminded, escalated, decided, closed), so listing what waits on a person reads an index
 * instead of asking every waiting run. The run stays the authority: decisions go to its `decide`
 * update, whatever this table says. `version` grows with every write of a run (workflow time in
 * ms × 1000, then +1), and a write with a lower or equal version changes nothing, so a retried or
 * late write never undoes a newer one. Personal data is kept to ids, plus the subject's display
 * name the listing shows.
 */
export const approvalTasks = pgTable(
  'approval_tasks',
  {
    /** `taskIdOf(workflowId, step)`: the id the API uses. */
    taskId: bytewiseText('task_id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    step: text('step').notNull(),
    flow: text('flow').notNull(),
    title: text('title').notNull(),
    subjectId: text('subject_id').notNull(),
    subjectName: text('subject_name'),
    request: text('request').notNull(),
    access: jsonb('access'),
    mode: text('mode').notNull(),
    /** open, approved, rejected or expired. */
    status: text('status').notNull(),
    level: integer('level').notNull(),
    /** Ids of the approvers assigned at the current level (decided or not). */
    approvers: text('approvers').array().notNull(),
    openedAt: ts('opened_at').notNull(),
    deadline: ts('deadline').notNull(),
    nextReminderAt: ts('next_reminder_at'),
    nextEscalationAt: ts('next_escalation_at'),
    closedAt: ts('closed_at'),
    version: bigint('version', { mode: 'number' }).notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('approval_tasks_workflow_idx').on(t.workflowId),
    index('approval_tasks_open_deadline_idx')
      .on(t.deadline)
      .where(sql`${t.status} = 'open'`),
  ],
);

/**
 * Who an open task waits on now: one row per undecided approver, none once the task closes.
 * Indexed by person then deadline, so "what waits on X (and on whoever delegated to X)" is one
 * index range per person, in deadline order, ready to paginate.
 */
export const approvalAssignees = pgTable(
  'approval_assignees',
  {
    taskId: bytewiseText('task_id')
      .notNull()
      .references(() => approvalTasks.taskId, { onDelete: 'cascade' }),
    personId: text('person_id').notNull(),
    deadline: ts('deadline').notNull(),
    /** The task's subject, so a person's listing leaves out requests about themself. */
    subjectId: text('subject_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.taskId, t.personId] }),
    index('approval_assignees_person_idx').on(t.personId, t.deadline, t.taskId),
  ],
);

/**
 * idflow's record of the accounts it knows a person has on each connector, as a reconcile step
 * or `idflow plan person` last read them from the target. It is a record, not the truth: the
 * target is the truth and is read again at every run; this table lets `idflow persons show` and
 * the API answer "what does this person have" without credentials for the targets, and says when
 * it was last seen (`last_read_at`). One account per person and connector (invariant 10).
 */
export const accounts = pgTable(
  'accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: text('person_id').notNull(),
    connector: text('connector').notNull(),
    /** The account's name in the target (uid, userName). */
    accountName: text('account_name').notNull(),
    /** The target's own id (DN, SCIM id), when known. */
    targetId: text('target_id'),
    /** enabled, disabled, or deleted (read as absent after idflow had seen it). */
    status: text('status').notNull(),
    /** The run whose read first recorded the account (null: a preview or an operator). */
    createdByRun: text('created_by_run'),
    createdAt: ts('created_at').notNull().defaultNow(),
    /** When the target was last read for this account: how old this record is. */
    lastReadAt: ts('last_read_at').notNull(),
    /** When anything but `last_read_at` and the three activity times below last changed. */
    updatedAt: ts('updated_at').notNull().defaultNow(),
    /**
     * When the account last signed in, as the target or an identity provider last reported
     * it (null: never, or not known). Dormant-account reviews read it.
     */
    lastLoginAt: ts('last_login_at'),
    /** When the account's password last changed, as last reported (null: never, or not known). */
    passwordChangedAt: ts('password_changed_at'),
    /**
     * When `last_login_at` and `password_changed_at` were last read from the target or
     * reported by an event: how old those two are (null: never read).
     */
    activityReadAt: ts('activity_read_at'),
  },
  (t) => [
    uniqueIndex('accounts_person_connector_idx').on(t.personId, t.connector),
    index('accounts_connector_name_idx').on(t.connector, t.accountName),
    // a scan of one connector's accounts in id order (keyset pages over a whole connector)
    index('accounts_connector_id_idx').on(t.connector, t.id),
    check('accounts_status_check', sql`${t.status} in ('enabled', 'disabled', 'deleted')`),
  ],
);

/**
 * The managed entitlements (group memberships and the like) an account held when idflow last
 * read it, and why idflow thinks it holds each: `role:<name>`, `grant:<id>`, or `unknown` for
 * one idflow found but no role or grant names. Like `accounts`, a record of the last read, not
 * the truth; unmanaged entitlements are never listed here (reconcile only counts them).
 */
export const entitlements = pgTable(
  'entitlements',
  {
    accountId: uuid('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    /** `role:<name>`, `grant:<id>` or `unknown`. */
    source: text('source').notNull(),
    /** When idflow first saw the account hold it (kept while it stays held). */
    grantedAt: ts('granted_at').notNull(),
    /** The run whose read first recorded it. */
    grantedByRun: text('granted_by_run'),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.kind, t.value] })],
);

/**
 * Explicit grants: access a person has beyond their roles, added by a flow (an approved access
 * request) or an operator — a whole role, or one entitlement on one connector — maybe until a
 * date. Desired state is the person's roles plus their active grants; a revoked or expired
 * grant stops counting, and the next reconcile removes what only it asked for. Grants are
 * revoked, never deleted, so who granted and who revoked stays on record.
 */
export const accessGrants = pgTable(
  'access_grants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: text('person_id').notNull(),
    /** A role granted as a whole; or else the entitlement below. */
    role: text('role'),
    connector: text('connector'),
    kind: text('kind'),
    value: text('value'),
    /** After this the grant no longer counts; null: until revoked. */
    validUntil: ts('valid_until'),
    reason: text('reason'),
    /** `run:<workflowId>` or `user:<id>`. */
    grantedBy: text('granted_by').notNull(),
    grantedAt: ts('granted_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
    revokedBy: text('revoked_by'),
  },
  (t) => [
    index('access_grants_person_idx').on(t.personId),
    // exactly one of a role and a whole entitlement (connector, kind and value together)
    check(
      'access_grants_role_or_entitlement',
      sql`(${t.role} is not null and ${t.connector} is null and ${t.kind} is null and ${t.value} is null) or (${t.role} is null and ${t.connector} is not null and ${t.kind} is not null and ${t.value} is not null)`,
    ),
  ],
);

/**
 * Holds on a person's account on one connector: while a hold is in place, reconcile keeps the
 * account disabled whatever the person's roles and grants say (a dormant account stays off).
 * Lifted, never deleted, so every hold stays on record with who placed and who lifted it. At
 * most one hold in place per account and reason.
 */
export const accountHolds = pgTable(
  'account_holds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    personId: text('person_id').notNull(),
    /** The connector the account is on. */
    connector: text('connector').notNull(),
    /** Why (`dormant`): short free text, no personal data. */
    reason: text('reason').notNull(),
    /** `run:<workflowId>` or `user:<id>`. */
    placedBy: text('placed_by').notNull(),
    placedAt: ts('placed_at').notNull().defaultNow(),
    liftedAt: ts('lifted_at'),
    liftedBy: text('lifted_by'),
  },
  (t) => [
    index('account_holds_person_idx').on(t.personId),
    uniqueIndex('account_holds_in_place_idx')
      .on(t.personId, t.connector, t.reason)
      .where(sql`${t.liftedAt} is null`),
    check('account_holds_reason_length', sql`char_length(${t.reason}) between 1 and 200`),
    check('account_holds_lifted', sql`(${t.liftedAt} is null) = (${t.liftedBy} is null)`),
  ],
);

/**
 * Review items: a correlate step whose rule matched more than one person waits here for an
 * operator to choose (or to have a new person created). The run waits on its `resolveReview`
 * update; this row is what operators list, and records who chose whom and when. Ids only.
 */
export const reviews = pgTable(
  'reviews',
  {
    /** `rv-` and a hash of the run's workflow id and step: one review per step run. */
    id: text('id').primaryKey(),
    /** What is reviewed: `correlation`. */
    kind: text('kind').notNull(),
    workflowId: text('workflow_id').notNull(),
    step: text('step').notNull(),
    /** The Correlation and the rule that matched more than one person. */
    correlation: text('correlation').notNull(),
    rule: text('rule').notNull(),
    /** What the record is (`person` or `account`) and its identity in its source. */
    recordKind: text('record_kind').notNull(),
    source: text('source').notNull(),
    sourceId: text('source_id').notNull(),
    candidates: text('candidates').array().notNull(),
    /** open or resolved. */
    status: text('status').notNull().default('open'),
    createdAt: ts('created_at').notNull().defaultNow(),
    resolvedAt: ts('resolved_at'),
    resolvedBy: text('resolved_by'),
    /** The person chosen (or created) by the resolution. */
    personId: text('person_id'),
    /** Whether the resolution created a new person rather than choosing a candidate. */
    created: boolean('created'),
  },
  (t) => [
    index('reviews_open_idx')
      .on(t.createdAt)
      .where(sql`${t.status} = 'open'`),
    index('reviews_workflow_idx').on(t.workflowId),
    check('reviews_status_check', sql`${t.status} in ('open', 'resolved')`),
  ],
);

/**
 * Explicit correlation links: a record's identity in its source system (an HR system's record
 * id, a connector's account id) → the person it is. Written when a review is resolved or a
 * correlation creates a person; later correlations consult them before any rule.
 */
export const correlationLinks = pgTable(
  'correlation_links',
  {
    /** `person` (HR records) or `account`. */
    kind: text('kind').notNull(),
    source: text('source').notNull(),
    sourceId: text('source_id').notNull(),
    personId: text('person_id').notNull(),
    reviewId: text('review_id'),
    createdBy: text('created_by').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.source, t.sourceId] }),
    index('correlation_links_person_idx').on(t.personId),
  ],
);

/**
 * Accounts found on a connector that no correlation rule matched to a person: what an operator
 * lists and follows up (invariant 10: every account has one owner).
 */
export const orphanAccounts = pgTable(
  'orphan_accounts',
  {
    connector: text('connector').notNull(),
    accountId: text('account_id').notNull(),
    /** The run that last reported it. */
    runId: text('run_id'),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
    lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connector, t.accountId] })],
);

/**
 * Users pushed to idflow's inbound SCIM endpoint (`/scim/v2/Users`), per source: the SCIM
 * resource as last written, the person it maps to, and its version (the ETag). Each write is
 * also an idflow event; this table is what SCIM reads (GET, filters, If-Match) answer from.
 */
export const scimUsers = pgTable(
  'scim_users',
  {
    /** The SCIM `id` idflow assigned. */
    id: uuid('id').primaryKey().defaultRandom(),
    source: text('source').notNull(),
    userName: text('user_name').notNull(),
    /** `userName` folded for comparison: SCIM compares userName without case. */
    userNameKey: text('user_name_key').notNull(),
    externalId: text('external_id'),
    personId: text('person_id').notNull(),
    /** Every `emails[].value`, lower-cased, for `emails.value eq` filters. */
    emails: text('emails')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    active: boolean('active').notNull(),
    /**
     * When the user's create event (a joiner) was sent: a user created inactive joins when it is
     * first activated, and a later activation is a reactivation.
     */
    joinedAt: ts('joined_at'),
    /** The SCIM resource as stored (without `meta`, which is derived). */
    resource: jsonb('resource').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('scim_users_user_name_idx').on(t.source, t.userNameKey),
    uniqueIndex('scim_users_person_idx').on(t.source, t.personId),
    index('scim_users_external_id_idx').on(t.source, t.externalId),
  ],
);

/**
 * Signed webhook deliveries seen, by (source, webhook-id): a delivery sent again with the same
 * id is a no-op answered like the first. Rows older than the signature window are pruned (a
 * replay that old fails the timestamp check anyway).
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    source: text('source').notNull(),
    webhookId: text('webhook_id').notNull(),
    /** The event the delivery carried, once accepted. */
    eventId: text('event_id'),
    receivedAt: ts('received_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.source, t.webhookId] }),
    index('webhook_deliveries_received_idx').on(t.receivedAt),
  ],
);
