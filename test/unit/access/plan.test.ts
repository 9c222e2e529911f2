/**
 * The plan: desired access against what the targets hold. Removals (entitlements, then the
 * account disabled) and additions (the account created, enabled or updated, then entitlements)
 * are separate lists, carried out in that order; only what idflow manages is touched.
 */
import { desiredState } from '../../../src/access/desired';
import { describeChange, isEmptyPlan } from '../../../src/access/plan';
import type { Change } from '../../../src/access/types';
import type { JsonValue } from '../../../src/dsl/ir';
import {
  CRM,
  DIR,
  DIR_ACCOUNT,
  EMPLOYEE,
  ENGINEER,
  FINANCE,
  NOW,
  ROLES,
  actual,
  crmGrant,
  dirGrant,
  dn,
  ent,
  grant,
  ops,
  person,
  plan,
  role,
} from './fixtures';

const ENGINEER_GROUPS = [ent('all-staff'), ent('engineering'), ent(dn('deployers'))];
const ENGINEER_ACCOUNT = { attributes: { mail: 'ada@example.com', cn: 'Ada Lovelace' } };

const REMOVALS = new Set(['removeEntitlement', 'disableAccount', 'deleteAccount']);

describe('nothing to do', () => {
  test('what the directory holds is what the roles give: an empty plan', () => {
    const p = plan(desiredState(person(), ROLES, [], NOW), [
      actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT),
    ]);
    expect(isEmptyPlan(p)).toBe(true);
    expect(p).toMatchObject({
      personId: 'p-1001',
      status: 'active',
      connectors: [DIR, CRM],
      removals: [],
      additions: [],
      kept: [],
      heldBack: [],
      unmanaged: {},
      problems: [],
    });
    expect(p.roles.map((r) => r.name)).toEqual(['employee', 'engineer']);
  });

  test('groups read back as DNs in any spelling are the groups the roles name as cns', () => {
    const p = plan(desiredState(person(), ROLES, [], NOW), [
      actual(
        DIR,
        [
          ent('CN=All-Staff,OU=Groups,DC=example,DC=com'),
          ent('cn=engineering, ou=groups, dc=example, dc=com'),
          ent('deployers'),
        ],
        ENGINEER_ACCOUNT,
      ),
    ]);
    expect(isEmptyPlan(p)).toBe(true);
  });
});

describe('movers', () => {
  const moved = () => desiredState(person({ department: 'Finance' }), ROLES, [], NOW);

  test('engineering groups are removed, finance groups and the CRM account added', () => {
    const p = plan(moved(), [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT)]);
    expect(ops(p.removals)).toEqual([
      `removeEntitlement ${DIR} engineering`,
      `removeEntitlement ${DIR} ${dn('deployers')}`,
    ]);
    expect(ops(p.additions)).toEqual([
      `addEntitlement ${DIR} finance`,
      `addEntitlement ${DIR} finance-reports`,
      `createAccount ${CRM}`,
      `addEntitlement ${CRM} Finance`,
    ]);
    expect(isEmptyPlan(p)).toBe(false);
  });

  test('removals and additions are separate lists: nothing is added before every removal', () => {
    const p = plan(moved(), [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT)]);
    for (const c of p.removals) expect(REMOVALS.has(c.op)).toBe(true);
    for (const c of p.additions) expect(REMOVALS.has(c.op)).toBe(false);
  });

  test('each change names the account, its target id and why', () => {
    const p = plan(moved(), [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT)]);
    expect(p.removals[0]).toEqual({
      op: 'removeEntitlement',
      connector: DIR,
      connectorType: 'ldap',
      account: 'ada',
      targetId: 'uid=ada,ou=people,dc=example,dc=com',
      kind: 'group',
      value: 'engineering',
      why: expect.stringContaining('no role or grant') as unknown,
    });
    expect(p.additions[0]).toEqual({
      op: 'addEntitlement',
      connector: DIR,
      connectorType: 'ldap',
      account: 'ada',
      targetId: 'uid=ada,ou=people,dc=example,dc=com',
      kind: 'group',
      value: 'finance',
      why: 'role:finance',
    });
    const create = p.additions.find((c) => c.op === 'createAccount');
    expect(create).toEqual({
      op: 'createAccount',
      connector: CRM,
      connectorType: 'scim',
      account: 'ada@example.com',
      attributes: {},
      why: 'role:finance',
    });
    expect(p.additions.find((c) => c.connector === CRM && c.op === 'addEntitlement')).toEqual({
      op: 'addEntitlement',
      connector: CRM,
      connectorType: 'scim',
      account: 'ada@example.com',
      kind: 'group',
      value: 'Finance',
      why: 'role:finance',
    });
  });

  test('entitlements idflow does not manage are never removed, only counted', () => {
    const p = plan(moved(), [
      actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT, 4),
      actual(CRM, [], {}, 0),
    ]);
    expect(p.unmanaged).toEqual({ [DIR]: 4 });
    expect(p.removals.every((c) => c.connector === DIR)).toBe(true);
  });

  test('only the connectors asked for are planned', () => {
    const p = plan(moved(), [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT, 2)], { only: [CRM] });
    expect(p.connectors).toEqual([CRM]);
    expect(p.removals).toEqual([]);
    expect(p.unmanaged).toEqual({});
    expect(ops(p.additions)).toEqual([`createAccount ${CRM}`, `addEntitlement ${CRM} Finance`]);
  });
});

