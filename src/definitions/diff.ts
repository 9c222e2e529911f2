/**
 * What changed between two versions of a definition, for a reviewer: a unified diff of the
 * YAML as written, and a diff of the compiled IR — for flows step by step (added, removed,
 * changed, by step id, naming the fields that changed), for every kind the top-level fields.
 */
import { createTwoFilesPatch } from 'diff';
import { canonicalJson } from '../dsl/hash';
import type { DefinitionVersion } from '../db/repos/definitions';

/** One step of a flow, flattened out of the step tree. */
interface FlatStep {
  id: string;
  kind: string;
  /** The id of the step it is nested in, or null at the top level. */
  parent: string | null;
  /** Its own fields; nested steps replaced by their ids. */
  own: Record<string, unknown>;
}

export type StepChange =
  | { change: 'added'; id: string; kind: string; parent: string | null }
  | { change: 'removed'; id: string; kind: string; parent: string | null }
  | { change: 'changed'; id: string; kind: string; fields: string[] };

export interface DefinitionDiff {
  from: { version: number; hash: string };
  to: { version: number; hash: string };
  /** Unified diff of the YAML documents ('' when equal); null when a version has no YAML. */
  yaml: string | null;
  /** Top-level IR fields that differ (for flows, `steps` is described by `steps` below). */
  fields: string[];
  /** For flows: steps added, removed or changed, in the order of the newer version. */
  steps: StepChange[];
}

function isStep(value: unknown): value is { id: string; kind: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { id?: unknown }).id === 'string' &&
    typeof (value as { kind?: unknown }).kind === 'string'
  );
}

/** `value` with each nested step replaced by `{ step: <id> }`; nested steps go to `found`. */
function strip(value: unknown, parent: string, found: FlatStep[]): unknown {
  if (Array.isArray(value)) return value.map((v) => strip(v, parent, found));
  if (typeof value !== 'object' || value === null) return value;
  if (isStep(value)) {
    flatten(value, parent, found);
    return { step: value.id };
  }
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, strip(v, parent, found)]),
  );
}

function flatten(step: { id: string; kind: string }, parent: string | null, found: FlatStep[]) {
  const entry: FlatStep = { id: step.id, kind: step.kind, parent, own: {} };
  found.push(entry);
  for (const [key, value] of Object.entries(step as Record<string, unknown>)) {
    entry.own[key] = strip(value, step.id, found);
  }
}

/** Every step of a flow IR in document order (parents before their nested steps). */
export function flowSteps(ir: unknown): FlatStep[] {
  const steps = (ir as { steps?: unknown })?.steps;
  const found: FlatStep[] = [];
  if (Array.isArray(steps)) for (const s of steps) if (isStep(s)) flatten(s, null, found);
  return found;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** Steps added, removed and changed from flow IR `a` to flow IR `b`, by step id. */
export function diffSteps(a: unknown, b: unknown): StepChange[] {
  const before = new Map(flowSteps(a).map((s) => [s.id, s]));
  const after = flowSteps(b);
  const changes: StepChange[] = [];
  for (const s of before.values()) {
    if (!after.some((t) => t.id === s.id))
      changes.push({ change: 'removed', id: s.id, kind: s.kind, parent: s.parent });
  }
  for (const s of after) {
    const old = before.get(s.id);
    if (!old) {
      changes.push({ change: 'added', id: s.id, kind: s.kind, parent: s.parent });
      continue;
    }
    const keys = [...new Set([...Object.keys(old.own), ...Object.keys(s.own)])].sort();
    const fields = keys.filter((k) => !same(old.own[k], s.own[k]));
    if (old.parent !== s.parent) fields.push('position');
    if (fields.length) changes.push({ change: 'changed', id: s.id, kind: s.kind, fields });
  }
  return changes;
}

/** Top-level fields of two IRs that differ (`steps` left out: diffSteps explains it). */
export function diffFields(a: unknown, b: unknown): string[] {
  const ra = (a ?? {}) as Record<string, unknown>;
  const rb = (b ?? {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(ra), ...Object.keys(rb)])]
    .filter((k) => k !== 'steps' && !same(ra[k], rb[k]))
    .sort();
}

/** The diff between two stored versions of the same definition. */
export function diffVersions(a: DefinitionVersion, b: DefinitionVersion): DefinitionDiff {
  const label = (v: DefinitionVersion) =>
    `${v.kind.toLowerCase()}/${v.name}@${v.version}${v.sourcePath ? ` (${v.sourcePath})` : ''}`;
  let yaml: string | null = null;
  if (a.source !== null && b.source !== null) {
    yaml =
      a.source === b.source
        ? ''
        : createTwoFilesPatch(label(a), label(b), a.source, b.source, a.hash, b.hash, {
            context: 3,
          });
  }
  return {
    from: { version: a.version, hash: a.hash },
    to: { version: b.version, hash: b.hash },
    yaml,
    fields: diffFields(a.ir, b.ir),
    steps: a.kind === 'Flow' ? diffSteps(a.ir, b.ir) : [],
  };
}

/** The diff as `idflow definitions diff` prints it. */
export function renderDiff(kind: string, name: string, d: DefinitionDiff): string {
  const lines: string[] = [
    `${kind} ${name}: version ${d.from.version} (${d.from.hash}) → version ${d.to.version} (${d.to.hash})`,
    '',
  ];
  if (d.yaml === null) lines.push('YAML: not stored for one of these versions', '');
  else if (d.yaml === '') lines.push('YAML: unchanged', '');
  else lines.push(d.yaml.replace(/^=+\n/m, '').trimEnd(), '');
  if (kind === 'Flow') {
    lines.push(d.steps.length ? 'Steps:' : 'Steps: unchanged');
    for (const s of d.steps) {
      if (s.change === 'changed') lines.push(`  ~ ${s.id} (${s.kind}): ${s.fields.join(', ')}`);
      else
        lines.push(
          `  ${s.change === 'added' ? '+' : '-'} ${s.id} (${s.kind}) ${s.change}${s.parent ? ` in ${s.parent}` : ''}`,
        );
    }
  }
  lines.push(d.fields.length ? `Other fields changed: ${d.fields.join(', ')}` : '');
  return lines.join('\n').trimEnd();
}
