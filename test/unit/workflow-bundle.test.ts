/**
 * What the workflow bundle carries. A worker evaluates every module a workflow imports again
 * for each workflow it creates (dispatches, timelines, runs), so validation schemas and
 * connector declarations, which only the gateway and activities need, must stay out of it:
 * zod and the connector registry once took a third of the workflow thread's time under load.
 */
import { join } from 'node:path';
import { workflowBundle } from '../../src/temporal/bundle';
import { ROOT } from '../support/definitions';

let modules: string[];

beforeAll(async () => {
  const { code } = await workflowBundle(join(ROOT, '.idflow', 'bundle'));
  modules = [...code.matchAll(/^\/\*\*\*\/ "(\.\/[^"]+)"/gm)].map((m) => m[1] as string);
}, 120_000);

test('the bundle holds the workflows and the interceptor that decides their patches', () => {
  expect(modules).toEqual(
    expect.arrayContaining([
      './workflows/index.ts',
      './workflows/interceptors.ts',
      './workflows/patches.ts',
    ]),
  );
});

test.each([
  ['zod', /node_modules\/zod\//],
  ['the connector registry and declarations', /^\.\/src\/connectors\//],
  ['the DSL schema', /^\.\/src\/dsl\/schema\.ts$/],
  ['the event validation model', /^\.\/src\/model\/event\.ts$/],
  ['the YAML parser', /node_modules\/yaml\//],
])('the bundle does not carry %s', (_what, pattern) => {
  expect(modules.filter((m) => pattern.test(m))).toEqual([]);
});