describe('grace', () => {
  test('a kept entitlement is not removed now: its removal is set aside', () => {
    const desired = desiredState(person({ department: 'Finance' }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT)], {
      keep: [ent('engineering')],
    });
    expect(ops(p.removals)).toEqual([`removeEntitlement ${DIR} ${dn('deployers')}`]);
    expect(ops(p.kept)).toEqual([`removeEntitlement ${DIR} engineering`]);
  });

  test('keep written as a DN keeps the group held as a cn, and the other way round', () => {
    const desired = desiredState(person({ department: 'Finance' }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT)], {
      keep: [ent(dn('engineering')), ent('deployers')],
    });
    expect(p.removals).toEqual([]);
    expect(ops(p.kept)).toEqual([
      `removeEntitlement ${DIR} engineering`,
      `removeEntitlement ${DIR} ${dn('deployers')}`,
    ]);
  });

  test('keep does not hold back disabling the account of a leaver', () => {
    const desired = desiredState(person({ status: 'terminated' }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, [ent('engineering')])], { keep: [ent('engineering')] });
    expect(ops(p.removals)).toEqual([`disableAccount ${DIR}`]);
    expect(ops(p.kept)).toEqual([`removeEntitlement ${DIR} engineering`]);
  });

  test('a plan whose only removals are kept changes nothing now', () => {
    const desired = desiredState(person({ status: 'terminated' }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, [ent('engineering')], { enabled: false })], {
      keep: [ent('engineering')],
    });
    expect(p.removals).toEqual([]);
    expect(p.kept).toHaveLength(1);
    expect(isEmptyPlan(p)).toBe(true);
  });
});

describe('leavers', () => {
  test('a disabled person: every managed entitlement removed, then the account disabled', () => {
    const desired = desiredState(person({ status: 'disabled' }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT, 2)]);
    expect(ops(p.removals)).toEqual([
      `removeEntitlement ${DIR} all-staff`,
      `removeEntitlement ${DIR} engineering`,
      `removeEntitlement ${DIR} ${dn('deployers')}`,
      `disableAccount ${DIR}`,
    ]);
    expect(p.additions).toEqual([]);
    expect(p.unmanaged).toEqual({ [DIR]: 2 });
    for (const c of p.removals) expect(c.why).toContain('disabled');
    expect(isEmptyPlan(p)).toBe(false);
    expect(p.removals[3]).toMatchObject({
      account: 'ada',
      targetId: expect.any(String) as unknown,
    });
  });

  test('a terminated finance person loses the CRM group and the CRM account too', () => {
    const desired = desiredState(
      person({ status: 'terminated', department: 'Finance' }),
      ROLES,
      [],
      NOW,
    );
    const p = plan(desired, [
      actual(DIR, [ent('all-staff')]),
      actual(CRM, [ent('Finance', CRM)], { id: 'ada@example.com' }),
    ]);
    expect(ops(p.removals)).toEqual([
      `removeEntitlement ${DIR} all-staff`,
      `disableAccount ${DIR}`,
      `removeEntitlement ${CRM} Finance`,
      `disableAccount ${CRM}`,
    ]);
  });

  test('an account already disabled is not disabled again; its groups still go', () => {
    const desired = desiredState(person({ status: 'suspended' }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, [ent('engineering')], { enabled: false })]);
    expect(ops(p.removals)).toEqual([`removeEntitlement ${DIR} engineering`]);
  });

  test('an active person no role requires an account for: the account is disabled', () => {
    const desired = desiredState(person(), ROLES, [], NOW);
    const p = plan(desired, [
      actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT),
      actual(CRM, [ent('Finance', CRM)]),
    ]);
    expect(ops(p.removals)).toEqual([`removeEntitlement ${CRM} Finance`, `disableAccount ${CRM}`]);
    expect(p.removals[1]?.why).toContain(CRM);
  });

  test('a connector where no role requires an account: groups are removed, the account left alone', () => {
    const roles = [EMPLOYEE, role('sales', { when: 'false' }, [crmGrant(['Sales'])])];
    const desired = desiredState(person({ status: 'disabled' }), roles, [], NOW);
    const p = plan(desired, [actual(CRM, [ent('Sales', CRM)])], { roles });
    expect(ops(p.removals)).toEqual([`removeEntitlement ${CRM} Sales`]);
  });

  test('without an account nothing is held: no removals', () => {
    const desired = desiredState(person({ status: 'disabled' }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, null)]);
    expect(p.removals).toEqual([]);
    expect(isEmptyPlan(p)).toBe(true);
  });
});

