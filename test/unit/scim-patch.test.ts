/**
 * SCIM PATCH (RFC 7644 §3.5.2) on a stored user: add, replace and remove with every kind of
 * path, the requests Entra ID and Okta send (capitalised ops, "False" strings, path-less
 * replace, URN paths, `emails[type eq "work"].value` on a user without a work email), the
 * scimType of each mistake, and any PATCH body at all giving a user or a 400 SCIM error.
 */
import * as fc from 'fast-check';
import { propertyRuns } from '../support/property-runs';
import { ScimProblem } from '../../src/scim/errors';
import { applyPatch } from '../../src/scim/patch';
import {
  MAX_OPERATIONS,
  PATCH_SCHEMA,
  parsePatchPath,
  parsePatchRequest,
} from '../../src/scim/patch-request';
import { coerceUser } from '../../src/scim/resource';
import { ENTERPRISE_SCHEMA, USER_SCHEMA, userSchemas } from '../../src/scim/schema';

const CUSTOM = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
const schemas = userSchemas([CUSTOM]);
type Json = Record<string, unknown>;

const stored: Json = {
  schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
  id: 'u-1',
  userName: 'ada@example.com',
  externalId: 'E1001',
  active: true,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  title: 'Engineer',
  emails: [
    { value: 'ada@example.com', type: 'work', primary: true },
    { value: 'ada@home.example', type: 'home' },
  ],
  [ENTERPRISE_SCHEMA]: { department: 'Engineering', manager: { value: 'M-1' } },
};

/** The user after `operations`, as the service stores it (checked again like a PUT). */
function patched(operations: unknown[], user: Json = stored): Json {
  const ops = parsePatchRequest({ schemas: [PATCH_SCHEMA], Operations: operations }, schemas);
  // coercion drops the read-only id, as the service does before it puts it back
  return coerceUser(applyPatch(user, ops, schemas), schemas);
}

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

describe('Entra ID’s requests', () => {
  test('Replace active with the string "False", path-less or by path', () => {
    expect(patched([{ op: 'Replace', path: 'active', value: 'False' }]).active).toBe(false);
    expect(patched([{ op: 'Replace', value: { active: 'False' } }]).active).toBe(false);
    expect(patched([{ op: 'replace', value: { active: false } }]).active).toBe(false);
  });

  test('Replace emails[type eq "work"].value and name.familyName', () => {
    const user = patched([
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ada.l@example.com' },
      { op: 'Replace', path: 'name.familyName', value: 'King' },
    ]);
    expect(user.emails).toEqual([
      { value: 'ada.l@example.com', type: 'work', primary: true },
      { value: 'ada@home.example', type: 'home' },
    ]);
    expect(user.name).toEqual({ givenName: 'Ada', familyName: 'King' });
  });

  test('Add emails[type eq "work"].value to a user without a work email creates it', () => {
    const user = patched(
      [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'g@example.com' }],
      {
        ...stored,
        emails: undefined,
      },
    );
    expect(user.emails).toEqual([{ type: 'work', value: 'g@example.com' }]);
  });

  test('Add enterprise attributes by URN path, the manager as a one-element list', () => {
    const user = patched([
      { op: 'Add', path: `${ENTERPRISE_SCHEMA}:department`, value: 'Finance' },
      { op: 'Add', path: `${ENTERPRISE_SCHEMA}:employeeNumber`, value: '1001' },
      { op: 'Add', path: `${ENTERPRISE_SCHEMA}:manager`, value: [{ $ref: null, value: 'M-2' }] },
    ]);
    expect(user[ENTERPRISE_SCHEMA]).toEqual({
      employeeNumber: '1001',
      department: 'Finance',
      manager: { value: 'M-2' },
    });
  });

  test('path-less Add with attribute paths and URN-qualified names as keys', () => {
    const user = patched([
      {
        op: 'Add',
        value: {
          'name.givenName': 'Augusta',
          title: 'Countess',
          [`${ENTERPRISE_SCHEMA}:costCenter`]: 'C-9',
          [ENTERPRISE_SCHEMA]: { division: 'Analytics' },
        },
      },
    ]);
    expect(user.name).toEqual({ givenName: 'Augusta', familyName: 'Lovelace' });
    expect(user.title).toBe('Countess');
    expect(user[ENTERPRISE_SCHEMA]).toMatchObject({
      costCenter: 'C-9',
      division: 'Analytics',
      department: 'Engineering',
    });
  });

  test('Remove the manager, with the value Entra sends alongside', () => {
    const user = patched([
      { op: 'Remove', path: `${ENTERPRISE_SCHEMA}:manager`, value: [{ $ref: null, value: 'M-1' }] },
    ]);
    expect(user[ENTERPRISE_SCHEMA]).toEqual({ department: 'Engineering' });
  });
});

