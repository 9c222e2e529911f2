/**
 * Properties of the plan over random roles and random directory contents (groups written as a
 * cn or a DN in any spelling): carrying the plan out gives exactly the desired groups plus the
 * unmanaged ones, planning again finds nothing to do, no group is both removed and added, and a
 * separation-of-duties rule is never completed by the plan.
 */
import * as fc from 'fast-check';
import { desiredState } from '../../../src/access/desired';
import { isEmptyPlan } from '../../../src/access/plan';
import type { AccessPlan, ActualAccess, EntitlementRef } from '../../../src/access/types';
import type { RoleIR, SodRuleIR, SodSideIR } from '../../../src/dsl/ir';
import type { PersonStatus } from '../../../src/model/person';
import { DIR, NOW, dirGrant, dn, ent, key, person, plan, role, sodRule } from './fixtures';

const RUNS = { numRuns: 200 };

const NAMES = ['engineering', 'finance', 'deployers', 'all-staff', 'payment-approvers', 'audit'];

const groupName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NAMES) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,5}$/) },
);

type Form = 'cn' | 'dn' | 'loud';
const form = fc.constantFrom<Form>('cn', 'dn', 'loud');

/** A group as a definition or a directory may write it. */
function written(name: string, how: Form): string {
  if (how === 'cn') return name;
  if (how === 'dn') return dn(name);
  return `CN=${name.toUpperCase()}, OU=Groups, DC=example, DC=com`;
}

const group = fc.tuple(groupName, form).map(([name, how]) => written(name, how));

/** The cn of a group written either way. */
function nameOf(value: string): string {
  return /^cn=([^,]+),/i.exec(value)?.[1]?.toLowerCase() ?? value;
}

/** A side of a rule: picks among the roles and the groups they grant, resolved by index. */
const sideSpec = fc.record({
  roles: fc.array(fc.nat(), { maxLength: 2 }),
  groups: fc.array(fc.tuple(fc.nat(), form), { minLength: 1, maxLength: 2 }),
});

const world = fc.record({
  roles: fc.array(fc.record({ held: fc.boolean(), groups: fc.array(group, { maxLength: 4 }) }), {
    minLength: 1,
    maxLength: 4,
  }),
  status: fc.constantFrom<PersonStatus>('active', 'active', 'active', 'disabled'),
  account: fc.constantFrom('none', 'enabled', 'disabled'),
  held: fc.array(group, { maxLength: 8 }),
  /** Groups a grace period keeps: mostly ones the directory holds, in another form. */
  keep: fc.array(fc.tuple(fc.nat(), form), { maxLength: 2 }),
  rules: fc.array(fc.record({ left: sideSpec, right: sideSpec }), { minLength: 1, maxLength: 2 }),
});
type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

/** What the directory holds: an account or not, and groups by key (as the directory writes them). */
interface Directory {
  account?: { enabled: boolean; attributes: Record<string, unknown> };
  groups: Map<string, string>;
}

interface Setup {
  roles: RoleIR[];
  sodRules: SodRuleIR[];
  status: PersonStatus;
  keep: EntitlementRef[];
  before: Directory;
}

function setup(w: World): Setup {
  const roles: RoleIR[] = [
    role('account', { birthright: true }, [
      dirGrant([], { id: { lit: 'ada' }, attributes: { mail: { lit: 'ada@example.com' } } }),
    ]),
    ...w.roles.map((r, i) =>
      role(`r${i}`, r.held ? { birthright: true } : { when: 'false' }, [dirGrant(r.groups)]),
    ),
  ];
  const granted = w.roles.flatMap((r) => r.groups);
  const pick = (among: string[], [i, how]: [number, Form]) =>
    among.length === 0 ? [] : [ent(written(nameOf(among[i % among.length] ?? ''), how))];
  const resolve = (s: World['rules'][number]['left']): SodSideIR => ({
    roles: s.roles.map((i) => `r${i % w.roles.length}`),
    // a side names groups some role grants (so idflow reads them), in any form
    entitlements: s.groups.flatMap((g) => pick(granted, g)),
  });
  const sodRules = w.rules.map((r, i) => sodRule(`rule-${i}`, resolve(r.left), resolve(r.right)));
  const groups = new Map<string, string>();
  if (w.account !== 'none') {
    for (const value of w.held)
      if (!groups.has(key(ent(value)))) groups.set(key(ent(value)), value);
  }
  return {
    roles,
    sodRules,
    status: w.status,
    keep: w.keep.flatMap((k) => pick(w.held, k)),
    before: {
      ...(w.account === 'none'
        ? {}
        : { account: { enabled: w.account === 'enabled', attributes: {} } }),
      groups,
    },
  };
}

/** The plan for what the directory holds, read the way the LDAP adapter reads it. */
function planFor(s: Setup, held: Directory): AccessPlan {
  const desired = desiredState(person({ status: s.status }), s.roles, [], NOW);
  const managed = managedKeys(s.roles);
  const listed = [...held.groups.values()].filter((value) => managed.has(key(ent(value))));
  const read: ActualAccess = {
    connector: DIR,
    connectorType: 'ldap',
    ...(held.account
      ? {
          account: {
            id: 'ada',
            targetId: 'uid=ada,ou=people,dc=example,dc=com',
            enabled: held.account.enabled,
            attributes: held.account.attributes as Record<string, string>,
          },
        }
      : {}),
    entitlements: listed.map((value) => ent(value)),
    unmanaged: held.groups.size - listed.length,
  };
  return plan(desired, [read], { roles: s.roles, sodRules: s.sodRules, keep: s.keep });
}

