/**
 * A SCIM User body brought into idflow's one shape (names in the schema's spelling, Entra's
 * "True" and one-element lists, no read-only or write-only attributes kept), every refusal with
 * its scimType and without the value sent; `attributes`/`excludedAttributes`; and any JSON
 * body at all is a resource or a 400 SCIM error.
 */
import * as fc from 'fast-check';
import { propertyRuns } from '../support/property-runs';
import { ScimProblem } from '../../src/scim/errors';
import { project } from '../../src/scim/projection';
import { coerceUser, foldUserName, MAX_TEXT, MAX_VALUES } from '../../src/scim/resource';
import {
  ENTERPRISE_SCHEMA,
  USER_SCHEMA,
  extensionUrnsOf,
  userSchemas,
} from '../../src/scim/schema';

const CUSTOM = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
const schemas = userSchemas([CUSTOM]);

function refusal(run: () => unknown) {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimProblem)
      return { status: err.status, scimType: err.scimType, detail: err.detail ?? '' };
    throw err;
  }
  throw new Error('expected a SCIM error');
}

const body = (extra: Record<string, unknown> = {}) => ({
  schemas: [USER_SCHEMA],
  userName: 'ada@example.com',
  ...extra,
});

describe('coercion', () => {
  test('names in the schema’s spelling, Entra’s strings and lists, read-only and password dropped', () => {
    const user = coerceUser(
      {
        SCHEMAS: [USER_SCHEMA.toUpperCase(), ENTERPRISE_SCHEMA],
        USERNAME: 'ada@example.com',
        id: 'client-chosen',
        meta: { resourceType: 'User' },
        password: 'hunter2',
        groups: [{ value: 'g1' }],
        Active: 'False',
        name: { GivenName: 'Ada', familyName: null },
        emails: { value: 'ada@example.com', primary: 'True', type: 'work' },
        roles: [],
        phoneNumbers: ['+44 20 7946 0000'],
        [ENTERPRISE_SCHEMA.toLowerCase()]: {
          Department: 'Engineering',
          manager: [{ $ref: null, value: 'mgr-1', displayName: 'Grace' }],
          employeeNumber: null,
        },
      },
      schemas,
    );
    expect(user).toEqual({
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      userName: 'ada@example.com',
      name: { givenName: 'Ada' },
      active: false,
      emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
      phoneNumbers: [{ value: '+44 20 7946 0000' }],
      [ENTERPRISE_SCHEMA]: { department: 'Engineering', manager: { value: 'mgr-1' } },
    });
  });

  test('a manager given as its id alone, and an extension missing from schemas, are taken', () => {
    const user = coerceUser(body({ [ENTERPRISE_SCHEMA]: { manager: 'mgr-2' } }), schemas);
    expect(user).toMatchObject({
      schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
      [ENTERPRISE_SCHEMA]: { manager: { value: 'mgr-2' } },
    });
  });

  test('an extension the source’s mapping reads is kept as sent; an unused one leaves schemas', () => {
    const user = coerceUser(
      { ...body(), schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA, CUSTOM], [CUSTOM]: { badge: 7 } },
      schemas,
    );
    expect(user.schemas).toEqual([USER_SCHEMA, CUSTOM]);
    expect(user[CUSTOM]).toEqual({ badge: 7 });
    expect(
      extensionUrnsOf([`${CUSTOM}:badge`, 'name.givenName', `${ENTERPRISE_SCHEMA}:x`]),
    ).toEqual([CUSTOM]);
  });

  test('nulls, empty values and empty extensions are unassigned; the limits are inclusive', () => {
    const user = coerceUser(
      body({
        active: ' TRUE ',
        title: 'x'.repeat(MAX_TEXT),
        emails: [null, { value: 'a@b.c', display: null }],
        phoneNumbers: Array.from({ length: MAX_VALUES }, (_, i) => ({ value: `${i}` })),
        addresses: [{ type: null }],
        nickName: null,
        [ENTERPRISE_SCHEMA]: { manager: null },
        [CUSTOM]: null,
      }),
      schemas,
    );
    expect(user).toStrictEqual({
      schemas: [USER_SCHEMA],
      userName: 'ada@example.com',
      title: 'x'.repeat(MAX_TEXT),
      active: true,
      emails: [{ value: 'a@b.c' }],
      phoneNumbers: Array.from({ length: MAX_VALUES }, (_, i) => ({ value: `${i}` })),
    });
  });

  test('a bare value stands for the `value` of a complex attribute that has one', () => {
    expect(coerceUser(body({ [ENTERPRISE_SCHEMA]: { manager: 'm-1' } }), schemas)).toMatchObject({
      [ENTERPRISE_SCHEMA]: { manager: { value: 'm-1' } },
    });
    for (const bare of [5, true]) {
      expect(
        refusal(() => coerceUser(body({ [ENTERPRISE_SCHEMA]: { manager: bare } }), schemas)),
      ).toEqual({
        status: 400,
        scimType: 'invalidValue',
        detail: `${ENTERPRISE_SCHEMA}:manager.value must be a string`,
      });
    }
    expect(refusal(() => coerceUser(body({ name: 'Ada' }), schemas)).detail).toBe(
      'name must be an object of sub-attributes',
    );
    expect(refusal(() => coerceUser(body({ emails: [['a@b.c']] }), schemas)).detail).toBe(
      'emails[0] must be an object of sub-attributes',
    );
    expect(refusal(() => coerceUser(body({ active: 1 }), schemas)).detail).toBe(
      'active must be true or false',
    );
  });

  test('errors name the full path of the attribute', () => {
    const detail = (input: unknown) => refusal(() => coerceUser(input, schemas)).detail;
    expect(detail(body({ name: { givenName: 'a', GIVENNAME: 'b' } }))).toBe(
      'name.givenName is given more than once',
    );
    expect(detail({ ...body(), SCHEMAS: [USER_SCHEMA] })).toBe('schemas is given more than once');
    expect(detail(body({ USERNAME: 'b' }))).toBe('userName is given more than once');
    expect(detail(body({ [ENTERPRISE_SCHEMA]: { department: 5 } }))).toBe(
      `${ENTERPRISE_SCHEMA}:department must be a string`,
    );
    expect(detail(body({ schemas: [USER_SCHEMA, 5] }))).toContain(
      'schemas must be a list of schema URNs',
    );
    expect(detail(body({ [USER_SCHEMA]: { title: 'x' } }))).toBe(
      `${USER_SCHEMA} is not a schema idflow takes from this source`,
    );
    expect(
      detail(
        body({
          [ENTERPRISE_SCHEMA]: { department: 'a' },
          [ENTERPRISE_SCHEMA.toUpperCase()]: { division: 'b' },
        }),
      ),
    ).toBe(`${ENTERPRISE_SCHEMA} is given more than once`);
    expect(detail(body({ 'urn:x:y a secret': 1 }))).toBe(
      '(a name that is no SCIM attribute name) is not a schema idflow takes from this source',
    );
  });

  test('userName folds for comparison', () => {
    expect(foldUserName('Ada.LOVELACE@Example.com')).toBe('ada.lovelace@example.com');
  });

  test.each([
    ['not an object', [1], 'invalidSyntax', 'must be a JSON object'],
    ['no schemas', { userName: 'a' }, 'invalidSyntax', 'schemas must be a list'],
    [
      'schemas without the User',
      { schemas: [ENTERPRISE_SCHEMA], userName: 'a' },
      'invalidSyntax',
      `schemas must list ${USER_SCHEMA}`,
    ],
    [
      'an unknown schema',
      body({ schemas: [USER_SCHEMA, 'urn:x:other'] }),
      'invalidSyntax',
      'schemas names urn:x:other',
    ],
    [
      'an unknown attribute',
      body({ favouriteColour: 'red' }),
      'invalidSyntax',
      'favouriteColour is not an attribute',
    ],
    [
      'an unknown extension key',
      body({ 'urn:x:y': {} }),
      'invalidSyntax',
      'urn:x:y is not a schema',
    ],
    [
      'a strange key',
      body({ 'ada lovelace': 1 }),
      'invalidSyntax',
      '(a name that is no SCIM attribute name)',
    ],
    [
      'a name given twice',
      body({ USERNAME: 'b' }),
      'invalidSyntax',
      'userName is given more than once',
    ],
    ['no userName', { schemas: [USER_SCHEMA] }, 'invalidValue', 'userName is required'],
    ['a blank userName', body({ userName: '  ' }), 'invalidValue', 'userName is required'],
    ['a number for userName', body({ userName: 12 }), 'invalidValue', 'userName must be a string'],
    [
      'a word for active',
      body({ active: 'secret' }),
      'invalidValue',
      'active must be true or false',
    ],
    [
      'an object for title',
      body({ title: { secret: 1 } }),
      'invalidValue',
      'title must be a string',
    ],
    [
      'a list for displayName',
      body({ displayName: ['a', 'b'] }),
      'invalidValue',
      'displayName takes one value',
    ],
    ['a string for name', body({ name: 'Ada' }), 'invalidValue', 'name must be an object'],
    [
      'an unknown sub-attribute',
      body({ name: { nick: 'x' } }),
      'invalidSyntax',
      'name.nick is not a sub-attribute',
    ],
    [
      'two primary emails',
      body({
        emails: [
          { value: 'a', primary: true },
          { value: 'b', primary: 'true' },
        ],
      }),
      'invalidValue',
      'emails: at most one value may be primary',
    ],
    [
      'too many emails',
      body({ emails: Array.from({ length: MAX_VALUES + 1 }, (_, i) => ({ value: `${i}` })) }),
      'invalidValue',
      `more than ${MAX_VALUES} values`,
    ],
    [
      'a long title',
      body({ title: 'x'.repeat(MAX_TEXT + 1) }),
      'invalidValue',
      `longer than ${MAX_TEXT}`,
    ],
    [
      'an extension that is no object',
      body({ [ENTERPRISE_SCHEMA]: 'secret' }),
      'invalidValue',
      'must be an object',
    ],
    [
      'an unknown enterprise attribute',
      body({ [ENTERPRISE_SCHEMA]: { badge: 1 } }),
      'invalidSyntax',
      `${ENTERPRISE_SCHEMA}:badge is not an attribute`,
    ],
    [
      'an email that is a number',
      body({ emails: [{ value: 5 }] }),
      'invalidValue',
      'emails[0].value must be a string',
    ],
  ])('%s: 400 %s', (_case, input, scimType, message) => {
    const r = refusal(() => coerceUser(input, schemas));
    expect(r).toMatchObject({ status: 400, scimType });
    expect(r.detail).toContain(message);
    expect(r.detail).not.toMatch(/secret|\bred\b|Ada/);
  });

  test('any JSON body is a resource or a 400 SCIM error', () => {
    const key = fc.oneof(
      fc.constantFrom(
        'schemas',
        'userName',
        'USERNAME',
        'active',
        'emails',
        'name',
        'manager',
        'id',
        'meta',
        'password',
        'groups',
        ENTERPRISE_SCHEMA,
        CUSTOM,
        'title',
        'addresses',
        'x509Certificates',
      ),
      fc.string({ maxLength: 6 }),
    );
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.constantFrom([USER_SCHEMA], [USER_SCHEMA, ENTERPRISE_SCHEMA], 'True', 'false', [
        { value: 'a', primary: true },
      ]),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.dictionary(key, value, { maxKeys: 8 })),
        (input) => {
          try {
            const user = coerceUser(input, schemas);
            expect(user.schemas).toContain(USER_SCHEMA);
            expect(typeof user.userName).toBe('string');
            expect(user).not.toHaveProperty('password');
            // what is stored is taken again unchanged
            expect(coerceUser(user, schemas)).toEqual(user);
          } catch (err) {
            expect(err).toBeInstanceOf(ScimProblem);
            expect((err as ScimProblem).status).toBe(400);
          }
        },
      ),
      { numRuns: propertyRuns(1500) },
    );
  });
});

