/**
 * A person's desired access: the union over the roles whose rule holds for them, plus their live
 * explicit grants, or nothing at all when their status gives no access. What cannot be worked
 * out is a problem, never a silent "no".
 */
import { desiredState, liveGrants, rolesOf } from '../../../src/access/desired';
import type { RoleIR } from '../../../src/dsl/ir';
import { PERSON_STATUSES } from '../../../src/model/person';
import {
  CRM,
  DIR,
  DIR_ACCOUNT,
  EMPLOYEE,
  ENGINEER,
  FINANCE,
  FINANCE_APPROVER,
  NOW,
  ROLES,
  crmGrant,
  dirGrant,
  dn,
  ent,
  grant,
  person,
  role,
} from './fixtures';

function groups(state: ReturnType<typeof desiredState>, connector = DIR): string[] {
  return state.entitlements
    .filter((e) => e.connector === connector)
    .map((e) => e.value)
    .sort();
}

describe('roles', () => {
  test('an active engineer holds the birthright role and the engineering role, and why', () => {
    const { roles, problems } = rolesOf(person(), ROLES, [], NOW);
    expect(problems).toEqual([]);
    expect(roles).toEqual([
      { name: 'employee', title: 'The employee role', why: 'birthright' },
      { name: 'engineer', title: 'The engineer role', why: 'subject.department == "Engineering"' },
    ]);
  });

  test('the rule is evaluated over the person: finance staff hold finance, not engineer', () => {
    const { roles } = rolesOf(person({ department: 'Finance' }), ROLES, [], NOW);
    expect(roles.map((r) => r.name)).toEqual(['employee', 'finance']);
  });

  test('a birthright role is held whatever its rule says, and a person without department matches no rule', () => {
    const odd = role('everyone', { birthright: true, when: 'false' }, []);
    const { roles } = rolesOf(person({ department: undefined }), [...ROLES, odd], [], NOW);
    expect(roles.map((r) => r.name)).toEqual(['employee', 'everyone']);
  });

  test('roles come out sorted by name whatever order they are given in', () => {
    const { roles } = rolesOf(person(), [...ROLES].reverse(), [], NOW);
    expect(roles.map((r) => r.name)).toEqual(['employee', 'engineer']);
    const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
    const many = names.map((name) => role(name, { birthright: true }, []));
    expect(rolesOf(person(), many, [], NOW).roles.map((r) => r.name)).toEqual([...names].sort());
  });

  test('rules can read now', () => {
    const early = role('early', { when: 'now < timestamp("2026-01-01T00:00:00Z")' }, []);
    const late = role('late', { when: 'now > timestamp("2026-01-01T00:00:00Z")' }, []);
    expect(rolesOf(person(), [early, late], [], NOW).roles.map((r) => r.name)).toEqual(['early']);
  });

  test('a rule that cannot be evaluated is a problem naming the role; the other roles still count', () => {
    const broken = role('broken', { when: 'subject.department.startsWith(1)' }, []);
    const unparsable = role('unparsable', { when: 'subject.department ==' }, []);
    const { roles, problems } = rolesOf(person(), [...ROLES, broken, unparsable], [], NOW);
    expect(roles.map((r) => r.name)).toEqual(['employee', 'engineer']);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain("role 'broken'");
    expect(problems[1]).toContain("role 'unparsable'");
  });

  test('a rule giving something other than true does not hold', () => {
    const truthy = role('truthy', { when: 'subject.department' }, []);
    const { roles } = rolesOf(person(), [truthy], [], NOW);
    expect(roles).toEqual([]);
  });

  test('an explicit grant of a role holds it, and says which grant and until when', () => {
    const { roles } = rolesOf(
      person(),
      ROLES,
      [
        grant('g-1', { role: 'finance-approver' }, '2025-07-01T00:00:00Z'),
        grant('g-2', { role: 'engineer' }),
      ],
      NOW,
    );
    expect(roles).toEqual([
      { name: 'employee', title: 'The employee role', why: 'birthright' },
      {
        name: 'engineer',
        title: 'The engineer role',
        why: 'subject.department == "Engineering"; grant:g-2',
      },
      {
        name: 'finance-approver',
        title: 'The finance-approver role',
        why: 'grant:g-1 until 2025-07-01T00:00:00Z',
      },
    ]);
  });

  test('a grant of a role that is not active is a problem', () => {
    const { roles, problems } = rolesOf(person(), ROLES, [grant('g-9', { role: 'gone' })], NOW);
    expect(roles.map((r) => r.name)).toEqual(['employee', 'engineer']);
    expect(problems).toEqual([expect.stringMatching(/g-9.*'gone'/)]);
  });

  test('expired grants do not count', () => {
    const expired = grant('g-1', { role: 'finance-approver' }, '2025-06-01T11:59:59Z');
    expect(rolesOf(person(), ROLES, [expired], NOW).roles.map((r) => r.name)).not.toContain(
      'finance-approver',
    );
  });
});

