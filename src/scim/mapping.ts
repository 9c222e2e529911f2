/**
 * From a SCIM write to an idflow event: a Source's SCIM mapping reads the person from the user
 * resource, and the change between the user before and after the write decides the event type.
 * A create is a joiner, a change of a `moverOn` field a mover, `active: false` or a DELETE a
 * leaver, a later activation a reactivation. Pure: the caller stores the user and submits the
 * event; the event id is derived from the user's SCIM id and version, so a write retried after
 * a failure yields the same event and the events path answers it as a duplicate.
 */
import { booleanText, parseScimPath, readScimPath } from '../dsl/scim-path';
import type { ScimMappingIR } from '../dsl/ir';
import { IdentityEvent } from '../model/event';
import { isPersonId, personFields } from '../model/person';

type Resource = Record<string, unknown>;

/** A stored SCIM user as the mapping needs it. */
export interface ScimUserState {
  scimId: string;
  version: number;
  resource: Resource;
  active: boolean;
  /** Whether the user's create event (a joiner) was sent. */
  joined: boolean;
}

/** A write to a SCIM user: `after` is the whole resource after a POST, PUT or PATCH. */
export type ScimWrite =
  | { kind: 'create'; after: Resource }
  | { kind: 'replace'; before: ScimUserState; after: Resource }
  | { kind: 'delete'; before: ScimUserState };

export interface ScimOutcome {
  personId: string;
  /** The event the write becomes; undefined when it becomes none. */
  event?: IdentityEvent;
  /** Whether the user has joined after this write. */
  joined: boolean;
}

/**
 * A user whose attributes the mapping cannot turn into a person. The message names the SCIM
 * attribute and the rule it breaks, never the value.
 */
export class ScimMappingError extends Error {
  override readonly name = 'ScimMappingError';
  readonly scimType = 'invalidValue' as const;
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether a user is active: SCIM's default is active; Entra sends `"True"`/`"False"` strings. */
export function activeOf(resource: Resource): boolean {
  const raw = Object.entries(resource).find(([k]) => k.toLowerCase() === 'active')?.[1];
  const value = typeof raw === 'string' ? booleanText(raw) : raw;
  return value !== false;
}

type PersonFields = Record<string, string>;

interface MappedUser {
  id: string;
  fields: PersonFields;
  attributes: Record<string, unknown>;
}

/** What a single-valued person field takes from a read value: trimmed text, or nothing. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

async function mapUser(
  mapping: ScimMappingIR,
  resource: Resource,
  resolveManager: (value: string) => Promise<string | undefined>,
): Promise<MappedUser> {
  const fields: PersonFields = {};
  let id: string | undefined;
  for (const { field, path } of mapping.person) {
    const parts = parseScimPath(path);
    if (!parts) throw new ScimMappingError(path, `the mapping's path ${path} is not readable`);
    const raw = readScimPath(resource, parts);
    if (raw !== undefined && raw !== null && typeof raw === 'object') {
      throw new ScimMappingError(path, `${path} must be a single value, for the person's ${field}`);
    }
    let text = asText(raw);
    if (text === undefined) continue;
    if (field === 'id') {
      if (!isPersonId(text)) {
        throw new ScimMappingError(
          path,
          `${path} is the person id and must be a letter or digit, then up to 127 letters, digits or . _ : @ -`,
        );
      }
      id = text;
      continue;
    }
    if (field === 'managerId') {
      text = (await resolveManager(text)) ?? (isPersonId(text) ? text : undefined);
      if (text === undefined) continue;
    }
    const schema = personFields[field as keyof typeof personFields];
    if (!schema.safeParse(text).success) {
      throw new ScimMappingError(
        path,
        field === 'email'
          ? `${path} must be an email address, for the person's email`
          : `${path} must be text of 1 to 512 characters, for the person's ${field}`,
      );
    }
    fields[field] = text;
  }
  if (id === undefined) {
    const path = mapping.person.find((p) => p.field === 'id')?.path ?? 'externalId';
    throw new ScimMappingError(
      path,
      `${path} is required: this source reads the person id from it`,
    );
  }
  const attributes: Record<string, unknown> = {};
  for (const { name, path } of mapping.attributes) {
    const parts = parseScimPath(path);
    const value = parts ? readScimPath(resource, parts) : undefined;
    if (value !== undefined && value !== null && value !== '') attributes[name] = value;
  }
  return { id, fields, attributes };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The event type a write becomes and whether the user has joined after it. */
function decide(
  mapping: ScimMappingIR,
  write: ScimWrite,
  before: MappedUser | undefined,
  after: MappedUser | undefined,
): { type?: string; joined: boolean } {
  const { events } = mapping;
  if (write.kind === 'create') {
    const active = activeOf(write.after);
    return active ? { type: events.create, joined: true } : { joined: false };
  }
  const was = write.before;
  if (write.kind === 'delete') {
    return was.active && was.joined
      ? { type: events.delete, joined: true }
      : { joined: was.joined };
  }
  const active = activeOf(write.after);
  if (was.active && !active) return { type: events.deactivate, joined: was.joined };
  if (!was.active && active) {
    return { type: was.joined ? events.reactivate : events.create, joined: true };
  }
  if (!active) return { joined: was.joined };
  if (!was.joined) return { type: events.create, joined: true };
  const b = before as MappedUser;
  const a = after as MappedUser;
  if (mapping.moverOn.some((f) => b.fields[f] !== a.fields[f])) {
    return { type: events.mover, joined: true };
  }
  const changed = !sameJson(b.fields, a.fields) || !sameJson(b.attributes, a.attributes);
  return changed && events.update ? { type: events.update, joined: true } : { joined: true };
}

/**
 * The event a SCIM write becomes. Throws ScimMappingError when the user's attributes give no
 * valid person (no id, an id outside the grammar, an email that is no address, and so on).
 */
export async function scimEventFor(opts: {
  source: string;
  mapping: ScimMappingIR;
  scimId: string;
  /** The user's version after the write. */
  version: number;
  write: ScimWrite;
  now: Date;
  /** The person id of a manager the user names (by the manager's SCIM id or the value sent). */
  resolveManager: (value: string) => Promise<string | undefined>;
}): Promise<ScimOutcome> {
  const { mapping, write } = opts;
  const before =
    write.kind === 'create'
      ? undefined
      : await mapUser(mapping, write.before.resource, opts.resolveManager);
  const after =
    write.kind === 'delete' ? undefined : await mapUser(mapping, write.after, opts.resolveManager);
  const current = (after ?? before) as MappedUser;
  if (before && after && before.id !== after.id) {
    const path = mapping.person.find((p) => p.field === 'id')?.path ?? 'externalId';
    throw new ScimMappingError(
      path,
      `${path} is the person id and cannot change; delete the user and create it again for another person`,
    );
  }
  const { type, joined } = decide(mapping, write, before, after);
  if (!type) return { personId: current.id, joined };
  const candidate = {
    source: opts.source,
    id: `scim-${opts.scimId}-v${opts.version}`,
    type,
    subject: { id: current.id, ...current.fields },
    occurredAt: opts.now.toISOString(),
    ...(Object.keys(current.attributes).length ? { attributes: current.attributes } : {}),
    ...(type === mapping.events.mover && before ? { previous: before.fields } : {}),
  };
  // every part was checked above (fields, ids, the type and source from the compiled IR): a
  // failure here is a bug, not bad input
  return { personId: current.id, event: IdentityEvent.parse(candidate), joined };
}
