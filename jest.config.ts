/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

/**
 * Two projects: `unit` (pure, fast, no services) and `integration` (real Temporal, PostgreSQL
 * and the other targets, started by the global setup). Sources are TypeScript run through SWC;
 * ESM-only dependencies are transformed too so everything runs as CommonJS.
 */
const esmOnly = ['@marcbachmann/cel-js'];

const transform: Config['transform'] = {
  '^.+\\.(t|j|mj)s$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
    },
  ],
};

const shared = {
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
};

const config: Config = {
  // Integration tests wait for real servers and durable timers; unit tests finish in milliseconds.
  testTimeout: 90_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
};

export default config;
