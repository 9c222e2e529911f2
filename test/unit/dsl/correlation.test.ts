/**
 * The Correlation document and the correlate step: what the compiler makes of them (rules in
 * order, fields as written, the record's link, the step's defaults), and the resolution body of
 * a review, parsed with every problem's field path whatever a client sends.
 */
import * as fc from 'fast-check';
import { evaluateRules } from '../../../src/dsl/correlation-rules';
import type { CorrelateStepIR, CorrelationIR, JsonValue } from '../../../src/dsl/ir';
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
        { path: '/personId', message: expect.stringContaining('must be a person id') as string },
        { path: '/create', message: 'must be true (a new person), or left out' },
        { path: '/x', message: 'unknown field' },
      ],
    });
    // the rule between the fields is checked once each field is valid on its own
    expect(parseResolution({ personId: 'p-1', create: true })).toEqual({
      ok: false,
      problems: [{ path: '/create', message: 'give either personId or create, not both' }],
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

/** A flow `f` with one step `match` correlating with `correlate` (YAML flow mapping). */
function flowWith(correlate: string, after = ''): string {
  return `apiVersion: idflow/v1
kind: Flow
metadata: { name: f }
steps:
  - id: match
    correlate: ${correlate}
${after}`;
}

const problems = (text: string) =>
  compileText(text).diagnostics.map((d) => [d.code, d.pointer, d.message]);

describe('the correlate step: its defaults and what it is told', () => {
  test.each([
    [
      'the defaults',
      `{ using: hr, record: '\${subject}' }`,
      { title: 'match', onNoMatch: 'fail', timeoutMs: 10_000, retry: { maximumAttempts: 10 } },
    ],
    [
      'a title, a timeout, a retry and onNoMatch',
      `{ using: hr, record: '\${subject}', onNoMatch: create, timeout: 3s, retry: { maxAttempts: 2 } }\n    title: Find the person`,
      {
        title: 'Find the person',
        onNoMatch: 'create',
        timeoutMs: 3_000,
        retry: { maximumAttempts: 2, initialIntervalMs: 1_000 },
      },
    ],
    [
      'an account correlation told to fail',
      `{ using: found, record: { connector: ldap, accountId: x }, onNoMatch: fail }`,
      { onNoMatch: 'fail' },
    ],
  ])('%s', (_, correlate, expected) => {
    expect(stepOf(flowWith(correlate))).toMatchObject(expected);
  });

  test('an explicit link is taken as written, for a person correlation too', () => {
    const step = stepOf(
      flowWith(
        `{ using: hr, record: '\${subject}', link: { source: workday, id: '\${subject.employeeId}' } }`,
      ),
    );
    expect(step.link).toEqual({ source: { lit: 'workday' }, id: { expr: 'subject.employeeId' } });
  });

  test('what the step found is readable after it', () => {
    const text = `${CORRELATIONS}---\n${flowWith(
      `{ using: hr, record: '\${subject}' }`,
      `  - id: after\n    set: { who: '\${steps.match.output.personId}' }\n`,
    )}`;
    expect(formatted(compileText(text))).toEqual([]);
  });
});

describe('the correlate step: what is refused, where and why', () => {
  test.each([
    [
      'an unknown correlation, with a suggestion',
      `${CORRELATIONS}---\n${flowWith(`{ using: hrr, record: '\${subject}' }`)}`,
      [
        [
          'unknown-correlation',
          '/steps/0/correlate/using',
          "no correlation named 'hrr'; did you mean 'hr'?",
        ],
      ],
    ],
    [
      'an unknown correlation, with the names there are',
      `${CORRELATIONS}---\n${flowWith(`{ using: zzz, record: '\${subject}' }`)}`,
      [
        [
          'unknown-correlation',
          '/steps/0/correlate/using',
          "no correlation named 'zzz'; correlations: hr, found",
        ],
      ],
    ],
    [
      'an unknown correlation when there is none',
      flowWith(`{ using: hr, record: '\${subject}' }`),
      [
        [
          'unknown-correlation',
          '/steps/0/correlate/using',
          "no correlation named 'hr' (no Correlation documents are defined)",
        ],
      ],
    ],
    [
      'a record that is not a map',
      `${CORRELATIONS}---\n${flowWith(`{ using: hr, record: '\${subject.id}' }`)}`,
      [
        [
          'bad-record',
          '/steps/0/correlate/record',
          'record is the record to correlate (a map, like ${subject}), but this gives string',
        ],
      ],
    ],
    [
      'an account that would create a person',
      `${CORRELATIONS}---\n${flowWith(`{ using: found, record: '\${subject}', onNoMatch: create }`)}`,
      [
        [
          'create-for-account',
          '/steps/0/correlate/onNoMatch',
          "correlation 'found' matches accounts; an account matching nobody is an orphan, never a new person: use orphan or fail",
        ],
      ],
    ],
    [
      'a link whose parts are not text',
      `${CORRELATIONS}---\n${flowWith(
        `{ using: hr, record: '\${subject}', link: { source: '\${1 + 1}', id: '\${has(subject.email)}' } }`,
      )}`,
      [
        ['bad-link', '/steps/0/correlate/link/source', 'link source is text, but this gives int'],
        ['bad-link', '/steps/0/correlate/link/id', 'link id is text, but this gives bool'],
      ],
    ],
  ])('%s', (_, text, expected) => {
    const result = compileText(text);
    expect(result.diagnostics.map((d) => [d.code, d.pointer, d.message])).toEqual(expected);
    expect(result.flows.has('f')).toBe(false);
  });

  test.each([
    ['the record', `record: '\${subject.nope}'`, ['/steps/0/correlate/record']],
    [
      'both parts of a link',
      `record: '\${subject}', link: { source: '\${subject.nope}', id: '\${subject.nix}' }`,
      ['/steps/0/correlate/link/source', '/steps/0/correlate/link/id'],
    ],
    [
      'the id of a link',
      `record: '\${subject}', link: { source: workday, id: '\${subject.nix}' }`,
      ['/steps/0/correlate/link/id'],
    ],
  ])('an expression that does not check in %s is reported there', (_, fields, pointers) => {
    const result = compileText(`${CORRELATIONS}---\n${flowWith(`{ using: hr, ${fields} }`)}`);
    expect(result.diagnostics.map((d) => [d.code, d.pointer])).toEqual(
      pointers.map((p) => ['cel-type', p]),
    );
    expect(result.flows.has('f')).toBe(false);
  });

  test('a record of any type (dyn) is taken: it is checked when the step runs', () => {
    expect(stepOf(flowWith(`{ using: hr, record: '\${dyn(subject)}' }`)).record).toEqual({
      expr: 'dyn(subject)',
    });
  });

  test('a step after a refused one is still checked', () => {
    const text = flowWith(
      `{ using: nothing, record: '\${subject}' }`,
      `  - id: after\n    set: { who: '\${steps.match.output.nobody}' }\n`,
    );
    expect(problems(text).map(([code, pointer]) => [code, pointer])).toEqual([
      ['unknown-correlation', '/steps/0/correlate/using'],
      ['cel-type', '/steps/1/set/who'],
    ]);
  });

  test('a correlation with errors of its own is reported there only, and flows using it are not compiled', () => {
    const text = `apiVersion: idflow/v1
kind: Correlation
metadata: { name: hr }
for: person
rules:
  - name: r
    fields: { nickname: record.givenName }
---
${flowWith(`{ using: hr, record: '\${subject}' }`)}`;
    const result = compileText(text);
    expect(result.diagnostics.map((d) => [d.code, d.pointer])).toEqual([
      ['unknown-person-field', '/rules/0/fields/nickname'],
    ]);
    expect(result.correlations.has('hr')).toBe(false);
    expect(result.flows.has('f')).toBe(false);
  });

  test('a correlation broken beyond repair is reported there only, and flows using it are not compiled', () => {
    const text = `apiVersion: idflow/v1
kind: Correlation
metadata: { name: hr }
rules: nothing
---
${flowWith(`{ using: hr, record: '\${subject}' }`)}`;
    const result = compileText(text);
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expect(result.diagnostics.every((d) => !d.pointer?.startsWith('/steps'))).toBe(true);
    expect(result.diagnostics.map((d) => d.code)).not.toContain('unknown-correlation');
    expect(result.flows.has('f')).toBe(false);
  });
});

function correlation(rules: string, head = ''): string {
  return `apiVersion: idflow/v1
kind: Correlation
metadata: { name: c${head} }
for: person
rules:
${rules}`;
}

describe('the Correlation document', () => {
  test.each([
    [
      'a rule name used twice',
      `  - name: a\n    fields: { id: record.id }\n  - name: b\n    fields: { id: record.id }\n  - name: b\n    fields: { email: record.email }`,
      [['duplicate-rule', '/rules/2/name', "rule 2 of this correlation is named 'b' already"]],
    ],
    [
      'a field a person does not have',
      `  - name: a\n    fields: { employeeNumber: record.employeeId }`,
      [
        [
          'unknown-person-field',
          '/rules/0/fields/employeeNumber',
          "a person has no field 'employeeNumber' to match on; match on id, employeeId, email, givenName, familyName, displayName, managerId, department, title, jobCode, location, employmentType or attributes.<name>",
        ],
      ],
    ],
    [
      'a value that is not text',
      `  - name: a\n    fields: { email: record.validFrom }`,
      [
        [
          'bad-correlation-value',
          '/rules/0/fields/email',
          "person field 'email' is compared with text, but this gives timestamp; convert it, like string(…)",
        ],
      ],
    ],
    [
      'a value that does not check',
      `  - name: a\n    fields: { familyName: record.surname }`,
      [['cel-type', '/rules/0/fields/familyName', "PersonRecord has no field 'surname'"]],
    ],
  ])('%s is refused where it is written', (_, rules, expected) => {
    const result = compileText(correlation(rules));
    expect(result.diagnostics.map((d) => [d.code, d.pointer, d.message])).toEqual(expected);
    expect(result.correlations.has('c')).toBe(false);
  });

  test('an unknown field is shown at its key, a bad value at its value', () => {
    const result = compileText(
      correlation(
        `  - name: a\n    fields: { employeeNumber: record.employeeId, email: record.validFrom }`,
      ),
    );
    expect(formatted(result).map((line) => line.split(': error')[0])).toEqual([
      'test.yaml:7:15',
      'test.yaml:7:57',
    ]);
  });

  test.each([
    ['its name, without title or description', '', { title: 'c' }, undefined],
    [
      'its title and the metadata description',
      ', title: The c, description: from metadata',
      { title: 'The c', description: 'from metadata' },
      undefined,
    ],
    [
      'the description of the document over the metadata one',
      ', description: from metadata',
      { title: 'c', description: 'from the document' },
      'from the document',
    ],
  ])('the IR carries %s', (_, head, expected, description) => {
    const text = correlation(`  - name: a\n    fields: { id: record.id }`, head).replace(
      'for: person',
      description === undefined ? 'for: person' : `description: ${description}\nfor: person`,
    );
    const result = compileText(text);
    expect(formatted(result)).toEqual([]);
    const ir = result.correlations.get('c')?.ir as CorrelationIR;
    expect(ir).toMatchObject({ name: 'c', for: 'person', ...expected });
    if (!('description' in expected)) expect(ir).not.toHaveProperty('description');
    expect(result.correlations.get('c')?.hash).toMatch(/\S/);
  });
});

describe('rule evaluation: values as text', () => {
  const badges = compileText(
    correlation(`  - name: badge\n    fields: { attributes.badge: record.attributes.badge }`),
  ).correlations.get('c')?.ir as CorrelationIR;

  test.each<[string, JsonValue, string | undefined]>([
    ['text', 'B-7', 'B-7'],
    ['an integer', 42, '42'],
    ['a fraction', 1.5, '1.5'],
    ['a boolean', false, 'false'],
    ['a list', [1, 'x'], '[1,"x"]'],
    ['a map', { a: 1 }, '{"a":1}'],
    ['empty text', '', undefined],
    ['null', null, undefined],
  ])('a record whose value is %s', (_, badge, value) => {
    expect(evaluateRules(badges, { id: 'x', attributes: { badge } })).toEqual([
      value === undefined
        ? { name: 'badge', skipped: 'absent' }
        : { name: 'badge', values: [{ field: 'attributes.badge', value }] },
    ]);
  });

  test("a person record's timestamps are read as timestamps", () => {
    const started = compileText(
      correlation(`  - name: start\n    fields: { attributes.start: dyn(record.validFrom) }`),
    );
    expect(formatted(started)).toEqual([]);
    const ir = started.correlations.get('c')?.ir as CorrelationIR;
    expect(evaluateRules(ir, { id: 'x', validFrom: '2026-01-01T02:00:00+02:00' })).toEqual([
      { name: 'start', values: [{ field: 'attributes.start', value: '2026-01-01T00:00:00.000Z' }] },
    ]);
  });

  test('a failure that is not the expression’s own is not taken for an absent value', () => {
    jest.isolateModules(() => {
      jest.doMock('../../../src/dsl/cel-runtime', () => ({
        ...jest.requireActual<object>('../../../src/dsl/cel-runtime'),
        evaluateExpression: () => {
          throw new RangeError('out of stack');
        },
      }));
      const { evaluateRules: isolated } = jest.requireActual<{
        evaluateRules: typeof evaluateRules;
      }>('../../../src/dsl/correlation-rules');
      expect(() => isolated(badges, { id: 'x', attributes: { badge: 'B-7' } })).toThrow(RangeError);
    });
    jest.dontMock('../../../src/dsl/cel-runtime');
  });
});
