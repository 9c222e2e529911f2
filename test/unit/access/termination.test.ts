/**
 * Termination and reactivation in the plan: a person who is not active holds nothing, a
 * terminated person's accounts are deleted on connectors configured
 * `accounts.onTermination: delete` and disabled elsewhere, and an active person's disabled
 * accounts are enabled again with their groups.
 */
import { desiredState } from '../../../src/access/desired';
import { planAccess } from '../../../src/access/plan';
import { managedScopes } from '../../../src/access/scope';
import type { ActualAccess } from '../../../src/access/types';
import { compileSources } from '../../../src/dsl/compiler';
import type { ConnectorIR } from '../../../src/dsl/ir';
import { PERSON_STATUSES, type PersonStatus } from '../../../src/model/person';
import { CONNECTORS, CRM, DIR, NOW, ROLES, actual, dn, ent, key, ops, person } from './fixtures';

/** The fixtures' connectors, the CRM deleting the accounts of terminated persons. */
const DELETING: ReadonlyMap<string, ConnectorIR> = new Map(
  [...CONNECTORS].map(([name, c]) => [
    name,
    name === CRM ? { ...c, accounts: { onTermination: 'delete' as const } } : c,
  ]),
);

const FINANCE_DIR = [ent('all-staff'), ent('finance'), ent('finance-reports')];
const FINANCE_ACCOUNT = { attributes: { mail: 'ada@example.com', cn: 'Ada Lovelace' } };

function planFor(status: PersonStatus, held: ActualAccess[], connectors = DELETING) {
  const desired = desiredState(person({ status, department: 'Finance' }), ROLES, [], NOW);
  const { scopes } = managedScopes(ROLES, [], connectors, [], key);
  return planAccess({ desired, actual: held, scopes, roles: ROLES, sodRules: [], key });
}

const financeHolds = (enabled = true): ActualAccess[] => [
  actual(DIR, enabled ? FINANCE_DIR : [], { ...FINANCE_ACCOUNT, enabled }),
  actual(CRM, enabled ? [ent('Finance', CRM)] : [], {
    id: 'ada@example.com',
    targetId: 'scim-1',
    enabled,
  }),
];

describe('managed scopes', () => {
  test('a connector configured to delete on termination says so; the others do not', () => {
    const { scopes } = managedScopes(ROLES, [], DELETING, [], key);
    expect(scopes.map((s) => [s.connector, s.deleteOnTermination ?? false])).toEqual([
      [DIR, false],
      [CRM, true],
    ]);
  });

  test('onTermination: disable is the default, written out or not', () => {
    const disabling = new Map(
      [...CONNECTORS].map(([name, c]) => [
        name,
        { ...c, accounts: { onTermination: 'disable' as const } },
      ]),
    );
    const { scopes } = managedScopes(ROLES, [], disabling, [], key);
    expect(scopes.every((s) => s.deleteOnTermination === undefined)).toBe(true);
  });
});

describe('a terminated person', () => {
  test('loses every managed group; the deleting connector deletes the account, the other disables it', () => {
    const p = planFor('terminated', financeHolds());
    expect(ops(p.removals)).toEqual([
      `removeEntitlement ${DIR} all-staff`,
      `removeEntitlement ${DIR} finance`,
      `removeEntitlement ${DIR} finance-reports`,
      `disableAccount ${DIR}`,
      `removeEntitlement ${CRM} Finance`,
      `deleteAccount ${CRM}`,
    ]);
    expect(p.additions).toEqual([]);
    const deletion = p.removals.find((c) => c.op === 'deleteAccount');
    expect(deletion).toMatchObject({
      account: 'ada@example.com',
      targetId: 'scim-1',
      why: `the person is terminated and ${CRM} deletes the accounts of terminated persons`,
    });
  });

  test('an account already disabled in the grace period is deleted; a disabled one elsewhere is left', () => {
    const p = planFor('terminated', financeHolds(false));
    expect(ops(p.removals)).toEqual([`deleteAccount ${CRM}`]);
    expect(p.additions).toEqual([]);
  });

  test('an account that is gone needs nothing', () => {
    const p = planFor('terminated', [actual(CRM, [], null), actual(DIR, [], { enabled: false })]);
    expect(p.removals).toEqual([]);
    expect(p.additions).toEqual([]);
  });

  test('without the setting every connector disables, none deletes', () => {
    const p = planFor('terminated', financeHolds(), CONNECTORS);
    expect(p.removals.map((c) => c.op)).not.toContain('deleteAccount');
    expect(ops(p.removals).filter((o) => o.startsWith('disableAccount'))).toEqual([
      `disableAccount ${DIR}`,
      `disableAccount ${CRM}`,
    ]);
  });

  test.each(PERSON_STATUSES.filter((s) => s !== 'active' && s !== 'terminated'))(
    'a %s person is disabled everywhere, never deleted',
    (status) => {
      const p = planFor(status, financeHolds());
      expect(p.removals.map((c) => c.op)).not.toContain('deleteAccount');
      expect(ops(p.removals).filter((o) => o.startsWith('disableAccount'))).toEqual([
        `disableAccount ${DIR}`,
        `disableAccount ${CRM}`,
      ]);
      expect(p.removals.find((c) => c.op === 'disableAccount')?.why).toBe(
        `the person is ${status}`,
      );
    },
  );
});

