/**
 * What an event does to runs still pending for the person: the `pending` map of policy rules,
 * compiled, merged across matched rules (strongest action per key) and read with a default.
 */
import fc from 'fast-check';
import { toCel } from '../../src/dsl/cel-runtime';
import type { PendingAction, PolicyIR, RuleIR } from '../../src/dsl/ir';
import { PENDING_ACTIONS } from '../../src/dsl/schema';
import { ATTRIBUTES, eventShape, PERSON_SHAPE } from '../../src/dsl/shapes';
import { evaluatePolicies } from '../../src/policy/evaluate';
import {
  mergePending,
  PENDING_PRECEDENCE,
  pendingAction,
  strongerPending,
} from '../../src/policy/pending';
import { compileText, formatted } from '../support/definitions';

const scope = {
  event: toCel(
    {
      source: 'hr',
      id: 'e',
      type: 'person.reactivation',
      occurredAt: '2026-01-01T00:00:00Z',
      attributes: {},
    },
    eventShape(ATTRIBUTES),
  ),
  subject: toCel({ id: 'p-1' }, PERSON_SHAPE),
  now: new Date('2026-01-02T00:00:00Z'),
};

function rule(name: string, over: Partial<RuleIR>): RuleIR {
  return { name, on: ['person.reactivation'], run: [name], priority: 0, fallback: false, ...over };
}

function policy(name: string, rules: RuleIR[]): PolicyIR {
  return { irVersion: 1, name, title: name, rules };
}

const FLOW = `---
apiVersion: idflow/v1
kind: Flow
metadata: { name: reactivation-standard }
steps:
  - id: note
    set: { seen: true }
`;

function policyText(pending: string): string {
  return `apiVersion: idflow/v1
kind: Policy
metadata: { name: reactivations }
rules:
  - name: everyone
    on: [person.reactivation, person.rehire]
    run: [reactivation-standard]
${pending}${FLOW}`;
}

describe('compiling pending', () => {
  test('the rule IR carries the map as written', () => {
    const result = compileText(
      policyText('    pending:\n      person.leaver: cancel\n      "*": alongside\n'),
    );
    expect(formatted(result)).toEqual([]);
    expect(result.policies.get('reactivations')?.ir.rules[0]?.pending).toEqual({
      'person.leaver': 'cancel',
      '*': 'alongside',
    });
  });

  test('a rule without pending (or with an empty one) has no pending field: its hash is unchanged', () => {
    const without = compileText(policyText(''));
    const empty = compileText(policyText('    pending: {}\n'));
    const rule0 = without.policies.get('reactivations')?.ir.rules[0];
    expect(rule0).toBeDefined();
    expect(rule0 && 'pending' in rule0).toBe(false);
    expect(empty.policies.get('reactivations')?.hash).toBe(
      without.policies.get('reactivations')?.hash,
    );
  });
});

describe('evaluatePolicies: pending', () => {
  test('merges the maps of the matched rules only, strongest action per key', () => {
    const p = policy('p', [
      rule('a', { pending: { 'person.leaver': 'queue', 'person.mover': 'alongside' } }),
      rule('b', { pending: { 'person.leaver': 'cancel' } }),
      rule('not-matched', { when: 'false', pending: { 'person.mover': 'cancel' } }),
      rule('other-event', { on: ['person.joiner'], pending: { '*': 'cancel' } }),
    ]);
    const decision = evaluatePolicies([p], 'person.reactivation', scope);
    expect(decision.pending).toEqual({ 'person.leaver': 'cancel', 'person.mover': 'alongside' });
    expect(pendingAction(decision.pending, 'person.leaver')).toBe('cancel');
    expect(pendingAction(decision.pending, 'person.joiner')).toBe('queue');
  });

  test('a fallback that is not needed adds nothing', () => {
    const p = policy('p', [
      rule('a', {}),
      rule('fallback', { fallback: true, pending: { '*': 'supersede' } }),
    ]);
    expect(evaluatePolicies([p], 'person.reactivation', scope).pending).toEqual({});
  });

  test('rules that say nothing leave every pending run queued', () => {
    const decision = evaluatePolicies([policy('p', [rule('a', {})])], 'person.rehire', scope);
    expect(decision.pending).toEqual({});
    expect(pendingAction(decision.pending, 'person.leaver')).toBe('queue');
  });
});

