/**
 * Best-effort repair of a document that failed its structural check, so the semantic checks
 * (names, references, types) can still run on the rest of it and one pass reports every
 * problem. Broken steps are replaced by inert placeholders that keep their id; unknown or
 * invalid fields elsewhere are dropped. A repaired document never yields IR.
 */
import type { Path } from './diagnostics';
import { STEP_ID_PATTERN } from './schema';

const STEP_LIST_KEYS = new Set(['steps', 'then', 'else', 'default']);

/** True when `path` names an item of a step list (`/steps/2`, `/steps/0/if/then/1`). */
export function isStepPath(path: Path): boolean {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  return typeof last === 'number' && typeof parent === 'string' && STEP_LIST_KEYS.has(parent);
}

export interface Repaired {
  data: unknown;
  /** Ids of steps that were replaced: references to them are not reported again. */
  brokenSteps: Set<string>;
}

type Container = Record<string | number, unknown>;

function containerAt(data: unknown, path: Path): Container | undefined {
  let current = data;
  for (const seg of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Container)[seg];
  }
  return current !== null && typeof current === 'object' ? (current as Container) : undefined;
}

/** A copy of `data` without the parts at `problems`, or undefined when it cannot be done. */
export function repairDocument(data: unknown, problems: readonly Path[]): Repaired | undefined {
  const copy = structuredClone(data);
  const brokenSteps = new Set<string>();
  const steps: Path[] = [];
  const fields: Path[] = [];
  for (const path of problems) {
    let step: Path | undefined;
    for (let i = path.length; i > 0 && !step; i--)
      if (isStepPath(path.slice(0, i))) step = path.slice(0, i);
    (step ? steps : fields).push(step ?? path);
  }
  steps.sort((a, b) => a.length - b.length);
  let placeholders = 0;
  const replaced: Path[] = [];
  for (const path of steps) {
    if (replaced.some((r) => r.length <= path.length && r.every((seg, i) => seg === path[i])))
      continue;
    const list = containerAt(copy, path.slice(0, -1));
    const index = path[path.length - 1] as number;
    const step = list?.[index] as { id?: unknown } | undefined;
    if (!list) return undefined;
    const id = typeof step?.id === 'string' && STEP_ID_PATTERN.test(step.id) ? step.id : undefined;
    if (id) brokenSteps.add(id);
    list[index] = { id: id ?? `broken-step-${++placeholders}`, wait: { for: '0s' } };
    replaced.push(path);
  }
  for (const path of fields) {
    if (path.length === 0) return undefined;
    const parent = containerAt(copy, path.slice(0, -1));
    if (!parent || Array.isArray(parent)) return undefined;
    delete parent[path[path.length - 1] as string];
  }
  return { data: copy, brokenSteps };
}
