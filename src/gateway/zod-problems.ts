/** zod issues as the field problems a 400 lists, every one with its JSON pointer. */
import type * as z from 'zod';
import { toPointer } from '../dsl/diagnostics';
import type { FieldProblem } from './problems';

export function fieldProblems(error: z.ZodError): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path as Array<string | number>;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        problems.push({ path: toPointer([...path, key]), message: 'unknown field' });
    } else {
      problems.push({ path: toPointer(path), message: issue.message });
    }
  }
  return problems;
}
