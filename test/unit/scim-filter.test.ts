/**
 * SCIM filters: the grammar of RFC 7644 §3.4.2.2 (precedence, grouping, not, value paths,
 * literals, case), Entra's `emails[type eq "work"].value eq …`, matching against resources and
 * multi-valued values, what GET /Users answers (and the invalidFilter for what it does not), and
 * that any text at all is a tree or a 400 invalidFilter that never quotes the filter's values.
 */
import * as fc from 'fast-check';
import { propertyRuns } from '../support/property-runs';
import { ScimProblem } from '../../src/scim/errors';
import {
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  parseAttrPath,
  parseFilter,
  type Filter,
} from '../../src/scim/filter';
import { matches } from '../../src/scim/filter-match';
import { CORE_USER, ENTERPRISE_SCHEMA, ENTERPRISE_USER } from '../../src/scim/schema';
import { userQueryOf } from '../../src/scim/user-query';

function refusal(run: () => unknown): { status: number; scimType?: string; detail?: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimProblem)
      return {
        status: err.status,
        ...(err.scimType ? { scimType: err.scimType } : {}),
        detail: err.detail,
      };
    throw err;
  }
  throw new Error('expected a SCIM error');
}

const scope = {
  defs: CORE_USER.attributes,
  extensionDefs: (urn: string) =>
    urn.toLowerCase() === ENTERPRISE_SCHEMA.toLowerCase() ? ENTERPRISE_USER.attributes : undefined,
};

const ada = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: '2819c223-7f76-453a-919d-413861904646',
  userName: 'Ada.Lovelace@example.com',
  externalId: 'E1001',
  active: true,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  title: 'Engineer',
  emails: [
    { value: 'ada@example.com', type: 'work', primary: true },
    { value: 'ada@home.example', type: 'home' },
  ],
  meta: { lastModified: '2026-03-01T10:00:00Z' },
  [ENTERPRISE_SCHEMA]: { department: 'Engineering', manager: { value: 'M-1' } },
};

const match = (text: string) => matches(parseFilter(text), ada, scope);

