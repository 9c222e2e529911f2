/**
 * SCIM writes to idflow events: which event each write becomes (joiner, mover, update, leaver,
 * reactivation, none), what the event carries, and the errors a user that gives no valid
 * person gets (naming the SCIM attribute, never its value).
 */
import * as fc from 'fast-check';
import { compileSources } from '../../src/dsl/compiler';
import type { ScimMappingIR } from '../../src/dsl/ir';
import {
  activeOf,
  ScimMappingError,
  scimEventFor,
  type ScimUserState,
  type ScimWrite,
} from '../../src/scim/mapping';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const NOW = new Date('2026-12-06T10:00:00Z');

function mappingOf(scim: string): ScimMappingIR {
  const text = `apiVersion: idflow/v1\nkind: Source\nmetadata: { name: hr }\nscim:${scim}\n`;
  const result = compileSources([{ path: 'hr.yaml', text }]);
  expect(result.diagnostics).toEqual([]);
  return result.sources.get('hr')!.ir.scim!;
}

const DEFAULT = mappingOf(' {}');

function user(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
    userName: 'ada@corp.test',
    externalId: 'p-1001',
    name: { givenName: 'Ada', familyName: 'Lovelace' },
    displayName: 'Ada Lovelace',
    title: 'Engineer',
    userType: 'employee',
    emails: [{ value: 'ada@corp.test', type: 'work', primary: true }],
    addresses: [{ locality: 'London', primary: true }],
    [ENT]: { employeeNumber: 'E1001', department: 'Engineering', costCenter: 'CC-1' },
    ...over,
  };
}

function state(resource: Record<string, unknown>, over: Partial<ScimUserState> = {}) {
  return { scimId: 'abc', version: 1, resource, active: activeOf(resource), joined: true, ...over };
}

const noManager = (_value: string): Promise<string | undefined> => Promise.resolve(undefined);

function run(write: ScimWrite, mapping = DEFAULT, resolveManager = noManager) {
  return scimEventFor({
    source: 'entra',
    mapping,
    scimId: 'abc',
    version: 2,
    write,
    now: NOW,
    resolveManager,
  });
}

