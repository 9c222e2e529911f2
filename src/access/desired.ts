/**
 * A person's desired access: the union over the roles whose rule holds for them, plus their
 * explicit grants — or nothing at all when their status gives no access — with the holds that
 * keep some of their accounts disabled. Pure and Node-free:
 * the reconcile activity, `idflow plan person` and `idflow persons show` compute it alike.
 */
import { evaluateExpression, ExpressionError, renderValue, toCel } from '../dsl/cel-runtime';
import type { JsonValue, RoleIR } from '../dsl/ir';
import { PERSON_SHAPE } from '../dsl/shapes';
import type { Person } from '../model/person';
import type {
  AccessGrant,
  AccountHold,
  DesiredAccount,
  DesiredEntitlement,
  DesiredState,
  HeldRole,
} from './types';

/** Only active persons hold access; every other status means none (accounts disabled). */
const ACCESS_STATUS = 'active';

/** Grants that count at `now`: not expired. */
export function liveGrants(grants: readonly AccessGrant[], now: Date): AccessGrant[] {
  return grants.filter(
    (g) => g.validUntil === undefined || Date.parse(g.validUntil) > now.getTime(),
  );
}

function scopeOf(person: Person, now: Date): Record<string, unknown> {
  return { subject: toCel(person, PERSON_SHAPE), now };
}

/**
 * The roles `person` holds and why, whatever their status: by birthright, by their rule, or by
 * an explicit grant. A rule that cannot be evaluated is a problem, never a silent "no".
 */
export function rolesOf(
  person: Person,
  roles: readonly RoleIR[],
  grants: readonly AccessGrant[],
  now: Date,
): { roles: HeldRole[]; problems: string[] } {
  const scope = scopeOf(person, now);
  const held: HeldRole[] = [];
  const problems: string[] = [];
  const byName = new Map(roles.map((r) => [r.name, r]));
  for (const role of [...roles].sort((a, b) => compare(a.name, b.name))) {
    if (role.birthright) {
      held.push({ name: role.name, title: role.title, why: 'birthright' });
      continue;
    }
    if (role.when === undefined) continue;
    try {
      if (evaluateExpression(role.when, scope) === true)
        held.push({ name: role.name, title: role.title, why: role.when });
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      problems.push(`role '${role.name}': its rule could not be evaluated (${err.message})`);
    }
  }
  for (const grant of liveGrants(grants, now)) {
    if (grant.role === undefined) continue;
    const role = byName.get(grant.role);
    if (!role) {
      problems.push(`grant ${grant.id} names role '${grant.role}', which is not active`);
      continue;
    }
    const why = `grant:${grant.id}${grant.validUntil ? ` until ${grant.validUntil}` : ''}`;
    const existing = held.find((h) => h.name === role.name);
    if (existing) existing.why += `; ${why}`;
    else held.push({ name: role.name, title: role.title, why });
  }
  return { roles: held, problems };
}

/**
 * The person's desired accounts and entitlements. `holds` (the person's holds in place) do not
 * change what the roles give: they say which of those accounts must stay disabled, and the plan
 * keeps them so.
 */
export function desiredState(
  person: Person,
  roles: readonly RoleIR[],
  grants: readonly AccessGrant[],
  now: Date,
  holds: readonly AccountHold[] = [],
): DesiredState {
  const base = {
    personId: person.id,
    status: person.status,
    holds: holds.filter((h) => h.personId === person.id),
  };
  const held = rolesOf(person, roles, grants, now);
  if (person.status !== ACCESS_STATUS) {
    return {
      ...base,
      roles: [],
      accounts: [],
      entitlements: [],
      noAccessBecause: `the person is ${person.status}`,
      problems: [],
    };
  }
  const problems = [...held.problems];
  const scope = scopeOf(person, now);
  const accounts = new Map<string, DesiredAccount>();
  const entitlements = new Map<string, DesiredEntitlement>();
  const byName = new Map(roles.map((r) => [r.name, r]));
  for (const h of held.roles) {
    const role = byName.get(h.name) as RoleIR;
    const source = `role:${role.name}`;
    for (const grant of role.grants) {
      if (grant.account) {
        const rendered = renderAccount(role.name, grant.connector, grant.account, scope, problems);
        if (rendered)
          mergeAccount(accounts, grant.connector, grant.connectorType, rendered, source, problems);
      }
      for (const e of grant.entitlements)
        addEntitlement(entitlements, { connector: grant.connector, ...e }, source);
    }
  }
  for (const grant of liveGrants(grants, now)) {
    if (grant.entitlement) addEntitlement(entitlements, grant.entitlement, `grant:${grant.id}`);
  }
  return {
    ...base,
    roles: held.roles,
    accounts: [...accounts.values()],
    entitlements: [...entitlements.values()],
    problems,
  };
}

function renderAccount(
  role: string,
  connector: string,
  account: NonNullable<RoleIR['grants'][number]['account']>,
  scope: Record<string, unknown>,
  problems: string[],
): { id: string; attributes: Record<string, JsonValue> } | undefined {
  try {
    const id = renderValue(account.id, scope);
    const attributes: Record<string, JsonValue> = {};
    for (const [name, value] of Object.entries(account.attributes)) {
      const rendered = renderValue(value, scope);
      if (rendered !== null) attributes[name] = rendered;
    }
    if (id !== null && typeof id === 'object') {
      problems.push(`role '${role}': the account on ${connector} has an id that is not a name`);
      return undefined;
    }
    return { id: id === null ? '' : String(id), attributes };
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    problems.push(
      `role '${role}': the account on ${connector} could not be rendered (${err.message})`,
    );
    return undefined;
  }
}

function mergeAccount(
  accounts: Map<string, DesiredAccount>,
  connector: string,
  connectorType: string,
  rendered: { id: string; attributes: Record<string, JsonValue> },
  source: string,
  problems: string[],
): void {
  const existing = accounts.get(connector);
  if (!existing) {
    accounts.set(connector, { connector, connectorType, ...rendered, sources: [source] });
    return;
  }
  existing.sources.push(source);
  if (existing.id !== rendered.id) {
    problems.push(
      `${existing.sources.slice(0, -1).join(', ')} and ${source} give the account on ${connector} different names`,
    );
  }
  for (const [name, value] of Object.entries(rendered.attributes)) {
    const before = existing.attributes[name];
    if (before === undefined) existing.attributes[name] = value;
    else if (JSON.stringify(before) !== JSON.stringify(value)) {
      problems.push(
        `${existing.sources.slice(0, -1).join(', ')} and ${source} give attribute ${name} of the account on ${connector} different values`,
      );
    }
  }
}

function addEntitlement(
  entitlements: Map<string, DesiredEntitlement>,
  ref: { connector: string; kind: string; value: string },
  source: string,
): void {
  const key = `${ref.connector}\u0000${ref.kind}\u0000${ref.value}`;
  const existing = entitlements.get(key);
  if (existing) {
    if (!existing.sources.includes(source)) existing.sources.push(source);
  } else entitlements.set(key, { ...ref, sources: [source] });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