describe('Okta’s requests', () => {
  test('replace with a value object: deactivate, and a profile change', () => {
    expect(patched([{ op: 'replace', value: { active: false } }]).active).toBe(false);
    const user = patched([
      { op: 'replace', value: { name: { familyName: 'Byron' }, password: 'hunter2' } },
    ]);
    expect(user.name).toEqual({ givenName: 'Ada', familyName: 'Byron' });
    expect(user).not.toHaveProperty('password');
  });
});

describe('RFC 7644 semantics', () => {
  test('add to a multi-valued attribute appends, without duplicates; a new primary wins', () => {
    const user = patched([
      {
        op: 'add',
        path: 'emails',
        value: [{ value: 'ada@example.com', type: 'work', primary: true }],
      },
      {
        op: 'add',
        path: 'emails',
        value: { value: 'new@example.com', type: 'other', primary: true },
      },
    ]);
    expect(user.emails).toEqual([
      { value: 'ada@example.com', type: 'work', primary: false },
      { value: 'ada@home.example', type: 'home' },
      { value: 'new@example.com', type: 'other', primary: true },
    ]);
  });

  test('replace of a multi-valued attribute replaces all its values; of a filtered value, that value', () => {
    expect(
      patched([{ op: 'replace', path: 'emails', value: [{ value: 'x@y.z' }] }]).emails,
    ).toEqual([{ value: 'x@y.z' }]);
    expect(
      patched([
        { op: 'replace', path: 'emails[type eq "home"]', value: { value: 'h@y.z', type: 'home' } },
      ]).emails,
    ).toEqual([
      { value: 'ada@example.com', type: 'work', primary: true },
      { value: 'h@y.z', type: 'home' },
    ]);
  });

  test('replace of a complex attribute merges sub-attributes; of a simple one sets it', () => {
    expect(patched([{ op: 'replace', path: 'name', value: { middleName: 'Byron' } }]).name).toEqual(
      {
        givenName: 'Ada',
        familyName: 'Lovelace',
        middleName: 'Byron',
      },
    );
    expect(patched([{ op: 'replace', path: 'title', value: 'Analyst' }]).title).toBe('Analyst');
    expect(patched([{ op: 'replace', path: 'nickName', value: 'AL' }]).nickName).toBe('AL');
  });

  test('remove: an attribute, a sub-attribute, filtered values, listed values, an extension', () => {
    expect(patched([{ op: 'remove', path: 'title' }])).not.toHaveProperty('title');
    expect(patched([{ op: 'remove', path: 'name.givenName' }]).name).toEqual({
      familyName: 'Lovelace',
    });
    expect(patched([{ op: 'remove', path: 'emails[type eq "home"]' }]).emails).toEqual([
      { value: 'ada@example.com', type: 'work', primary: true },
    ]);
    expect(patched([{ op: 'remove', path: 'emails[type eq "work"].primary' }]).emails).toEqual([
      { value: 'ada@example.com', type: 'work' },
      { value: 'ada@home.example', type: 'home' },
    ]);
    expect(
      patched([{ op: 'remove', path: 'emails', value: [{ value: 'ada@home.example' }] }]).emails,
    ).toHaveLength(1);
    expect(patched([{ op: 'remove', path: 'emails' }])).not.toHaveProperty('emails');
    expect(patched([{ op: 'remove', path: ENTERPRISE_SCHEMA }])).not.toHaveProperty(
      ENTERPRISE_SCHEMA,
    );
    expect(patched([{ op: 'remove', path: 'nickName' }])).toEqual(
      patched([{ op: 'remove', path: 'nickName' }]),
    );
    expect(patched([{ op: 'remove', path: 'emails[type eq "other"]' }]).emails).toHaveLength(2);
  });

  test('a sub-attribute of every value, and attributes of an extension kept as sent', () => {
    expect(patched([{ op: 'replace', path: 'emails.type', value: 'other' }]).emails).toEqual([
      { value: 'ada@example.com', type: 'other', primary: true },
      { value: 'ada@home.example', type: 'other' },
    ]);
    const user = patched([{ op: 'add', path: `${CUSTOM}:badge`, value: 'B7' }]);
    expect(user[CUSTOM]).toEqual({ badge: 'B7' });
    expect(user.schemas).toEqual([USER_SCHEMA, ENTERPRISE_SCHEMA, CUSTOM]);
  });

  test('the stored user is not changed in place', () => {
    const before = structuredClone(stored);
    patched([
      { op: 'remove', path: 'emails[type eq "home"]' },
      { op: 'replace', path: 'name.givenName', value: 'X' },
    ]);
    expect(stored).toEqual(before);
  });
});