describe('pendingAction', () => {
  test('the event type named, else *, else queue', () => {
    const pending: Record<string, PendingAction> = { 'person.leaver': 'cancel', '*': 'alongside' };
    expect(pendingAction(pending, 'person.leaver')).toBe('cancel');
    expect(pendingAction(pending, 'person.mover')).toBe('alongside');
    expect(pendingAction({ 'person.leaver': 'cancel' }, 'person.mover')).toBe('queue');
    expect(pendingAction(undefined, 'person.mover')).toBe('queue');
  });

  test('keys inherited from Object.prototype are not actions', () => {
    expect(pendingAction({}, 'constructor')).toBe('queue');
    expect(pendingAction({}, 'toString')).toBe('queue');
  });
});

const eventType = fc.constantFrom('person.leaver', 'person.mover', 'person.rehire', '*');
const action = fc.constantFrom(...PENDING_ACTIONS);
const pendingMap = fc.dictionary(eventType, action, { maxKeys: 4 });
const rank = (a: PendingAction) => PENDING_PRECEDENCE.indexOf(a);

describe('properties', () => {
  test('the precedence orders every action, cancel > supersede > queue > alongside', () => {
    expect([...PENDING_PRECEDENCE].sort()).toEqual([...PENDING_ACTIONS].sort());
    expect(PENDING_PRECEDENCE).toEqual(['cancel', 'supersede', 'queue', 'alongside']);
  });

  test('merge: every key any rule names, with the strongest action any rule gives it', () => {
    fc.assert(
      fc.property(fc.array(fc.option(pendingMap, { nil: undefined }), { maxLength: 6 }), (maps) => {
        const merged = mergePending(maps);
        const keys = new Set(maps.flatMap((m) => Object.keys(m ?? {})));
        expect(new Set(Object.keys(merged))).toEqual(keys);
        for (const key of keys) {
          const given = maps.flatMap((m) => (m && key in m ? [m[key] as PendingAction] : []));
          expect(rank(merged[key] as PendingAction)).toBe(Math.min(...given.map(rank)));
        }
      }),
      { numRuns: 300 },
    );
  });

  test('merge is order-independent and idempotent', () => {
    fc.assert(
      fc.property(fc.array(pendingMap, { maxLength: 5 }), (maps) => {
        const merged = mergePending(maps);
        expect(mergePending([...maps].reverse())).toEqual(merged);
        expect(mergePending([merged, merged])).toEqual(merged);
        expect(mergePending([merged, ...maps])).toEqual(merged);
      }),
      { numRuns: 300 },
    );
  });

  test('strongerPending is commutative and picks the earlier in the precedence', () => {
    fc.assert(
      fc.property(action, action, (a, b) => {
        expect(strongerPending(a, b)).toBe(strongerPending(b, a));
        expect(rank(strongerPending(a, b))).toBe(Math.min(rank(a), rank(b)));
      }),
      { numRuns: 100 },
    );
  });

  test('pendingAction: the exact key wins over *, * over the default, and it is always an action', () => {
    fc.assert(
      fc.property(
        pendingMap,
        fc.constantFrom('person.leaver', 'person.mover', 'person.joiner'),
        (map, type) => {
          const got = pendingAction(map, type);
          expect(PENDING_ACTIONS).toContain(got);
          expect(got).toBe(map[type] ?? map['*'] ?? 'queue');
        },
      ),
      { numRuns: 300 },
    );
  });

  test('the decision of several matched rules equals merging their maps', () => {
    fc.assert(
      fc.property(fc.array(pendingMap, { minLength: 1, maxLength: 5 }), (maps) => {
        const rules = maps.map((pending, i) => rule(`r${i}`, { pending }));
        const decision = evaluatePolicies([policy('p', rules)], 'person.reactivation', scope);
        expect(decision.pending).toEqual(mergePending(maps));
      }),
      { numRuns: 100 },
    );
  });
});
