/**
 * The access model's data: a person's desired access (from roles and explicit grants), the
 * actual access a target holds, and the plan that turns one into the other. Types only, and
 * Node-free: the workflow sandbox imports them.
 */
import type { ApprovalStepIR, JsonValue } from '../dsl/ir';
import type { PersonStatus } from '../model/person';

/** One entitlement of a person on one connector, in the form the definitions name it. */
export interface EntitlementRef {
  connector: string;
  kind: string;
  value: string;
}

/** Why something is desired: `role:<name>` or `grant:<id>`. */
export type Source = string;

/** An account a person must have on a connector. */
export interface DesiredAccount {
  connector: string;
  connectorType: string;
  /** The account's name in the target, rendered over the person ('' when it renders empty). */
  id: string;
  /** Attributes it must carry, rendered over the person; values as the connector's op takes them. */
  attributes: Record<string, JsonValue>;
  sources: Source[];
}

export interface DesiredEntitlement extends EntitlementRef {
  sources: Source[];
}

/** A role the person holds, and why. */
export interface HeldRole {
  name: string;
  title: string;
  /** `birthright`, or the rule that held (`subject.department == "Finance"`), or `grant:<id>`. */
  why: string;
}

/** What idflow manages on one connector: other entitlements in the target are left alone. */
export interface ManagedScope {
  connector: string;
  connectorType: string;
  /** Some active role requires an account here. */
  accounts: boolean;
  /** The connector deletes a terminated person's account (`accounts.onTermination: delete`). */
  deleteOnTermination?: true;
  /** Every entitlement some active role or grant names here. */
  entitlements: EntitlementRef[];
}

/**
 * A hold on a person's account on one connector (a dormant account, say): the account is kept
 * disabled, whatever the person's roles and grants say, until the hold is lifted.
 */
export interface AccountHold {
  id: string;
  personId: string;
  /** The connector the account is on. */
  connector: string;
  /** Why (`dormant`): short free text, no personal data. */
  reason: string;
  /** Who placed it: `run:<workflowId>` or `user:<id>`. */
  placedBy: string;
  placedAt: string;
}

/** A person's desired access: the union over their roles, plus their explicit grants. */
export interface DesiredState {
  personId: string;
  status: PersonStatus;
  /** Roles held (empty when the status gives no access). */
  roles: HeldRole[];
  accounts: DesiredAccount[];
  entitlements: DesiredEntitlement[];
  /** Why nothing is desired, when the status says so (`the person is disabled`). */
  noAccessBecause?: string;
  /**
   * Holds in place on the person's accounts: each such account is desired disabled (never
   * enabled or created) while its entitlements are desired as the roles and grants say.
   */
  holds: AccountHold[];
  /** Rules or templates that could not be evaluated: the plan must not be carried out. */
  problems: string[];
}

/** What a target holds for one person on one connector. */
export interface ActualAccess {
  connector: string;
  connectorType: string;
  /** The person's account, found by the connector's correlation attribute. */
  account?: {
    /** The account's name (uid, userName). */
    id: string;
    /** The target's own id (DN, SCIM id). */
    targetId: string;
    enabled: boolean;
    attributes: Record<string, JsonValue>;
    /**
     * When the account last signed in and last changed its password, as the target holds them
     * (ISO timestamps; null: never, or not held), for idflow's account record. Absent where the
     * connector type does not read them, or the target's values could not be read.
     */
    activity?: { lastLoginAt: string | null; passwordChangedAt: string | null };
  };
  /** Managed entitlements the account holds (unmanaged ones are counted, never listed). */
  entitlements: EntitlementRef[];
  /** How many entitlements the account holds that no role or grant names: left alone. */
  unmanaged: number;
}

export type ChangeOp =
  | 'createAccount'
  | 'enableAccount'
  | 'updateAccount'
  | 'disableAccount'
  | 'deleteAccount'
  | 'addEntitlement'
  | 'removeEntitlement';

/** One change of a plan, with why it is needed. */
export interface Change {
  op: ChangeOp;
  connector: string;
  connectorType: string;
  /** The account's name (for creates: the name it gets). */
  account: string;
  /** The target's id of the account, when it exists. */
  targetId?: string;
  /** For entitlement changes. */
  kind?: string;
  value?: string;
  /** For account creates and updates: the attributes to write. */
  attributes?: Record<string, JsonValue>;
  /** Sources, for additions; a reason, for removals. */
  why: string;
}

/** A grant a separation-of-duties rule holds back. */
export interface HeldBack {
  change: Change;
  rule: string;
  /** Names both sides: `role finance-approver conflicts with group deployers (rule …)`. */
  reason: string;
  action: 'block' | 'approval';
  /** The approval to wait on (action approval). */
  approval?: ApprovalStepIR;
}

/** A hold the plan honours, with the account it keeps disabled. */
export interface PlannedHold extends AccountHold {
  /** The account's name in the target; '' when the target has none (not created while held). */
  account: string;
}

/** The plan for one person: removals first, then additions; nothing else changes. */
export interface AccessPlan {
  personId: string;
  status: PersonStatus;
  connectors: string[];
  roles: HeldRole[];
  removals: Change[];
  additions: Change[];
  /** Removals the step's grace option defers. */
  kept: Change[];
  /** Additions refused (block) or waiting on an approval, by separation-of-duties rules. */
  heldBack: HeldBack[];
  /** Holds on accounts in the plan's connectors: those accounts stay disabled. */
  holds: PlannedHold[];
  /** Held entitlements no role or grant names, per connector: left alone. */
  unmanaged: Record<string, number>;
  /** What keeps the plan from being carried out (an account whose name renders empty). */
  problems: string[];
}

/** An explicit grant a flow or an approval added: a role or one entitlement, maybe time-boxed. */
export interface AccessGrant {
  id: string;
  personId: string;
  /** Exactly one of `role` and `entitlement`. */
  role?: string;
  entitlement?: EntitlementRef;
  /** ISO timestamp after which the grant no longer counts; absent: until revoked. */
  validUntil?: string;
  reason?: string;
  /** Who granted it: `run:<workflowId>` or `user:<id>`. */
  grantedBy: string;
  grantedAt: string;
}
