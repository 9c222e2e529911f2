/**
 * The JSON Schema for editors: the committed idflow.schema.json is what `idflow schema`
 * generates, every document in definitions/ satisfies it, and it rejects unknown keys.
 */
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';
import { loadSources } from '../../../src/dsl/load';
import { definitionJsonSchema } from '../../../src/dsl/json-schema-export';
import { readRepoFile, ROOT } from '../../support/definitions';
import { join } from 'node:path';

const schema = definitionJsonSchema();

test('idflow.schema.json is up to date (regenerate with: npx idflow schema --out idflow.schema.json)', () => {
  expect(JSON.parse(readRepoFile('idflow.schema.json'))).toEqual(schema);
});

test('every definition validates against the schema, and files point editors at it', async () => {
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const { sources } = await loadSources([join(ROOT, 'definitions')]);
  expect(sources.length).toBeGreaterThan(5);
  for (const source of sources) {
    expect(source.text).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/\.\.\/idflow\.schema\.json$/m,
    );
    const docs = parseAllDocuments(source.text);
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      const ok = validate(doc.toJS());
      expect({ file: source.path, errors: ok ? null : validate.errors }).toEqual({
        file: source.path,
        errors: null,
      });
    }
  }
});

test('the schema rejects unknown keys and unknown step kinds', () => {
  const validate = new Ajv({ strict: false }).compile(schema);
  const flow = {
    apiVersion: 'idflow/v1',
    kind: 'Flow',
    metadata: { name: 'x' },
    steps: [{ id: 'a', wait: { for: '1s' } }],
  };
  expect(validate(flow)).toBe(true);
  expect(validate({ ...flow, stepz: [] })).toBe(false);
  expect(validate({ ...flow, steps: [{ id: 'a', acton: {} }] })).toBe(false);
});
