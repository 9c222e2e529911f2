/**
 * A SCIM PATCH request (RFC 7644 §3.5.2) read into operations whose paths are resolved against
 * the User schemas. Op names compare without case (Entra ID sends `Replace`); a path may be an
 * attribute, a sub-attribute, a filtered multi-valued attribute (`emails[type eq "work"].value`),
 * an extension attribute by URN, or a whole extension. Errors carry RFC 7644's scimType:
 * `invalidSyntax` for the request's shape, `invalidPath` for a path, `mutability` for a
 * read-only attribute, `noTarget` for a remove without a path.
 */
import { ScimProblem, badRequest } from './errors';
import { parseAttrPath, parseFilter, type Filter } from './filter';
import { entryOf, isRecord, knownSchema, shownName } from './resource';
import {
  CORE_USER,
  USER_SCHEMA,
  findAttribute,
  type AttributeDef,
  type UserSchemas,
} from './schema';

export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** The most operations one PATCH may carry. */
export const MAX_OPERATIONS = 1000;
const MAX_PATH_LENGTH = 1024;

/** Where an operation applies: a whole extension, or an attribute (of the core or an extension). */
export type PatchPath =
  | { kind: 'extension'; urn: string }
  | {
      kind: 'attribute';
      /** The extension's URN; absent for the core schema. */
      urn?: string;
      /** Absent for an attribute of an extension kept as sent. */
      def?: AttributeDef;
      name: string;
      filter?: Filter;
      sub?: string;
      /** A write-only attribute (password): accepted and never kept. */
      ignored?: boolean;
    };

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace';
  path?: PatchPath;
  value?: unknown;
  /** `Operations[i]`, for errors. */
  where: string;
}

/** The attribute `name` of the core schema, else of the one extension that has it. */
function locate(
  schemas: UserSchemas,
  urn: string | undefined,
  name: string,
): { urn?: string; def?: AttributeDef; loose?: boolean } | undefined {
  if (urn !== undefined && urn !== USER_SCHEMA) {
    const extension = schemas.extensions.get(urn.toLowerCase());
    if (!extension?.def) return { urn, loose: true };
    const def = findAttribute(extension.def.attributes, name);
    return def ? { urn, def } : undefined;
  }
  const core = findAttribute(CORE_USER.attributes, name);
  if (core || urn !== undefined) return core ? { def: core } : undefined;
  const found = [...schemas.extensions.values()].flatMap((e) => {
    const def = findAttribute(e.def?.attributes, name);
    return def ? [{ urn: e.urn, def }] : [];
  });
  return found.length === 1 ? found[0] : undefined;
}

