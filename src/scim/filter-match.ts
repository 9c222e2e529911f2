/**
 * Matching a SCIM filter against a resource, or against one value of a multi-valued attribute
 * (PATCH paths such as `emails[type eq "work"].value`). Strings compare without case unless the
 * attribute is caseExact; dateTime attributes order by time; a complex value compared as a
 * whole is compared by its `value`; a multi-valued attribute matches when any value does.
 */
import type { AttrPath, CompareOp, Filter, Literal } from './filter';
import { findAttribute, type AttributeDef } from './schema';

type Json = Record<string, unknown>;

/** Where a path is read: the attribute definitions of the record, by extension URN for `urn:`. */
export interface MatchScope {
  defs?: readonly AttributeDef[];
  extensionDefs?: (urn: string) => readonly AttributeDef[] | undefined;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function caseless(record: Json, name: string): unknown {
  const lower = name.toLowerCase();
  const key = Object.keys(record).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : record[key];
}

function flat(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.flatMap(flat) : [value];
}

/** The values at `path` in `record` (every value of a multi-valued attribute). */
function valuesAt(record: Json, path: AttrPath): unknown[] {
  const base = path.urn ? caseless(record, path.urn) : record;
  if (!isRecord(base)) return [];
  const values = flat(caseless(base, path.attr));
  if (!path.sub) return values;
  return values.flatMap((v) => (isRecord(v) ? flat(caseless(v, path.sub as string)) : []));
}

function defAt(scope: MatchScope, path: AttrPath): AttributeDef | undefined {
  const defs = path.urn ? scope.extensionDefs?.(path.urn) : scope.defs;
  const def = findAttribute(defs, path.attr);
  return path.sub ? findAttribute(def?.subAttributes, path.sub) : def;
}

function order(a: string | number, op: CompareOp, e: string | number): boolean {
  switch (op) {
    case 'gt':
      return a > e;
    case 'ge':
      return a >= e;
    case 'lt':
      return a < e;
    case 'le':
      return a <= e;
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    default:
      return false;
  }
}

function compare(actual: unknown, op: CompareOp, expected: Literal, def?: AttributeDef): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') {
    if (def?.type === 'dateTime' && ['gt', 'ge', 'lt', 'le'].includes(op)) {
      const [a, e] = [Date.parse(actual), Date.parse(expected)];
      return !Number.isNaN(a) && !Number.isNaN(e) && order(a, op, e);
    }
    const exact = def?.caseExact ?? false;
    const a = exact ? actual : actual.toLowerCase();
    const e = exact ? expected : expected.toLowerCase();
    if (op === 'co') return a.includes(e);
    if (op === 'sw') return a.startsWith(e);
    if (op === 'ew') return a.endsWith(e);
    return order(a, op, e);
  }
  if (typeof actual === 'number' && typeof expected === 'number')
    return order(actual, op, expected);
  if (op === 'eq') return actual === expected;
  if (op === 'ne') return actual !== expected;
  return false;
}

/** Whether `record` (a resource, or one value of a multi-valued attribute) matches `filter`. */
export function matches(filter: Filter, record: Json, scope: MatchScope = {}): boolean {
  switch (filter.kind) {
    case 'and':
      return matches(filter.left, record, scope) && matches(filter.right, record, scope);
    case 'or':
      return matches(filter.left, record, scope) || matches(filter.right, record, scope);
    case 'not':
      return !matches(filter.filter, record, scope);
    case 'present':
      return valuesAt(record, filter.path).some(
        (v) => v !== '' && !(isRecord(v) && !Object.keys(v).length),
      );
    case 'compare': {
      const values = valuesAt(record, filter.path);
      const def = defAt(scope, filter.path);
      if (values.length === 0) return filter.op === 'ne' && filter.value !== null;
      // a complex value compared as a whole is compared by its `value`
      const plain = values.map((v) => (isRecord(v) ? caseless(v, 'value') : v));
      return plain.some((v) => compare(v, filter.op, filter.value, def));
    }
    case 'valuePath': {
      const def = defAt(scope, filter.path);
      const inner: MatchScope = { ...(def?.subAttributes ? { defs: def.subAttributes } : {}) };
      return valuesAt(record, filter.path).some(
        (v) => isRecord(v) && matches(filter.filter, v, inner),
      );
    }
  }
}
