/**
 * The Correlation document and the correlate step: what the compiler makes of them (rules in
 * order, fields as written, the record's link, the step's defaults), and the resolution body of
 * a review, parsed with every problem's field path whatever a client sends.
 */
import * as fc from 'fast-check';
import { evaluateRules } from '../../../src/dsl/correlation-rules';
import type { CorrelateStepIR, CorrelationIR } from '../../../src/dsl/ir';
import { createdPersonIdOf, parseResolution, reviewIdOf } from '../../../src/model/review';
import { isPersonId } from '../../../src/model/person';
import { compileText, formatted } from '../../support/definitions';

const CORRELATIONS = `
apiVersion: idflow/v1
kind: Correlation
metadata: { name: hr }
for: person
rules:
  - name: employee-id
    fields: { employeeId: record.employeeId }
  - name: name-and-birth
    fields:
      familyName: record.familyName.lowerAscii()
      attributes.dateOfBirth: string(record.attributes.dob)
---
apiVersion: idflow/v1
kind: Correlation
metadata: { name: found }
for: account
rules:
  - name: owner
    fields: { id: record.attributes.owner }
`;

function stepOf(flow: string): CorrelateStepIR {
  const result = compileText(`${CORRELATIONS}---\n${flow}`);
  expect(formatted(result)).toEqual([]);
  return result.flows.get('f')?.ir.steps[0] as CorrelateStepIR;
}

describe('the correlate step', () => {
  test('inlines the rules in order with their fields as written; a person record links by event source and subject id', () => {
    const step = stepOf(`
apiVersion: idflow/v1
kind: Flow
metadata: { name: f }
steps:
  - id: match
    correlate: { using: hr, record: '\${subject}' }
`);
    expect(step).toMatchObject({
      kind: 'correlate',
      onNoMatch: 'fail',
      record: { expr: 'subject' },
      link: { source: { expr: 'event.source' }, id: { expr: 'subject.id' } },
      correlation: {
        name: 'hr',
        for: 'person',
        rules: [
          { name: 'employee-id', fields: [{ field: 'employeeId', expr: 'record.employeeId' }] },
          {
            name: 'name-and-birth',
            fields: [
              { field: 'familyName', expr: 'record.familyName.lowerAscii()' },
              { field: 'attributes.dateOfBirth', expr: 'string(record.attributes.dob)' },
            ],
          },
        ],
      },
    });
  });

  test('an account record is an orphan when nobody matches, and links by its own connector and id', () => {
    const step = stepOf(`
apiVersion: idflow/v1
kind: Flow
metadata: { name: f }
inputs:
  uid: { type: string, required: true }
steps:
  - id: match
    correlate:
      using: found
      record: { connector: ldap, accountId: '\${event.attributes.uid}', attributes: '\${event.attributes}' }
`);
    expect(step.onNoMatch).toBe('orphan');
    expect(step.link).toBeUndefined();
  });
});

describe('review ids', () => {
  test('are stable for a step run and a record, and created person ids are person ids', () => {
    expect(reviewIdOf('flow/f/p/e', 'match')).toBe(reviewIdOf('flow/f/p/e', 'match'));
    expect(reviewIdOf('flow/f/p/e', 'match')).not.toBe(reviewIdOf('flow/f/p/e2', 'match'));
    fc.assert(
      fc.property(fc.string(), fc.string(), (source, id) => {
        expect(isPersonId(createdPersonIdOf(source, id))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the resolution body', () => {
  test('a person id or create: true is accepted as it is', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,20}$/), (personId) => {
        expect(parseResolution({ personId })).toEqual({ ok: true, value: { personId } });
      }),
      { numRuns: 200 },
    );
    expect(parseResolution({ create: true })).toEqual({ ok: true, value: { create: true } });
  });

  test('anything else is refused with field paths, never thrown', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (body) => {
        const parsed = parseResolution(body);
        const fine =
          body !== null &&
          typeof body === 'object' &&
          !Array.isArray(body) &&
          Object.keys(body).length === 1 &&
          ((Object.keys(body)[0] === 'personId' &&
            isPersonId((body as Record<string, unknown>).personId)) ||
            (body as Record<string, unknown>).create === true);
        expect(parsed.ok).toBe(fine);
        if (!parsed.ok) {
          expect(parsed.problems.length).toBeGreaterThan(0);
          for (const p of parsed.problems)
            expect(p.path === '' || p.path.startsWith('/')).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('each problem names its field', () => {
    expect(parseResolution({ personId: 'a b', create: false, x: 1 })).toEqual({
      ok: false,
      problems: [
        { path: '/x', message: 'unknown field' },
        { path: '/personId', message: expect.stringContaining('must be a person id') as string },
        { path: '/create', message: 'must be true (a new person), or left out' },
        { path: '/create', message: 'give either personId or create, not both' },
      ],
    });
    expect(parseResolution({})).toMatchObject({ ok: false, problems: [{ path: '/personId' }] });
    expect(parseResolution([])).toMatchObject({ ok: false, problems: [{ path: '' }] });
  });
});

describe('rule evaluation', () => {
  const hr = compileText(CORRELATIONS).correlations.get('hr')?.ir as CorrelationIR;
  const accountsIr = compileText(CORRELATIONS).correlations.get('found')?.ir as CorrelationIR;

  test('each rule gives the values of its fields, in order', () => {
    expect(
      evaluateRules(hr, {
        id: 'wd-1',
        employeeId: 'E1',
        familyName: "O'Brien",
        attributes: { dob: '1990-01-02' },
      }),
    ).toEqual([
      { name: 'employee-id', values: [{ field: 'employeeId', value: 'E1' }] },
      {
        name: 'name-and-birth',
        values: [
          { field: 'familyName', value: "o'brien" },
          { field: 'attributes.dateOfBirth', value: '1990-01-02' },
        ],
      },
    ]);
  });

  test('a rule whose value the record lacks or leaves empty is skipped', () => {
    expect(evaluateRules(hr, { id: 'wd-2', employeeId: '', familyName: 'Lee' })).toEqual([
      { name: 'employee-id', skipped: 'absent' },
      { name: 'name-and-birth', skipped: 'absent' },
    ]);
    expect(
      evaluateRules(accountsIr, { connector: 'ldap', accountId: 'x', attributes: {} }),
    ).toEqual([{ name: 'owner', skipped: 'absent' }]);
  });

  test('values are taken as they are: no pattern characters are special here', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (employeeId) => {
        expect(evaluateRules(hr, { id: 'x', employeeId })[0]).toEqual({
          name: 'employee-id',
          values: [{ field: 'employeeId', value: employeeId }],
        });
      }),
      { numRuns: 200 },
    );
  });
});
