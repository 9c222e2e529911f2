/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';
import config from './jest.config';

/**
 * The unit project on its own, for tools that take one flat Jest configuration (the mutation
 * run in stryker.config.json).
 */
const unit = (config.projects ?? [])[0] as Config;
const unitOnly: Config = { ...unit, rootDir: __dirname, testTimeout: config.testTimeout };
delete unitOnly.displayName;

export default unitOnly;
