/**
 * Source definitions: the IR the gateway reads (authentication, rate limit, the SCIM mapping
 * merged over its defaults) and the checks YAML alone cannot make.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileSources } from '../../../src/dsl/compiler';
import {
  DEFAULT_MOVER_ON,
  DEFAULT_SCIM_EVENTS,
  DEFAULT_SCIM_PERSON,
  DEFAULT_WEBHOOK_TOLERANCE_MS,
  isScimPath,
} from '../../../src/dsl/compile/source';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function compile(text: string) {
  return compileSources([{ path: 'source.yaml', text }]);
}

function source(body: string) {
  const result = compile(`apiVersion: idflow/v1\nkind: Source\nmetadata: { name: hr }\n${body}`);
  return { ir: result.sources.get('hr')?.ir, messages: result.diagnostics.map((d) => d.message) };
}

test('a source with nothing said takes bearer tokens, no webhook, no limit and no SCIM', () => {
  expect(source('').ir).toEqual({ irVersion: 1, name: 'hr', title: 'hr', bearer: true });
});

test('every part written out', () => {
  const text = readFileSync(
    join(__dirname, '..', '..', 'fixtures', 'sources', 'full.yaml'),
    'utf8',
  );
  const result = compile(text);
  expect(result.diagnostics).toEqual([]);
  const ir = result.sources.get('hr-push')?.ir;
  expect(ir).toEqual({
    irVersion: 1,
    name: 'hr-push',
    title: 'HR pushing users over SCIM, and signing its webhooks',
    description: 'Every part of a Source, written out.',
    bearer: true,
    webhook: { secretEnvs: ['HR_PUSH_SECRET', 'HR_PUSH_SECRET_PREVIOUS'], toleranceMs: 120_000 },
    rateLimitPerMinute: 120,
    scim: {
      person: [
        { field: 'id', path: `${ENT}:employeeNumber` },
        { field: 'employeeId', path: `${ENT}:employeeNumber` },
        { field: 'givenName', path: 'name.givenName' },
        { field: 'familyName', path: 'name.familyName' },
        { field: 'displayName', path: 'displayName' },
        { field: 'email', path: 'emails[type eq "work"].value' },
        { field: 'department', path: `${ENT}:department` },
        { field: 'title', path: 'title' },
        { field: 'jobCode', path: 'urn:example:params:scim:schemas:hr:1.0:User:jobCode' },
        { field: 'managerId', path: `${ENT}:manager.value` },
        { field: 'location', path: 'addresses[primary eq true].locality' },
        { field: 'employmentType', path: 'userType' },
      ],
      attributes: [
        { name: 'costCenter', path: `${ENT}:costCenter` },
        { name: 'division', path: `${ENT}:division` },
      ],
      events: { ...DEFAULT_SCIM_EVENTS },
      moverOn: ['department', 'jobCode', 'managerId'],
    },
  });
  expect(ir?.scim?.events.update).toBeUndefined();
});

test('the SCIM defaults: externalId is the person id, person.updated for other changes', () => {
  const { ir } = source('scim: {}');
  expect(ir?.scim?.person.map((p) => p.field)).toEqual(Object.keys(DEFAULT_SCIM_PERSON));
  expect(ir?.scim?.person[0]).toEqual({ field: 'id', path: 'externalId' });
  expect(ir?.scim?.events).toEqual({ ...DEFAULT_SCIM_EVENTS, update: 'person.updated' });
  expect(ir?.scim?.moverOn).toEqual(DEFAULT_MOVER_ON);
  expect(ir?.scim?.attributes).toEqual([{ name: 'costCenter', path: `${ENT}:costCenter` }]);
});

test('a webhook without a tolerance takes 5 minutes; the limits are 10s and 1h', () => {
  const secrets = 'auth:\n  webhook:\n    secrets: [{ secretEnv: A }]\n';
  expect(source(secrets).ir?.webhook).toEqual({
    secretEnvs: ['A'],
    toleranceMs: DEFAULT_WEBHOOK_TOLERANCE_MS,
  });
  expect(DEFAULT_WEBHOOK_TOLERANCE_MS).toBe(300_000);
  expect(source(`${secrets}    tolerance: 10s\n`).ir?.webhook?.toleranceMs).toBe(10_000);
  expect(source(`${secrets}    tolerance: 1h\n`).ir?.webhook?.toleranceMs).toBe(3_600_000);
  expect(source(`${secrets}    tolerance: 9s\n`).messages).toEqual([
    'must be between 10s and 1h: the window in which a signed delivery is accepted',
  ]);
  expect(source(`${secrets}    tolerance: 61m\n`).ir).toBeUndefined();
});

test('bearer: false needs webhook secrets', () => {
  expect(source('auth: { bearer: false }').messages).toEqual([
    'with bearer: false the source needs auth.webhook secrets, or nothing could send its events',
  ]);
  const ok = source('auth:\n  bearer: false\n  webhook: { secrets: [{ secretEnv: A }] }\n');
  expect(ok.messages).toEqual([]);
  expect(ok.ir?.bearer).toBe(false);
});

test('moverOn names mapped person fields other than the id; duplicates are dropped', () => {
  expect(source('scim: { moverOn: [title, title, location] }').ir?.scim?.moverOn).toEqual([
    'title',
    'location',
  ]);
  expect(source('scim: { moverOn: [nope] }').messages[0]).toMatch(
    /^'nope' is not a person field a move can change/,
  );
  expect(source('scim: { moverOn: [jobCode] }').messages).toEqual([
    "'jobCode' is read from no SCIM attribute: map it under scim.person first",
  ]);
});

test('a mapped field overrides its default only', () => {
  const ir = source('scim:\n  person: { title: urn:x:y:jobTitle }\n').ir;
  expect(ir?.scim?.person.find((p) => p.field === 'title')?.path).toBe('urn:x:y:jobTitle');
  expect(ir?.scim?.person.find((p) => p.field === 'givenName')?.path).toBe('name.givenName');
});

test.each([
  ['userName', true],
  [`${ENT}:manager.value`, true],
  ['emails[type eq "work"].value', true],
  ['emails[type = "work"].value', false],
  ['', false],
])('isScimPath(%j) is %s', (path, expected) => {
  expect(isScimPath(path)).toBe(expected);
});

test('the checks name the path, the field and the secret', () => {
  const m = source(
    'auth:\n  webhook: { secrets: [{ secretEnv: A }, { secretEnv: A }] }\nscim:\n  person: { givenNme: name.givenName, email: "emails[type = 1]" }\n  attributes: { costCenter: "urn:x:" }\n',
  );
  expect(m.ir).toBeUndefined();
  expect(m.messages).toEqual([
    'A is listed already',
    "a person has no field 'givenNme' a SCIM user can set; did you mean 'givenName'?; fields: id, employeeId, givenName, familyName, displayName, email, department, title, jobCode, managerId, location, employmentType",
    'is not a SCIM attribute path idflow reads; write it like name.givenName, emails[type eq "work"].value or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department (a filter compares one sub-attribute with eq, ne, co, sw, ew or pr)',
    'is not a SCIM attribute path idflow reads; write it like name.givenName, emails[type eq "work"].value or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department (a filter compares one sub-attribute with eq, ne, co, sw, ew or pr)',
  ]);
});

test('moverOn refuses the id', () => {
  expect(source('scim: { moverOn: [id] }').messages).toEqual([
    "'id' is not a person field a move can change",
  ]);
});
