/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): a client asks for fewer attributes
 * of the users it reads (Entra ID asks for `excludedAttributes=members` on groups, Okta for
 * nothing). `schemas` and `id` are always returned. Names compare without case; a name the
 * resource does not hold is skipped; a list entry that is no attribute path is a 400.
 */
import { badRequest } from './errors';
import { parseAttrPath, type AttrPath } from './filter';
import { isRecord, knownSchema } from './resource';
import { USER_SCHEMA, type UserSchemas } from './schema';

type Json = Record<string, unknown>;

const ALWAYS = ['schemas', 'id'];

function keyOf(record: Json, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(record).find((k) => k.toLowerCase() === lower);
}

/** The paths of a comma-separated list; a whole extension is `{ urn }` with an empty attr. */
export function parseAttributeList(
  text: string,
  parameter: string,
  schemas: UserSchemas,
): AttrPath[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const schema = knownSchema(schemas, entry);
      if (schema && schema !== USER_SCHEMA) return { urn: schema, attr: '' };
      const path = parseAttrPath(entry);
      if (!path)
        throw badRequest(
          'invalidValue',
          `${parameter} must be a comma-separated list of attribute paths`,
        );
      // the core schema's attributes live at the top of the resource
      if (path.urn?.toLowerCase() === USER_SCHEMA.toLowerCase()) delete path.urn;
      return path;
    });
}

/** Where a path's attribute lives: the resource, or its extension object. */
function holder(resource: Json, path: AttrPath): Json | undefined {
  if (!path.urn) return resource;
  const key = keyOf(resource, path.urn);
  const value = key === undefined ? undefined : resource[key];
  return isRecord(value) ? value : undefined;
}

function pickSub(value: unknown, sub: string): unknown {
  if (Array.isArray(value)) {
    const picked = value.map((v) => pickSub(v, sub)).filter((v) => v !== undefined);
    return picked.length ? picked : undefined;
  }
  if (!isRecord(value)) return undefined;
  const key = keyOf(value, sub);
  return key === undefined ? undefined : { [key]: value[key] };
}

function include(resource: Json, out: Json, path: AttrPath): void {
  const from = holder(resource, path);
  if (!from) return;
  let into = out;
  if (path.urn) {
    const urnKey = keyOf(resource, path.urn) as string;
    if (!path.attr) {
      out[urnKey] = from;
      return;
    }
    into = isRecord(out[urnKey]) ? out[urnKey] : (out[urnKey] = {});
  }
  const key = keyOf(from, path.attr);
  if (key === undefined) return;
  if (!path.sub) {
    into[key] = from[key];
    return;
  }
  const picked = pickSub(from[key], path.sub);
  if (picked === undefined) return;
  const had = into[key];
  into[key] =
    isRecord(had) && isRecord(picked)
      ? { ...had, ...picked }
      : Array.isArray(had) && Array.isArray(picked)
        ? had.map((h, i) => ({ ...(h as Json), ...(picked[i] as Json) }))
        : picked;
}

function exclude(resource: Json, path: AttrPath): void {
  const from = holder(resource, path);
  if (!from) return;
  if (path.urn && !path.attr) {
    delete resource[keyOf(resource, path.urn) as string];
    return;
  }
  const key = keyOf(from, path.attr);
  if (key === undefined || (!path.urn && ALWAYS.includes(key))) return;
  if (!path.sub) {
    delete from[key];
    return;
  }
  for (const value of Array.isArray(from[key]) ? from[key] : [from[key]]) {
    if (!isRecord(value)) continue;
    const subKey = keyOf(value, path.sub);
    if (subKey !== undefined) delete value[subKey];
  }
}

/** What a request asked to see: only some attributes, all but some, or everything. */
export type Projection = { only: AttrPath[] } | { without: AttrPath[] } | { all: true };

/**
 * The projection `attributes` or `excludedAttributes` asks for (attributes wins when both are
 * sent), checked before anything is written: a bad list is a 400 with nothing done.
 */
export function parseProjection(
  query: { attributes?: string | undefined; excludedAttributes?: string | undefined },
  schemas: UserSchemas,
): Projection {
  if (query.attributes !== undefined)
    return { only: parseAttributeList(query.attributes, 'attributes', schemas) };
  if (query.excludedAttributes !== undefined)
    return {
      without: parseAttributeList(query.excludedAttributes, 'excludedAttributes', schemas),
    };
  return { all: true };
}

/** `resource` as `projection` shows it (`resource` itself when it shows everything). */
export function applyProjection(resource: Json, projection: Projection): Json {
  if ('only' in projection) {
    const out: Json = {};
    for (const name of ALWAYS) if (name in resource) out[name] = resource[name];
    for (const path of projection.only) include(resource, out, path);
    return out;
  }
  if ('without' in projection) {
    const out = structuredClone(resource);
    for (const path of projection.without) exclude(out, path);
    return out;
  }
  return resource;
}

/** `resource` with only the attributes asked for, or without those excluded. */
export function project(
  resource: Json,
  query: { attributes?: string | undefined; excludedAttributes?: string | undefined },
  schemas: UserSchemas,
): Json {
  return applyProjection(resource, parseProjection(query, schemas));
}
