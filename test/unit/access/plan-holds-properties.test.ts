/**
 * Properties of holds over random roles, explicit grants, statuses and directory contents: a
 * held account is never planned enabled or created, and after the plan it is absent or
 * disabled; its groups are planned exactly as without the hold wherever the account exists;
 * and releasing restores the plan without the hold — the directory a held plan and then a
 * released one leave is the one the plan without a hold leaves.
 */
import * as fc from 'fast-check';
import { desiredState } from '../../../src/access/desired';
import type {
  AccessGrant,
  AccessPlan,
  AccountHold,
  ActualAccess,
  EntitlementRef,
} from '../../../src/access/types';
import type { RoleIR } from '../../../src/dsl/ir';
import type { PersonStatus } from '../../../src/model/person';
import { DIR, NOW, dirGrant, ent, grant, key, person, plan, role } from './fixtures';

const RUNS = { numRuns: 300 };

const group = fc.constantFrom('engineering', 'finance', 'deployers', 'all-staff', 'vpn', 'audit');

const world = fc.record({
  /** Whether some role requires the directory account (the staff birthright). */
  accountRole: fc.boolean(),
  roles: fc.array(fc.record({ held: fc.boolean(), groups: fc.array(group, { maxLength: 3 }) }), {
    maxLength: 3,
  }),
  /** Explicit grants of groups, some expired. */
  grants: fc.array(fc.record({ value: group, expired: fc.boolean() }), { maxLength: 3 }),
  status: fc.constantFrom<PersonStatus>('active', 'active', 'active', 'suspended'),
  account: fc.constantFrom('none', 'enabled', 'disabled'),
  groups: fc.array(group, { maxLength: 6 }),
  reasons: fc.uniqueArray(fc.constantFrom('dormant', 'investigation', 'leave'), {
    minLength: 1,
    maxLength: 2,
  }),
});
type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

interface Directory {
  account?: { enabled: boolean };
  groups: Set<string>;
}

interface Setup {
  roles: RoleIR[];
  grants: AccessGrant[];
  granted: EntitlementRef[];
  holds: AccountHold[];
  status: PersonStatus;
  before: Directory;
}

function setup(w: World): Setup {
  const account = { id: { lit: 'ada' }, attributes: {} };
  const roles: RoleIR[] = [
    ...(w.accountRole ? [role('staff', { birthright: true }, [dirGrant([], account)])] : []),
    ...w.roles.map((r, i) =>
      role(`r${i}`, r.held ? { birthright: true } : { when: 'false' }, [dirGrant(r.groups)]),
    ),
  ];
  const grants = w.grants.map((g, i) =>
    grant(
      `g-${i}`,
      { entitlement: ent(g.value) },
      g.expired ? '2025-05-01T00:00:00Z' : '2025-12-31T00:00:00Z',
    ),
  );
  const holds = w.reasons.map((reason, i) => ({
    id: `h-${i}`,
    personId: 'p-1001',
    connector: DIR,
    reason,
    placedBy: 'user:ops-1',
    placedAt: '2025-05-30T00:00:00.000Z',
  }));
  return {
    roles,
    grants,
    granted: w.grants.map((g) => ent(g.value)),
    holds,
    status: w.status,
    before: {
      ...(w.account === 'none' ? {} : { account: { enabled: w.account === 'enabled' } }),
      groups: new Set(w.account === 'none' ? [] : w.groups.map((g) => key(ent(g)))),
    },
  };
}

/** Every group some role or grant names: what reconcile reads and manages. */
function managed(s: Setup): Set<string> {
  return new Set([
    ...s.roles.flatMap((r) =>
      r.grants.flatMap((g) => g.entitlements.map((e) => key(ent(e.value)))),
    ),
    ...s.granted.map(key),
  ]);
}

function planFor(s: Setup, dir: Directory, holds: AccountHold[]): AccessPlan {
  const desired = desiredState(person({ status: s.status }), s.roles, s.grants, NOW, holds);
  const all = managed(s);
  const read: ActualAccess = {
    connector: DIR,
    connectorType: 'ldap',
    ...(dir.account
      ? {
          account: {
            id: 'ada',
            targetId: 'uid=ada,ou=people,dc=example,dc=com',
            enabled: dir.account.enabled,
            attributes: {},
          },
        }
      : {}),
    entitlements: [...dir.groups]
      .filter((k) => all.has(k))
      .map((k) => ent(k.split('\u0000')[2] ?? '')),
    unmanaged: [...dir.groups].filter((k) => !all.has(k)).length,
  };
  return plan(desired, [read], { roles: s.roles, granted: s.granted });
}