describe('attributes and excludedAttributes', () => {
  const user = {
    schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
    id: 'u1',
    userName: 'ada',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    emails: [
      { value: 'a@x', type: 'work' },
      { value: 'b@x', type: 'home' },
    ],
    [ENTERPRISE_SCHEMA]: { department: 'Eng', costCenter: 'C1' },
    meta: { version: 'W/"1"' },
  };

  test('attributes: schemas and id, then what was asked for', () => {
    expect(project(user, { attributes: 'userName, NAME.givenName,emails.value' }, schemas)).toEqual(
      {
        schemas: user.schemas,
        id: 'u1',
        userName: 'ada',
        name: { givenName: 'Ada' },
        emails: [{ value: 'a@x' }, { value: 'b@x' }],
      },
    );
    expect(
      project(user, { attributes: `${ENTERPRISE_SCHEMA}:department,nickName` }, schemas),
    ).toEqual({
      schemas: user.schemas,
      id: 'u1',
      [ENTERPRISE_SCHEMA]: { department: 'Eng' },
    });
    expect(
      project(user, { attributes: `${ENTERPRISE_SCHEMA},${USER_SCHEMA}:userName` }, schemas),
    ).toEqual({
      schemas: user.schemas,
      id: 'u1',
      userName: 'ada',
      [ENTERPRISE_SCHEMA]: user[ENTERPRISE_SCHEMA],
    });
    expect(
      project(
        user,
        { attributes: 'name.givenName,name.familyName,emails.type,emails.value' },
        schemas,
      ),
    ).toMatchObject({
      name: user.name,
      emails: [
        { type: 'work', value: 'a@x' },
        { type: 'home', value: 'b@x' },
      ],
    });
  });

  test('excludedAttributes: everything else; schemas and id stay', () => {
    const out = project(
      user,
      { excludedAttributes: `emails.type,meta,id,schemas,${ENTERPRISE_SCHEMA}:costCenter,name` },
      schemas,
    );
    expect(out).toEqual({
      schemas: user.schemas,
      id: 'u1',
      userName: 'ada',
      emails: [{ value: 'a@x' }, { value: 'b@x' }],
      [ENTERPRISE_SCHEMA]: { department: 'Eng' },
    });
    expect(user.emails[0]).toEqual({ value: 'a@x', type: 'work' });
    expect(project(user, { excludedAttributes: ENTERPRISE_SCHEMA }, schemas)).not.toHaveProperty(
      ENTERPRISE_SCHEMA,
    );
    expect(project(user, {}, schemas)).toBe(user);
  });

  test('an entry that is no attribute path is 400 invalidValue', () => {
    expect(refusal(() => project(user, { attributes: 'userName,a b' }, schemas))).toMatchObject({
      status: 400,
      scimType: 'invalidValue',
    });
  });
});