describe('joiners', () => {
  test('no account: it is created with its attributes, then given its groups', () => {
    const p = plan(desiredState(person(), ROLES, [], NOW), [actual(DIR, [], null)]);
    expect(isEmptyPlan(p)).toBe(false);
    expect(ops(p.additions)).toEqual([
      `createAccount ${DIR}`,
      `addEntitlement ${DIR} all-staff`,
      `addEntitlement ${DIR} engineering`,
      `addEntitlement ${DIR} ${dn('deployers')}`,
    ]);
    expect(p.additions[0]).toEqual({
      op: 'createAccount',
      connector: DIR,
      connectorType: 'ldap',
      account: 'ada',
      attributes: { mail: 'ada@example.com', cn: 'Ada Lovelace' },
      why: 'role:employee',
    });
    for (const c of p.additions) {
      expect(c.account).toBe('ada');
      expect(c.targetId).toBeUndefined();
    }
  });

  test('a connector that was not read counts as holding nothing', () => {
    const p = plan(desiredState(person(), ROLES, [], NOW), []);
    expect(ops(p.additions)[0]).toBe(`createAccount ${DIR}`);
  });

  test('an account whose name renders empty cannot be created: a problem, and nothing added there', () => {
    const desired = desiredState(person({ attributes: {}, department: 'Finance' }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, [], null)]);
    expect(p.problems).toEqual([expect.stringMatching(/corp-directory.*role:employee.*empty/)]);
    expect(p.additions.some((c) => c.connector === DIR)).toBe(false);
    expect(ops(p.additions)).toEqual([`createAccount ${CRM}`, `addEntitlement ${CRM} Finance`]);
  });

  test('an existing account is used even when the name renders empty', () => {
    const desired = desiredState(person({ attributes: {} }), ROLES, [], NOW);
    const p = plan(desired, [actual(DIR, [ent('all-staff')], ENGINEER_ACCOUNT)]);
    expect(p.problems).toEqual([]);
    expect(p.additions.map((c) => c.account)).toEqual(['ada', 'ada']);
  });

  test('the desired state’s problems stay problems of the plan', () => {
    const broken = role('broken', { when: 'subject.department.startsWith(1)' }, []);
    const desired = desiredState(person(), [...ROLES, broken], [], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT)]);
    expect(p.problems).toEqual([expect.stringContaining("role 'broken'")]);
  });
});

