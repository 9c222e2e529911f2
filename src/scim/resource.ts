/**
 * A SCIM User as a client sends it (POST, PUT, or the result of a PATCH), checked and brought
 * into one shape: attribute names in the schema's spelling, booleans as booleans (Entra sends
 * `"True"`), one value for a singular attribute (Entra sends the manager as a one-element list or
 * as its id alone), no nulls or empty lists, read-only attributes dropped (RFC 7643 §2.2) and
 * the password never kept. Errors name the attribute and the rule, never the value sent.
 */
import { badRequest } from './errors';
import {
  CORE_USER,
  USER_SCHEMA,
  findAttribute,
  type AttributeDef,
  type SchemaDef,
  type UserSchemas,
} from './schema';

type Json = Record<string, unknown>;

/** The longest text an attribute takes. */
export const MAX_TEXT = 2048;
/** The most values a multi-valued attribute takes. */
export const MAX_VALUES = 100;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** userName as compared: SCIM's userName is case-insensitive (RFC 7643 §4.1.1). */
export function foldUserName(userName: string): string {
  return userName.normalize('NFC').toLowerCase();
}

/** A name a client sent, as an error may show it: a plain attribute name or URN, or neither. */
export function shownName(name: string): string {
  return /^[A-Za-z$][A-Za-z0-9_$.-]{0,63}$/.test(name) || /^urn:[A-Za-z0-9._:-]{1,200}$/.test(name)
    ? name
    : '(a name that is no SCIM attribute name)';
}

/** `record`'s entry for `name` compared without case; two spellings of one name are refused. */
export function entryOf(record: Json, name: string, at: string): [string, unknown] | undefined {
  const lower = name.toLowerCase();
  const found = Object.entries(record).filter(([k]) => k.toLowerCase() === lower);
  if (found.length > 1) throw badRequest('invalidSyntax', `${at}${name} is given more than once`);
  return found[0];
}

function coerceSimple(def: AttributeDef, value: unknown, at: string): unknown {
  if (def.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    const word = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (word === 'true' || word === 'false') return word === 'true';
    throw badRequest('invalidValue', `${at} must be true or false`);
  }
  if (typeof value !== 'string') throw badRequest('invalidValue', `${at} must be a string`);
  if (value.length > MAX_TEXT)
    throw badRequest('invalidValue', `${at} is longer than ${MAX_TEXT} characters`);
  // the User schemas have no dateTime attribute a client writes (meta's are read-only)
  return value;
}

function coerceComplex(def: AttributeDef, value: unknown, at: string): Json | undefined {
  const subs = def.subAttributes ?? [];
  let record = value;
  // a bare value for a complex attribute with a `value` (the manager's id, an email address)
  if (typeof record !== 'object' && findAttribute(subs, 'value')) record = { value: record };
  if (!isRecord(record))
    throw badRequest('invalidValue', `${at} must be an object of sub-attributes`);
  for (const key of Object.keys(record)) {
    if (!findAttribute(subs, key))
      throw badRequest(
        'invalidSyntax',
        `${at}.${shownName(key)} is not a sub-attribute of ${def.name}`,
      );
  }
  const out: Json = {};
  for (const sub of subs) {
    const entry = entryOf(record, sub.name, `${at}.`);
    if (!entry || entry[1] === null || sub.mutability === 'readOnly') continue;
    out[sub.name] = coerceSimple(sub, entry[1], `${at}.${sub.name}`);
  }
  return Object.keys(out).length ? out : undefined;
}

function coerceOne(def: AttributeDef, value: unknown, at: string): unknown {
  if (value === null || value === undefined) return undefined;
  return def.type === 'complex' ? coerceComplex(def, value, at) : coerceSimple(def, value, at);
}

/** One attribute's value as stored, or undefined when it is unassigned (null, empty). */
export function coerceAttribute(def: AttributeDef, value: unknown, at: string): unknown {
  if (def.multiValued) {
    const list: unknown[] = Array.isArray(value) ? value : [value];
    if (list.length > MAX_VALUES)
      throw badRequest('invalidValue', `${at} has more than ${MAX_VALUES} values`);
    const values = list
      .map((v, i) => coerceOne(def, v, `${at}[${i}]`))
      .filter((v) => v !== undefined);
    if (values.filter((v) => isRecord(v) && v.primary === true).length > 1)
      throw badRequest('invalidValue', `${at}: at most one value may be primary`);
    return values.length ? values : undefined;
  }
  if (Array.isArray(value)) {
    if (value.length > 1) throw badRequest('invalidValue', `${at} takes one value, not a list`);
    return coerceOne(def, value[0], at);
  }
  return coerceOne(def, value, at);
}

