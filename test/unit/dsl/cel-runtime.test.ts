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

describe('CEL → JSON', () => {
  test.each([
    ['1u', 1],
    ['optional.none()', null],
    ['optional.of(2)', 2],
    ['duration("1.5s")', '1.5s'],
    ['[1, {"a": 2u}]', [1, { a: 2 }]],
    ['{1: "a"}', { '1': 'a' }],
    ['null', null],
    ['1.5', 1.5],
    ['true', true],
    ['timestamp("2026-01-01T00:00:00Z")', '2026-01-01T00:00:00.000Z'],
  ])('%s → %j', (expression, json) => {
    expect(evaluateExpression(expression, {})).toEqual(json);
  });

  test.each([
    ['b"x"', '\'b"x"\' gave bytes; convert them with .base64() or .string()'],
    ['1.0/0.0', "'1.0/0.0' gave Infinity, which is not a finite number"],
    ['-1.0/0.0', "'-1.0/0.0' gave -Infinity, which is not a finite number"],
    ['9223372036854775807', 'beyond the safe integer range'],
    ['-9007199254740992', 'beyond the safe integer range'],
  ])('%s has no JSON form', (expression, message) => {
    expect(() => evaluateExpression(expression, {})).toThrow(message);
  });

  test('the largest safe integers pass; values CEL never gives are refused by type', () => {
    expect(evaluateExpression('9007199254740991', {})).toBe(Number.MAX_SAFE_INTEGER);
    expect(evaluateExpression('-9007199254740991', {})).toBe(Number.MIN_SAFE_INTEGER);
    expect(fromCel(undefined, 'u')).toBeNull();
    expect(() => fromCel(() => 1, 'f')).toThrow("'f' gave a function");
    expect(() => fromCel(Symbol('s'), 's')).toThrow("'s' gave a symbol");
    expect(() => fromCel(-(2n ** 60n), 'n')).toThrow(/safe integer range/);
  });

  test('a syntax error is an ExpressionError naming the expression', () => {
    expect(() => evaluateExpression('1 +', {})).toThrow(/^cannot parse '1 \+': /);
    expect(() => evaluateExpression('nope', {})).toThrow(/^'nope' failed: Unknown variable: nope$/);
  });
});

describe('JSON → CEL by shape', () => {
  test('ints and timestamps by shape; values that do not fit the shape are passed on as they are', () => {
    expect(toCel(3, 'int')).toBe(3n);
    expect(toCel(3.5, 'int')).toBe(3.5);
    expect(toCel('3', 'int')).toBe('3');
    expect(toCel(3, 'double')).toBe(3);
    expect(toCel('2026-01-01T00:00:00Z', 'timestamp')).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(toCel('not a date', 'timestamp')).toBe('not a date');
    expect(toCel(5, 'timestamp')).toBe(5);
    expect(toCel(null, 'string')).toBeNull();
    expect(toCel(undefined, 'string')).toBeNull();
  });

  test('lists, maps and objects convert their items by the item shape', () => {
    expect(toCel([1, 2], { list: 'int' })).toEqual([1n, 2n]);
    expect(toCel('x', { list: 'int' })).toBe('x');
    expect(toCel({ a: 1, b: null }, { map: 'int' })).toEqual({ a: 1n });
    expect(toCel([1], { map: 'int' })).toEqual([1]);
    expect(toCel('x', { object: 'Thing', fields: { a: 'int' } })).toBe('x');
    expect(
      toCel({ a: 1, extra: { n: 2, l: [3, 1.5] } }, { object: 'Thing', fields: { a: 'int' } }),
    ).toEqual({ a: 1n, extra: { n: 2n, l: [3n, 1.5] } });
  });

  test('dyn: integral numbers become ints at any depth, other values stay', () => {
    expect(toCel({ a: 1, b: 1.5, c: 'x', e: [1, { f: 2 }], t: true }, 'dyn')).toEqual({
      a: 1n,
      b: 1.5,
      c: 'x',
      e: [1n, { f: 2n }],
      t: true,
    });
  });
});

test('stringify: how values read inside text', () => {
  expect(
    renderValue(
      {
        concat: [
          { expr: 'null' },
          '|',
          { expr: '1' },
          '|',
          { expr: 'true' },
          '|',
          { expr: '[1, "a"]' },
        ],
      },
      {},
    ),
  ).toBe('|1|true|[1,"a"]');
});