/** A PATCH path resolved against the schemas; `where` names the operation in errors. */
export function parsePatchPath(text: string, schemas: UserSchemas, where: string): PatchPath {
  const invalidPath = (why: string): never => {
    throw badRequest('invalidPath', `${where}: ${why}`);
  };
  if (text.length > MAX_PATH_LENGTH)
    invalidPath(`path is longer than ${MAX_PATH_LENGTH} characters`);
  const path = text.trim();
  const schema = knownSchema(schemas, path);
  if (schema && schema !== USER_SCHEMA) return { kind: 'extension', urn: schema };
  let head = path;
  let filter: Filter | undefined;
  let tail: string | undefined;
  const open = path.indexOf('[');
  if (open >= 0) {
    const close = path.lastIndexOf(']');
    if (close < open) invalidPath("path opens '[' and never closes it");
    head = path.slice(0, open);
    const rest = path.slice(close + 1);
    if (rest !== '' && !/^\.[A-Za-z$][A-Za-z0-9_$-]*$/.test(rest))
      invalidPath("path has something other than '.subAttribute' after ']'");
    tail = rest ? rest.slice(1) : undefined;
    try {
      filter = parseFilter(path.slice(open + 1, close), { inner: true });
    } catch (err) {
      if (err instanceof ScimProblem) invalidPath(`path's [...] ${err.detail ?? ''}`);
      throw err;
    }
  }
  const attr = parseAttrPath(head);
  if (!attr) return invalidPath('path is not a SCIM attribute path');
  if (filter && attr.sub) invalidPath("path has '[...]' after a sub-attribute");
  if (attr.attr.toLowerCase() === 'meta' && !attr.urn)
    throw badRequest('mutability', `${where}: meta is read-only`);
  const urn = attr.urn === undefined ? undefined : knownSchema(schemas, attr.urn);
  if (attr.urn !== undefined && !urn)
    invalidPath(
      `path names ${shownName(attr.urn)}, a schema idflow does not take from this source`,
    );
  const found = locate(schemas, urn, attr.attr);
  if (!found) return invalidPath(`${shownName(attr.attr)} is not an attribute of the User schema`);
  const def = found.def;
  const name = def?.name ?? attr.attr;
  const subName = attr.sub ?? tail;
  let sub = subName;
  if (def) {
    if (def.mutability === 'readOnly')
      throw badRequest('mutability', `${where}: ${name} is read-only`);
    if (filter && !def.multiValued) invalidPath(`${name} is not multi-valued: it takes no filter`);
    if (subName !== undefined) {
      const subDef = findAttribute(def.subAttributes, subName);
      if (!subDef) return invalidPath(`${shownName(subName)} is not a sub-attribute of ${name}`);
      if (subDef.mutability === 'readOnly')
        throw badRequest('mutability', `${where}: ${name}.${subDef.name} is read-only`);
      sub = subDef.name;
    }
  }
  return {
    kind: 'attribute',
    ...(found.urn ? { urn: found.urn } : {}),
    ...(def ? { def } : {}),
    name,
    ...(filter ? { filter } : {}),
    ...(sub !== undefined ? { sub } : {}),
    ...(def?.mutability === 'writeOnly' ? { ignored: true } : {}),
  };
}

/** The operations of a PATCH body; 400 with the scimType RFC 7644 gives each mistake. */
export function parsePatchRequest(body: unknown, schemas: UserSchemas): PatchOperation[] {
  if (!isRecord(body))
    throw badRequest('invalidSyntax', 'the body must be a JSON object: a SCIM PatchOp message');
  const listed = entryOf(body, 'schemas', '')?.[1];
  if (
    !Array.isArray(listed) ||
    !listed.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_SCHEMA.toLowerCase())
  )
    throw badRequest('invalidSyntax', `schemas must list ${PATCH_SCHEMA}`);
  const operations = entryOf(body, 'Operations', '')?.[1];
  if (!Array.isArray(operations) || operations.length === 0)
    throw badRequest('invalidSyntax', 'Operations must be a list of at least one operation');
  if (operations.length > MAX_OPERATIONS)
    throw badRequest('invalidValue', `Operations holds more than ${MAX_OPERATIONS} operations`);
  return operations.map((raw, i): PatchOperation => {
    const where = `Operations[${i}]`;
    if (!isRecord(raw)) throw badRequest('invalidSyntax', `${where} must be an object`);
    const name = entryOf(raw, 'op', `${where}.`)?.[1];
    const op = typeof name === 'string' ? name.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw badRequest('invalidSyntax', `${where}.op must be add, remove or replace`);
    const pathEntry = entryOf(raw, 'path', `${where}.`);
    const valueEntry = entryOf(raw, 'value', `${where}.`);
    if (pathEntry && typeof pathEntry[1] !== 'string')
      throw badRequest('invalidPath', `${where}.path must be a string`);
    const text = pathEntry?.[1] as string | undefined;
    if (op === 'remove' && (text === undefined || text.trim() === ''))
      throw badRequest('noTarget', `${where}: remove needs a path`);
    if (op !== 'remove' && (valueEntry === undefined || valueEntry[1] === undefined))
      throw badRequest('invalidValue', `${where}: ${op} needs a value`);
    const path =
      text === undefined || text.trim() === '' ? undefined : parsePatchPath(text, schemas, where);
    return {
      op,
      ...(path ? { path } : {}),
      ...(valueEntry ? { value: valueEntry[1] } : {}),
      where,
    };
  });
}