/** An attribute definition of this name, in an expected value. */
const named = (name: string): unknown => expect.objectContaining({ name }) as unknown;

describe('paths resolved against the schemas', () => {
  const path = (text: string) => parsePatchPath(text, schemas, 'Operations[0]');

  test.each([
    [' title ', { kind: 'attribute', def: named('title'), name: 'title' }],
    [
      'NAME.GIVENNAME',
      {
        kind: 'attribute',
        def: named('name'),
        name: 'name',
        sub: 'givenName',
      },
    ],
    [`${USER_SCHEMA}:title`, { kind: 'attribute', def: named('title'), name: 'title' }],
    [
      'department',
      {
        kind: 'attribute',
        urn: ENTERPRISE_SCHEMA,
        def: named('department'),
        name: 'department',
      },
    ],
    [
      `${ENTERPRISE_SCHEMA.toUpperCase()}:MANAGER.value`,
      {
        kind: 'attribute',
        urn: ENTERPRISE_SCHEMA,
        def: named('manager'),
        name: 'manager',
        sub: 'value',
      },
    ],
    [`${CUSTOM}:badge`, { kind: 'attribute', urn: CUSTOM, name: 'badge' }],
    [ENTERPRISE_SCHEMA, { kind: 'extension', urn: ENTERPRISE_SCHEMA }],
    [
      'password',
      {
        kind: 'attribute',
        def: named('password'),
        name: 'password',
        ignored: true,
      },
    ],
    [
      'emails[type eq "work"].VALUE',
      {
        kind: 'attribute',
        def: named('emails'),
        name: 'emails',
        sub: 'value',
        filter: { kind: 'compare', path: { attr: 'type' }, op: 'eq', value: 'work' },
      },
    ],
  ])('%s', (text, expected) => {
    expect(path(text)).toStrictEqual(expected);
  });

  test.each([
    [USER_SCHEMA, 'a schema idflow does not take from this source'],
    ['urn:x', 'is not a SCIM attribute path'],
    [`${USER_SCHEMA}:department`, 'department is not an attribute of the User schema'],
    [
      'a'.repeat(1024),
      '(a name that is no SCIM attribute name) is not an attribute of the User schema',
    ],
    ['a'.repeat(1025), 'path is longer than 1024 characters'],
    ['emails[type eq "work"]x.value', "after ']'"],
    ['emails[type eq "work"].value x', "after ']'"],
    ['emails[x[y eq 1]]', "a filter inside '[…]' cannot hold another"],
    ['name.givenName[x eq 1]', "path has '[...]' after a sub-attribute"],
  ])('%s is 400 invalidPath: %s', (text, message) => {
    const r = refusal(() => path(text));
    expect(r).toMatchObject({ status: 400, scimType: 'invalidPath' });
    expect(r.detail).toContain(message);
    expect(r.detail.startsWith('Operations[0]: ')).toBe(true);
  });

  test('a password operation is accepted and never kept', () => {
    expect(patched([{ op: 'replace', path: 'password', value: 'hunter2' }])).not.toHaveProperty(
      'password',
    );
  });
});