/** Carries the plan out against the directory: removals first, then additions. */
function apply(p: AccessPlan, dir: Directory): Directory {
  const groups = new Set(dir.groups);
  let account = dir.account ? { ...dir.account } : undefined;
  for (const c of [...p.removals, ...p.additions]) {
    if (c.connector !== DIR) continue;
    switch (c.op) {
      case 'removeEntitlement':
        groups.delete(key(ent(c.value ?? '')));
        break;
      case 'addEntitlement':
        // a target has no memberships for an account it does not have
        if (!account) throw new Error(`added ${c.value} to an account that is not there`);
        groups.add(key(ent(c.value ?? '')));
        break;
      case 'createAccount':
        account = { enabled: true };
        break;
      case 'enableAccount':
      case 'disableAccount':
        if (account) account.enabled = c.op === 'enableAccount';
        break;
      case 'deleteAccount':
        account = undefined;
        groups.clear();
        break;
      case 'updateAccount':
        break;
    }
  }
  return { ...(account ? { account } : {}), groups };
}

test('a held account is never planned enabled or created, and after the plan it is absent or disabled wherever reconcile reads', () => {
  fc.assert(
    fc.property(world, (w) => {
      const s = setup(w);
      const p = planFor(s, s.before, s.holds);
      const all = [...p.removals, ...p.additions, ...p.heldBack.map((h) => h.change)];
      for (const c of all.filter((x) => x.connector === DIR))
        expect(['createAccount', 'enableAccount']).not.toContain(c.op);
      const after = apply(p, s.before);
      if (p.connectors.includes(DIR)) expect(after.account?.enabled ?? false).toBe(false);
      // and it stays so: planned again, nothing enables it
      const again = planFor(s, after, s.holds);
      expect(again.removals.concat(again.additions).map((c) => c.op)).not.toContain(
        'enableAccount',
      );
      // the plan names every hold on a connector it covers (one no role or grant names is not
      // read, so nothing there changes)
      expect(p.holds.map((h) => h.id)).toEqual(
        p.connectors.includes(DIR) ? s.holds.map((h) => h.id) : [],
      );
    }),
    RUNS,
  );
});

test("where the account exists, a held account's groups are planned exactly as without the hold", () => {
  fc.assert(
    fc.property(world, (w) => {
      const s = setup({ ...w, account: w.account === 'none' ? 'disabled' : w.account });
      const groupOps = (p: AccessPlan) =>
        [...p.removals, ...p.additions]
          .filter((c) => c.op === 'addEntitlement' || c.op === 'removeEntitlement')
          .map((c) => `${c.op} ${c.value ?? ''}`);
      const held = planFor(s, s.before, s.holds);
      const free = planFor(s, s.before, []);
      expect(groupOps(held)).toEqual(groupOps(free));
      expect(held.problems).toEqual(free.problems);
    }),
    RUNS,
  );
});

test('releasing restores the plan without the hold: held then released ends where no hold would', () => {
  fc.assert(
    fc.property(world, (w) => {
      const s = setup(w);
      const whileHeld = apply(planFor(s, s.before, s.holds), s.before);
      const released = apply(planFor(s, whileHeld, []), whileHeld);
      const neverHeld = apply(planFor(s, s.before, []), s.before);
      expect([...released.groups].sort()).toEqual([...neverHeld.groups].sort());
      if (w.accountRole) {
        // an account a role requires comes back exactly as it would have been
        expect(released.account ?? null).toEqual(neverHeld.account ?? null);
      } else {
        // one no role requires is not managed: the hold disabled it, and nothing but a grant's
        // groups enables it again
        expect(released.account === undefined).toBe(neverHeld.account === undefined);
        if (released.account?.enabled !== neverHeld.account?.enabled)
          expect(released.account?.enabled).toBe(false);
      }
      expect(planFor(s, released, []).removals.concat(planFor(s, released, []).additions)).toEqual(
        [],
      );
    }),
    RUNS,
  );
});
