import { Environment } from '@marcbachmann/cel-js';
test('cel', () => { expect(new Environment().evaluate('1 + 2')).toBe(3n); });