describe('accounts', () => {
  test('a disabled account that is needed is enabled first, then given what it lacks', () => {
    const p = plan(desiredState(person(), ROLES, [], NOW), [
      actual(DIR, [ent('all-staff')], { ...ENGINEER_ACCOUNT, enabled: false }),
    ]);
    expect(ops(p.additions)).toEqual([
      `enableAccount ${DIR}`,
      `addEntitlement ${DIR} engineering`,
      `addEntitlement ${DIR} ${dn('deployers')}`,
    ]);
    expect(p.additions[0]).toMatchObject({
      account: 'ada',
      targetId: expect.any(String) as unknown,
      why: 'role:employee',
    });
  });

  test('only the attributes that drifted are updated, after the enable', () => {
    const p = plan(desiredState(person(), ROLES, [], NOW), [
      actual(DIR, ENGINEER_GROUPS, {
        enabled: false,
        attributes: { mail: 'ada@old.example', cn: 'Ada Lovelace', title: 'untouched' },
      }),
    ]);
    expect(p.additions).toEqual([
      expect.objectContaining({ op: 'enableAccount' }),
      {
        op: 'updateAccount',
        connector: DIR,
        connectorType: 'ldap',
        account: 'ada',
        targetId: 'uid=ada,ou=people,dc=example,dc=com',
        attributes: { mail: 'ada@example.com' },
        why: 'role:employee',
      },
    ]);
  });

  const withAttributes = (attributes: Record<string, JsonValue>) =>
    role('typed', { birthright: true }, [
      dirGrant([], {
        id: DIR_ACCOUNT.id,
        attributes: Object.fromEntries(
          Object.entries(attributes).map(([name, lit]) => [name, { lit }]),
        ),
      }),
    ]);

  function drift(wanted: JsonValue, held: JsonValue | undefined): Change[] {
    const roles = [withAttributes({ a: wanted })];
    const desired = desiredState(person(), roles, [], NOW);
    return plan(desired, [actual(DIR, [], { attributes: held === undefined ? {} : { a: held } })], {
      roles,
    }).additions;
  }

  test.each<[string, JsonValue, JsonValue | undefined]>([
    ['empty text and absent', '', undefined],
    ['an empty list and absent', [], undefined],
    ['empty text and an empty list', '', []],
    ['an empty list and empty text', [], ''],
    ['a value and a one-element list', 'x', ['x']],
    ['a one-element list and a value', ['x'], 'x'],
    ['lists in another order', ['a', 'b'], ['b', 'a']],
    ['a number and its text', 42, '42'],
    ['a list with empty entries and without', ['x', ''], ['x']],
    ['a list and the same with null entries', ['x'], ['x', null]],
    ['empty text and null', '', null],
    ['equal maps', { k: 'v' }, { k: 'v' }],
  ])('%s are the same value: no update', (_, wanted, held) => {
    expect(drift(wanted, held)).toEqual([]);
  });

  test.each<[string, JsonValue, JsonValue | undefined]>([
    ['a value and absent', 'x', undefined],
    ['empty text and a value (the attribute is cleared)', '', 'x'],
    ['different values', 'x', 'y'],
    ['a value and a longer list', 'x', ['x', 'y']],
    ['different maps', { k: 'v' }, { k: 'w' }],
    ['a map and text', { k: 'v' }, 'v'],
  ])('%s differ: an update writing the wanted value', (_, wanted, held) => {
    expect(drift(wanted, held)).toEqual([
      expect.objectContaining({ op: 'updateAccount', attributes: { a: wanted } }),
    ]);
  });
});

