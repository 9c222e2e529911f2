// ESLint flat config. Typed linting everywhere (no-floating-promises is an error), and a
// stricter override for workflows/**: workflow code runs in Temporal's deterministic sandbox,
// so it may not import Node built-ins or any module that does I/O.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

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

export default tseslint.config(
  {
    ignores: ['node_modules/**', '.idflow/**', 'coverage/**', 'migrations/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Plain JavaScript entry points and scripts: no type information, Node globals.
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'eslint.config.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { require: 'readonly', process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code runs in the Temporal sandbox: do I/O in an activity.',
          })),
          patterns: [
            {
              group: nonSandboxModules,
              message: 'Workflow code runs in the Temporal sandbox: do I/O in an activity.',
            },
            {
              group: [
                '**/src/db',
                '**/src/db/**',
                '**/src/gateway',
                '**/src/gateway/**',
                '**/src/config',
                '**/src/config/**',
                '**/src/cli/**',
                '**/activities/*',
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
);
