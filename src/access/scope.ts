/**
 * What idflow manages, per connector: the accounts some active role requires and every
 * entitlement some active role or grant names. Everything else in a target is left alone.
 */
import { connectorType } from '../connectors/registry';
import type { ConnectorIR, RoleIR, SodRuleIR } from '../dsl/ir';
import type { EntitlementKey } from './plan';
import type { EntitlementRef, ManagedScope } from './types';

/** Compares entitlements in the form the connector type declares (a group's cn and DN alike). */
export function entitlementKeys(connectors: ReadonlyMap<string, ConnectorIR>): EntitlementKey {
  return (ref) => {
    const connector = connectors.get(ref.connector);
    const kind = connector
      ? connectorType(connector.type)?.access?.entitlements[ref.kind]
      : undefined;
    const value = kind?.canonical ? kind.canonical(ref.value, connector?.config ?? {}) : ref.value;
    return `${ref.connector}\u0000${ref.kind}\u0000${value}`;
  };
}

/**
 * The managed scope of each connector roles or grants name — only of `only` when it is not
 * empty. A connector that is not active, or of a type without access, is a problem.
 */
export function managedScopes(
  roles: readonly RoleIR[],
  granted: readonly EntitlementRef[],
  connectors: ReadonlyMap<string, ConnectorIR>,
  only: readonly string[],
  key: EntitlementKey,
): { scopes: ManagedScope[]; problems: string[] } {
  const scopes = new Map<string, ManagedScope & { keys: Set<string> }>();
  const problems: string[] = [];
  const scopeFor = (name: string): (ManagedScope & { keys: Set<string> }) | undefined => {
    if (only.length > 0 && !only.includes(name)) return undefined;
    const existing = scopes.get(name);
    if (existing) return existing;
    const connector = connectors.get(name);
    if (!connector || !connectorType(connector.type)?.access) {
      if (!problems.some((p) => p.startsWith(`connector '${name}'`)))
        problems.push(
          `connector '${name}' ${connector ? `(type ${connector.type}) has no access to manage` : 'is not active'}`,
        );
      return undefined;
    }
    const scope = {
      connector: name,
      connectorType: connector.type,
      accounts: false,
      ...(connector.accounts?.onTermination === 'delete'
        ? { deleteOnTermination: true as const }
        : {}),
      entitlements: [],
      keys: new Set<string>(),
    };
    scopes.set(name, scope);
    return scope;
  };
  const add = (scope: ManagedScope & { keys: Set<string> }, ref: EntitlementRef) => {
    const k = key(ref);
    if (scope.keys.has(k)) return;
    scope.keys.add(k);
    scope.entitlements.push(ref);
  };
  for (const role of roles) {
    for (const grant of role.grants) {
      const scope = scopeFor(grant.connector);
      if (!scope) continue;
      if (grant.account) scope.accounts = true;
      for (const e of grant.entitlements) add(scope, { connector: grant.connector, ...e });
    }
  }
  for (const ref of granted) {
    const scope = scopeFor(ref.connector);
    if (scope) add(scope, ref);
  }
  for (const name of only) scopeFor(name);
  return {
    scopes: [...scopes.values()]
      .map(({ keys: _keys, ...scope }) => scope)
      .sort((a, b) => (a.connector < b.connector ? -1 : 1)),
    problems,
  };
}

/**
 * Entitlements SoD rules name that idflow does not manage, per connector in `scopes`: read with
 * the managed ones so a rule sees them held (by hand, say), never changed by a plan.
 */
export function observedBySod(
  sodRules: readonly SodRuleIR[],
  scopes: readonly ManagedScope[],
  key: EntitlementKey,
): Map<string, EntitlementRef[]> {
  const observed = new Map<string, EntitlementRef[]>();
  for (const scope of scopes) {
    const managed = new Set(scope.entitlements.map(key));
    const seen = new Set<string>();
    const list: EntitlementRef[] = [];
    for (const rule of sodRules) {
      for (const ref of [...rule.left.entitlements, ...rule.right.entitlements]) {
        const k = key(ref);
        if (ref.connector !== scope.connector || managed.has(k) || seen.has(k)) continue;
        seen.add(k);
        list.push(ref);
      }
    }
    if (list.length > 0) observed.set(scope.connector, list);
  }
  return observed;
}
