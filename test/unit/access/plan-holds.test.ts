/**
 * Holds in the plan: an account under a hold is disabled if enabled, never enabled or created
 * while held, and its groups are planned as they would be otherwise (so it comes back whole
 * when the hold is lifted); the plan names the hold, and its summary carries the hold's id,
 * never its reason. Lifting the hold gives the plan without it.
 */
import { desiredState } from '../../../src/access/desired';
import { isEmptyPlan, planAccess, planSummary } from '../../../src/access/plan';
import { managedScopes } from '../../../src/access/scope';
import type { AccountHold, ActualAccess } from '../../../src/access/types';
import type { ConnectorIR } from '../../../src/dsl/ir';
import type { PersonStatus } from '../../../src/model/person';
import {
  CONNECTORS,
  CRM,
  DIR,
  NOW,
  ROLES,
  actual,
  dn,
  ent,
  grant,
  key,
  ops,
  person,
  plan,
  role,
  dirGrant,
} from './fixtures';

const ENGINEER_GROUPS = [ent('all-staff'), ent('engineering'), ent(dn('deployers'))];
const ENGINEER_ACCOUNT = { attributes: { mail: 'ada@example.com', cn: 'Ada Lovelace' } };
const ENABLES = new Set(['createAccount', 'enableAccount']);

function hold(over: Partial<AccountHold> = {}): AccountHold {
  return {
    id: 'h-1',
    personId: 'p-1001',
    connector: DIR,
    reason: 'dormant',
    placedBy: 'run:flow/dormant-accounts/schedule.nightly-1',
    placedAt: '2025-05-30T02:00:00.000Z',
    ...over,
  };
}

const desired = (holds: AccountHold[], over: Parameters<typeof person>[0] = {}) =>
  desiredState(person(over), ROLES, [], NOW, holds);

const onDir = (changes: { connector: string; op: string }[]) =>
  changes.filter((c) => c.connector === DIR).map((c) => c.op);

describe('an account under a hold', () => {
  test('enabled: the plan disables it, says why, and names the hold', () => {
    const p = plan(desired([hold()]), [
      actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT),
      actual(CRM, [], null),
    ]);
    expect(ops(p.removals)).toEqual([`disableAccount ${DIR}`]);
    expect(p.removals[0]?.why).toBe('held: dormant (run:flow/dormant-accounts/schedule.nightly-1)');
    expect(p.additions).toEqual([]);
    expect(p.holds).toEqual([{ ...hold(), account: 'ada' }]);
  });

  test('disabled: it stays disabled though the roles require it; its groups are as they were', () => {
    const p = plan(desired([hold()]), [
      actual(DIR, ENGINEER_GROUPS, { ...ENGINEER_ACCOUNT, enabled: false }),
    ]);
    expect(isEmptyPlan(p)).toBe(true);
    expect(p.holds.map((h) => h.account)).toEqual(['ada']);
  });

  test('without the hold, the same disabled account is enabled', () => {
    const p = plan(desired([]), [
      actual(DIR, ENGINEER_GROUPS, { ...ENGINEER_ACCOUNT, enabled: false }),
    ]);
    expect(ops(p.additions)).toEqual([`enableAccount ${DIR}`]);
    expect(p.holds).toEqual([]);
  });

  test('its groups are planned as without the hold: a mover loses the old ones and gets the new ones, removals first', () => {
    const read = [actual(DIR, ENGINEER_GROUPS, { ...ENGINEER_ACCOUNT, enabled: false })];
    const held = plan(desired([hold()], { department: 'Finance' }), read);
    const free = plan(desired([], { department: 'Finance' }), read);
    expect(ops(held.removals)).toEqual(ops(free.removals));
    expect(ops(held.removals)).toEqual([
      `removeEntitlement ${DIR} engineering`,
      `removeEntitlement ${DIR} ${dn('deployers')}`,
    ]);
    // everything the free plan adds on the directory but the enable
    expect(onDir(held.additions)).toEqual(onDir(free.additions).filter((op) => !ENABLES.has(op)));
    expect(ops(held.additions.filter((c) => c.connector === DIR))).toEqual([
      `addEntitlement ${DIR} finance`,
      `addEntitlement ${DIR} finance-reports`,
    ]);
    // the CRM account, which is not held, is created as usual
    expect(ops(held.additions.filter((c) => c.connector === CRM))).toEqual([
      `createAccount ${CRM}`,
      `addEntitlement ${CRM} Finance`,
    ]);
  });

  test('its attributes are kept in line while it is disabled', () => {
    const p = plan(desired([hold()]), [
      actual(DIR, ENGINEER_GROUPS, { attributes: { mail: 'old@example.com', cn: 'Ada Lovelace' } }),
    ]);
    expect(ops(p.removals)).toEqual([`disableAccount ${DIR}`]);
    expect(p.additions.map((c) => [c.op, c.attributes])).toEqual([
      ['updateAccount', { mail: 'ada@example.com' }],
    ]);
  });

  test('absent from the target: not created while held, nothing added to it, and no problem', () => {
    const p = plan(desired([hold()]), [actual(DIR, [], null)]);
    expect(p.removals).toEqual([]);
    expect(onDir(p.additions)).toEqual([]);
    expect(p.problems).toEqual([]);
    expect(p.holds).toEqual([{ ...hold(), account: '' }]);
    // released, it is created with its groups
    const released = plan(desired([]), [actual(DIR, [], null)]);
    expect(onDir(released.additions)).toEqual([
      'createAccount',
      'addEntitlement',
      'addEntitlement',
      'addEntitlement',
    ]);
  });

  test('two holds on one account: both named, one disable', () => {
    const second = hold({ id: 'h-2', reason: 'investigation', placedBy: 'user:sec-1' });
    const p = plan(desired([hold(), second]), [actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT)]);
    expect(ops(p.removals)).toEqual([`disableAccount ${DIR}`]);
    expect(p.removals[0]?.why).toBe(
      'held: dormant (run:flow/dormant-accounts/schedule.nightly-1); investigation (user:sec-1)',
    );
    expect(p.holds.map((h) => h.id)).toEqual(['h-1', 'h-2']);
  });

  test('a hold on another connector leaves the directory account alone', () => {
    const p = plan(desired([hold({ connector: CRM })]), [
      actual(DIR, ENGINEER_GROUPS, { ...ENGINEER_ACCOUNT, enabled: false }),
    ]);
    expect(ops(p.additions)).toEqual([`enableAccount ${DIR}`]);
    expect(p.holds.map((h) => h.connector)).toEqual([CRM]);
  });

  test("another person's hold counts for nothing", () => {
    const p = plan(desired([hold({ personId: 'p-other' })]), [
      actual(DIR, ENGINEER_GROUPS, { ...ENGINEER_ACCOUNT, enabled: false }),
    ]);
    expect(ops(p.additions)).toEqual([`enableAccount ${DIR}`]);
    expect(p.holds).toEqual([]);
  });

  test('an account only a grant needs (no role requires one) is not enabled while held', () => {
    const roles = [role('vpn', { birthright: true }, [dirGrant(['vpn'])])];
    const read: ActualAccess[] = [actual(DIR, [], { enabled: false })];
    const held = desiredState(person(), roles, [], NOW, [hold()]);
    expect(ops(plan(held, read, { roles }).additions)).toEqual([`addEntitlement ${DIR} vpn`]);
    const free = desiredState(person(), roles, [], NOW);
    expect(ops(plan(free, read, { roles }).additions)).toEqual([
      `enableAccount ${DIR}`,
      `addEntitlement ${DIR} vpn`,
    ]);
  });

  test('an explicit grant on a held account is added, the account stays disabled', () => {
    const g = grant('g-1', { entitlement: ent('market-data') });
    const d = desiredState(person(), ROLES, [g], NOW, [hold()]);
    const p = plan(d, [actual(DIR, ENGINEER_GROUPS, { ...ENGINEER_ACCOUNT, enabled: false })], {
      granted: [ent('market-data')],
    });
    expect(ops(p.additions)).toEqual([`addEntitlement ${DIR} market-data`]);
  });
});