describe('event types', () => {
  test('a create of an active user is a joiner with the mapped person', async () => {
    const out = await run({ kind: 'create', after: user() });
    expect(out).toStrictEqual({
      personId: 'p-1001',
      joined: true,
      event: {
        source: 'entra',
        id: 'scim-abc-v2',
        type: 'person.joiner',
        occurredAt: NOW.toISOString(),
        subject: {
          id: 'p-1001',
          employeeId: 'E1001',
          givenName: 'Ada',
          familyName: 'Lovelace',
          displayName: 'Ada Lovelace',
          email: 'ada@corp.test',
          department: 'Engineering',
          title: 'Engineer',
          location: 'London',
          employmentType: 'employee',
        },
        attributes: { costCenter: 'CC-1' },
      },
    });
  });

  test('a create of an inactive user sends nothing until it is activated, then a joiner', async () => {
    const created = await run({ kind: 'create', after: user({ active: 'False' }) });
    expect(created).toEqual({ personId: 'p-1001', joined: false });
    const before = state(user({ active: false }), { joined: false });
    const activated = await run({ kind: 'replace', before, after: user({ active: true }) });
    expect(activated.event?.type).toBe('person.joiner');
    expect(activated.joined).toBe(true);
    const stillOff = await run({
      kind: 'replace',
      before,
      after: user({ active: false, title: 'X' }),
    });
    expect(stillOff).toEqual({ personId: 'p-1001', joined: false });
    expect(await run({ kind: 'delete', before })).toEqual({ personId: 'p-1001', joined: false });
  });

  test('a change of a moverOn field is a mover carrying the previous fields', async () => {
    const before = state(user());
    const after = user({
      [ENT]: { employeeNumber: 'E1001', department: 'Finance', costCenter: 'CC-1' },
    });
    const out = await run({ kind: 'replace', before, after });
    expect(out.event?.type).toBe('person.mover');
    expect(out.event?.subject.department).toBe('Finance');
    expect(out.event?.previous?.department).toBe('Engineering');
    expect(out.event?.previous?.givenName).toBe('Ada');
  });

  test.each([
    ['title', { title: 'Lead' }],
    ['location', { addresses: [{ locality: 'Paris', primary: true }] }],
  ])('a change of %s is a mover', async (_f, over) => {
    const out = await run({ kind: 'replace', before: state(user()), after: user(over) });
    expect(out.event?.type).toBe('person.mover');
  });

  test('a change of the manager is a mover, compared by the resolved person id', async () => {
    const resolve = (v: string): Promise<string | undefined> =>
      Promise.resolve(v === 'scim-m1' ? 'p-1' : v === 'scim-m2' ? 'p-2' : undefined);
    const before = state(user({ [ENT]: { manager: { value: 'scim-m1' } } }));
    const same = await run(
      { kind: 'replace', before, after: user({ [ENT]: { manager: 'scim-m1' } }) },
      DEFAULT,
      resolve,
    );
    expect(same.event).toBeUndefined();
    const moved = await run(
      { kind: 'replace', before, after: user({ [ENT]: { manager: { value: 'scim-m2' } } }) },
      DEFAULT,
      resolve,
    );
    expect(moved.event?.type).toBe('person.mover');
    expect(moved.event?.subject.managerId).toBe('p-2');
    expect(moved.event?.previous?.managerId).toBe('p-1');
  });

  test('a manager the resolver does not know is kept when it is a person id, else left out', async () => {
    const a = await run({ kind: 'create', after: user({ [ENT]: { manager: 'p-900' } }) });
    expect(a.event?.subject.managerId).toBe('p-900');
    const b = await run({
      kind: 'create',
      after: user({ [ENT]: { manager: 'not a person id!' } }),
    });
    expect(b.event?.subject.managerId).toBeUndefined();
  });

  test('other changes are person.updated by default, nothing with update: false, nothing when unchanged', async () => {
    const before = state(user());
    const renamed = user({ name: { givenName: 'Augusta', familyName: 'Lovelace' } });
    expect((await run({ kind: 'replace', before, after: renamed })).event?.type).toBe(
      'person.updated',
    );
    const costs = user({
      [ENT]: { employeeNumber: 'E1001', department: 'Engineering', costCenter: 'CC-2' },
    });
    expect((await run({ kind: 'replace', before, after: costs })).event?.type).toBe(
      'person.updated',
    );
    const quiet = mappingOf('\n  events: { update: false }');
    expect(await run({ kind: 'replace', before, after: renamed }, quiet)).toEqual({
      personId: 'p-1001',
      joined: true,
    });
    expect(await run({ kind: 'replace', before, after: user() })).toEqual({
      personId: 'p-1001',
      joined: true,
    });
  });

  test('active false is a leaver; DELETE of an active user a leaver; DELETE of an inactive one nothing', async () => {
    const deactivated = await run({
      kind: 'replace',
      before: state(user()),
      after: user({ active: 'False' }),
    });
    expect(deactivated.event?.type).toBe('person.leaver');
    expect(deactivated.event?.previous).toBeUndefined();
    const deleted = await run({ kind: 'delete', before: state(user()) });
    expect(deleted.event?.type).toBe('person.leaver');
    expect(deleted.event?.subject.id).toBe('p-1001');
    expect(await run({ kind: 'delete', before: state(user({ active: false })) })).toEqual({
      personId: 'p-1001',
      joined: true,
    });
  });

  test('an activation after a leaver is a reactivation', async () => {
    const out = await run({
      kind: 'replace',
      before: state(user({ active: false })),
      after: user({ active: 'TRUE' }),
    });
    expect(out.event?.type).toBe('person.reactivation');
  });

  test('a joined-flag missing on an active user still sends its joiner first', async () => {
    const out = await run({
      kind: 'replace',
      before: state(user(), { joined: false }),
      after: user(),
    });
    expect(out.event?.type).toBe('person.joiner');
  });

  test('event types and moverOn come from the mapping', async () => {
    const m = mappingOf(
      '\n  events: { create: hr.hire, mover: hr.move, deactivate: hr.off, delete: hr.gone, reactivate: hr.back, update: hr.edit }\n  moverOn: [employmentType]',
    );
    expect((await run({ kind: 'create', after: user() }, m)).event?.type).toBe('hr.hire');
    const before = state(user());
    expect(
      (await run({ kind: 'replace', before, after: user({ userType: 'contractor' }) }, m)).event
        ?.type,
    ).toBe('hr.move');
    expect(
      (await run({ kind: 'replace', before, after: user({ title: 'X' }) }, m)).event?.type,
    ).toBe('hr.edit');
    expect(
      (await run({ kind: 'replace', before, after: user({ active: false }) }, m)).event?.type,
    ).toBe('hr.off');
    expect((await run({ kind: 'delete', before }, m)).event?.type).toBe('hr.gone');
    const off = state(user({ active: false }));
    expect((await run({ kind: 'replace', before: off, after: user() }, m)).event?.type).toBe(
      'hr.back',
    );
  });
});