describe('parsing', () => {
  test('an attribute expression', () => {
    expect(parseFilter('userName eq "ada"')).toEqual({
      kind: 'compare',
      path: { attr: 'userName' },
      op: 'eq',
      value: 'ada',
    });
  });

  test('operators, keywords and literals compare without case', () => {
    expect(parseFilter('userName EQ "a" AND active Eq TRUE')).toEqual({
      kind: 'and',
      left: { kind: 'compare', path: { attr: 'userName' }, op: 'eq', value: 'a' },
      right: { kind: 'compare', path: { attr: 'active' }, op: 'eq', value: true },
    });
    expect(parseFilter('title PR')).toEqual({ kind: 'present', path: { attr: 'title' } });
    expect(parseFilter('x eq NULL')).toMatchObject({ value: null });
  });

  test('and binds tighter than or; parentheses and not group', () => {
    const f = parseFilter('a eq 1 or b eq 2 and c eq 3');
    expect(f).toMatchObject({ kind: 'or', right: { kind: 'and' } });
    const g = parseFilter('(a eq 1 or b eq 2) and not (c eq 3)');
    expect(g).toMatchObject({ kind: 'and', left: { kind: 'or' }, right: { kind: 'not' } });
  });

  test('numbers, escapes and URN paths', () => {
    expect(parseFilter('n ge -1.5e2')).toMatchObject({ op: 'ge', value: -150 });
    expect(parseFilter('userName eq "a\\"b\\\\c"')).toMatchObject({ value: 'a"b\\c' });
    expect(parseFilter(`${ENTERPRISE_SCHEMA}:manager.value eq "M-1"`)).toMatchObject({
      path: { urn: ENTERPRISE_SCHEMA, attr: 'manager', sub: 'value' },
    });
    expect(parseAttrPath('urn:ietf:params:scim:schemas:core:2.0:User:name.givenName')).toEqual({
      urn: 'urn:ietf:params:scim:schemas:core:2.0:User',
      attr: 'name',
      sub: 'givenName',
    });
    expect(parseAttrPath('$ref')).toEqual({ attr: '$ref' });
    expect(parseAttrPath('9lives')).toBeUndefined();
  });

  test('a value path, and Entra’s value path with a sub-attribute comparison after it', () => {
    expect(parseFilter('emails[type eq "work"]')).toEqual({
      kind: 'valuePath',
      path: { attr: 'emails' },
      filter: { kind: 'compare', path: { attr: 'type' }, op: 'eq', value: 'work' },
    });
    expect(parseFilter('emails[type eq "work"].value eq "a@b.c"')).toEqual({
      kind: 'valuePath',
      path: { attr: 'emails' },
      filter: {
        kind: 'and',
        left: { kind: 'compare', path: { attr: 'type' }, op: 'eq', value: 'work' },
        right: { kind: 'compare', path: { attr: 'value' }, op: 'eq', value: 'a@b.c' },
      },
    });
  });

  test.each([
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['userName', 'expected an operator'],
    ['userName xx "a"', 'found a word at character 10'],
    ['userName Secret "a"', 'found a word at character 10'],
    ['userName eq "a" eq', "unexpected 'eq' at character 17"],
    ['userName eq', 'expected a value'],
    ['userName eq secret', 'found a word that is none at character 13'],
    ['userName eq "secret', 'a string opened at character 13 is never closed'],
    ['(userName eq "a"', "expected ')'"],
    ['userName eq "a")', "unexpected ')' at character 16"],
    ['userName eq "a" and', 'expected an attribute name, found the end of the filter'],
    ['title co 5', 'co at character 7 compares with a string only'],
    ['active gt true', 'gt at character 8 compares with a string or a number only'],
    ['emails[type eq "work"', "expected ']'"],
    ['emails[roles[value eq "x"]]', "a filter inside '[…]' cannot hold another"],
    ['name.givenName[x eq "y"]', 'cannot follow a sub-attribute'],
    ['not userName eq "a"', "expected '(' after not"],
    ['userName eq "\\q"', 'has an escape JSON does not know'],
    ['"secret" eq userName', 'expected an attribute name, found a string at character 1'],
  ])('%j is 400 invalidFilter: %s', (text, message) => {
    const r = refusal(() => parseFilter(text));
    expect(r).toMatchObject({ status: 400, scimType: 'invalidFilter' });
    expect(r.detail).toContain(message);
    expect(r.detail).not.toContain('secret');
  });

  test('a filter too long or nested too deep is refused, without a stack overflow', () => {
    expect(refusal(() => parseFilter(`a eq "${'x'.repeat(MAX_FILTER_LENGTH)}"`)).detail).toContain(
      `longer than ${MAX_FILTER_LENGTH}`,
    );
    const deep = `${'('.repeat(MAX_FILTER_DEPTH + 1)}a eq 1${')'.repeat(MAX_FILTER_DEPTH + 1)}`;
    expect(refusal(() => parseFilter(deep)).detail).toContain(`deeper than ${MAX_FILTER_DEPTH}`);
    const nots = `${'not ('.repeat(500)}a eq 1${')'.repeat(500)}`;
    expect(refusal(() => parseFilter(nots)).scimType).toBe('invalidFilter');
    const shallow = `${'('.repeat(MAX_FILTER_DEPTH - 1)}a eq 1${')'.repeat(MAX_FILTER_DEPTH - 1)}`;
    expect(parseFilter(shallow)).toMatchObject({ kind: 'compare' });
  });

  test('any text is a filter or a 400 invalidFilter, never another error', () => {
    const pieces = fc.constantFrom(
      'userName',
      'emails',
      'emails.value',
      'urn:x:y:attr',
      ' eq ',
      ' ne ',
      ' co ',
      ' pr',
      ' gt ',
      ' and ',
      ' or ',
      'not',
      '(',
      ')',
      '[',
      ']',
      '.value',
      '"a"',
      '"a\\"',
      '"\\u00e9"',
      '1',
      '-2.5e3',
      'true',
      'null',
      ' ',
      '\\',
      '"',
      ',',
      ':',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 60 }),
          fc.array(pieces, { maxLength: 14 }).map((p) => p.join('')),
        ),
        (text) => {
          try {
            const f = parseFilter(text);
            expect(typeof matches(f, ada, scope)).toBe('boolean');
          } catch (err) {
            expect(err).toBeInstanceOf(ScimProblem);
            expect(err).toMatchObject({ status: 400, scimType: 'invalidFilter' });
          }
        },
      ),
      { numRuns: propertyRuns(1500) },
    );
  });

  test('a parsed filter printed back parses to the same tree', () => {
    const attr = fc.constantFrom('userName', 'title', 'emails.value', 'active', 'name.givenName');
    const literal = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.integer({ min: -99, max: 99 }),
      fc.boolean(),
      fc.constant(null),
    );
    const leaf = fc
      .tuple(attr, fc.constantFrom('eq', 'ne', 'co', 'sw', 'ew', 'gt', 'le'), literal)
      .filter(([, op, v]) =>
        ['co', 'sw', 'ew'].includes(op)
          ? typeof v === 'string'
          : ['gt', 'le'].includes(op)
            ? typeof v === 'string' || typeof v === 'number'
            : true,
      )
      .map(([a, op, v]): Filter => ({
        kind: 'compare',
        path: parseAttrPath(a)!,
        op: op as 'eq',
        value: v,
      }));
    const tree = fc.letrec<{ f: Filter }>((tie) => ({
      f: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.record({
          kind: fc.constantFrom('and' as const, 'or' as const),
          left: tie('f'),
          right: tie('f'),
        }),
        fc.record({ kind: fc.constant('not' as const), filter: tie('f') }),
      ),
    })).f;
    const print = (f: Filter): string => {
      switch (f.kind) {
        case 'compare':
          return `${f.path.attr}${f.path.sub ? `.${f.path.sub}` : ''} ${f.op} ${JSON.stringify(f.value)}`;
        case 'and':
        case 'or':
          return `(${print(f.left)}) ${f.kind} (${print(f.right)})`;
        case 'not':
          return `not (${print(f.filter)})`;
        default:
          throw new Error('not generated');
      }
    };
    fc.assert(
      fc.property(tree, (f) => {
        const text = print(f);
        if (text.length > MAX_FILTER_LENGTH) return;
        try {
          expect(parseFilter(text)).toEqual(f);
        } catch (err) {
          // only depth may stop a generated tree
          expect((err as ScimProblem).detail).toContain('deeper than');
        }
      }),
      { numRuns: propertyRuns(300) },
    );
  });
});