describe('the request', () => {
  const op = (operation: Record<string, unknown>) => ({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [operation],
  });

  test('what is read from it', () => {
    expect(
      parsePatchRequest(
        {
          SCHEMAS: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'.toUpperCase(), 'urn:x'],
          operations: [
            { OP: 'ADD', Path: '', VALUE: { title: 'x' } },
            { op: 'remove', path: 'title', value: null },
          ],
        },
        schemas,
      ),
    ).toStrictEqual([
      { op: 'add', value: { title: 'x' }, where: 'Operations[0]' },
      {
        op: 'remove',
        path: named('title'),
        value: null,
        where: 'Operations[1]',
      },
    ]);
    const many = Array.from({ length: MAX_OPERATIONS }, () => ({
      op: 'add',
      path: 'title',
      value: 'x',
    }));
    expect(parsePatchRequest({ schemas: [PATCH_SCHEMA], Operations: many }, schemas)).toHaveLength(
      MAX_OPERATIONS,
    );
  });

  test.each([
    [
      'no Operations',
      { schemas: [PATCH_SCHEMA] },
      'invalidSyntax',
      'Operations must be a list of at least one operation',
    ],
    [
      'schemas twice',
      { ...op({ op: 'add', path: 'title', value: 'x' }), SCHEMAS: [] },
      'invalidSyntax',
      'schemas is given more than once',
    ],
    [
      'Operations twice',
      { ...op({ op: 'add', path: 'title', value: 'x' }), operations: [] },
      'invalidSyntax',
      'Operations is given more than once',
    ],
    [
      'op twice',
      op({ op: 'add', OP: 'add', path: 'title', value: 'x' }),
      'invalidSyntax',
      'Operations[0].op is given more than once',
    ],
    [
      'path twice',
      op({ op: 'add', path: 'title', PATH: 'x', value: 'x' }),
      'invalidSyntax',
      'Operations[0].path is given more than once',
    ],
    [
      'value twice',
      op({ op: 'add', path: 'title', value: 'x', Value: 'y' }),
      'invalidSyntax',
      'Operations[0].value is given more than once',
    ],
    [
      'no op',
      op({ path: 'title', value: 'x' }),
      'invalidSyntax',
      'Operations[0].op must be add, remove or replace',
    ],
    [
      'an op that is a number',
      op({ op: 5, path: 'title', value: 'x' }),
      'invalidSyntax',
      'Operations[0].op must be add, remove or replace',
    ],
    [
      'a remove with a blank path',
      op({ op: 'remove', path: '   ' }),
      'noTarget',
      'Operations[0]: remove needs a path',
    ],
    [
      'too many operations',
      {
        schemas: [PATCH_SCHEMA],
        Operations: Array.from({ length: MAX_OPERATIONS + 1 }, () => ({
          op: 'remove',
          path: 'title',
        })),
      },
      'invalidValue',
      `Operations holds more than ${MAX_OPERATIONS} operations`,
    ],
  ])('%s: 400 %s', (_case, body, scimType, detail) => {
    expect(refusal(() => parsePatchRequest(body, schemas))).toEqual({
      status: 400,
      scimType,
      detail,
    });
  });
});

