#!/usr/bin/env node
// Entry point for the `idflow` command: registers tsx so the TypeScript sources run directly,
// then hands over to the CLI.
'use strict';
require('tsx/cjs');
require('../src/cli/main.ts');
