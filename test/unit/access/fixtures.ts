/**
 * Shared material for the access model's unit tests: a person, two connectors as
 * `definitions/connectors/` declares them (an LDAP directory whose groups may be written as a cn
 * or a DN, and a SCIM application), roles, and a planner wired the way the reconcile activity
 * wires it.
 */
import { planAccess } from '../../../src/access/plan';
import { entitlementKeys, managedScopes } from '../../../src/access/scope';
import type {
  AccessGrant,
  AccessPlan,
  ActualAccess,
  Change,
  DesiredState,
  EntitlementRef,
} from '../../../src/access/types';
import type {
  AccountGrantIR,
  ApprovalStepIR,
  ConnectorIR,
  RoleGrantIR,
  RoleIR,
  SodRuleIR,
  SodSideIR,
} from '../../../src/dsl/ir';
import type { Person } from '../../../src/model/person';

export const NOW = new Date('2025-06-01T12:00:00Z');
export const GROUPS_DN = 'ou=groups,dc=example,dc=com';
export const DIR = 'corp-directory';
export const CRM = 'crm';

export const CONNECTORS: ReadonlyMap<string, ConnectorIR> = new Map<string, ConnectorIR>([
  [
    DIR,
    {
      name: DIR,
      type: 'ldap',
      config: { usersDn: 'ou=people,dc=example,dc=com', groupsDn: GROUPS_DN },
    },
  ],
  [CRM, { name: CRM, type: 'scim', config: { baseUrl: 'http://127.0.0.1:8090/scim/v2' } }],
  [
    'mail',
    { name: 'mail', type: 'email', config: { host: '127.0.0.1', from: 'idflow@example.com' } },
  ],
]);

/** The key the reconcile activity uses: an LDAP group's cn and DN are one group. */
export const key = entitlementKeys(CONNECTORS);

/** `cn=<name>,ou=groups,dc=example,dc=com`. */
export function dn(cn: string): string {
  return `cn=${cn},${GROUPS_DN}`;
}

export function person(over: Partial<Person> = {}): Person {
  return {
    id: 'p-1001',
    status: 'active',
    employeeId: 'E1001',
    givenName: 'Ada',
    familyName: 'Lovelace',
    email: 'ada@example.com',
    department: 'Engineering',
    attributes: { username: 'ada' },
    createdAt: '2025-01-01T00:00:00Z',
    updatedAt: '2025-01-01T00:00:00Z',
    ...over,
  };
}

/** The directory account every employee has: named by `attributes.username`, with mail and cn. */
export const DIR_ACCOUNT: AccountGrantIR = {
  id: { expr: 'subject.attributes.?username.orValue("")' },
  attributes: {
    mail: { expr: 'subject.email' },
    cn: { concat: [{ expr: 'subject.givenName' }, ' ', { expr: 'subject.familyName' }] },
  },
};

export function dirGrant(groups: string[], account?: AccountGrantIR): RoleGrantIR {
  return {
    connector: DIR,
    connectorType: 'ldap',
    ...(account ? { account } : {}),
    entitlements: groups.map((value) => ({ kind: 'group', value })),
  };
}

export function crmGrant(groups: string[], account?: AccountGrantIR): RoleGrantIR {
  return {
    connector: CRM,
    connectorType: 'scim',
    ...(account ? { account } : {}),
    entitlements: groups.map((value) => ({ kind: 'group', value })),
  };
}

export function role(
  name: string,
  how: { birthright?: boolean; when?: string },
  grants: RoleGrantIR[],
): RoleIR {
  return {
    irVersion: 1,
    name,
    title: `The ${name} role`,
    birthright: how.birthright ?? false,
    ...(how.when !== undefined ? { when: how.when } : {}),
    grants,
  };
}

export const EMPLOYEE = role('employee', { birthright: true }, [
  dirGrant(['all-staff'], DIR_ACCOUNT),
]);
export const ENGINEER = role('engineer', { when: 'subject.department == "Engineering"' }, [
  dirGrant(['engineering', dn('deployers')]),
]);
export const FINANCE = role('finance', { when: 'subject.department == "Finance"' }, [
  dirGrant(['finance', 'finance-reports']),
  crmGrant(['Finance'], { id: { expr: 'subject.email' }, attributes: {} }),
]);
/** Held only through an explicit grant. */
export const FINANCE_APPROVER = role('finance-approver', {}, [dirGrant(['payment-approvers'])]);

export const ROLES: RoleIR[] = [EMPLOYEE, ENGINEER, FINANCE, FINANCE_APPROVER];

export function ent(value: string, connector = DIR, kind = 'group'): EntitlementRef {
  return { connector, kind, value };
}

export function side(roles: string[], entitlements: EntitlementRef[] = []): SodSideIR {
  return { roles, entitlements };
}

export const APPROVAL: ApprovalStepIR = {
  kind: 'approval',
  id: 'sod',
  title: 'Separation of duties exception',
  approvers: [{ group: 'risk-officers' }],
  mode: 'any',
  request: { lit: 'exception' },
  escalate: [],
  timeoutMs: 86_400_000,
  onTimeout: 'reject',
  notifyChannel: 'log',
  notifyChannelType: 'log',
};

export function sodRule(
  name: string,
  left: SodSideIR,
  right: SodSideIR,
  action: 'block' | 'approval' = 'block',
): SodRuleIR {
  return {
    irVersion: 1,
    name,
    title: name,
    left,
    right,
    action,
    ...(action === 'approval' ? { approval: APPROVAL } : {}),
  };
}

/** An explicit grant of a role or an entitlement. */
export function grant(
  id: string,
  what: { role: string } | { entitlement: EntitlementRef },
  validUntil?: string,
): AccessGrant {
  return {
    id,
    personId: 'p-1001',
    ...what,
    ...(validUntil ? { validUntil } : {}),
    grantedBy: 'user:admin',
    grantedAt: '2025-05-01T00:00:00Z',
  };
}

/** What a connector holds: an enabled account unless told otherwise. */
export function actual(
  connector: string,
  entitlements: EntitlementRef[],
  account: Partial<NonNullable<ActualAccess['account']>> | null = {},
  unmanaged = 0,
): ActualAccess {
  return {
    connector,
    connectorType: CONNECTORS.get(connector)?.type ?? 'ldap',
    ...(account === null
      ? {}
      : {
          account: {
            id: 'ada',
            targetId: `uid=ada,ou=people,dc=example,dc=com`,
            enabled: true,
            attributes: {},
            ...account,
          },
        }),
    entitlements,
    unmanaged,
  };
}

/** The plan the reconcile activity computes: managed scopes from the roles, the LDAP-aware key. */
export function plan(
  desired: DesiredState,
  held: ActualAccess[],
  more: {
    roles?: RoleIR[];
    sodRules?: SodRuleIR[];
    keep?: EntitlementRef[];
    granted?: EntitlementRef[];
    only?: string[];
    observed?: EntitlementRef[];
  } = {},
): AccessPlan {
  const roles = more.roles ?? ROLES;
  const { scopes } = managedScopes(roles, more.granted ?? [], CONNECTORS, more.only ?? [], key);
  return planAccess({
    desired,
    actual: held,
    scopes,
    roles,
    sodRules: more.sodRules ?? [],
    ...(more.keep ? { keep: more.keep } : {}),
    ...(more.observed ? { observed: more.observed } : {}),
    key,
  });
}

/** `op connector value` of each change, for comparing plans by what they do. */
export function ops(changes: Change[]): string[] {
  return changes.map((c) =>
    [c.op, c.connector, c.value].filter((part) => part !== undefined).join(' '),
  );
}
