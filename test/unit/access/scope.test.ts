/**
 * What idflow manages on each connector (accounts some role requires, entitlements some role or
 * grant names), and how two entitlements are compared: a group's cn and its DN are one group.
 */
import { entitlementKeys, managedScopes } from '../../../src/access/scope';
import type { ConnectorIR } from '../../../src/dsl/ir';
import {
  CONNECTORS,
  CRM,
  DIR,
  EMPLOYEE,
  ROLES,
  crmGrant,
  dirGrant,
  dn,
  ent,
  key,
  role,
} from './fixtures';

describe('entitlement keys', () => {
  test.each([
    ['engineering', dn('engineering')],
    ['engineering', 'CN=Engineering,OU=Groups,DC=Example,DC=Com'],
    [dn('engineering'), 'cn=engineering , ou=groups, dc=example,dc=com'],
    ['Engineering', 'engineering'],
  ])('on an LDAP directory, %s and %s are one group', (a, b) => {
    expect(key(ent(a))).toBe(key(ent(b)));
  });

  test.each([
    ['engineering', 'finance'],
    ['engineering', 'cn=engineering,ou=teams,dc=example,dc=com'],
    [dn('engineering'), 'cn=engineering-ops,ou=groups,dc=example,dc=com'],
  ])('on an LDAP directory, %s and %s are different groups', (a, b) => {
    expect(key(ent(a))).not.toBe(key(ent(b)));
  });

  test('a group of the same name on another connector, or another kind, is another entitlement', () => {
    expect(key(ent('Finance', CRM))).not.toBe(key(ent('Finance', DIR)));
    expect(key(ent('Finance', DIR, 'role'))).not.toBe(key(ent('Finance', DIR)));
  });

  test('a SCIM group is compared by its displayName: a DN is no form of it', () => {
    expect(key(ent('Finance', CRM))).toBe(key(ent('Finance', CRM)));
    expect(key(ent('Sales', CRM))).not.toBe(key(ent('Finance', CRM)));
    expect(key(ent(dn('finance'), CRM))).not.toBe(key(ent('finance', CRM)));
  });

  test('a connector that is not active, or a kind the type does not declare, compares values as written', () => {
    expect(key(ent('engineering', 'gone'))).not.toBe(key(ent(dn('engineering'), 'gone')));
    expect(key(ent('engineering', DIR, 'role'))).not.toBe(key(ent(dn('engineering'), DIR, 'role')));
  });

  test('on a connector whose type is unknown or manages no access, values compare as written', () => {
    const odd = new Map<string, ConnectorIR>([
      ...CONNECTORS,
      ['legacy', { name: 'legacy', type: 'mainframe', config: {} }],
    ]);
    const oddKey = entitlementKeys(odd);
    for (const connector of ['legacy', 'mail']) {
      expect(oddKey(ent('ops', connector))).not.toBe(oddKey(ent(dn('ops'), connector)));
      expect(oddKey(ent('ops', connector))).toBe(oddKey(ent('ops', connector)));
    }
  });

  test('the groups base comes from the connector’s own configuration', () => {
    const other: ConnectorIR = {
      name: 'branch',
      type: 'ldap',
      config: { groupsDn: 'ou=teams,dc=branch,dc=example' },
    };
    const branchKey = entitlementKeys(new Map([...CONNECTORS, ['branch', other]]));
    expect(branchKey(ent('ops', 'branch'))).toBe(
      branchKey(ent('cn=ops,ou=teams,dc=branch,dc=example', 'branch')),
    );
    expect(branchKey(ent('ops', 'branch'))).not.toBe(branchKey(ent(dn('ops'), 'branch')));
  });

  test('the key does not mix up connector, kind and value', () => {
    expect(key(ent('b', 'a'))).not.toBe(key({ connector: 'a\u0000b', kind: '', value: '' }));
  });
});

