/**
 * Applies PATCH operations (RFC 7644 §3.5.2) to a stored User, giving the whole new resource,
 * which the caller checks again like a PUT body. Besides the RFC, it takes what provisioning
 * clients send: a path-less `add`/`replace` whose value object has attribute paths as keys
 * (`"name.givenName"`, `"urn:…:enterprise:2.0:User:department"`); an `add` or `replace` on
 * `emails[type eq "work"].value` when no work email exists yet creates it (Entra ID); a singular
 * attribute given as a one-element list (Entra ID's manager).
 */
import { badRequest } from './errors';
import type { Filter } from './filter';
import { matches } from './filter-match';
import { isRecord } from './resource';
import { parsePatchPath, type PatchOperation, type PatchPath } from './patch-request';
import type { UserSchemas } from './schema';

type Json = Record<string, unknown>;
type AttributePath = Extract<PatchPath, { kind: 'attribute' }>;

/** The key `name` has in `record` (compared without case), or `name` when it has none. */
function keyOf(record: Json, name: string): string {
  const lower = name.toLowerCase();
  return Object.keys(record).find((k) => k.toLowerCase() === lower) ?? name;
}

function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** A singular attribute's value: a one-element list is its element. */
function single(value: unknown): unknown {
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The record a path's attribute lives in (the resource, or its extension object). */
function containerOf(resource: Json, path: AttributePath, create: boolean): Json | undefined {
  if (!path.urn) return resource;
  const key = keyOf(resource, path.urn);
  const existing = resource[key];
  if (isRecord(existing)) return existing;
  if (!create) return undefined;
  const made: Json = {};
  resource[key] = made;
  return made;
}

/**
 * The value a filter of `a eq v` joined by `and` describes, to create when nothing matches
 * (`emails[type eq "work"]` → `{type: "work"}`); undefined for any other filter.
 */
function seedOf(filter: Filter): Json | undefined {
  if (filter.kind === 'and') {
    const [a, b] = [seedOf(filter.left), seedOf(filter.right)];
    return a && b ? { ...a, ...b } : undefined;
  }
  if (filter.kind !== 'compare' || filter.op !== 'eq' || filter.path.urn || filter.path.sub)
    return undefined;
  return { [filter.path.attr]: filter.value };
}

/** After `touched` values were written, they alone may stay primary (RFC 7643 §2.4). */
function keepPrimary(list: unknown[], touched: ReadonlySet<unknown>): void {
  const primary = (v: unknown) =>
    isRecord(v) &&
    (v.primary === true || (typeof v.primary === 'string' && v.primary.toLowerCase() === 'true'));
  if (![...touched].some(primary)) return;
  for (const v of list) if (!touched.has(v) && primary(v) && isRecord(v)) v.primary = false;
}

function withSub(target: Json, sub: string, op: PatchOperation['op'], value: unknown): void {
  const key = keyOf(target, sub);
  if (op === 'remove') delete target[key];
  else target[key] = value;
}

/** An operation on a filtered multi-valued attribute: `emails[type eq "work"].value`. */
function applyFiltered(
  container: Json,
  key: string,
  path: AttributePath,
  op: PatchOperation,
): void {
  const list = listOf(container[key]);
  const scope = path.def?.subAttributes ? { defs: path.def.subAttributes } : {};
  const hits = list.filter(
    (v): v is Json => isRecord(v) && matches(path.filter as Filter, v, scope),
  );
  if (op.op === 'remove') {
    container[key] = path.sub
      ? list.map((v) => (hits.includes(v as Json) ? withoutKey(v as Json, path.sub as string) : v))
      : list.filter((v) => !hits.includes(v as Json));
    return;
  }
  const touched = new Set<unknown>();
  if (hits.length === 0) {
    const seed = seedOf(path.filter as Filter);
    if (!seed)
      throw badRequest(
        'noTarget',
        `${op.where}: no value of ${path.name} matches the path's filter`,
      );
    const made = path.sub ? { ...seed, [path.sub]: op.value } : { ...seed, ...asObject(op) };
    list.push(made);
    touched.add(made);
  }
  for (const hit of hits) {
    if (path.sub) withSub(hit, path.sub, op.op, op.value);
    else {
      const value = asObject(op);
      if (op.op === 'replace') for (const k of Object.keys(hit)) delete hit[k];
      Object.assign(hit, value);
    }
    touched.add(hit);
  }
  keepPrimary(list, touched);
  container[key] = list;
}

function withoutKey(record: Json, name: string): Json {
  const key = keyOf(record, name);
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

function asObject(op: PatchOperation): Json {
  const value = single(op.value);
  if (!isRecord(value))
    throw badRequest('invalidValue', `${op.where}: the value must be an object of sub-attributes`);
  return value;
}

/** An operation on an attribute without a filter. */
function applyPlain(container: Json, key: string, path: AttributePath, op: PatchOperation): void {
  const def = path.def;
  const current = container[key];
  if (path.sub) {
    const sub = path.sub;
    if (def?.multiValued) {
      // a sub-attribute of every value: `emails.type`
      const list = listOf(current).filter(isRecord);
      if (list.length === 0 && op.op !== 'remove') list.push({});
      for (const v of list) withSub(v, sub, op.op, op.value);
      container[key] = list;
      return;
    }
    if (!isRecord(current)) {
      if (op.op === 'remove') return;
      container[key] = { [sub]: op.value };
      return;
    }
    withSub(current, sub, op.op, op.value);
    return;
  }
  if (op.op === 'remove') {
    if (def?.multiValued && op.value !== undefined) {
      // remove the values given (by their `value`), not the attribute
      const gone = listOf(op.value).map((v) => (isRecord(v) ? v.value : v));
      container[key] = listOf(current).filter(
        (v) => !gone.some((g) => same(g, isRecord(v) ? v.value : v)),
      );
    } else delete container[key];
    return;
  }
  if (def?.multiValued) {
    const added = listOf(op.value);
    const list = op.op === 'replace' ? [] : listOf(current);
    const touched = new Set<unknown>();
    for (const v of added) {
      const twin = list.find((x) => same(x, v));
      touched.add(twin ?? v);
      if (!twin) list.push(v);
    }
    keepPrimary(list, touched);
    container[key] = list;
    return;
  }
  const value = single(op.value);
  // a complex value's sub-attributes are merged into the current ones (RFC 7644 §3.5.2.1, .3)
  container[key] =
    def?.type === 'complex' && isRecord(current) && isRecord(value)
      ? { ...current, ...value }
      : value;
}

function applyOne(resource: Json, op: PatchOperation, schemas: UserSchemas): void {
  const path = op.path;
  if (!path) {
    const value = op.value;
    if (!isRecord(value))
      throw badRequest(
        'invalidValue',
        `${op.where}: ${op.op} without a path needs an object value`,
      );
    for (const [name, v] of Object.entries(value)) {
      if (['schemas', 'id', 'meta'].includes(name.toLowerCase())) continue;
      const sub = parsePatchPath(name, schemas, op.where);
      applyOne(resource, { ...op, path: sub, value: v }, schemas);
    }
    return;
  }
  if (path.kind === 'extension') {
    if (op.op === 'remove') {
      delete resource[keyOf(resource, path.urn)];
      return;
    }
    const value = single(op.value);
    if (!isRecord(value))
      throw badRequest(
        'invalidValue',
        `${op.where}: ${path.urn} takes an object of its attributes`,
      );
    for (const [name, v] of Object.entries(value)) {
      const attribute = parsePatchPath(`${path.urn}:${name}`, schemas, op.where);
      applyOne(resource, { ...op, path: attribute, value: v }, schemas);
    }
    return;
  }
  if (path.ignored) return;
  const container = containerOf(resource, path, op.op !== 'remove');
  if (!container) return;
  const key = keyOf(container, path.name);
  if (path.filter) applyFiltered(container, key, path, op);
  else applyPlain(container, key, path, op);
}

/** The resource after `operations`, in order; the caller checks the result like a PUT body. */
export function applyPatch(
  resource: Json,
  operations: readonly PatchOperation[],
  schemas: UserSchemas,
): Json {
  const result = structuredClone(resource);
  for (const op of operations) applyOne(result, op, schemas);
  return result;
}
