// The workflow sandbox boundary, as ESLint rules for workflows/**: workflow code runs in
// Temporal's deterministic sandbox, so it may not import Node built-ins or any module that does
// I/O, nor read the environment. Used by eslint.config.mjs, and on its own by the test that
// proves the boundary holds (test/unit/sandbox-lint.test.ts).
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

/** Modules that touch the outside world; workflow code must reach them through activities. */
const nonSandboxModules = [
  'express',
  'drizzle-orm',
  'drizzle-orm/*',
  'postgres',
  '@electric-sql/pglite',
  'pino',
  'ldapts',
  'nodemailer',
  'yaml',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

const SANDBOX = 'Workflow code runs in the Temporal sandbox: do I/O in an activity.';

export default [
  {
    files: ['workflows/**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: SANDBOX })),
          patterns: [
            { group: nonSandboxModules, message: SANDBOX },
            {
              group: [
                '**/src/db',
                '**/src/db/**',
                '**/src/gateway',
                '**/src/gateway/**',
                '**/src/config',
                '**/src/config/**',
                '**/src/cli/**',
                '**/activities',
                '**/activities/**',
              ],
              message:
                'Workflow code may import only sandbox-safe modules (src/dsl IR and expressions); import activities with `import type`.',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflow code may not read the environment.' },
        { name: 'setInterval', message: 'Use Temporal timers (sleep) in workflows.' },
      ],
    },
  },
];
