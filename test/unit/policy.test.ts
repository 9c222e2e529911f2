/** Policy evaluation: priority order, per-policy fallbacks, conditions that fail, one run per flow. */
import { toCel } from '../../src/dsl/cel-runtime';
import type { PolicyIR, RuleIR } from '../../src/dsl/ir';
import { ATTRIBUTES, eventShape, PERSON_SHAPE } from '../../src/dsl/shapes';
import { evaluatePolicies } from '../../src/policy/evaluate';

function rule(name: string, over: Partial<RuleIR>): RuleIR {
  return { name, on: ['person.leaver'], run: [name], priority: 0, fallback: false, ...over };
}

function policy(name: string, rules: RuleIR[]): PolicyIR {
  return { irVersion: 1, name, title: name, rules };
}

function scope(subject: Record<string, unknown>) {
  return {
    event: toCel(
      {
        source: 'hr',
        id: 'e',
        type: 'person.leaver',
        occurredAt: '2026-01-01T00:00:00Z',
        attributes: {},
      },
      eventShape(ATTRIBUTES),
    ),
    subject: toCel({ id: 'p-1', ...subject }, PERSON_SHAPE),
    now: new Date('2026-01-02T00:00:00Z'),
  };
}

const leavers = policy('leavers', [
  rule('contractors', {
    when: 'subject.?employmentType.orValue("") == "contractor"',
    run: ['leaver-contractor'],
  }),
  rule('employees', { fallback: true, run: ['leaver-standard'] }),
]);

test('a matching rule wins over its policy fallback', () => {
  const d = evaluatePolicies([leavers], 'person.leaver', scope({ employmentType: 'contractor' }));
  expect(d.flows).toEqual(['leaver-contractor']);
  expect(d.trace.find((t) => t.rule === 'employees')).toMatchObject({
    matched: false,
    reason: "fallback not needed: rule 'contractors' matched",
  });
});

test('the fallback runs when nothing else in its policy matched', () => {
  const d = evaluatePolicies([leavers], 'person.leaver', scope({ employmentType: 'employee' }));
  expect(d.flows).toEqual(['leaver-standard']);
  expect(d.trace.find((t) => t.rule === 'contractors')).toMatchObject({
    matched: false,
    reason: 'condition \'subject.?employmentType.orValue("") == "contractor"\' is false',
  });
});

test('another policy matching does not silence a fallback', () => {
  const siem = policy('siem', [rule('notify-security', { run: ['security-notice'] })]);
  const d = evaluatePolicies([leavers, siem], 'person.leaver', scope({}));
  expect(d.flows.sort()).toEqual(['leaver-standard', 'security-notice']);
});

test('higher priority first, a flow chosen twice runs once', () => {
  const p = policy('p', [
    rule('low', { run: ['a', 'b'], priority: 1 }),
    rule('high', { run: ['b', 'c'], priority: 5 }),
  ]);
  expect(evaluatePolicies([p], 'person.leaver', scope({})).flows).toEqual(['b', 'c', 'a']);
});

test('a condition that cannot be evaluated does not match, and the trace says why', () => {
  const p = policy('p', [rule('dept', { when: 'subject.department == "IT"' })]);
  const d = evaluatePolicies([p], 'person.leaver', scope({}));
  expect(d.flows).toEqual([]);
  expect(d.trace[0]?.reason).toMatch(
    /^condition could not be evaluated: 'subject.department == "IT"' failed: No such key: department/,
  );
});

test('rules for other event types are traced as not listening', () => {
  const d = evaluatePolicies([leavers], 'person.joiner', scope({}));
  expect(d.flows).toEqual([]);
  expect(d.trace.map((t) => t.reason)).toEqual([
    'listens to person.leaver, not person.joiner',
    'listens to person.leaver, not person.joiner',
  ]);
});

test('the trace says why each rule matched', () => {
  const p = policy('p', [
    rule('always', {}),
    rule('when', { when: 'subject.id == "p-1"', on: ['person.leaver', 'person.mover'] }),
    rule('fallback', { fallback: true }),
  ]);
  const d = evaluatePolicies([p], 'person.leaver', scope({}));
  expect(d.trace.map((t) => [t.rule, t.matched, t.reason])).toEqual([
    ['always', true, 'no condition'],
    ['when', true, 'condition \'subject.id == "p-1"\' is true'],
    ['fallback', false, "fallback not needed: rule 'always' matched"],
  ]);
});

test('a fallback that runs says so; every fallback of a policy runs when nothing else matched', () => {
  const p = policy('p', [
    rule('never', { when: 'false' }),
    rule('first', { fallback: true, run: ['a'] }),
    rule('second', { fallback: true, run: ['b'] }),
  ]);
  const d = evaluatePolicies([p], 'person.leaver', scope({}));
  expect(d.flows).toEqual(['a', 'b']);
  expect(d.trace.filter((t) => t.fallback).map((t) => [t.rule, t.matched, t.reason])).toEqual([
    ['first', true, 'no other rule matched; no condition'],
    ['second', true, 'no other rule matched; no condition'],
  ]);
});

test('a fallback is tried after the other rules of its policy, whatever its priority or place', () => {
  const p = policy('p', [
    rule('fallback', { fallback: true, priority: 10, run: ['fallback-flow'] }),
    rule('plain', { run: ['plain-flow'] }),
  ]);
  const d = evaluatePolicies([p], 'person.leaver', scope({}));
  expect(d.flows).toEqual(['plain-flow']);
  expect(d.trace.map((t) => t.rule)).toEqual(['plain', 'fallback']);
});

test.each([
  ['in the order given', ['alpha', 'zeta']],
  ['in reverse', ['zeta', 'alpha']],
])(
  'rules of equal priority run by policy name, then by place, with the policies %s',
  (_, names) => {
    const byName: Record<string, PolicyIR> = {
      alpha: policy('alpha', [
        rule('a1', { run: ['a1'] }),
        rule('a2', { run: ['a2'] }),
        rule('a3', { run: ['a3'] }),
        rule('a-other', { on: ['person.joiner', 'person.mover'] }),
      ]),
      zeta: policy('zeta', [
        rule('z1', { run: ['z1'] }),
        rule('z-other', { on: ['person.joiner'] }),
      ]),
    };
    const d = evaluatePolicies(
      names.map((n) => byName[n] as PolicyIR),
      'person.leaver',
      scope({}),
    );
    expect(d.flows).toEqual(['a1', 'a2', 'a3', 'z1']);
    expect(d.trace.map((t) => [t.rule, t.matched, t.reason])).toEqual([
      ['a-other', false, 'listens to person.joiner, person.mover, not person.leaver'],
      ['z-other', false, 'listens to person.joiner, not person.leaver'],
      ['a1', true, 'no condition'],
      ['a2', true, 'no condition'],
      ['a3', true, 'no condition'],
      ['z1', true, 'no condition'],
    ]);
  },
);
