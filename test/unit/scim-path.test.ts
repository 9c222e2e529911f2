/**
 * SCIM attribute paths as a Source's mapping names them: what parses, what is refused, and what
 * a path reads from a user resource (case-insensitive names, filters over multi-valued
 * attributes, primary values, extension URNs, Entra's plain-string manager).
 */
import * as fc from 'fast-check';
import { booleanText, getCaseless, parseScimPath, readScimPath } from '../../src/dsl/scim-path';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('parseScimPath', () => {
  test.each([
    ['userName', { attribute: 'userName' }],
    ['name.givenName', { attribute: 'name', sub: 'givenName' }],
    [
      'emails[type eq "work"].value',
      { attribute: 'emails', filter: { attribute: 'type', op: 'eq', value: 'work' }, sub: 'value' },
    ],
    [
      'emails[primary eq true].value',
      {
        attribute: 'emails',
        filter: { attribute: 'primary', op: 'eq', value: true },
        sub: 'value',
      },
    ],
    ['emails[value pr]', { attribute: 'emails', filter: { attribute: 'value', op: 'pr' } }],
    [
      'phones[ type  EQ  "mobile" ]',
      { attribute: 'phones', filter: { attribute: 'type', op: 'eq', value: 'mobile' } },
    ],
    ['x[n ne 3]', { attribute: 'x', filter: { attribute: 'n', op: 'ne', value: 3 } }],
    ['x[n eq -1.5]', { attribute: 'x', filter: { attribute: 'n', op: 'eq', value: -1.5 } }],
    ['x[n eq null]', { attribute: 'x', filter: { attribute: 'n', op: 'eq', value: null } }],
    ['x[v co "a\\"b"]', { attribute: 'x', filter: { attribute: 'v', op: 'co', value: 'a"b' } }],
    ['x[v sw "a"]', { attribute: 'x', filter: { attribute: 'v', op: 'sw', value: 'a' } }],
    ['x[v ew "a"]', { attribute: 'x', filter: { attribute: 'v', op: 'ew', value: 'a' } }],
    [`${ENT}:department`, { urn: ENT, attribute: 'department' }],
    [`${ENT}:manager.value`, { urn: ENT, attribute: 'manager', sub: 'value' }],
    ['a$b-c_d', { attribute: 'a$b-c_d' }],
  ])('%s', (path, parts) => {
    expect(parseScimPath(path)).toEqual(parts);
  });

  test.each([
    '',
    '1abc',
    'name.',
    '.name',
    'name.given.more',
    'emails[]',
    'emails[type eq work]',
    'emails[type eq "work"',
    'emails[type]',
    'emails[type gt "a"]',
    'emails[type eq "a" and value pr]',
    'emails[[type eq "a"]]',
    'x[n eq TRUE]',
    'x[n eq 1.]',
    'urn:x',
    ' userName',
    'userName ',
    'user name',
  ])('refuses %j', (path) => {
    expect(parseScimPath(path)).toBeUndefined();
  });

  test('any string either parses or is refused, never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        const parts = parseScimPath(text);
        if (parts) expect(typeof parts.attribute).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});

describe('readScimPath', () => {
  const user = {
    userName: 'u1',
    Name: { givenName: 'G', FamilyName: 'F' },
    emails: [
      { value: 'home@x.test', type: 'home' },
      { value: 'work@x.test', type: 'Work', primary: 'True' },
    ],
    phones: [{ value: '1' }, { value: '2' }],
    manager: { value: 'm-1', displayName: 'M' },
    plain: 'text',
    [ENT]: { department: 'D', manager: 'mgr-7', costCenter: { value: 'CC' } },
    'URN:other:schema': { thing: 1 },
  };
  const read = (path: string) => readScimPath(user, parseScimPath(path)!);

  test.each([
    ['userName', 'u1'],
    ['USERNAME', 'u1'],
    ['name.givenName', 'G'],
    ['name.familyName', 'F'],
    ['name.middleName', undefined],
    ['emails[type eq "work"].value', 'work@x.test'],
    ['emails[type eq "home"].value', 'home@x.test'],
    ['emails[type ne "home"].value', 'work@x.test'],
    ['emails[type eq "other"].value', undefined],
    ['emails[primary eq true].value', 'work@x.test'],
    ['emails[value co "home"].value', 'home@x.test'],
    ['emails[value sw "work"].type', 'Work'],
    ['emails[value ew "x.test"].type', 'home'],
    ['emails[primary pr].value', 'work@x.test'],
    ['emails.value', 'work@x.test'],
    ['phones.value', '1'],
    ['manager', 'm-1'],
    ['manager.displayName', 'M'],
    ['plain', 'text'],
    ['plain.value', 'text'],
    ['plain.other', undefined],
    ['plain[a eq "b"]', undefined],
    [`${ENT}:department`, 'D'],
    [`${ENT}:manager.value`, 'mgr-7'],
    [`${ENT}:costCenter`, 'CC'],
    ['urn:other:schema:thing', 1],
    ['urn:missing:schema:thing', undefined],
    ['nothing', undefined],
  ])('%s → %j', (path, expected) => {
    expect(read(path)).toEqual(expected);
  });

  test('an exact key wins over one that differs in case', () => {
    expect(getCaseless({ Title: 'a', title: 'b' }, 'title')).toBe('b');
    expect(getCaseless({ Title: 'a' }, 'TITLE')).toBe('a');
    expect(getCaseless({}, 'x')).toBeUndefined();
  });

  test('numbers and booleans in filters compare with Entra-style strings', () => {
    const r = {
      xs: [
        { n: 2, on: 'False' },
        { n: 3, on: 'true' },
      ],
    };
    expect(readScimPath(r, parseScimPath('xs[n eq 3].on')!)).toBe('true');
    expect(readScimPath(r, parseScimPath('xs[on eq false].n')!)).toBe(2);
    expect(readScimPath(r, parseScimPath('xs[on ne false].n')!)).toBe(3);
    expect(readScimPath(r, parseScimPath('xs[n co "3"].n')!)).toBeUndefined();
    expect(readScimPath(r, parseScimPath('xs[missing pr].n')!)).toBeUndefined();
    expect(
      readScimPath({ xs: [{ v: '' }, { v: null }] }, parseScimPath('xs[v pr].v')!),
    ).toBeUndefined();
  });

  test('a base that is not an object reads nothing', () => {
    expect(readScimPath({ [ENT]: 'x' }, parseScimPath(`${ENT}:department`)!)).toBeUndefined();
    expect(
      readScimPath({ xs: ['a', { primary: true, value: 'b' }] }, parseScimPath('xs.value')!),
    ).toBe('b');
  });

  test('booleanText folds only true and false', () => {
    expect(booleanText(' TRUE ')).toBe(true);
    expect(booleanText('False')).toBe(false);
    expect(booleanText('yes')).toBe('yes');
  });
});
