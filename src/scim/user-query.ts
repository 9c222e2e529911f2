/**
 * The filters `GET /scim/v2/Users` answers, as a query over the stored users: `eq` on
 * `userName` (without case), `externalId` (with case), `id`, `emails.value` (also written
 * `emails eq`, `emails[value eq …]`, and with a `type`: `emails[type eq "work"].value eq …`)
 * and `active`, joined by `and` and `or` in any grouping. These are what provisioning clients
 * (Entra ID, Okta) look users up by; any other filter is a 400 `invalidFilter` that says what
 * is supported, so a client never gets a silently wrong answer.
 */
import { badRequest } from './errors';
import type { AttrPath, Filter, Literal } from './filter';
import { ENTERPRISE_SCHEMA, USER_SCHEMA } from './schema';

export type UserQuery =
  | { kind: 'userName'; value: string }
  | { kind: 'externalId'; value: string }
  | { kind: 'id'; value: string }
  | { kind: 'email'; value: string; type?: string }
  | { kind: 'active'; value: boolean }
  | { kind: 'and' | 'or'; parts: [UserQuery, UserQuery] };

const SUPPORTED =
  'idflow answers eq on userName, externalId, id, emails.value (optionally with emails.type) and active, joined by and/or';

function unsupported(what: string): never {
  throw badRequest('invalidFilter', `the filter ${what}: ${SUPPORTED}`);
}

/** The attribute a path names, lower-cased, with the core schema's URN dropped. */
function nameOf(path: AttrPath): string {
  if (path.urn && path.urn.toLowerCase() !== USER_SCHEMA.toLowerCase()) {
    const known = path.urn.toLowerCase() === ENTERPRISE_SCHEMA.toLowerCase();
    unsupported(known ? `filters on ${path.attr}, an enterprise attribute` : 'names an extension');
  }
  return `${path.attr}${path.sub ? `.${path.sub}` : ''}`.toLowerCase();
}

function text(name: string, value: Literal): string {
  if (typeof value !== 'string') unsupported(`compares ${name} with something other than a string`);
  return value;
}

/** An email comparison inside `emails[…]`: `value eq …`, with at most one `type eq …` beside it. */
function emailOf(filter: Filter): { value?: string; type?: string } {
  if (filter.kind === 'and') {
    const [a, b] = [emailOf(filter.left), emailOf(filter.right)];
    if ((a.value && b.value) || (a.type && b.type))
      unsupported('compares emails.value or emails.type twice in one [...]');
    return { ...a, ...b };
  }
  if (filter.kind !== 'compare' || filter.op !== 'eq' || filter.path.urn || filter.path.sub)
    unsupported('uses something other than eq joined by and inside emails[...]');
  const name = filter.path.attr.toLowerCase();
  if (name === 'value') return { value: text('emails.value', filter.value) };
  if (name === 'type') return { type: text('emails.type', filter.value) };
  return unsupported(`compares emails.${filter.path.attr}`);
}

/** The query a filter stands for; 400 invalidFilter for one idflow does not answer. */
export function userQueryOf(filter: Filter): UserQuery {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return { kind: filter.kind, parts: [userQueryOf(filter.left), userQueryOf(filter.right)] };
    case 'not':
      return unsupported('uses not');
    case 'present':
      return unsupported('uses pr');
    case 'valuePath': {
      if (nameOf(filter.path) !== 'emails') unsupported(`uses [...] on ${filter.path.attr}`);
      const email = emailOf(filter.filter);
      if (email.value === undefined) unsupported('has an emails[...] without value eq');
      return { kind: 'email', value: email.value, ...(email.type ? { type: email.type } : {}) };
    }
    case 'compare': {
      const name = nameOf(filter.path);
      if (filter.op !== 'eq') unsupported(`uses ${filter.op}`);
      switch (name) {
        case 'username':
          return { kind: 'userName', value: text('userName', filter.value) };
        case 'externalid':
          return { kind: 'externalId', value: text('externalId', filter.value) };
        case 'id':
          return { kind: 'id', value: text('id', filter.value) };
        case 'emails':
        case 'emails.value':
          return { kind: 'email', value: text('emails.value', filter.value) };
        case 'active': {
          const v = typeof filter.value === 'string' ? filter.value.toLowerCase() : filter.value;
          if (v !== true && v !== false && v !== 'true' && v !== 'false')
            unsupported('compares active with something other than true or false');
          return { kind: 'active', value: v === true || v === 'true' };
        }
        default:
          return unsupported(`filters on ${filter.path.attr}`);
      }
    }
  }
}