describe('attributes as targets return them', () => {
  const scimName = role('named', { birthright: true }, [
    crmGrant([], {
      id: { lit: 'ada' },
      attributes: { name: { lit: { givenName: 'Ada', familyName: 'Lovelace' } } },
    }),
  ]);
  const roles = [scimName];
  const additions = (held: Record<string, JsonValue>) =>
    plan(desiredState(person(), roles, [], NOW), [actual(CRM, [], { attributes: held })], {
      roles,
    }).additions;

  test('a structured value is compared by the fields the role gives: others the target adds do not count', () => {
    expect(
      additions({ name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' } }),
    ).toEqual([]);
  });

  test('a structured value missing a field, with a field changed, or absent (null), drifts', () => {
    const drifted: JsonValue[] = [
      { givenName: 'Ada' },
      { givenName: 'Ada', familyName: 'Byron' },
      'Ada',
      null,
    ];
    for (const name of drifted) {
      expect(additions({ name })).toEqual([
        expect.objectContaining({
          op: 'updateAccount',
          attributes: { name: { givenName: 'Ada', familyName: 'Lovelace' } },
        }),
      ]);
    }
  });

  test('attribute and field names are compared without regard to case, as directories do', () => {
    expect(additions({ Name: { GivenName: 'Ada', FAMILYNAME: 'Lovelace' } })).toEqual([]);
    expect(additions({ NAME: { givenname: 'Ada', familyname: 'Byron' } })).toHaveLength(1);
  });

  test('an exact name wins over one that differs only in case', () => {
    expect(
      additions({
        NAME: { givenName: 'Other' },
        name: { givenName: 'Ada', familyName: 'Lovelace' },
      }),
    ).toEqual([]);
  });
});

describe('account changes name every role that requires the account', () => {
  const mailer = role('mailer', { birthright: true }, [
    dirGrant([], { id: DIR_ACCOUNT.id, attributes: { title: { lit: 'Engineer' } } }),
  ]);
  const roles = [...ROLES, mailer];
  const desired = () => desiredState(person(), roles, [], NOW);

  test('create', () => {
    const p = plan(desired(), [actual(DIR, [], null)], { roles });
    expect(p.additions[0]).toMatchObject({
      op: 'createAccount',
      why: 'role:employee, role:mailer',
    });
  });

  test('enable and update', () => {
    const p = plan(desired(), [actual(DIR, ENGINEER_GROUPS, { enabled: false })], { roles });
    expect(p.additions.map((c) => [c.op, c.why])).toEqual([
      ['enableAccount', 'role:employee, role:mailer'],
      ['updateAccount', 'role:employee, role:mailer'],
    ]);
  });
});

describe('explicit entitlement grants', () => {
  const vpn = ent('VPN', CRM);

  test('a granted entitlement on a connector where nothing gives an account is a problem', () => {
    const desired = desiredState(person(), ROLES, [grant('g-3', { entitlement: vpn })], NOW);
    const p = plan(
      desired,
      [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT), actual(CRM, [], null)],
      {
        granted: [vpn],
      },
    );
    expect(p.problems).toEqual([expect.stringMatching(/group VPN on crm need an account/)]);
    expect(p.additions).toEqual([]);
  });

  test('an existing account gets it; the account is kept', () => {
    const desired = desiredState(person(), ROLES, [grant('g-3', { entitlement: vpn })], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT), actual(CRM, [], {})], {
      granted: [vpn],
    });
    expect(p.problems).toEqual([]);
    expect(p.removals).toEqual([]);
    expect(p.additions).toEqual([
      expect.objectContaining({
        op: 'addEntitlement',
        connector: CRM,
        value: 'VPN',
        why: 'grant:g-3',
      }),
    ]);
  });

  test('a disabled account holding a granted entitlement is enabled', () => {
    const desired = desiredState(person(), ROLES, [grant('g-3', { entitlement: vpn })], NOW);
    const p = plan(
      desired,
      [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT), actual(CRM, [vpn], { enabled: false })],
      {
        granted: [vpn],
      },
    );
    expect(ops(p.additions)).toEqual([`enableAccount ${CRM}`]);
    expect(p.additions[0]?.why).toContain('granted');
  });

  test('when the grant ends, the entitlement goes and then the account', () => {
    const desired = desiredState(
      person(),
      ROLES,
      [grant('g-3', { entitlement: vpn }, '2025-06-01T00:00:00Z')],
      NOW,
    );
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT), actual(CRM, [vpn])], {
      granted: [vpn],
    });
    expect(ops(p.removals)).toEqual([`removeEntitlement ${CRM} VPN`, `disableAccount ${CRM}`]);
  });
});

// One group however roles write it: a cn and its DN are merged before the diff.
test('a group two roles name as cn and as DN is added once, with both roles as sources', () => {
  const cn = role('cn-role', { birthright: true }, [dirGrant(['engineering'], DIR_ACCOUNT)]);
  const dnRole = role('dn-role', { birthright: true }, [dirGrant([dn('engineering')])]);
  const roles = [cn, dnRole];
  const p = plan(desiredState(person(), roles, [], NOW), [actual(DIR, [], {})], { roles });
  const adds = p.additions.filter((c) => c.op === 'addEntitlement');
  expect(adds).toHaveLength(1);
  expect(adds[0]?.why).toMatch(/role:cn-role.*role:dn-role/);
});

describe('describing changes', () => {
  const base = { connector: DIR, connectorType: 'ldap', account: 'ada', why: 'test' };
  test.each<[Change, string]>([
    [{ ...base, op: 'addEntitlement', kind: 'group', value: 'finance' }, 'add group finance'],
    [{ ...base, op: 'removeEntitlement', kind: 'group', value: 'finance' }, 'remove group finance'],
    [{ ...base, op: 'createAccount' }, 'create account'],
    [{ ...base, op: 'enableAccount' }, 'enable account'],
    [{ ...base, op: 'disableAccount' }, 'disable account'],
    [{ ...base, op: 'deleteAccount' }, 'delete account'],
    [{ ...base, op: 'updateAccount', attributes: { title: 'x', mail: 'y' } }, 'update mail, title'],
  ])('%j reads "%s"', (change, text) => {
    expect(describeChange(change)).toBe(text);
  });

  test('an op it does not know is an error, not silence', () => {
    expect(() => describeChange({ ...base, op: 'renameAccount' as Change['op'] })).toThrow(
      /renameAccount/,
    );
  });
});

test('finance and engineer roles on their own plan nothing for a person who holds nothing', () => {
  const roles = [ENGINEER, FINANCE];
  const p = plan(
    desiredState(person({ department: 'Sales' }), roles, [], NOW),
    [actual(DIR, [], null)],
    { roles },
  );
  expect(isEmptyPlan(p)).toBe(true);
  expect(p.problems).toEqual([]);
});