describe('matching', () => {
  test.each([
    ['userName eq "ada.lovelace@example.com"', true],
    ['externalId eq "e1001"', false],
    ['externalId eq "E1001"', true],
    ['id eq "2819C223-7F76-453A-919D-413861904646"', false],
    ['emails.value eq "ADA@example.com"', true],
    ['emails eq "ada@home.example"', true],
    ['emails[type eq "work" and value co "ada@"]', true],
    ['emails[type eq "home" and primary eq true]', false],
    ['emails[type eq "work"].value eq "ada@home.example"', false],
    ['title sw "eng" and not (title ew "x")', true],
    ['name.familyName co "LOVE"', true],
    ['nickName pr', false],
    ['name pr', true],
    ['active eq false or title eq "Engineer"', true],
    ['userName ne "someone"', true],
    ['nickName ne "x"', true],
    ['meta.lastModified gt "2026-01-01T00:00:00Z"', true],
    ['meta.lastModified lt "2026-01-01"', false],
    [`${ENTERPRISE_SCHEMA}:department eq "engineering"`, true],
    [`${ENTERPRISE_SCHEMA}:manager.value eq "m-1"`, false],
    ['emails.value gt 3', false],
  ])('%s → %s', (text, expected) => {
    expect(match(text)).toBe(expected);
  });

  test('numbers compare in order', () => {
    const f = parseFilter('n ge 2 and n lt 3');
    expect(matches(f, { n: 2 })).toBe(true);
    expect(matches(f, { n: 3 })).toBe(false);
    expect(matches(parseFilter('n eq 2'), { n: 2 })).toBe(true);
  });
});

describe('what GET /Users answers', () => {
  test.each([
    ['userName eq "Ada"', { kind: 'userName', value: 'Ada' }],
    ['USERNAME Eq "Ada"', { kind: 'userName', value: 'Ada' }],
    [
      'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"',
      { kind: 'userName', value: 'a' },
    ],
    ['externalId eq "E1"', { kind: 'externalId', value: 'E1' }],
    ['id eq "x"', { kind: 'id', value: 'x' }],
    ['emails.value eq "a@b.c"', { kind: 'email', value: 'a@b.c' }],
    ['emails eq "a@b.c"', { kind: 'email', value: 'a@b.c' }],
    ['emails[value eq "a@b.c"]', { kind: 'email', value: 'a@b.c' }],
    ['emails[type eq "work"].value eq "a@b.c"', { kind: 'email', value: 'a@b.c', type: 'work' }],
    [
      'emails[value eq "a@b.c" and type eq "work"]',
      { kind: 'email', value: 'a@b.c', type: 'work' },
    ],
    ['active eq false', { kind: 'active', value: false }],
    ['active eq "True"', { kind: 'active', value: true }],
  ])('%s', (text, query) => {
    expect(userQueryOf(parseFilter(text))).toEqual(query);
  });

  test('and/or in any grouping', () => {
    expect(
      userQueryOf(parseFilter('(userName eq "a" or externalId eq "b") and active eq true')),
    ).toEqual({
      kind: 'and',
      parts: [
        {
          kind: 'or',
          parts: [
            { kind: 'userName', value: 'a' },
            { kind: 'externalId', value: 'b' },
          ],
        },
        { kind: 'active', value: true },
      ],
    });
  });

  test.each([
    ['userName co "a"', 'uses co'],
    ['userName ne "a"', 'uses ne'],
    ['not (userName eq "a")', 'uses not'],
    ['title pr', 'uses pr'],
    ['title eq "x"', 'filters on title'],
    [`${ENTERPRISE_SCHEMA}:department eq "x"`, 'filters on department, an enterprise attribute'],
    ['urn:x:y:z eq "x"', 'names an extension'],
    ['userName eq 5', 'compares userName with something other than a string'],
    ['active eq "maybe"', 'compares active with something other than true or false'],
    ['roles[value eq "x"]', 'uses [...] on roles'],
    ['emails[type eq "work"]', 'emails[...] without value eq'],
    ['emails[value eq "a" or type eq "b"]', 'other than eq joined by and'],
    ['emails[value eq "a" and value eq "b"]', 'twice'],
    ['emails[display eq "a"]', 'compares emails.display'],
  ])('%s is 400 invalidFilter: %s', (text, message) => {
    const r = refusal(() => userQueryOf(parseFilter(text)));
    expect(r).toMatchObject({ status: 400, scimType: 'invalidFilter' });
    expect(r.detail).toContain(message);
    expect(r.detail).toContain('idflow answers eq on userName');
  });
});
