/**
 * Separation of duties: a grant that would complete a forbidden pair is held back (refused, or
 * made to wait on an approval); access a person already holds is never taken away by a rule.
 */
import { desiredState } from '../../../src/access/desired';
import { describeSide, grantConflicts, holdBack, sodReason } from '../../../src/access/sod';
import { managedScopes, observedBySod } from '../../../src/access/scope';
import type { AccessPlan } from '../../../src/access/types';
import {
  APPROVAL,
  CONNECTORS,
  CRM,
  DIR,
  EMPLOYEE,
  NOW,
  ROLES,
  actual,
  dirGrant,
  dn,
  ent,
  grant,
  key,
  ops,
  person,
  plan,
  role,
  side,
  sodRule,
} from './fixtures';

const ACCOUNT = { attributes: { mail: 'ada@example.com', cn: 'Ada Lovelace' } };
const ENGINEER_GROUPS = [ent('all-staff'), ent('engineering'), ent(dn('deployers'))];
/** Approving payments and deploying code: the engineer role grants `deployers` (as a DN). */
const APPROVE_VS_DEPLOY = sodRule(
  'approve-vs-deploy',
  side(['finance-approver']),
  side([], [ent('deployers')]),
);
const approver = grant('g-1', { role: 'finance-approver' });

describe('holding back grants', () => {
  test('a side held by hand, outside what idflow manages, still counts: the other side is held back', () => {
    // nobody's role names the rule's group `prod-admins`: the person holds it by hand
    const rule = sodRule(
      'approve-vs-admin',
      side(['finance-approver']),
      side([], [ent('prod-admins')]),
    );
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const held = [actual(DIR, [ent('all-staff'), ent('engineering')], ACCOUNT)];
    const blind = plan(desired, held, { sodRules: [rule] });
    expect(blind.heldBack).toEqual([]);
    const seen = plan(desired, held, { sodRules: [rule], observed: [ent('prod-admins')] });
    expect(ops(seen.heldBack.map((h) => h.change))).toEqual([
      `addEntitlement ${DIR} payment-approvers`,
    ]);
    // and the plan never touches it
    expect(ops([...seen.removals, ...seen.additions]).some((o) => o.includes('prod-admins'))).toBe(
      false,
    );
  });

  test('observedBySod lists the rule entitlements no role or grant names, per connector in scope', () => {
    const rule = sodRule(
      'r',
      side([], [ent('prod-admins'), ent('deployers')]),
      side([], [ent('x', CRM)]),
    );
    const { scopes } = managedScopes(ROLES, [], CONNECTORS, [], key);
    const observed = observedBySod([rule], scopes, key);
    expect(observed.get(DIR)).toEqual([ent('prod-admins')]);
  });

  test('holding one side and gaining the other: the new side is held back, naming both and the rule', () => {
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], {
      sodRules: [APPROVE_VS_DEPLOY],
    });
    expect(p.additions).toEqual([]);
    expect(p.heldBack).toEqual([
      {
        change: expect.objectContaining({
          op: 'addEntitlement',
          value: 'payment-approvers',
        }) as unknown,
        rule: 'approve-vs-deploy',
        reason: expect.stringContaining("'approve-vs-deploy'") as unknown,
        action: 'block',
      },
    ]);
    const { reason } = p.heldBack[0] ?? { reason: '' };
    expect(reason).toContain('role finance-approver');
    expect(reason).toContain('group deployers on corp-directory');
    expect(reason).toContain('payment-approvers');
    expect(reason).toContain('refused');
  });

  test('the other way round: an approver becoming an engineer has deployers held back, engineering granted', () => {
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, [ent('all-staff'), ent('payment-approvers')], ACCOUNT)], {
      sodRules: [APPROVE_VS_DEPLOY],
    });
    expect(ops(p.additions)).toEqual([`addEntitlement ${DIR} engineering`]);
    expect(ops(p.heldBack.map((h) => h.change))).toEqual([
      `addEntitlement ${DIR} ${dn('deployers')}`,
    ]);
  });

  test('a joiner given both sides at once: the second side (right) is held back', () => {
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, [], null)], { sodRules: [APPROVE_VS_DEPLOY] });
    expect(ops(p.additions)).toEqual([
      `createAccount ${DIR}`,
      `addEntitlement ${DIR} all-staff`,
      `addEntitlement ${DIR} engineering`,
      `addEntitlement ${DIR} payment-approvers`,
    ]);
    expect(ops(p.heldBack.map((h) => h.change))).toEqual([
      `addEntitlement ${DIR} ${dn('deployers')}`,
    ]);
  });

  test('a joiner, with the rule written the other way: the approver group is held back', () => {
    const reversed = sodRule(
      'deploy-vs-approve',
      side([], [ent('deployers')]),
      side(['finance-approver']),
    );
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, [], null)], { sodRules: [reversed] });
    expect(ops(p.heldBack.map((h) => h.change))).toEqual([
      `addEntitlement ${DIR} payment-approvers`,
    ]);
  });

  test('an existing violation is left alone: nothing removed, nothing held back', () => {
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(
      desired,
      [actual(DIR, [...ENGINEER_GROUPS, ent('payment-approvers')], ACCOUNT)],
      { sodRules: [APPROVE_VS_DEPLOY] },
    );
    expect(p.removals).toEqual([]);
    expect(p.additions).toEqual([]);
    expect(p.heldBack).toEqual([]);
  });

  test('a mover giving up one side may take the other: the removal comes first', () => {
    const desired = desiredState(person({ department: 'Finance' }), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], {
      sodRules: [APPROVE_VS_DEPLOY],
    });
    expect(p.heldBack).toEqual([]);
    expect(ops(p.removals)).toContain(`removeEntitlement ${DIR} ${dn('deployers')}`);
    expect(ops(p.additions)).toContain(`addEntitlement ${DIR} payment-approvers`);
  });

  test('a removal kept by a grace period still counts as held', () => {
    const desired = desiredState(person({ department: 'Finance' }), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], {
      sodRules: [APPROVE_VS_DEPLOY],
      keep: [ent('deployers')],
    });
    expect(ops(p.heldBack.map((h) => h.change))).toEqual([
      `addEntitlement ${DIR} payment-approvers`,
    ]);
  });

  test('action approval: the held-back grant carries the rule’s approval', () => {
    const rule = sodRule(
      'approve-vs-deploy',
      side(['finance-approver']),
      side([], [ent('deployers')]),
      'approval',
    );
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], { sodRules: [rule] });
    expect(p.heldBack).toEqual([
      expect.objectContaining({ action: 'approval', approval: APPROVAL }),
    ]);
    expect(p.heldBack[0]?.reason).toContain('approval');
    expect(p.heldBack[0]?.reason).not.toContain('refused');
  });

  test('a block rule carries no approval', () => {
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], {
      sodRules: [APPROVE_VS_DEPLOY],
    });
    expect(p.heldBack[0]).not.toHaveProperty('approval');
  });

  describe('an entitlement both sides grant does not count', () => {
    const reports = role('reports', { birthright: true }, [dirGrant(['finance-reports'])]);
    const payments = role('payments', {}, [dirGrant(['payment-approvers', 'finance-reports'])]);
    const audit = role('audit', {}, [dirGrant(['audit', 'finance-reports'])]);
    const roles = [EMPLOYEE, reports, payments, audit];
    const rule = sodRule('pay-vs-audit', side(['payments']), side(['audit']));

    test('holding the shared entitlement and gaining one side is no conflict', () => {
      const desired = desiredState(person(), roles, [grant('g-2', { role: 'audit' })], NOW);
      const p = plan(desired, [actual(DIR, [ent('all-staff'), ent('finance-reports')], ACCOUNT)], {
        roles,
        sodRules: [rule],
      });
      expect(p.heldBack).toEqual([]);
      expect(ops(p.additions)).toEqual([`addEntitlement ${DIR} audit`]);
    });

    test('holding one side and gaining the other holds back all the role grants, the shared one too', () => {
      const desired = desiredState(
        person(),
        roles,
        [grant('g-2', { role: 'audit' }), grant('g-3', { role: 'payments' })],
        NOW,
      );
      const p = plan(
        desired,
        [actual(DIR, [ent('all-staff'), ent('payment-approvers')], ACCOUNT)],
        {
          roles,
          sodRules: [rule],
        },
      );
      expect(ops(p.heldBack.map((h) => h.change))).toEqual([
        `addEntitlement ${DIR} finance-reports`,
        `addEntitlement ${DIR} audit`,
      ]);
      expect(p.additions).toEqual([]);
    });
  });

  test('access on connectors not being planned counts as desired', () => {
    const rule = sodRule(
      'crm-vs-deploy',
      side([], [ent('Finance', CRM)]),
      side([], [ent('deployers')]),
    );
    const desired = desiredState(
      person(),
      ROLES,
      [grant('g-4', { entitlement: ent('Finance', CRM) })],
      NOW,
    );
    const p = plan(desired, [actual(DIR, [ent('all-staff'), ent('engineering')], ACCOUNT)], {
      sodRules: [rule],
      only: [DIR],
    });
    expect(ops(p.heldBack.map((h) => h.change))).toEqual([
      `addEntitlement ${DIR} ${dn('deployers')}`,
    ]);
  });

  test('on a connector being planned, what a missing account would hold does not count', () => {
    const rule = sodRule(
      'crm-vs-deploy',
      side([], [ent('Finance', CRM)]),
      side([], [ent('deployers')]),
    );
    const desired = desiredState(person(), ROLES, [], NOW);
    const p = plan(
      desired,
      [
        actual(DIR, [ent('all-staff'), ent('engineering')], ACCOUNT),
        actual(CRM, [ent('Finance', CRM)], null),
      ],
      { sodRules: [rule] },
    );
    expect(p.heldBack).toEqual([]);
  });

  test('the outcome does not depend on the order the rules come in', () => {
    const named = ['m-rule', 'z-rule', 'a-rule'].map((name) => ({ ...APPROVE_VS_DEPLOY, name }));
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    const desired = desiredState(person(), ROLES, [approver], NOW);
    for (const order of orders) {
      const sodRules = order.map((i) => named[i] ?? APPROVE_VS_DEPLOY);
      const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], { sodRules });
      expect(p.heldBack.map((h) => h.rule)).toEqual(['a-rule']);
    }
  });

  test('only grants of entitlements are held back: the account a held-back role requires is still created', () => {
    const rule = sodRule('eng-vs-fin', side(['engineer']), side(['finance']));
    const desired = desiredState(person(), ROLES, [grant('g-6', { role: 'finance' })], NOW);
    const p = plan(desired, [actual(DIR, [], null), actual(CRM, [], null)], { sodRules: [rule] });
    expect(ops(p.additions)).toContain(`createAccount ${CRM}`);
    expect(ops(p.heldBack.map((h) => h.change))).toEqual([
      `addEntitlement ${DIR} finance`,
      `addEntitlement ${DIR} finance-reports`,
      `addEntitlement ${CRM} Finance`,
    ]);
  });

  test('a rule naming a role that is not active only counts its other entitlements', () => {
    const rule = sodRule(
      'gone-vs-deploy',
      side(['retired-role'], [ent('payment-approvers')]),
      side([], [ent('deployers')]),
    );
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], { sodRules: [rule] });
    expect(ops(p.heldBack.map((h) => h.change))).toEqual([
      `addEntitlement ${DIR} payment-approvers`,
    ]);
    expect(grantConflicts([], [ent('deployers')], [rule], ROLES, key)).toEqual([]);
  });

  test('two rules catching the same grant hold it back once, under the first rule by name', () => {
    const again = { ...APPROVE_VS_DEPLOY, name: 'z-again' };
    const first = { ...APPROVE_VS_DEPLOY, name: 'a-first' };
    const desired = desiredState(person(), ROLES, [approver], NOW);
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], { sodRules: [again, first] });
    expect(p.heldBack.map((h) => h.rule)).toEqual(['a-first']);
  });

  test('unrelated grants are not touched by a rule', () => {
    const desired = desiredState(
      person(),
      ROLES,
      [approver, grant('g-5', { entitlement: ent('vpn') })],
      NOW,
    );
    const p = plan(desired, [actual(DIR, ENGINEER_GROUPS, ACCOUNT)], {
      sodRules: [APPROVE_VS_DEPLOY],
      granted: [ent('vpn')],
    });
    expect(ops(p.additions)).toEqual([`addEntitlement ${DIR} vpn`]);
  });

  test('holdBack keeps what a plan already held back', () => {
    const earlier: AccessPlan = {
      personId: 'p-1001',
      status: 'active',
      connectors: [DIR],
      roles: [],
      removals: [],
      additions: [],
      kept: [],
      heldBack: [
        {
          change: {
            op: 'addEntitlement',
            connector: DIR,
            connectorType: 'ldap',
            account: 'ada',
            why: 'x',
          },
          rule: 'earlier',
          reason: 'earlier',
          action: 'block',
        },
      ],
      holds: [],
      unmanaged: {},
      problems: [],
    };
    const out = holdBack(earlier, {
      desired: desiredState(person(), [], [], NOW),
      actual: [],
      scopes: [],
      roles: ROLES,
      sodRules: [APPROVE_VS_DEPLOY],
      key: (e) => `${e.connector}/${e.kind}/${e.value}`,
    });
    expect(out.heldBack.map((h) => h.rule)).toEqual(['earlier']);
  });
});

