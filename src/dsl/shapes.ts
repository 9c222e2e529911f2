/**
 * Shapes: the declared types of the data expressions see (`event`, `subject`, `vars`,
 * `steps.<id>.output`). The compiler type-checks expressions against them, and the interpreter
 * uses the same shapes to turn JSON into CEL values (integers become `int`, ISO strings in
 * timestamp fields become `timestamp`). Pure data, Node-free: compiled IR carries shapes.
 */

export type ScalarShape = 'string' | 'int' | 'double' | 'bool' | 'timestamp' | 'dyn';

export interface ListShape {
  list: Shape;
}

export interface MapShape {
  map: Shape;
}

export interface ObjectShape {
  /** A readable type name, shown in type errors (`Person`, `createAccount.output`). */
  object: string;
  fields: Record<string, Shape>;
}

export type Shape = ScalarShape | ListShape | MapShape | ObjectShape;

export function isObjectShape(shape: Shape): shape is ObjectShape {
  return typeof shape === 'object' && 'object' in shape;
}

export function isListShape(shape: Shape): shape is ListShape {
  return typeof shape === 'object' && 'list' in shape;
}

export function isMapShape(shape: Shape): shape is MapShape {
  return typeof shape === 'object' && 'map' in shape;
}

/** Free-form attributes: any JSON value per key. */
export const ATTRIBUTES: MapShape = { map: 'dyn' };

/** The manager as resolved from the identity store, attached to the subject. */
export const MANAGER_SHAPE: ObjectShape = {
  object: 'Manager',
  fields: {
    id: 'string',
    employeeId: 'string',
    displayName: 'string',
    email: 'string',
    managerId: 'string',
  },
};

const PERSON_FIELDS: Record<string, Shape> = {
  id: 'string',
  employeeId: 'string',
  givenName: 'string',
  familyName: 'string',
  displayName: 'string',
  email: 'string',
  department: 'string',
  title: 'string',
  jobCode: 'string',
  managerId: 'string',
  location: 'string',
  employmentType: 'string',
  status: 'string',
  validFrom: 'timestamp',
  validUntil: 'timestamp',
  attributes: ATTRIBUTES,
};

/** `subject`: the person a run is about, a snapshot taken when the run starts. */
export const PERSON_SHAPE: ObjectShape = {
  object: 'Person',
  fields: { ...PERSON_FIELDS, manager: MANAGER_SHAPE },
};

/** `event.previous`: the person's values before a change (movers), any subset of them. */
export const PREVIOUS_SHAPE: ObjectShape = { object: 'Previous', fields: PERSON_FIELDS };

/**
 * `event`: the identity event that started the run. `attributes` is typed by the flow's
 * declared inputs; policies, which run before any flow is chosen, see a free-form map.
 */
export function eventShape(attributes: Shape): ObjectShape {
  return {
    object: 'Event',
    fields: {
      source: 'string',
      id: 'string',
      type: 'string',
      occurredAt: 'timestamp',
      effectiveAt: 'timestamp',
      attributes,
      previous: PREVIOUS_SHAPE,
    },
  };
}

/** Human wording of a shape, for messages: `string`, `list<string>`, `Person`. */
export function describeShape(shape: Shape): string {
  if (typeof shape === 'string') return shape;
  if (isListShape(shape)) return `list<${describeShape(shape.list)}>`;
  if (isMapShape(shape)) return `map<string, ${describeShape(shape.map)}>`;
  return shape.object;
}

const DECISION: ObjectShape = {
  object: 'ApprovalDecision',
  fields: {
    by: 'string',
    onBehalfOf: 'string',
    decision: 'string',
    at: 'timestamp',
    channel: 'string',
    comment: 'string',
  },
};

/**
 * `steps.<id>.output` of an approval step: the outcome (`approved`, `rejected` or `expired`),
 * who decided, when, through which channel and why, every decision (mode `all`), and the
 * history of assignments, reminders and escalations.
 */