/** The attributes of one schema in `record`, checked; readOnly and writeOnly ones dropped. */
function coerceSchema(schema: SchemaDef, record: Json, at: string, skip: Set<string>): Json {
  const out: Json = {};
  for (const def of schema.attributes) {
    const entry = entryOf(record, def.name, at);
    if (!entry) continue;
    skip.add(entry[0]);
    if (def.mutability === 'readOnly' || def.mutability === 'writeOnly') continue;
    const value = coerceAttribute(def, entry[1], `${at}${def.name}`);
    if (value !== undefined) out[def.name] = value;
  }
  return out;
}

/** The canonical URN of a schema a request names, or undefined when the source takes none such. */
export function knownSchema(schemas: UserSchemas, urn: string): string | undefined {
  if (urn.toLowerCase() === USER_SCHEMA.toLowerCase()) return USER_SCHEMA;
  return schemas.extensions.get(urn.toLowerCase())?.urn;
}

function listedSchemas(body: Json, schemas: UserSchemas): string[] {
  const entry = entryOf(body, 'schemas', '');
  const listed = entry?.[1];
  if (!Array.isArray(listed) || !listed.every((s) => typeof s === 'string'))
    throw badRequest(
      'invalidSyntax',
      `schemas must be a list of schema URNs, ${USER_SCHEMA} first`,
    );
  const known = listed.map((urn) => {
    const canonical = knownSchema(schemas, urn);
    if (!canonical)
      throw badRequest(
        'invalidSyntax',
        `schemas names ${shownName(urn)}, a schema idflow does not take from this source: the core User, the enterprise extension, and extensions its Source's scim mapping reads`,
      );
    return canonical;
  });
  if (!known.includes(USER_SCHEMA))
    throw badRequest('invalidSyntax', `schemas must list ${USER_SCHEMA}`);
  return known;
}

/**
 * A User resource from a request body, checked against the core and extension schemas, with
 * neither `id` nor `meta` (the caller adds them). Throws a 400 SCIM error naming the attribute.
 */
export function coerceUser(body: unknown, schemas: UserSchemas): Json {
  if (!isRecord(body))
    throw badRequest('invalidSyntax', 'the body must be a JSON object: a SCIM User resource');
  const listed = listedSchemas(body, schemas);
  // meta is the service's to write (RFC 7643 §3.1): a client's is ignored, as id is
  const seen = new Set<string>(
    Object.keys(body).filter((k) => ['schemas', 'meta'].includes(k.toLowerCase())),
  );
  const core = coerceSchema(CORE_USER, body, '', seen);
  const extensions: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (seen.has(key)) continue;
    const urn = knownSchema(schemas, key);
    if (!urn || urn === USER_SCHEMA)
      throw badRequest(
        'invalidSyntax',
        key.toLowerCase().startsWith('urn:')
          ? `${shownName(key)} is not a schema idflow takes from this source`
          : `${shownName(key)} is not an attribute of the User schema`,
      );
    if (value === null) continue;
    if (!isRecord(value))
      throw badRequest('invalidValue', `${urn} must be an object of the extension's attributes`);
    if (urn in extensions) throw badRequest('invalidSyntax', `${urn} is given more than once`);
    const def = schemas.extensions.get(urn.toLowerCase())?.def;
    if (def)
      for (const k of Object.keys(value))
        if (!findAttribute(def.attributes, k))
          throw badRequest('invalidSyntax', `${urn}:${shownName(k)} is not an attribute of it`);
    const coerced = def ? coerceSchema(def, value, `${urn}:`, new Set()) : value;
    if (Object.keys(coerced).length) extensions[urn] = coerced;
  }
  const userName = core.userName;
  if (typeof userName !== 'string' || userName.trim() === '')
    throw badRequest('invalidValue', 'userName is required: a non-empty string');
  const used = [...new Set([...listed, ...Object.keys(extensions)])].filter(
    (urn) => urn === USER_SCHEMA || urn in extensions,
  );
  return { schemas: used, ...core, ...extensions };
}