describe('describing sides and reasons', () => {
  test.each([
    [side([]), 'nothing'],
    [side(['a']), 'role a'],
    [side(['a'], [ent('x')]), 'role a or group x on corp-directory'],
    [side(['a', 'b'], [ent('x', CRM)]), 'role a, role b or group x on crm'],
  ])('%j is "%s"', (s, text) => {
    expect(describeSide(s)).toBe(text);
  });

  test('a reason names the rule, both sides, what is held back and what happens to it', () => {
    const reason = sodReason(
      APPROVE_VS_DEPLOY,
      APPROVE_VS_DEPLOY.left,
      APPROVE_VS_DEPLOY.right,
      'the grant',
    );
    expect(reason).toMatch(/approve-vs-deploy/);
    expect(reason).toMatch(
      /group deployers on corp-directory may not be held together with role finance-approver/,
    );
    expect(reason).toMatch(/the grant is refused$/);
  });
});

describe('explicit grants that would break a rule', () => {
  const rules = [APPROVE_VS_DEPLOY];

  test('granting the approver group to an engineer breaks the rule; the reason names the grant’s side', () => {
    const out = grantConflicts(
      [ent(dn('deployers'))],
      [ent('payment-approvers')],
      rules,
      ROLES,
      key,
    );
    expect(out).toHaveLength(1);
    expect(out[0]?.rule).toBe(APPROVE_VS_DEPLOY);
    expect(out[0]?.reason).toMatch(
      /group deployers on corp-directory may not be held together with role finance-approver/,
    );
  });

  test('granting deployers (as a DN) to an approver: the reason puts deployers as the grant’s side', () => {
    const out = grantConflicts(
      [ent('payment-approvers')],
      [ent(dn('deployers'))],
      rules,
      ROLES,
      key,
    );
    expect(out).toHaveLength(1);
    expect(out[0]?.reason).toMatch(
      /role finance-approver may not be held together with group deployers/,
    );
  });

  test('a grant repeating a held side and adding the other names the added side', () => {
    const out = grantConflicts(
      [ent('deployers')],
      [ent('deployers'), ent('payment-approvers')],
      rules,
      ROLES,
      key,
    );
    expect(out[0]?.reason).toMatch(
      /group deployers on corp-directory may not be held together with role finance-approver/,
    );
  });

  test('a grant of both sides at once conflicts', () => {
    const out = grantConflicts([], [ent('payment-approvers'), ent('deployers')], rules, ROLES, key);
    expect(out.map((c) => c.rule.name)).toEqual(['approve-vs-deploy']);
  });

  test('nothing conflicts when one side is missing, or when both are held already', () => {
    expect(grantConflicts([ent('engineering')], [ent('deployers')], rules, ROLES, key)).toEqual([]);
    expect(grantConflicts([], [ent('payment-approvers')], rules, ROLES, key)).toEqual([]);
    expect(
      grantConflicts(
        [ent('deployers'), ent('payment-approvers')],
        [ent('deployers')],
        rules,
        ROLES,
        key,
      ),
    ).toEqual([]);
  });

  // like holdBack, grantConflicts leaves out what both sides grant
  test('an entitlement both sides grant does not count', () => {
    const payments = role('payments', {}, [dirGrant(['payment-approvers', 'finance-reports'])]);
    const audit = role('audit', {}, [dirGrant(['audit', 'finance-reports'])]);
    const rule = sodRule('pay-vs-audit', side(['payments']), side(['audit']));
    const roles = [payments, audit];
    expect(grantConflicts([], [ent('finance-reports')], [rule], roles, key)).toEqual([]);
    expect(grantConflicts([ent('audit')], [ent('finance-reports')], [rule], roles, key)).toEqual(
      [],
    );
  });

  test('every rule broken is listed', () => {
    const other = sodRule('approve-vs-engineer', side(['finance-approver']), side(['engineer']));
    const out = grantConflicts(
      [ent('engineering'), ent('deployers')],
      [ent('payment-approvers')],
      [other, ...rules],
      ROLES,
      key,
    );
    expect(out.map((c) => c.rule.name)).toEqual(['approve-vs-engineer', 'approve-vs-deploy']);
  });
});