describe('a person active again (reactivation, rehire)', () => {
  test('accounts disabled in the grace period are enabled first, then given their groups back', () => {
    const p = planFor('active', financeHolds(false));
    expect(p.removals).toEqual([]);
    expect(ops(p.additions)).toEqual([
      `enableAccount ${DIR}`,
      `addEntitlement ${DIR} all-staff`,
      `addEntitlement ${DIR} finance`,
      `addEntitlement ${DIR} finance-reports`,
      `enableAccount ${CRM}`,
      `addEntitlement ${CRM} Finance`,
    ]);
  });

  test('an account deleted at termination is created again under the same name', () => {
    const p = planFor('active', [
      actual(CRM, [], null),
      actual(DIR, [], { ...FINANCE_ACCOUNT, enabled: false }),
    ]);
    expect(ops(p.additions)).toEqual([
      `enableAccount ${DIR}`,
      `addEntitlement ${DIR} all-staff`,
      `addEntitlement ${DIR} finance`,
      `addEntitlement ${DIR} finance-reports`,
      `createAccount ${CRM}`,
      `addEntitlement ${CRM} Finance`,
    ]);
    expect(p.additions.find((c) => c.op === 'createAccount')).toMatchObject({
      account: 'ada@example.com',
    });
  });

  test('an engineer back from termination-pending gets the groups as the roles write them', () => {
    const desired = desiredState(person(), ROLES, [], NOW);
    const { scopes } = managedScopes(ROLES, [], DELETING, [], key);
    const p = planAccess({
      desired,
      actual: [actual(DIR, [], { ...FINANCE_ACCOUNT, enabled: false })],
      scopes,
      roles: ROLES,
      sodRules: [],
      key,
    });
    expect(ops(p.additions)).toEqual([
      `enableAccount ${DIR}`,
      `addEntitlement ${DIR} all-staff`,
      `addEntitlement ${DIR} engineering`,
      `addEntitlement ${DIR} ${dn('deployers')}`,
    ]);
  });
});

describe('accounts.onTermination in Connector documents', () => {
  const connector = (type: string, config: string, accounts: string) => ({
    path: `${type}.yaml`,
    text: [
      'apiVersion: idflow/v1',
      'kind: Connector',
      `metadata: { name: it-${type} }`,
      `type: ${type}`,
      `config: ${config}`,
      accounts,
    ].join('\n'),
  });
  const SCIM = '{ baseUrl: "http://127.0.0.1:8090/scim/v2", auth: { type: none } }';

  test('delete and disable compile into the connector; left out, nothing is recorded', () => {
    const result = compileSources([connector('scim', SCIM, 'accounts: { onTermination: delete }')]);
    expect(result.diagnostics).toEqual([]);
    expect(result.connectors.get('it-scim')?.accounts).toEqual({ onTermination: 'delete' });
    const plain = compileSources([connector('scim', SCIM, '')]);
    expect(plain.connectors.get('it-scim')).not.toHaveProperty('accounts');
  });

  test('another value is an error naming the allowed ones', () => {
    const result = compileSources([connector('scim', SCIM, 'accounts: { onTermination: remove }')]);
    expect(result.diagnostics.map((d) => [d.pointer, d.message])).toEqual([
      ['/accounts/onTermination', "'onTermination' must be one of 'delete' or 'disable'"],
    ]);
    expect(result.connectors.size).toBe(0);
  });

  test('a connector type that keeps no accounts does not take it', () => {
    const result = compileSources([
      connector(
        'email',
        '{ host: 127.0.0.1, port: 25, from: iam@example.com }',
        'accounts: { onTermination: delete }',
      ),
    ]);
    expect(result.diagnostics.map((d) => d.message)).toEqual([
      "unknown field 'accounts' in this document: connector type 'email' keeps no accounts; only connectors of type 'ldap' or 'scim' take accounts.onTermination",
    ]);
  });
});
