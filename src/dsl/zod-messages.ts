/**
 * Wording of zod's issues for people writing definitions. Schemas that carry their own message
 * keep it; this covers the rest. The structure check adds the field name in front.
 */
import type * as z from 'zod';
import { didYouMean, listNames, show } from './diagnostics';

/** How a value reads in a message: `the number 3`, `a list`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return `the text '${value.length > 40 ? value.slice(0, 37) + '...' : value}'`;
  if (typeof value === 'number') return `the number ${value}`;
  return `${typeof value} ${show(value)}`;
}

export const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${Number(n) === 1 ? '' : 's'}`;
}

export const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${describe(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${plural(issue.minimum, 'item')}`;
      if (issue.origin === 'string')
        return issue.minimum === 1
          ? 'must not be empty'
          : `must be at least ${plural(issue.minimum, 'character')}`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `may have at most ${plural(issue.maximum, 'item')}`;
      if (issue.origin === 'string') return `must be at most ${plural(issue.maximum, 'character')}`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value': {
      const values = issue.values.map(String);
      if (values.length === 1) return `must be '${values[0]}'`;
      const hint = typeof issue.input === 'string' ? didYouMean(issue.input, values) : '';
      return `must be one of ${listNames(values)}${hint}`;
    }
    case 'invalid_format':
      if (issue.format === 'email') return 'must be an email address';
      if (issue.format === 'datetime')
        return 'must be an ISO 8601 timestamp with a time zone, like 2025-01-31T17:00:00Z';
      return `must be a valid ${issue.format}`;
    case 'invalid_key':
      return 'has an invalid key';
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      return undefined;
  }
};
