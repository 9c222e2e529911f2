/**
 * The plan: desired access against what the targets hold, connector by connector. Removals
 * (entitlements first, then accounts disabled — or deleted, for a terminated person on a
 * connector that deletes on termination) come before additions (accounts created or enabled
 * and updated first, then entitlements). Only what idflow manages is touched: an
 * entitlement no active role or grant names is counted and left alone. An account under a hold
 * is disabled and never enabled or created; its entitlements are planned as they would be
 * otherwise, so it comes back whole when the hold is lifted. Pure and Node-free.
 */
import type { JsonValue, RoleIR, SodRuleIR } from '../dsl/ir';
import { holdBack } from './sod';
import type {
  AccessPlan,
  AccountHold,
  ActualAccess,
  Change,
  DesiredEntitlement,
  DesiredState,
  EntitlementRef,
  ManagedScope,
  PlannedHold,
} from './types';

/** How two entitlements are compared: one key per entitlement, whatever form it is written in. */
export type EntitlementKey = (ref: EntitlementRef) => string;

export interface PlanInputs {
  desired: DesiredState;
  /** What each connector in scope holds for the person. */
  actual: ActualAccess[];
  /** The connectors in scope and what idflow manages on each. */
  scopes: ManagedScope[];
  roles: readonly RoleIR[];
  sodRules: readonly SodRuleIR[];
  /** Entitlements a grace period keeps: their removals are deferred. */
  keep?: readonly EntitlementRef[];
  /**
   * Unmanaged entitlements SoD rules name that the targets hold for the person: they count for
   * the rules, and no plan changes them.
   */
  observed?: readonly EntitlementRef[];
  key: EntitlementKey;
}

export function describeChange(change: Change): string {
  switch (change.op) {
    case 'addEntitlement':
      return `add ${change.kind} ${change.value}`;
    case 'removeEntitlement':
      return `remove ${change.kind} ${change.value}`;
    case 'createAccount':
      return 'create account';
    case 'enableAccount':
      return 'enable account';
    case 'updateAccount':
      return `update ${Object.keys(change.attributes ?? {})
        .sort()
        .join(', ')}`;
    case 'disableAccount':
      return 'disable account';
    case 'deleteAccount':
      return 'delete account';
    default: {
      const never: never = change.op;
      throw new Error(`unknown change ${String(never)}`);
    }
  }
}

/** Why a held account is disabled or stays so: `held: dormant (run:…)`, one per hold. */
export function holdReason(holds: readonly AccountHold[]): string {
  return `held: ${holds.map((h) => `${h.reason} (${h.placedBy})`).join('; ')}`;
}

/**
 * One line per hold, as the step's output and the audit log keep it: the hold's id, never its
 * reason (free text, kept in the hold's own row).
 */
export function holdLine(hold: PlannedHold): string {
  return `${hold.connector}: held (hold ${hold.id})${hold.account ? ` (${hold.account})` : ''}`;
}

/** One line per change, as the step's output, the audit log and the run's state show it. */
export function changeLine(change: Change): string {
  return `${change.connector}: ${describeChange(change)}${change.account ? ` (${change.account})` : ''}`;
}

/**
 * The plan in lines, as the step's output, the run's state and the audit log keep it: changes by
 * connector, op and entitlement, attribute names but never their values.
 */
export function planSummary(plan: AccessPlan) {
  return {
    personId: plan.personId,
    status: plan.status,
    roles: plan.roles.map((r) => r.name),
    removals: plan.removals.map(changeLine),
    additions: plan.additions.map(changeLine),
    kept: plan.kept.map(changeLine),
    heldBack: plan.heldBack.map((h) => ({
      change: changeLine(h.change),
      rule: h.rule,
      action: h.action,
    })),
    // a plan read before holds existed (a run's recorded history) has none
    holds: (plan.holds ?? []).map(holdLine),
    unmanaged: plan.unmanaged,
    problems: plan.problems,
  };
}

/** A value as directories hold it: a list of strings, empty when absent. */
function normalised(value: JsonValue | undefined): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list
    .filter((v) => v !== null && v !== '')
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
    .sort();
}