describe('errors name the attribute, never the value', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['no externalId', { externalId: undefined }, 'externalId'],
    ['an empty externalId', { externalId: '  ' }, 'externalId'],
    ['an id outside the grammar', { externalId: 'has space secret-value' }, 'externalId'],
    [
      'a complex value for a single field',
      { title: { value: { nested: 'secret-value' } } },
      'title',
    ],
    [
      'an email that is no address',
      { emails: [{ value: 'secret-value', primary: true }] },
      'emails[primary eq true].value',
    ],
    ['a text over 512 characters', { displayName: 'secret-value'.repeat(50) }, 'displayName'],
  ];
  test.each(cases)('%s', async (_name, over, path) => {
    const err = await run({ kind: 'create', after: user(over) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScimMappingError);
    expect((err as ScimMappingError).path).toBe(path);
    expect((err as ScimMappingError).scimType).toBe('invalidValue');
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).not.toContain('secret-value');
  });

  test('a missing person id is required, an invalid one named as such', async () => {
    const missing = await run({ kind: 'create', after: user({ externalId: undefined }) }).catch(
      (e: unknown) => e,
    );
    expect((missing as Error).message).toBe(
      'externalId is required: this source reads the person id from it',
    );
    const bad = await run({ kind: 'create', after: user({ externalId: 'a b' }) }).catch(
      (e: unknown) => e,
    );
    expect((bad as Error).message).toBe(
      'externalId is the person id and must be a letter or digit, then up to 127 letters, digits or . _ : @ -',
    );
    const email = await run({
      kind: 'create',
      after: user({ emails: [{ value: 'nope', primary: true }] }),
    }).catch((e: unknown) => e);
    expect((email as Error).message).toBe(
      "emails[primary eq true].value must be an email address, for the person's email",
    );
    const long = await run({ kind: 'create', after: user({ title: 'x'.repeat(513) }) }).catch(
      (e: unknown) => e,
    );
    expect((long as Error).message).toBe(
      "title must be text of 1 to 512 characters, for the person's title",
    );
    const complex = await run({
      kind: 'create',
      after: user({ title: { value: { a: 1 } } }),
    }).catch((e: unknown) => e);
    expect((complex as Error).message).toBe("title must be a single value, for the person's title");
  });

  test('text is trimmed; NaN and infinities are nothing', async () => {
    const out = await run({
      kind: 'create',
      after: user({ title: '  Lead  ', displayName: Number.NaN, userType: Infinity }),
    });
    expect(out.event?.subject.title).toBe('Lead');
    expect(out.event?.subject).not.toHaveProperty('displayName');
    expect(out.event?.subject).not.toHaveProperty('employmentType');
    expect(out.event?.subject.id).toBe('p-1001');
  });

  test('the person id cannot change', async () => {
    const err = await run({
      kind: 'replace',
      before: state(user()),
      after: user({ externalId: 'p-2' }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScimMappingError);
    expect((err as Error).message).toMatch(/cannot change/);
  });

  test('a mapping with its id read elsewhere names that path', async () => {
    const m = mappingOf('\n  person: { id: userName }');
    const err = await run({ kind: 'create', after: user({ userName: undefined }) }, m).catch(
      (e: unknown) => e,
    );
    expect((err as ScimMappingError).path).toBe('userName');
  });

  test('numbers are text; booleans and empty strings are nothing', async () => {
    const out = await run({
      kind: 'create',
      after: user({ title: 42, userType: true, displayName: '' }),
    });
    expect(out.event?.subject.title).toBe('42');
    expect(out.event?.subject.employmentType).toBeUndefined();
    expect(out.event?.subject.displayName).toBeUndefined();
  });
});

describe('activeOf', () => {
  test.each([
    [{}, true],
    [{ active: true }, true],
    [{ active: false }, false],
    [{ Active: 'False' }, false],
    [{ active: ' false ' }, false],
    [{ active: 'True' }, true],
    [{ active: null }, true],
  ])('%j → %s', (resource, expected) => {
    expect(activeOf(resource)).toBe(expected);
  });
});

test('any user either maps to a valid event or fails with a ScimMappingError', async () => {
  const scalar = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  );
  const value = fc.oneof(
    scalar,
    fc.array(fc.dictionary(fc.constantFrom('value', 'type', 'primary'), scalar), { maxLength: 3 }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.dictionary(
        fc.constantFrom(
          'externalId',
          'userName',
          'title',
          'emails',
          'displayName',
          'active',
          'userType',
          'addresses',
        ),
        value,
      ),
      async (fields) => {
        try {
          const out = await run({ kind: 'create', after: fields });
          if (out.event) expect(out.event.subject.id).toBe(out.personId);
        } catch (err) {
          expect(err).toBeInstanceOf(ScimMappingError);
        }
      },
    ),
    { numRuns: 300 },
  );
});
