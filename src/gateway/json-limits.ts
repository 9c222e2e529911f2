/**
 * What a JSON request body may hold beyond being JSON. The limits exist because of what sits
 * behind the gateway: zod and the services walk values recursively (so nesting is bounded before
 * anything walks it), PostgreSQL refuses NUL characters and unpaired surrogates in text and jsonb,
 * and a `__proto__` key becomes a prototype, not a field, when a value is copied. Both checks are
 * iterative, so a hostile document cannot exhaust the stack.
 */
import { toPointer } from '../dsl/diagnostics';
import type { FieldProblem } from './problems';

/** Arrays and objects nested deeper than this are refused (the event schema needs 4). */
export const MAX_JSON_DEPTH = 32;

/** Whether JSON text nests arrays and objects deeper than `max`, counted without parsing it. */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `text` cannot be stored as it is, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (UNPAIRED_SURROGATE.test(text)) return 'must be valid Unicode (it has an unpaired surrogate)';
  return undefined;
}

/**
 * Every place in a parsed JSON value that cannot be accepted, with its JSON pointer: strings and
 * keys that are not storable text, `__proto__` keys, numbers too large to represent (JSON.parse
 * turns `1e400` into Infinity). Stops after `limit` problems.
 */
export function jsonValueProblems(value: unknown, limit = 20): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const stack: Array<{ value: unknown; path: Array<string | number> }> = [{ value, path: [] }];
  while (stack.length > 0 && problems.length < limit) {
    const { value: v, path } = stack.pop() as { value: unknown; path: Array<string | number> };
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) problems.push({ path: toPointer(path), message: problem });
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v))
        problems.push({ path: toPointer(path), message: 'is a number too large to represent' });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, i] });
    } else if (v !== null && typeof v === 'object') {
      for (const key of Object.keys(v).reverse()) {
        const keyProblem = key === '__proto__' ? 'is a reserved name' : textProblem(key);
        if (keyProblem) {
          problems.push({ path: toPointer([...path, key]), message: `key ${keyProblem}` });
          continue;
        }
        stack.push({ value: (v as Record<string, unknown>)[key], path: [...path, key] });
      }
    }
  }
  return problems;
}
