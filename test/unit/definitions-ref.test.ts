/**
 * What the `definitions history|activate|diff` commands accept as `<kind>/<name>`, and the
 * setting of how many versions are kept: anything else is an error naming what was given.
 */
import * as fc from 'fast-check';
import { ConfigError, loadConfig } from '../../src/config';
import { DEFINITION_KINDS } from '../../src/db/repos/definitions';
import { DefinitionRefError, parseDefinitionRef } from '../../src/definitions/ref';
import { NAME_PATTERN } from '../../src/dsl/schema';

test('the kind is case-insensitive; the name as definitions spell it', () => {
  expect(parseDefinitionRef('flow/joiner-standard')).toEqual({
    kind: 'Flow',
    name: 'joiner-standard',
  });
  expect(parseDefinitionRef('SODRULE/approve-and-pay')).toEqual({
    kind: 'SodRule',
    name: 'approve-and-pay',
  });
  expect(parseDefinitionRef('Correlation/by-email')).toEqual({
    kind: 'Correlation',
    name: 'by-email',
  });
});

test.each([
  ['joiner-standard', '"joiner-standard" is not <kind>/<name>, like flow/joiner-standard'],
  [
    'template/welcome',
    '"template" is not a definition kind; kinds: flow, policy, connector, role, sodrule, correlation',
  ],
  ['flow/Joiner', '"Joiner" is not a Flow name'],
  ['flow/', '"" is not a Flow name'],
  ['flow/a/b', '"a/b" is not a Flow name'],
])('%s is refused, naming it', (value, message) => {
  expect(() => parseDefinitionRef(value)).toThrow(DefinitionRefError);
  expect(() => parseDefinitionRef(value)).toThrow(message);
});

test('any input is either a known kind with a valid name or a DefinitionRefError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (value) => {
      try {
        const ref = parseDefinitionRef(value);
        expect(DEFINITION_KINDS).toContain(ref.kind);
        expect(NAME_PATTERN.test(ref.name)).toBe(true);
      } catch (err) {
        expect(err).toBeInstanceOf(DefinitionRefError);
        expect((err as Error).message.length).toBeLessThan(300);
      }
    }),
    { numRuns: 500 },
  );
});

test('IDFLOW_DEFINITION_RETENTION: 10 by default, a whole number of at least 1', () => {
  expect(loadConfig({}).definitionRetention).toBe(10);
  expect(loadConfig({ IDFLOW_DEFINITION_RETENTION: '3' }).definitionRetention).toBe(3);
  for (const [value, message] of [
    ['0', 'must be at least 1'],
    ['2.5', 'must be a whole number of versions'],
    ['ten', 'must be a number of versions'],
  ]) {
    let error: unknown;
    try {
      loadConfig({ IDFLOW_DEFINITION_RETENTION: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(new RegExp(`^IDFLOW_DEFINITION_RETENTION="${value}": ${message}`)),
    ]);
  }
});