function managedKeys(roles: RoleIR[]): Set<string> {
  return new Set(
    roles.flatMap((r) => r.grants.flatMap((g) => g.entitlements.map((e) => key(ent(e.value))))),
  );
}

/** Carries the plan out against the directory: removals first, then additions. */
function apply(p: AccessPlan, held: Directory): Directory {
  const groups = new Map(held.groups);
  let account = held.account ? { ...held.account } : undefined;
  for (const c of [...p.removals, ...p.additions]) {
    const k = key(ent(c.value ?? ''));
    switch (c.op) {
      case 'removeEntitlement':
        groups.delete(k);
        break;
      case 'addEntitlement':
        groups.set(k, c.value ?? '');
        break;
      case 'createAccount':
        account = { enabled: true, attributes: { ...c.attributes } };
        break;
      case 'enableAccount':
      case 'disableAccount':
        if (account) account.enabled = c.op === 'enableAccount';
        break;
      case 'updateAccount':
        if (account) account.attributes = { ...account.attributes, ...c.attributes };
        break;
      case 'deleteAccount':
        account = undefined;
        break;
    }
  }
  return { ...(account ? { account } : {}), groups };
}

/** The keys a side counts through, without the ones both sides share (as the rule sees them). */
function sides(rule: SodRuleIR, roles: RoleIR[]): [Set<string>, Set<string>] {
  const of = (s: SodSideIR) =>
    new Set([
      ...s.entitlements.map(key),
      ...roles
        .filter((r) => s.roles.includes(r.name))
        .flatMap((r) => r.grants.flatMap((g) => g.entitlements.map((e) => key(ent(e.value))))),
    ]);
  const left = of(rule.left);
  const right = of(rule.right);
  return [
    new Set([...left].filter((k) => !right.has(k))),
    new Set([...right].filter((k) => !left.has(k))),
  ];
}

function holds(groups: Map<string, string>, side: Set<string>): boolean {
  return [...side].some((k) => groups.has(k));
}

function keysOf(groups: Map<string, string>): string[] {
  return [...groups.keys()].sort();
}

test('carrying the plan out gives the desired groups, the kept ones and the unmanaged ones, nothing else', () => {
  fc.assert(
    fc.property(world, (w) => {
      const s = setup({ ...w, rules: [] });
      const p = planFor(s, s.before);
      expect(p.problems).toEqual([]);
      const after = apply(p, s.before);
      const managed = managedKeys(s.roles);
      const desired = desiredState(person({ status: s.status }), s.roles, [], NOW);
      const kept = new Set(s.keep.map(key));
      const expected = new Set([
        ...desired.entitlements.map(key),
        ...[...s.before.groups.keys()].filter((k) => !managed.has(k) || kept.has(k)),
      ]);
      expect(keysOf(after.groups)).toEqual([...expected].sort());
      // and the account is there, enabled, exactly when the person is active
      expect(after.account?.enabled ?? false).toBe(s.status === 'active');
    }),
    RUNS,
  );
});

test('planning again after carrying the plan out finds nothing to do', () => {
  fc.assert(
    fc.property(world, (w) => {
      const s = setup(w);
      const first = planFor(s, s.before);
      const second = planFor(s, apply(first, s.before));
      expect(second.removals).toEqual([]);
      expect(second.additions).toEqual([]);
      expect(isEmptyPlan(second)).toBe(true);
      // what the first plan kept is still kept; nothing new is held back
      expect(second.kept.map((c) => key(ent(c.value ?? ''))).sort()).toEqual(
        first.kept.map((c) => key(ent(c.value ?? ''))).sort(),
      );
      const heldBefore = new Set(first.heldBack.map((h) => key(ent(h.change.value ?? ''))));
      for (const h of second.heldBack)
        expect(heldBefore.has(key(ent(h.change.value ?? '')))).toBe(true);
    }),
    RUNS,
  );
});

test('no group is both removed and added, and nothing kept is removed', () => {
  fc.assert(
    fc.property(world, (w) => {
      const s = setup(w);
      const p = planFor(s, s.before);
      const removed = new Set(
        [...p.removals, ...p.kept]
          .filter((c) => c.op === 'removeEntitlement')
          .map((c) => key(ent(c.value ?? ''))),
      );
      for (const c of [...p.additions, ...p.heldBack.map((h) => h.change)])
        if (c.op === 'addEntitlement') expect(removed.has(key(ent(c.value ?? '')))).toBe(false);
      const kept = new Set(s.keep.map(key));
      for (const c of p.removals)
        if (c.op === 'removeEntitlement') expect(kept.has(key(ent(c.value ?? '')))).toBe(false);
    }),
    RUNS,
  );
});

test('after the plan, no one holds both sides of a rule unless they held both before', () => {
  fc.assert(
    fc.property(world, (w) => {
      const s = setup(w);
      const after = apply(planFor(s, s.before), s.before);
      for (const rule of s.sodRules) {
        const [left, right] = sides(rule, s.roles);
        const before = holds(s.before.groups, left) && holds(s.before.groups, right);
        if (!before) expect(holds(after.groups, left) && holds(after.groups, right)).toBe(false);
      }
    }),
    RUNS,
  );
});
