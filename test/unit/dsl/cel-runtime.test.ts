/**
 * Run-time evaluation: JSON in by shape, JSON out (no BigInt, Date or Map leaks), and value
 * templates as the interpreter renders them.
 */
import {
  evaluateExpression,
  ExpressionError,
  fromCel,
  renderValue,
  toCel,
} from '../../../src/dsl/cel-runtime';
import { PERSON_SHAPE, eventShape } from '../../../src/dsl/shapes';

const subject = toCel(
  {
    id: 'p-1',
    givenName: 'Zoë',
    familyName: "O'Brien-Ørsted",
    validUntil: '2026-03-31T17:00:00Z',
    manager: null,
    attributes: { mailboxSizeGb: 12, tags: ['a', 'b'] },
  },
  PERSON_SHAPE,
);
const event = toCel(
  {
    source: 'hr',
    id: 'e-1',
    type: 'person.leaver',
    occurredAt: '2026-03-01T09:00:00Z',
    attributes: { seats: 3 },
  },
  eventShape({ object: 'Inputs', fields: { seats: 'int' } }),
);
const scope = { subject, event, vars: { count: 2n }, now: new Date('2026-03-02T00:00:00Z') };

test('declared ints and timestamps become CEL ints and timestamps', () => {
  expect(evaluateExpression('event.attributes.seats + 1', scope)).toBe(4);
  expect(evaluateExpression('subject.validUntil > now', scope)).toBe(true);
  expect(evaluateExpression('subject.validUntil - duration("24h")', scope)).toBe(
    '2026-03-30T17:00:00.000Z',
  );
});

test('free-form attributes: integral numbers are ints, lists stay lists', () => {
  expect(evaluateExpression('subject.attributes.mailboxSizeGb > 10', scope)).toBe(true);
  expect(evaluateExpression('subject.attributes.tags.size()', scope)).toBe(2);
});

test('null fields are absent: has() is false and .? yields no value', () => {
  expect(evaluateExpression('has(subject.manager)', scope)).toBe(false);
  expect(evaluateExpression('subject.?manager.?email.orValue("none")', scope)).toBe('none');
});

test('idflow functions: asciiFold and replace', () => {
  expect(
    evaluateExpression(
      '(subject.givenName.substring(0, 1) + subject.familyName).asciiFold().lowerAscii().replace("\'", "").replace("-", "")',
      scope,
    ),
  ).toBe('zobrienorsted');
});

test('results are JSON: maps become objects, timestamps ISO text, durations seconds', () => {
  expect(evaluateExpression('{"n": 1, "when": now, "d": duration("90s")}', scope)).toEqual({
    n: 1,
    when: '2026-03-02T00:00:00.000Z',
    d: '90s',
  });
});

test('a missing field is an ExpressionError naming the expression', () => {
  expect(() => evaluateExpression('subject.department == "IT"', scope)).toThrow(ExpressionError);
  expect(() => evaluateExpression('subject.department == "IT"', scope)).toThrow(
    /subject.department/,
  );
});

test('integers beyond the JSON-safe range are refused rather than rounded', () => {
  expect(() => fromCel(2n ** 60n, 'x')).toThrow(/safe integer range/);
});

test('value templates: literals, typed single expressions, text, and absent optional fields left out', () => {
  expect(
    renderValue(
      {
        map: {
          id: { expr: 'subject.id' },
          count: { expr: 'vars.count' },
          reason: { concat: ['Left on ', { expr: 'event.occurredAt' }] },
          department: { expr: 'subject.?department' },
          keep: { lit: null },
          tags: { list: [{ lit: 'x' }, { expr: 'subject.givenName' }] },
        },
      },
      scope,
    ),
  ).toEqual({
    id: 'p-1',
    count: 2,
    reason: 'Left on 2026-03-01T09:00:00.000Z',
    keep: null,
    tags: ['x', 'Zoë'],
  });
});
