// ESLint flat config. Typed linting everywhere (no-floating-promises is an error), and a
// stricter override for workflows/**: workflow code runs in Temporal's deterministic sandbox,
// so it may not import Node built-ins or any module that does I/O.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import workflowSandbox from './eslint.sandbox.mjs';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.idflow/**',
      'coverage/**',
      'migrations/**',
      '.stryker-tmp/**',
      'reports/**',
    ],
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
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'eslint.config.mjs', 'eslint.sandbox.mjs'],
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
  ...workflowSandbox,
);
