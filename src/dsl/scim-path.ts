/**
 * SCIM attribute paths (RFC 7644 §3.10) as a Source's SCIM mapping names them, parsed once and
 * read from a SCIM resource. A path is an optional schema URN, an attribute, an optional filter
 * over a multi-valued attribute (`emails[type eq "work"]`) and an optional sub-attribute.
 * Attribute names compare without case, as SCIM requires. No Node imports: the compiler checks
 * mappings with the same parser the gateway reads resources with.
 */

export const SCIM_FILTER_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'pr'] as const;
export type ScimFilterOp = (typeof SCIM_FILTER_OPS)[number];

export type ScimLiteral = string | number | boolean | null;

export interface ScimPathFilter {
  attribute: string;
  op: ScimFilterOp;
  value?: ScimLiteral;
}

export interface ScimPathParts {
  /** The schema URN of an extension attribute, like the enterprise User's. */
  urn?: string;
  attribute: string;
  filter?: ScimPathFilter;
  sub?: string;
}

const NAME = '[A-Za-z][A-Za-z0-9_$-]*';
const PATH = new RegExp(
  `^(?:(urn:[A-Za-z0-9._:-]+):)?(${NAME})(?:\\[([^\\[\\]]+)\\])?(?:\\.(${NAME}))?$`,
);
const FILTER = new RegExp(
  `^\\s*(${NAME})\\s+(pr|(?:eq|ne|co|sw|ew)\\s+("(?:[^"\\\\]|\\\\.)*"|true|false|null|-?\\d+(?:\\.\\d+)?))\\s*$`,
  'i',
);

/** Parses a filter inside brackets; undefined when it is not `attr op value` or `attr pr`. */
function parseFilter(text: string): ScimPathFilter | undefined {
  const m = FILTER.exec(text);
  if (!m) return undefined;
  const [, attribute, opAndValue, literal] = m as unknown as [string, string, string, string?];
  const op = opAndValue.slice(0, 2).toLowerCase() as ScimFilterOp;
  if (op === 'pr') return { attribute, op };
  let value: ScimLiteral;
  try {
    value = JSON.parse(literal as string) as ScimLiteral;
  } catch {
    return undefined;
  }
  return { attribute, op, value };
}

/** The parts of `path`, or undefined when it is not a SCIM attribute path idflow reads. */
export function parseScimPath(path: string): ScimPathParts | undefined {
  const m = PATH.exec(path);
  if (!m) return undefined;
  const [, urn, attribute, filterText, sub] = m as unknown as [
    string,
    string | undefined,
    string,
    string | undefined,
    string | undefined,
  ];
  const parts: ScimPathParts = { attribute };
  if (urn) parts.urn = urn;
  if (filterText !== undefined) {
    const filter = parseFilter(filterText);
    if (!filter) return undefined;
    parts.filter = filter;
  }
  if (sub) parts.sub = sub;
  return parts;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `record[name]`, comparing keys without case (an exact match wins). */
export function getCaseless(record: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(record, name)) return record[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(record)) if (key.toLowerCase() === lower) return record[key];
  return undefined;
}

function compare(actual: unknown, filter: ScimPathFilter): boolean {
  if (filter.op === 'pr') return actual !== undefined && actual !== null && actual !== '';
  const expected = filter.value;
  // string comparisons ignore case, as SCIM's caseExact=false attributes (types, values) do
  if (typeof actual === 'string' && typeof expected === 'string') {
    const a = actual.toLowerCase();
    const e = expected.toLowerCase();
    switch (filter.op) {
      case 'eq':
        return a === e;
      case 'ne':
        return a !== e;
      case 'co':
        return a.includes(e);
      case 'sw':
        return a.startsWith(e);
      case 'ew':
        return a.endsWith(e);
    }
  }
  // Entra sends booleans as "True"/"False" strings
  const normal = typeof actual === 'string' ? booleanText(actual) : actual;
  if (filter.op === 'eq') return normal === expected;
  if (filter.op === 'ne') return normal !== expected;
  return false;
}

/** `true`/`false` for those words in any case, else the text unchanged. */
export function booleanText(text: string): string | boolean {
  const lower = text.trim().toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : text;
}

/** The one value of a multi-valued attribute a single-valued read takes: the primary, else the first. */
function pick(values: unknown[]): unknown {
  return values.find((v) => isRecord(v) && booleanText(String(v.primary)) === true) ?? values[0];
}

/**
 * Reads `path` from a SCIM resource: the value a single-valued field takes from it, or undefined
 * when the resource has none. A multi-valued attribute gives the first element the filter
 * matches, or without a filter its primary (else first) element. A complex value read without a
 * sub-attribute gives its `value`; a plain string read as `.value` is that string (Entra sends
 * the enterprise manager as its id alone).
 */
export function readScimPath(resource: Record<string, unknown>, parts: ScimPathParts): unknown {
  const base = parts.urn ? getCaseless(resource, parts.urn) : resource;
  if (!isRecord(base)) return undefined;
  let value = getCaseless(base, parts.attribute);
  if (Array.isArray(value)) {
    const filter = parts.filter;
    value = filter
      ? value.find((v) => isRecord(v) && compare(getCaseless(v, filter.attribute), filter))
      : pick(value);
  } else if (parts.filter) {
    return undefined;
  }
  if (parts.sub) {
    if (typeof value === 'string' && parts.sub.toLowerCase() === 'value') return value;
    return isRecord(value) ? getCaseless(value, parts.sub) : undefined;
  }
  return isRecord(value) ? getCaseless(value, 'value') : value;
}