function isMap(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Whether the target's value already is the desired one: lists as sets, one value as a list of
 * one, empty as absent; for a structured value (a SCIM `name`), the fields the role gives.
 */
function sameValue(desired: JsonValue | undefined, actual: JsonValue | undefined): boolean {
  if (isMap(desired)) {
    const held = isMap(actual) ? actual : {};
    return Object.entries(desired).every(([k, v]) => sameValue(v, fieldOf(held, k)));
  }
  return JSON.stringify(normalised(desired)) === JSON.stringify(normalised(actual));
}

/** A field by name, as directories compare names: case does not matter. */
function fieldOf(values: { [key: string]: JsonValue }, name: string): JsonValue | undefined {
  if (Object.hasOwn(values, name)) return values[name];
  const lower = name.toLowerCase();
  const found = Object.keys(values).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : values[found];
}

export function planAccess(inputs: PlanInputs): AccessPlan {
  const { desired, key } = inputs;
  const removals: Change[] = [];
  const additions: Change[] = [];
  const problems = [...desired.problems];
  const unmanaged: Record<string, number> = {};
  const keep = new Set((inputs.keep ?? []).map(key));
  const kept: Change[] = [];
  const holds: PlannedHold[] = [];

  for (const scope of inputs.scopes) {
    const { connector, connectorType } = scope;
    const actual = inputs.actual.find((a) => a.connector === connector) ?? {
      connector,
      connectorType,
      entitlements: [],
      unmanaged: 0,
    };
    if (actual.unmanaged > 0) unmanaged[connector] = actual.unmanaged;
    const account = desired.accounts.find((a) => a.connector === connector);
    const wanted = mergeByKey(
      desired.entitlements.filter((e) => e.connector === connector),
      key,
    );
    const held = actual.account ? actual.entitlements : [];
    const heldKeys = new Set(held.map(key));
    const wantedKeys = new Set(wanted.map(key));
    const current = actual.account;
    const base = { connector, connectorType, account: current?.id ?? account?.id ?? '' };
    const withTarget = current ? { ...base, targetId: current.targetId } : base;
    const noAccess = desired.noAccessBecause;
    const onHold = desired.holds.filter((h) => h.connector === connector);
    for (const h of onHold) holds.push({ ...h, account: current?.id ?? '' });

    // removals: managed entitlements no longer granted, then the account when nothing needs it
    for (const e of held) {
      if (wantedKeys.has(key(e))) continue;
      const change: Change = {
        ...withTarget,
        op: 'removeEntitlement',
        kind: e.kind,
        value: e.value,
        why: noAccess ?? 'no role or grant of the person grants it',
      };
      if (keep.has(key(e))) kept.push(change);
      else removals.push(change);
    }
    const accountNeeded = account !== undefined || wanted.length > 0;
    if (current && scope.accounts && !accountNeeded && deletes(desired, scope)) {
      removals.push({
        ...withTarget,
        op: 'deleteAccount',
        why: `the person is terminated and ${connector} deletes the accounts of terminated persons`,
      });
    } else if (current?.enabled && scope.accounts && !accountNeeded) {
      removals.push({
        ...withTarget,
        op: 'disableAccount',
        why: noAccess ?? `no role of the person requires an account on ${connector}`,
      });
    } else if (current?.enabled && onHold.length > 0) {
      removals.push({ ...withTarget, op: 'disableAccount', why: holdReason(onHold) });
    }

    // additions: the account first, then what it must hold; a held account is never enabled
    // or created (created, it would be enabled), and an account that is not there holds nothing
    if (account) {
      if (!current) {
        if (onHold.length > 0) continue;
        if (account.id === '') {
          problems.push(
            `the account on ${connector} (${account.sources.join(', ')}) has no name: its id renders empty`,
          );
          continue;
        }
        additions.push({
          ...base,
          account: account.id,
          op: 'createAccount',
          attributes: account.attributes,
          why: account.sources.join(', '),
        });
      } else {
        if (!current.enabled && onHold.length === 0)
          additions.push({ ...withTarget, op: 'enableAccount', why: account.sources.join(', ') });
        const drifted: Record<string, JsonValue> = {};
        for (const [name, value] of Object.entries(account.attributes)) {
          if (!sameValue(value, fieldOf(current.attributes, name))) drifted[name] = value;
        }
        if (Object.keys(drifted).length > 0) {
          additions.push({
            ...withTarget,
            op: 'updateAccount',
            attributes: drifted,
            why: account.sources.join(', '),
          });
        }
      }
    } else if (wanted.length > 0 && !current) {
      problems.push(
        `${wanted.map((e) => `${e.kind} ${e.value}`).join(', ')} on ${connector} need an account there, and no role of the person requires one`,
      );
      continue;
    } else if (wanted.length > 0 && current && !current.enabled && onHold.length === 0) {
      additions.push({ ...withTarget, op: 'enableAccount', why: 'it holds granted entitlements' });
    }
    for (const e of wanted) {
      if (heldKeys.has(key(e))) continue;
      additions.push({
        ...withTarget,
        account: current?.id ?? account?.id ?? '',
        op: 'addEntitlement',
        kind: e.kind,
        value: e.value,
        why: e.sources.join(', '),
      });
    }
  }

  const plan: AccessPlan = {
    personId: desired.personId,
    status: desired.status,
    connectors: inputs.scopes.map((s) => s.connector),
    roles: desired.roles,
    removals,
    additions,
    kept,
    heldBack: [],
    holds,
    unmanaged,
    problems,
  };
  return holdBack(plan, inputs);
}

/** A terminated person's account on a connector configured `accounts.onTermination: delete`. */
function deletes(desired: DesiredState, scope: ManagedScope): boolean {
  return desired.status === 'terminated' && scope.deleteOnTermination === true;
}

/** Desired entitlements with one entry per group however roles write it, sources merged. */
function mergeByKey(list: DesiredEntitlement[], key: EntitlementKey): DesiredEntitlement[] {
  const merged = new Map<string, DesiredEntitlement>();
  for (const e of list) {
    const k = key(e);
    const existing = merged.get(k);
    if (!existing) merged.set(k, { ...e, sources: [...e.sources] });
    else for (const s of e.sources) if (!existing.sources.includes(s)) existing.sources.push(s);
  }
  return [...merged.values()];
}

/** True when carrying the plan out would change nothing. */
export function isEmptyPlan(plan: AccessPlan): boolean {
  return plan.removals.length === 0 && plan.additions.length === 0;
}