describe('managed scopes', () => {
  test('every connector a role grants on, sorted, with the accounts and entitlements it manages', () => {
    const { scopes, problems } = managedScopes(ROLES, [], CONNECTORS, [], key);
    expect(problems).toEqual([]);
    expect(scopes).toEqual([
      {
        connector: DIR,
        connectorType: 'ldap',
        accounts: true,
        entitlements: [
          ent('all-staff'),
          ent('engineering'),
          ent(dn('deployers')),
          ent('finance'),
          ent('finance-reports'),
          ent('payment-approvers'),
        ],
      },
      {
        connector: CRM,
        connectorType: 'scim',
        accounts: true,
        entitlements: [ent('Finance', CRM)],
      },
    ]);
  });

  test('a group two roles name in different forms is managed once, as first written', () => {
    const other = role('other', { birthright: true }, [dirGrant([dn('all-staff'), 'engineering'])]);
    const { scopes } = managedScopes([EMPLOYEE, other], [], CONNECTORS, [], key);
    expect(scopes).toEqual([
      {
        connector: DIR,
        connectorType: 'ldap',
        accounts: true,
        entitlements: [ent('all-staff'), ent('engineering')],
      },
    ]);
  });

  test('a connector where roles only give groups manages no accounts', () => {
    const sales = role('sales', { when: 'true' }, [crmGrant(['Sales'])]);
    const { scopes } = managedScopes([sales], [], CONNECTORS, [], key);
    expect(scopes).toEqual([
      { connector: CRM, connectorType: 'scim', accounts: false, entitlements: [ent('Sales', CRM)] },
    ]);
  });

  test('entitlements explicitly granted to anyone are managed too', () => {
    const { scopes } = managedScopes(
      [EMPLOYEE],
      [ent('vpn'), ent(dn('all-staff')), ent('Sales', CRM)],
      CONNECTORS,
      [],
      key,
    );
    expect(
      scopes.map((s) => [s.connector, s.accounts, s.entitlements.map((e) => e.value)]),
    ).toEqual([
      [DIR, true, ['all-staff', 'vpn']],
      [CRM, false, ['Sales']],
    ]);
  });

  test('asked for some connectors: only those, even the ones nothing grants on', () => {
    const lone = new Map([...CONNECTORS, ['lone', { name: 'lone', type: 'scim', config: {} }]]);
    const { scopes, problems } = managedScopes(ROLES, [ent('vpn')], lone, ['lone', CRM], key);
    expect(problems).toEqual([]);
    expect(scopes.map((s) => s.connector)).toEqual([CRM, 'lone']);
    expect(scopes[1]).toEqual({
      connector: 'lone',
      connectorType: 'scim',
      accounts: false,
      entitlements: [],
    });
  });

  test('a connector that is not active is a problem, said once', () => {
    const a = role('a', { birthright: true }, [{ ...dirGrant(['x']), connector: 'old-dir' }]);
    const b = role('b', { birthright: true }, [{ ...dirGrant(['y']), connector: 'old-dir' }]);
    const { scopes, problems } = managedScopes(
      [a, b, EMPLOYEE],
      [ent('z', 'old-dir')],
      CONNECTORS,
      [],
      key,
    );
    expect(scopes.map((s) => s.connector)).toEqual([DIR]);
    expect(problems).toEqual([expect.stringMatching(/'old-dir'.*not active/)]);
  });

  test('scopes come sorted by connector whatever order the roles name them in', () => {
    const crmFirst = role('crm-first', { birthright: true }, [crmGrant(['Sales'])]);
    const lone = new Map<string, ConnectorIR>([
      ...CONNECTORS,
      ['alpha', { name: 'alpha', type: 'scim', config: {} }],
    ]);
    const { scopes } = managedScopes([crmFirst, EMPLOYEE], [ent('x', 'alpha')], lone, [], key);
    expect(scopes.map((s) => s.connector)).toEqual(['alpha', DIR, CRM]);
  });

  test('a connector of a type idflow does not know is a problem, not a crash', () => {
    const odd = new Map<string, ConnectorIR>([
      ...CONNECTORS,
      ['legacy', { name: 'legacy', type: 'mainframe', config: {} }],
    ]);
    const { scopes, problems } = managedScopes([], [], odd, ['legacy'], key);
    expect(scopes).toEqual([]);
    expect(problems).toEqual([expect.stringMatching(/'legacy'.*type mainframe/)]);
  });

  test('a connector whose type has no access to manage is a problem naming the type', () => {
    const { scopes, problems } = managedScopes([EMPLOYEE], [], CONNECTORS, ['mail', 'mail'], key);
    expect(scopes).toEqual([]);
    expect(problems).toEqual([expect.stringMatching(/'mail'.*type email/)]);
  });

  test('problems of two connectors are both said', () => {
    const { problems } = managedScopes([], [], CONNECTORS, ['mail', 'gone'], key);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain("'mail'");
    expect(problems[1]).toContain("'gone'");
  });

  test('a connector outside the ones asked for is not a problem even when it is not active', () => {
    const a = role('a', { birthright: true }, [{ ...dirGrant(['x']), connector: 'old-dir' }]);
    const { scopes, problems } = managedScopes([a, EMPLOYEE], [], CONNECTORS, [DIR], key);
    expect(problems).toEqual([]);
    expect(scopes.map((s) => s.connector)).toEqual([DIR]);
  });
});
