/**
 * Compile-time CEL: expressions are parsed and type-checked against shapes; types come back as
 * shapes, and problems carry a range and a message a person can act on.
 */
import { CelTypes, unstorable } from '../../../src/dsl/cel-check';
import { PERSON_SHAPE, type Shape } from '../../../src/dsl/shapes';

const types = CelTypes.create({
  subject: PERSON_SHAPE,
  vars: { map: 'dyn' },
  n: 'int',
  tags: { list: 'string' },
  m: { map: { list: 'int' } },
  when: 'timestamp',
  d: 'double',
  b: 'bool',
  x: 'dyn',
});

describe('types come back as shapes', () => {
  test.each<[string, Shape, string]>([
    ['n + 1', 'int', 'int'],
    ['1u', 'int', 'uint'],
    ['d', 'double', 'double'],
    ['b', 'bool', 'bool'],
    ['x', 'dyn', 'dyn'],
    ['"a" + subject.id', 'string', 'string'],
    ['when', 'timestamp', 'google.protobuf.Timestamp'],
    ['tags', { list: 'string' }, 'list<string>'],
    ['m', { map: { list: 'int' } }, 'map<string, list<int>>'],
    ['m["a"]', { list: 'int' }, 'list<int>'],
    ['{"a": [1]}', { map: { list: 'int' } }, 'map<string, list<int>>'],
    ['[{"a": 1}]', { list: { map: 'int' } }, 'list<map<string, int>>'],
    ['tags.map(t, {t: [1]})', { list: { map: { list: 'int' } } }, 'list<map<string, list<int>>>'],
    ['[1, "a"]', { list: 'dyn' }, 'list'],
    ['[]', { list: 'dyn' }, 'list<T>'],
    ['{}', { map: 'dyn' }, 'map<K, V>'],
    ['subject.attributes', { map: 'dyn' }, 'map<string, dyn>'],
    ['subject.?manager.?email', 'string', 'optional<string>'],
    ['optional.of(1)', 'int', 'optional<int>'],
    ['null', 'dyn', 'null'],
    ['when - when', 'dyn', 'google.protobuf.Duration'],
  ])('%s is %j (%s)', (expression, shape, celType) => {
    expect(types.check(expression)).toEqual({ ok: true, shape, celType });
  });

  test('object shapes are CEL message types and come back as the same shape', () => {
    expect(types.check('subject')).toEqual({ ok: true, shape: PERSON_SHAPE, celType: 'Person' });
    expect(types.check('subject.?manager')).toEqual({
      ok: true,
      shape: PERSON_SHAPE.fields.manager,
      celType: 'optional<Manager>',
    });
  });

  test('shapeOfCelType: unknown names are dyn, nested generics split at the top-level comma', () => {
    expect(types.shapeOfCelType('Unheard')).toBe('dyn');
    expect(types.shapeOfCelType('map<string, map<string, list<int>>>')).toEqual({
      map: { map: { list: 'int' } },
    });
    expect(types.shapeOfCelType('list<map<string, bool>>')).toEqual({ list: { map: 'bool' } });
    expect(types.shapeOfCelType('map<string>')).toEqual({ map: 'dyn' });
    expect(types.shapeOfCelType('optional<list<double>>')).toEqual({ list: 'double' });
    expect(types.shapeOfCelType('list')).toEqual({ list: 'dyn' });
    expect(types.shapeOfCelType('map')).toEqual({ map: 'dyn' });
    expect(types.shapeOfCelType('null_type')).toBe('dyn');
  });
});

describe('problems name what is wrong and where', () => {
  test.each([
    ['subject.givenNam', "Person has no field 'givenNam'; did you mean 'givenName'?", 8, 16],
    ['subject.manager.emial', "Manager has no field 'emial'; did you mean 'email'?", 16, 21],
    ['subject.nope.x', "Person has no field 'nope'", 8, 12],
    [
      'subjec.id',
      "unknown variable 'subjec'; expressions here can read 'subject', 'vars', 'n', 'tags', 'm', 'when', 'd', 'b' or 'x'; did you mean 'subject'?",
      0,
      6,
    ],
    ['n + "a"', 'type error: no such overload: int + string', 0, 7],
    ['when + when', 'type error: no such overload: timestamp + timestamp', 0, 11],
    ['tags[0].nope', "type error: Cannot index type 'string'", 8, 12],
    ['subject["nope"]', 'no such field: nope', 0, 15],
    ['[subject].map(p, p.nope)', 'no such field: nope', 19, 23],
    ['duration("1s") + 1', 'type error: no such overload: duration + int', 0, 18],
  ])('%s: %s', (expression, message, start, end) => {
    expect(types.check(expression)).toEqual({ ok: false, problem: { message, start, end } });
  });

  test.each([
    ['n +', 'Unexpected token: EOF', 3, 4],
    ['(1', 'Expected RPAREN, got EOF', 2, 3],
  ])('syntax error in %s', (expression, summary, start, end) => {
    expect(types.parse(expression)).toEqual({
      ok: false,
      problem: { message: `CEL syntax error: ${summary}`, start, end },
    });
    expect(types.check(expression)).toEqual({
      ok: false,
      problem: { message: `type error: ${summary}`, start, end },
    });
  });

  test('a parsed expression comes back in canonical form', () => {
    expect(types.parse('subject.id   +"x"')).toMatchObject({
      ok: true,
      canonical: 'subject.id + "x"',
    });
  });
});

describe('extend', () => {
  const child = types.extend({
    q: { object: 'Person', fields: { a: 'string' } },
    r: { object: 'Person', fields: { a: 'int' } },
    p: PERSON_SHAPE,
  });

  test('a new shape with a taken name gets a numbered CEL name; a known shape keeps its own', () => {
    expect(child.check('q')).toMatchObject({ ok: true, celType: 'Person2' });
    expect(child.check('r')).toMatchObject({ ok: true, celType: 'Person3' });
    expect(child.check('p')).toMatchObject({ ok: true, celType: 'Person', shape: PERSON_SHAPE });
    expect(child.check('r.a + 1')).toMatchObject({ ok: true, celType: 'int' });
    expect(child.check('q.b')).toEqual({
      ok: false,
      problem: { message: "Person has no field 'b'; did you mean 'a'?", start: 2, end: 3 },
    });
  });

  test('the child lists every variable; the parent is unchanged', () => {
    expect(child.check('zz')).toMatchObject({
      ok: false,
      problem: { message: expect.stringContaining("'x', 'q', 'r' or 'p'") as unknown },
    });
    expect(types.check('q')).toMatchObject({ ok: false });
  });
});

test('unstorable: bytes, durations and types have no JSON form', () => {
  const hint = 'which has no JSON form; convert it, e.g. with string(...) or int(...)';
  expect(unstorable('bytes')).toBe(`the expression gives a bytes, ${hint}`);
  expect(unstorable('google.protobuf.Duration')).toBe(`the expression gives a duration, ${hint}`);
  expect(unstorable('type')).toBe(`the expression gives a type, ${hint}`);
  expect(unstorable('string')).toBeUndefined();
  expect(unstorable('google.protobuf.Timestamp')).toBeUndefined();
});
