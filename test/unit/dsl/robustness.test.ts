/**
 * Whatever a definition file holds, the compiler answers with diagnostics, never an exception,
 * and what it prints cannot carry control characters to a terminal or a CI log.
 */
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { githubAnnotation } from '../../../src/cli/commands/validate';
import { compileSources } from '../../../src/dsl/compiler';
import {
  escapeControl,
  fileDiagnostic,
  formatDiagnostic,
  type Diagnostic,
} from '../../../src/dsl/diagnostics';

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function safe(diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) {
    expect(d.message).not.toMatch(RAW_CONTROL);
    expect(d.file).not.toMatch(RAW_CONTROL);
    expect(d.pointer ?? '').not.toMatch(RAW_CONTROL);
    expect(formatDiagnostic(d)).not.toMatch(RAW_CONTROL);
    expect(githubAnnotation(d)).not.toMatch(RAW_CONTROL);
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.column).toBeGreaterThanOrEqual(1);
  }
}

const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        ': ',
        '- ',
        '\n',
        '  ',
        '---\n',
        '[',
        ']',
        '{',
        '}',
        ', ',
        '&a ',
        '*a',
        '!!str ',
        '"',
        "'",
        '|\n',
        '#',
        '${',
        'steps',
        'id',
        'if',
        'wait',
        'until',
        'apiVersion: idflow/v1\n',
        'kind: Flow\n',
        'metadata: {name: f}\n',
        '\u001b[31m',
        '\u0000',
        '\t',
      ),
      fc.string({ maxLength: 8 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

const FLOW = (steps: unknown): string =>
  stringify({ apiVersion: 'idflow/v1', kind: 'Flow', metadata: { name: 'f' }, steps });

test('YAML-ish text never makes the compiler throw, and its messages carry no control characters', () => {
  fc.assert(
    fc.property(yamlish, (text) => {
      safe(compileSources([{ path: 'f.yaml', text }]).diagnostics);
    }),
    { numRuns: 300 },
  );
});

test('any JSON value as a document, or as the steps of a flow, compiles to diagnostics only', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      safe(compileSources([{ path: 'a.yaml', text: JSON.stringify(value) }]).diagnostics);
      safe(compileSources([{ path: 'b.yaml', text: FLOW(value) }]).diagnostics);
      safe(
        compileSources([{ path: 'c.yaml', text: FLOW([{ id: 's', wait: value }]) }]).diagnostics,
      );
      safe(
        compileSources([{ path: 'd.yaml', text: FLOW([{ id: 's', wait: { until: value } }]) }])
          .diagnostics,
      );
    }),
    { numRuns: 100 },
  );
});

test("steps built from the language's own words with arbitrary values compile to diagnostics only", () => {
  const key = fc.constantFrom(
    'id',
    'if',
    'then',
    'else',
    'switch',
    'cases',
    'is',
    'set',
    'wait',
    'for',
    'until',
    'fail',
    'reason',
    'approval',
    'approvers',
    'timeout',
    'request',
    'condition',
    'on',
    'reconcile',
    'connectors',
    'grace',
    'keep',
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue({ maxDepth: 1 }),
      fc.constantFrom(
        'true',
        '1d',
        '3651d',
        '2025-01-31T17:00:00Z',
        'not a timestamp',
        '${now}',
        's',
      ),
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    ),
  })).node;
  fc.assert(
    fc.property(fc.array(value, { maxLength: 4 }), (steps) => {
      safe(compileSources([{ path: 'f.yaml', text: FLOW(steps) }]).diagnostics);
    }),
    { numRuns: 200 },
  );
});

test('escapeControl writes control characters as escapes and leaves other text alone', () => {
  expect(escapeControl('a\nb\r\tc\u0000\u001b[31m\u007f\u009b\u202e\u2028ok ü ✓')).toBe(
    'a\\nb\\r\\tc\\u0000\\u001b[31m\\u007f\\u009b\\u202e\\u2028ok ü ✓',
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      const escaped = escapeControl(s);
      expect(escaped).not.toMatch(RAW_CONTROL);
      expect(escapeControl(escaped)).toBe(escaped);
    }),
    { numRuns: 300 },
  );
});

test('a file name cannot forge lines or fields of a GitHub annotation', () => {
  const d = fileDiagnostic(
    'evil,line=1::x\n::error file=y.yaml::pwned%.yaml',
    'unreadable',
    'no\nway',
  );
  expect(githubAnnotation(d)).toBe(
    '::error file=evil%2Cline=1%3A%3Ax\\n%3A%3Aerror file=y.yaml%3A%3Apwned%25.yaml,line=1,col=1,endLine=1,endColumn=1,title=idflow unreadable::no\\nway',
  );
  expect(formatDiagnostic(d)).toBe(
    'evil,line=1::x\\n::error file=y.yaml::pwned%.yaml:1:1: error: no\\nway',
  );
});

test('a diagnostic made elsewhere is escaped when it is printed', () => {
  const raw: Diagnostic = {
    file: 'f\u001b.yaml',
    line: 2,
    column: 3,
    endLine: 2,
    endColumn: 4,
    pointer: '/a\nb',
    code: 'x',
    message: 'm\u0007',
  };
  expect(formatDiagnostic(raw)).toBe('f\\u001b.yaml:2:3: error at /a\\nb: m\\u0007');
  expect(githubAnnotation(raw)).toBe(
    '::error file=f\\u001b.yaml,line=2,col=3,endLine=2,endColumn=4,title=idflow x::/a\\nb: m\\u0007',
  );
});
