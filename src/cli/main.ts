import { Environment } from '@marcbachmann/cel-js';
console.log(new Environment().evaluate('1 + 2'));