describe('mistakes and their scimType', () => {
  test.each([
    ['not an object', 'x', 'invalidSyntax', 'must be a JSON object'],
    [
      'no PatchOp schema',
      { schemas: [USER_SCHEMA], Operations: [{ op: 'add', path: 'title', value: 'x' }] },
      'invalidSyntax',
      `schemas must list ${PATCH_SCHEMA}`,
    ],
    [
      'no operations',
      { schemas: [PATCH_SCHEMA], Operations: [] },
      'invalidSyntax',
      'at least one operation',
    ],
    [
      'an unknown op',
      { schemas: [PATCH_SCHEMA], Operations: [{ op: 'move', path: 'title' }] },
      'invalidSyntax',
      'Operations[0].op must be add, remove or replace',
    ],
    [
      'an operation that is no object',
      { schemas: [PATCH_SCHEMA], Operations: ['secret'] },
      'invalidSyntax',
      'Operations[0] must be an object',
    ],
    [
      'a path that is no string',
      { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 5, value: 1 }] },
      'invalidPath',
      'path must be a string',
    ],
    [
      'a remove without a path',
      { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Remove' }] },
      'noTarget',
      'remove needs a path',
    ],
    [
      'an add without a value',
      { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'title' }] },
      'invalidValue',
      'add needs a value',
    ],
  ])('%s: 400 %s', (_case, body, scimType, message) => {
    const r = refusal(() => parsePatchRequest(body, schemas));
    expect(r).toMatchObject({ status: 400, scimType });
    expect(r.detail).toContain(message);
  });

  test.each([
    [
      'an unknown attribute',
      { op: 'add', path: 'favourite', value: 'x' },
      'invalidPath',
      'favourite is not an attribute of the User schema',
    ],
    [
      'an unknown sub-attribute',
      { op: 'add', path: 'name.nick', value: 'x' },
      'invalidPath',
      'nick is not a sub-attribute of name',
    ],
    [
      'a filter on a singular attribute',
      { op: 'add', path: 'title[value eq "x"]', value: 'x' },
      'invalidPath',
      'title is not multi-valued',
    ],
    [
      'a broken filter',
      { op: 'replace', path: 'emails[type eq]', value: 'x' },
      'invalidPath',
      "path's [...] the filter is not valid",
    ],
    [
      'an unclosed bracket',
      { op: 'replace', path: 'emails[type eq "work"', value: 'x' },
      'invalidPath',
      'never closes',
    ],
    [
      'junk after the bracket',
      { op: 'replace', path: 'emails[type eq "work"]x', value: 'x' },
      'invalidPath',
      "after ']'",
    ],
    [
      'an unknown schema',
      { op: 'add', path: 'urn:x:y:attr', value: 'x' },
      'invalidPath',
      'a schema idflow does not take',
    ],
    ['the id', { op: 'replace', path: 'id', value: 'x' }, 'mutability', 'id is read-only'],
    [
      'meta',
      { op: 'replace', path: 'meta.version', value: 'x' },
      'mutability',
      'meta is read-only',
    ],
    [
      'groups',
      { op: 'add', path: 'groups', value: [{ value: 'g' }] },
      'mutability',
      'groups is read-only',
    ],
    [
      'the manager’s displayName',
      { op: 'add', path: `${ENTERPRISE_SCHEMA}:manager.displayName`, value: 'x' },
      'mutability',
      'manager.displayName is read-only',
    ],
    [
      'a path that is not one',
      { op: 'add', path: 'a b', value: 'x' },
      'invalidPath',
      'not a SCIM attribute path',
    ],
  ])('a path naming %s: 400 %s', (_case, operation, scimType, message) => {
    const r = refusal(() =>
      parsePatchRequest({ schemas: [PATCH_SCHEMA], Operations: [operation] }, schemas),
    );
    expect(r).toMatchObject({ status: 400, scimType });
    expect(r.detail).toContain(message);
    expect(r.detail).toContain('Operations[0]');
  });

  test.each([
    [
      'replace of a filtered value that matches nothing and describes none',
      [{ op: 'replace', path: 'emails[value co "zzz"].type', value: 'work' }],
      'noTarget',
    ],
    ['a path-less add without an object', [{ op: 'add', value: 'secret' }], 'invalidValue'],
    ['a wrong type', [{ op: 'replace', path: 'active', value: 'maybe' }], 'invalidValue'],
    ['the userName removed', [{ op: 'remove', path: 'userName' }], 'invalidValue'],
    [
      'a filtered replace with no object',
      [{ op: 'replace', path: 'emails[type eq "work"]', value: 'secret' }],
      'invalidValue',
    ],
    [
      'an extension replaced by a string',
      [{ op: 'replace', path: ENTERPRISE_SCHEMA, value: 'secret' }],
      'invalidValue',
    ],
  ])('%s: 400 %s', (_case, operations, scimType) => {
    const r = refusal(() => patched(operations));
    expect(r).toMatchObject({ status: 400, scimType });
    expect(r.detail).not.toContain('secret');
  });
});

test('any PATCH body gives a user or a 400 SCIM error, never another error', () => {
  const path = fc.oneof(
    fc.constantFrom(
      'title',
      'active',
      'emails',
      'emails.value',
      'emails[type eq "work"].value',
      'emails[type eq "work"]',
      'name',
      'name.givenName',
      'userName',
      'id',
      'groups',
      `${ENTERPRISE_SCHEMA}:manager`,
      `${ENTERPRISE_SCHEMA}:department`,
      ENTERPRISE_SCHEMA,
      `${CUSTOM}:x`,
      'addresses[type eq "work"].locality',
      'emails[value co "a" or primary eq true]',
      'emails[',
      'x.y.z',
    ),
    fc.string({ maxLength: 20 }),
  );
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(
      'False',
      'True',
      [{ value: 'v', primary: true }],
      { active: 'False' },
      { 'name.givenName': 'G' },
    ),
  );
  const operation = fc.record(
    {
      op: fc.oneof(
        fc.constantFrom('add', 'Add', 'replace', 'Replace', 'remove', 'REMOVE'),
        fc.string({ maxLength: 5 }),
      ),
      path,
      value,
    },
    { requiredKeys: ['op'] },
  );
  const body = fc.oneof(
    fc.record({
      schemas: fc.constant([PATCH_SCHEMA]),
      Operations: fc.array(operation, { maxLength: 5 }),
    }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  fc.assert(
    fc.property(body, (input) => {
      try {
        const ops = parsePatchRequest(input, schemas);
        const user = coerceUser(applyPatch(stored, ops, schemas), schemas);
        expect(typeof user.userName).toBe('string');
        expect(coerceUser(user, schemas)).toEqual(user);
      } catch (err) {
        expect(err).toBeInstanceOf(ScimProblem);
        expect((err as ScimProblem).status).toBe(400);
      }
    }),
    { numRuns: propertyRuns(2000) },
  );
});
