/**
 * References from an expression to `steps.<id>` and `vars.<name>`, found in its syntax tree.
 * The flow compiler checks each against what has definitely happened before the expression
 * runs: a step that has not run yet, or a variable set only on some paths, is an error.
 */
import type { ASTNode } from '@marcbachmann/cel-js';

export interface Reference {
  root: 'steps' | 'vars';
  name: string;
  start: number;
  end: number;
}

interface RawNode {
  op: string;
  args: unknown;
  start?: number;
  end?: number;
}

function isNode(value: unknown): value is RawNode {
  return typeof value === 'object' && value !== null && 'op' in value && 'args' in value;
}

function rootName(node: unknown): 'steps' | 'vars' | undefined {
  if (!isNode(node) || node.op !== 'id') return undefined;
  return node.args === 'steps' || node.args === 'vars' ? node.args : undefined;
}

/** Every `steps.x` / `steps["x"]` / `vars.x` / `vars["x"]` in `ast`. */
export function collectReferences(ast: ASTNode): Reference[] {
  const found: Reference[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isNode(node)) return;
    if ((node.op === '.' || node.op === '[]') && Array.isArray(node.args)) {
      const [target, key] = node.args as [unknown, unknown];
      const root = rootName(target);
      const name =
        node.op === '.'
          ? key
          : isNode(key) && key.op === 'value' && typeof key.args === 'string'
            ? key.args
            : undefined;
      if (root && typeof name === 'string') {
        found.push({ root, name, start: node.start ?? 0, end: node.end ?? 0 });
        return;
      }
    }
    visit(node.args);
  };
  visit(ast);
  return found;
}
