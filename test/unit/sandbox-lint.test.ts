/**
 * The sandbox boundary is enforced: ESLint refuses Node built-ins, the database, the gateway,
 * configuration and activity code (other than `import type`) in workflows/.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../support/definitions';

/** Lints `code` as if it were workflows/index.ts, with the sandbox rules eslint.config.mjs uses. */
function lintAsWorkflow(code: string): string[] {
  const eslint = join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js');
  const args = [
    '--no-config-lookup',
    '--config',
    'eslint.sandbox.mjs',
    '--stdin',
    '--stdin-filename',
    'workflows/index.ts',
  ];
  const run = spawnSync(process.execPath, [eslint, ...args, '--format', 'json'], {
    cwd: ROOT,
    input: code,
    encoding: 'utf8',
  });
  const [result] = JSON.parse(run.stdout) as Array<{
    messages: Array<{ ruleId: string | null; message: string }>;
  }>;
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.startsWith('no-restricted'))
    .map((m) => m.message);
}

test.each([
  ["import { readFileSync } from 'node:fs';", 'Workflow code runs in the Temporal sandbox'],
  ["import * as crypto from 'crypto';", 'Workflow code runs in the Temporal sandbox'],
  [
    "import { openDatabase } from '../src/db/client';",
    'Workflow code may import only sandbox-safe modules',
  ],
  [
    "import { loadConfig } from '../src/config';",
    'Workflow code may import only sandbox-safe modules',
  ],
  [
    "import { createActivities } from '../activities';",
    'Workflow code may import only sandbox-safe modules',
  ],
  ["import express from 'express';", 'Workflow code runs in the Temporal sandbox'],
  ['export const env = process.env.X;', 'Workflow code may not read the environment.'],
])('%s is refused in workflows/', (code, message) => {
  const messages = lintAsWorkflow(`${code}\n`);
  expect(messages.some((m) => m.includes(message))).toBe(true);
});

test('sandbox-safe imports and `import type` of activities are allowed', () => {
  const messages = lintAsWorkflow(
    "import type { Activities } from '../activities';\nimport { toCel } from '../src/dsl/cel-runtime';\nexport type A = Activities;\nexport const f = toCel;\n",
  );
  expect(messages).toEqual([]);
});