describe('live grants', () => {
  test('a grant counts until its end, not at it; a grant without end always counts', () => {
    const grants = [
      grant('open', { role: 'x' }),
      grant('ended-at-now', { role: 'x' }, NOW.toISOString()),
      grant('ended', { role: 'x' }, '2025-01-01T00:00:00Z'),
      grant('running', { role: 'x' }, '2025-06-01T12:00:00.001Z'),
    ];
    expect(liveGrants(grants, NOW).map((g) => g.id)).toEqual(['open', 'running']);
  });
});

describe('desired state', () => {
  test('an active engineer: the directory account rendered over the person, the union of groups', () => {
    const state = desiredState(person(), ROLES, [], NOW);
    expect(state).toMatchObject({ personId: 'p-1001', status: 'active', problems: [] });
    expect(state.noAccessBecause).toBeUndefined();
    expect(state.accounts).toEqual([
      {
        connector: DIR,
        connectorType: 'ldap',
        id: 'ada',
        attributes: { mail: 'ada@example.com', cn: 'Ada Lovelace' },
        sources: ['role:employee'],
      },
    ]);
    expect(state.entitlements).toEqual([
      { connector: DIR, kind: 'group', value: 'all-staff', sources: ['role:employee'] },
      { connector: DIR, kind: 'group', value: 'engineering', sources: ['role:engineer'] },
      { connector: DIR, kind: 'group', value: dn('deployers'), sources: ['role:engineer'] },
    ]);
  });

  test('finance: groups on two connectors and an account on each', () => {
    const state = desiredState(person({ department: 'Finance' }), ROLES, [], NOW);
    expect(state.accounts.map((a) => [a.connector, a.id])).toEqual([
      [DIR, 'ada'],
      [CRM, 'ada@example.com'],
    ]);
    expect(groups(state)).toEqual(['all-staff', 'finance', 'finance-reports']);
    expect(groups(state, CRM)).toEqual(['Finance']);
  });

  test.each(PERSON_STATUSES.filter((s) => s !== 'active'))(
    'a %s person holds nothing, and the state says why',
    (status) => {
      const state = desiredState(
        person({ status }),
        ROLES,
        [grant('g-1', { role: 'finance-approver' }), grant('g-2', { entitlement: ent('vpn') })],
        NOW,
      );
      expect(state.roles).toEqual([]);
      expect(state.accounts).toEqual([]);
      expect(state.entitlements).toEqual([]);
      expect(state.problems).toEqual([]);
      expect(state.status).toBe(status);
      expect(state.noAccessBecause).toContain(status);
    },
  );

  test('a role held twice (rule and grant) gives its entitlements once', () => {
    const state = desiredState(person(), ROLES, [grant('g-2', { role: 'engineer' })], NOW);
    expect(groups(state)).toEqual([
      'all-staff',
      'cn=deployers,ou=groups,dc=example,dc=com',
      'engineering',
    ]);
    expect(state.entitlements.find((e) => e.value === 'engineering')?.sources).toEqual([
      'role:engineer',
    ]);
  });

  test('a role granted explicitly adds its entitlements, sourced to the role', () => {
    const state = desiredState(person(), ROLES, [grant('g-1', { role: 'finance-approver' })], NOW);
    expect(state.roles.map((r) => [r.name, r.why])).toContainEqual([
      'finance-approver',
      'grant:g-1',
    ]);
    expect(state.entitlements).toContainEqual({
      ...ent('payment-approvers'),
      sources: ['role:finance-approver'],
    });
  });

  test('an explicit grant of an entitlement adds it with the grant as its source; expired ones do not', () => {
    const state = desiredState(
      person(),
      ROLES,
      [
        grant('g-3', { entitlement: ent('vpn') }),
        grant('g-4', { entitlement: ent('engineering') }),
        grant('g-5', { entitlement: ent('old') }, '2025-05-31T00:00:00Z'),
      ],
      NOW,
    );
    expect(state.entitlements).toContainEqual({ ...ent('vpn'), sources: ['grant:g-3'] });
    expect(state.entitlements.find((e) => e.value === 'engineering')?.sources).toEqual([
      'role:engineer',
      'grant:g-4',
    ]);
    expect(groups(state)).not.toContain('old');
  });

  test('the same entitlement from two roles is listed once, with both sources', () => {
    const staff = role('staff', { birthright: true }, [dirGrant(['all-staff', 'engineering'])]);
    const state = desiredState(person(), [...ROLES, staff], [], NOW);
    expect(state.entitlements.filter((e) => e.value === 'all-staff')).toEqual([
      { ...ent('all-staff'), sources: ['role:employee', 'role:staff'] },
    ]);
    expect(state.entitlements.find((e) => e.value === 'engineering')?.sources).toEqual([
      'role:engineer',
      'role:staff',
    ]);
  });

  test('an account id with no username renders empty (the plan refuses to create it)', () => {
    const state = desiredState(person({ attributes: {} }), ROLES, [], NOW);
    expect(state.accounts[0]?.id).toBe('');
    expect(state.problems).toEqual([]);
  });

  test('an id that renders to a number is its text; an attribute that renders null is left out', () => {
    const numbered = role('numbered', { birthright: true }, [
      crmGrant([], {
        id: { expr: 'subject.attributes.employeeNumber' },
        attributes: {
          title: { expr: 'subject.?title' },
          locale: { lit: 'en' },
          nothing: { lit: null },
        },
      }),
    ]);
    const state = desiredState(
      person({ attributes: { employeeNumber: 1001 } }),
      [numbered],
      [],
      NOW,
    );
    expect(state.accounts).toEqual([
      {
        connector: CRM,
        connectorType: 'scim',
        id: '1001',
        attributes: { locale: 'en' },
        sources: ['role:numbered'],
      },
    ]);
  });

  test('two roles requiring the same account agree: one account, both sources, attributes merged', () => {
    const mailer = role('mailer', { birthright: true }, [
      dirGrant([], {
        id: { concat: [{ expr: 'subject.attributes.username' }] },
        attributes: { mail: { lit: 'ada@example.com' }, title: { lit: 'Engineer' } },
      }),
    ]);
    const state = desiredState(person(), [...ROLES, mailer], [], NOW);
    expect(state.problems).toEqual([]);
    expect(state.accounts).toEqual([
      {
        connector: DIR,
        connectorType: 'ldap',
        id: 'ada',
        attributes: { mail: 'ada@example.com', cn: 'Ada Lovelace', title: 'Engineer' },
        sources: ['role:employee', 'role:mailer'],
      },
    ]);
  });

  test('two roles giving the account different names is a problem naming both roles', () => {
    const other = role('other', { birthright: true }, [
      dirGrant([], { id: { lit: 'ada.lovelace' }, attributes: {} }),
    ]);
    const state = desiredState(person(), [...ROLES, other], [], NOW);
    expect(state.problems).toHaveLength(1);
    expect(state.problems[0]).toMatch(/role:employee.*role:other.*corp-directory/);
    expect(state.problems[0]).toContain('names');
  });

  test('two roles giving an attribute different values is a problem naming the attribute', () => {
    const other = role('other', { birthright: true }, [
      dirGrant([], { id: DIR_ACCOUNT.id, attributes: { mail: { lit: 'ada@corp.example' } } }),
    ]);
    const state = desiredState(person(), [...ROLES, other], [], NOW);
    expect(state.problems).toHaveLength(1);
    expect(state.problems[0]).toMatch(/role:employee.*role:other.*attribute mail/);
    expect(state.accounts[0]?.attributes.mail).toBe('ada@example.com');
  });

  test('a third role disagreeing names every role before it', () => {
    const same = role('same', { birthright: true }, [dirGrant([], DIR_ACCOUNT)]);
    const other = role('zother', { birthright: true }, [
      dirGrant([], { id: { lit: 'lovelace' }, attributes: { mail: { lit: 'l@example.com' } } }),
    ]);
    const state = desiredState(person(), [EMPLOYEE, same, other], [], NOW);
    expect(state.problems).toHaveLength(2);
    for (const problem of state.problems)
      expect(problem).toMatch(/^role:employee, role:same and role:zother /);
  });

  test('a role naming a group twice is its source once', () => {
    const twice = role('twice', { birthright: true }, [dirGrant(['vpn', 'vpn'])]);
    expect(desiredState(person(), [twice], [], NOW).entitlements).toEqual([
      { ...ent('vpn'), sources: ['role:twice'] },
    ]);
  });

  test('an account name that renders null (an absent optional) is empty, not "null"', () => {
    const optional = role('optional', { birthright: true }, [
      dirGrant([], { id: { expr: 'subject.attributes.?username' }, attributes: {} }),
    ]);
    expect(desiredState(person({ attributes: {} }), [optional], [], NOW).accounts[0]?.id).toBe('');
    expect(desiredState(person(), [optional], [], NOW).accounts[0]?.id).toBe('ada');
  });

  test('an account that cannot be rendered is a problem; the role still grants its entitlements', () => {
    const broken = role('broken', { birthright: true }, [
      crmGrant(['Everyone'], { id: { expr: 'subject.attributes.username + 1' }, attributes: {} }),
    ]);
    const state = desiredState(person(), [EMPLOYEE, broken], [], NOW);
    expect(state.problems).toEqual([expect.stringMatching(/role 'broken'.*crm/)]);
    expect(state.accounts.map((a) => a.connector)).toEqual([DIR]);
    expect(groups(state, CRM)).toEqual(['Everyone']);
  });

  test('an attribute that cannot be rendered is a problem too', () => {
    const broken = role('broken', { birthright: true }, [
      crmGrant([], { id: { lit: 'ada' }, attributes: { x: { expr: 'subject.nope.deeper' } } }),
    ]);
    const state = desiredState(person(), [broken], [], NOW);
    expect(state.problems).toEqual([expect.stringContaining("role 'broken'")]);
    expect(state.accounts).toEqual([]);
  });

  test('rule problems of an active person are the state’s problems', () => {
    const broken = role('broken', { when: 'subject.department.startsWith(1)' }, []);
    const state = desiredState(person(), [EMPLOYEE, broken], [], NOW);
    expect(state.problems).toEqual([expect.stringContaining("role 'broken'")]);
    expect(state.roles.map((r) => r.name)).toEqual(['employee']);
  });

  test('a role with neither birthright nor rule is held only by grant', () => {
    const roles: RoleIR[] = [FINANCE_APPROVER];
    expect(desiredState(person(), roles, [], NOW).entitlements).toEqual([]);
  });

  test('the finance role on its own, for a non-finance person, gives nothing', () => {
    const state = desiredState(person(), [FINANCE, ENGINEER], [], NOW);
    expect(state.accounts).toEqual([]);
    expect(groups(state, CRM)).toEqual([]);
  });

  // renderAccount used to turn these into 'ada,lovelace' and '[object Object]'.
  test.each([[['ada', 'lovelace']], [{ first: 'ada' }]])(
    'an account name that renders to %j is a problem, not a made-up name',
    (username) => {
      const state = desiredState(person({ attributes: { username } }), ROLES, [], NOW);
      expect(state.problems).toEqual([expect.stringContaining("role 'employee'")]);
      expect(state.accounts).toEqual([]);
    },
  );
});