describe("the person's status comes first", () => {
  test.each<PersonStatus>(['suspended', 'disabled', 'termination-pending'])(
    '%s: groups removed and the account disabled for the status, the hold still named',
    (status) => {
      const p = plan(desired([hold()], { status }), [
        actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT),
      ]);
      expect(ops(p.removals)).toEqual([
        `removeEntitlement ${DIR} all-staff`,
        `removeEntitlement ${DIR} engineering`,
        `removeEntitlement ${DIR} ${dn('deployers')}`,
        `disableAccount ${DIR}`,
      ]);
      expect(p.removals.at(-1)?.why).toBe(`the person is ${status}`);
      expect(p.additions).toEqual([]);
      expect(p.holds).toHaveLength(1);
    },
  );

  test('terminated, on a connector that deletes on termination: deleted, hold or not', () => {
    const deleting: ReadonlyMap<string, ConnectorIR> = new Map(
      [...CONNECTORS].map(([name, c]) => [
        name,
        name === DIR ? { ...c, accounts: { onTermination: 'delete' as const } } : c,
      ]),
    );
    const { scopes } = managedScopes(ROLES, [], deleting, [], key);
    const p = planAccess({
      desired: desired([hold()], { status: 'terminated' }),
      actual: [actual(DIR, [], { ...ENGINEER_ACCOUNT, enabled: false })],
      scopes,
      roles: ROLES,
      sodRules: [],
      key,
    });
    expect(ops(p.removals)).toEqual([`deleteAccount ${DIR}`]);
  });
});

test("the plan's summary names each hold by id and account, never by its reason", () => {
  const p = plan(desired([hold({ reason: 'asked by Ada Lovelace' })]), [
    actual(DIR, ENGINEER_GROUPS, ENGINEER_ACCOUNT),
  ]);
  const summary = planSummary(p);
  expect(summary.holds).toEqual([`${DIR}: held (hold h-1) (ada)`]);
  expect(JSON.stringify(summary)).not.toContain('Lovelace');
});

test('desiredState keeps the holds it is given, whatever the status', () => {
  expect(desired([hold()]).holds).toEqual([hold()]);
  expect(desired([hold()], { status: 'disabled' }).holds).toEqual([hold()]);
  expect(desired([]).holds).toEqual([]);
});