export const APPROVAL_OUTPUT_SHAPE: ObjectShape = {
  object: 'ApprovalOutput',
  fields: {
    decision: 'string',
    decidedBy: 'string',
    onBehalfOf: 'string',
    decidedAt: 'timestamp',
    channel: 'string',
    comment: 'string',
    decisions: { list: DECISION },
    history: {
      list: {
        object: 'ApprovalEvent',
        fields: { at: 'timestamp', kind: 'string', approvers: { list: 'string' } },
      },
    },
  },
};

/**
 * `steps.<id>.output` of a reconcile step: whether it only planned (`dryRun`), how many changes
 * it carried out (`removed`, `added`), how many removals the grace period deferred (`kept`),
 * the grants separation-of-duties rules held back (`blocked`, each with the rule and why), and
 * the whole plan for those who need its detail (`plan`).
 */
export const RECONCILE_OUTPUT_SHAPE: ObjectShape = {
  object: 'ReconcileOutput',
  fields: {
    dryRun: 'bool',
    removed: 'int',
    added: 'int',
    kept: 'int',
    blocked: {
      list: { object: 'ReconcileBlocked', fields: { rule: 'string', reason: 'string' } },
    },
    plan: 'dyn',
  },
};

/** `record` of a Correlation for persons: an HR record, with the fields a person has. */
export const PERSON_RECORD_SHAPE: ObjectShape = {
  object: 'PersonRecord',
  fields: { id: 'string', ...PERSON_FIELDS },
};

/** `record` of a Correlation for accounts: a discovered account on a connector. */
export const ACCOUNT_RECORD_SHAPE: ObjectShape = {
  object: 'AccountRecord',
  fields: { connector: 'string', accountId: 'string', attributes: ATTRIBUTES },
};

/**
 * `steps.<id>.output` of a correlate step: `matched`, `created` or `orphan`; the person
 * (`personId`, absent for an orphan), the rule that matched (`link`, `review` or a rule's name),
 * and the review it waited on, if any.
 */
export const CORRELATE_OUTPUT_SHAPE: ObjectShape = {
  object: 'CorrelateOutput',
  fields: {
    outcome: 'string',
    personId: 'string',
    rule: 'string',
    reviewId: 'string',
  },
};

/** A `forEach` item over persons: a person as the identity store keeps them. */
export const PERSON_ITEM_SHAPE: ObjectShape = {
  object: 'StoredPerson',
  fields: { ...PERSON_FIELDS, createdAt: 'timestamp', updatedAt: 'timestamp' },
};

/**
 * A `forEach` item over accounts: idflow's record of one account on one connector (see the
 * `accounts` table), with its owner. `lastLoginAt` and `passwordChangedAt` are absent when
 * neither the directory nor an identity provider has said (test with `has(...)`).
 */
export const ACCOUNT_ITEM_SHAPE: ObjectShape = {
  object: 'Account',
  fields: {
    id: 'string',
    personId: 'string',
    connector: 'string',
    name: 'string',
    targetId: 'string',
    status: 'string',
    lastLoginAt: 'timestamp',
    passwordChangedAt: 'timestamp',
    lastReadAt: 'timestamp',
    person: { object: 'AccountOwner', fields: PERSON_FIELDS },
  },
};

/**
 * `steps.<id>.output` of a forEach step: how many items it went over (`total`) out of how many
 * it read (`scanned`), how many completed or failed, the first failures (item key, step, error),
 * the rows `collect` gave (at most `rowLimit`; `truncated` when there were more), and whether an
 * operator approved going past the blast radius.
 */
export const FOR_EACH_OUTPUT_SHAPE: ObjectShape = {
  object: 'ForEachOutput',
  fields: {
    scanned: 'int',
    total: 'int',
    completed: 'int',
    failed: 'int',
    failures: {
      list: {
        object: 'ItemFailure',
        fields: { key: 'string', step: 'string', type: 'string', message: 'string' },
      },
    },
    rows: { list: 'dyn' },
    truncated: 'bool',
    batches: 'int',
    approvedBy: 'string',
  },
};
