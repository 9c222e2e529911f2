/**
 * Separation of duties: two sides (roles, entitlements) one person may not hold together. A
 * side counts through entitlements — the ones it names and the ones its roles grant — so a rule
 * sees the access itself, however it was granted. A grant that would complete a pair is held
 * back: refused (`block`) or made to wait on the rule's approval (`approval`). Access a person
 * already holds is never taken away by a rule; only new grants are checked. Pure and Node-free.
 */
import type { RoleIR, SodRuleIR, SodSideIR } from '../dsl/ir';
import type { EntitlementKey, PlanInputs } from './plan';
import type { AccessPlan, Change, EntitlementRef, HeldBack } from './types';

function sideKeys(side: SodSideIR, roles: readonly RoleIR[], key: EntitlementKey): Set<string> {
  const keys = new Set(side.entitlements.map(key));
  for (const name of side.roles) {
    const role = roles.find((r) => r.name === name);
    for (const grant of role?.grants ?? [])
      for (const e of grant.entitlements) keys.add(key({ connector: grant.connector, ...e }));
  }
  return keys;
}

/**
 * The entitlement keys of a rule's two sides; what both sides share is neither's (holding it
 * says nothing about which side a person is on).
 */
function ruleSides(
  rule: SodRuleIR,
  roles: readonly RoleIR[],
  key: EntitlementKey,
): { left: Set<string>; right: Set<string> } {
  const left = sideKeys(rule.left, roles, key);
  const right = sideKeys(rule.right, roles, key);
  for (const k of [...left]) {
    if (right.has(k)) {
      left.delete(k);
      right.delete(k);
    }
  }
  return { left, right };
}

/** `roles a, b and group x on corp-directory`: what a side is, for reasons people read. */
export function describeSide(side: SodSideIR): string {
  const parts = [
    ...side.roles.map((r) => `role ${r}`),
    ...side.entitlements.map((e) => `${e.kind} ${e.value} on ${e.connector}`),
  ];
  return parts.length > 1
    ? `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`
    : (parts[0] ?? 'nothing');
}

function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const k of a) if (b.has(k)) return true;
  return false;
}

function belongsTo(change: Change, side: SodSideIR, keys: Set<string>, key: EntitlementKey) {
  if (change.op !== 'addEntitlement') return false;
  const ref = { connector: change.connector, kind: change.kind ?? '', value: change.value ?? '' };
  if (keys.has(key(ref))) return true;
  return side.roles.some((r) => change.why.split(', ').includes(`role:${r}`));
}

/** The reason a grant is held back, naming both sides and the rule. */
export function sodReason(
  rule: SodRuleIR,
  held: SodSideIR,
  other: SodSideIR,
  what: string,
): string {
  return `separation of duties rule '${rule.name}': ${describeSide(other)} may not be held together with ${describeSide(held)}; ${what} ${rule.action === 'block' ? 'is refused' : 'waits on an approval'}`;
}

/**
 * Entitlements held now: the connectors in scope as read (with the unmanaged ones SoD rules
 * name), the others as desired (reconciled elsewhere).
 */
function heldNow(plan: AccessPlan, inputs: PlanInputs): Set<string> {
  const keys = new Set<string>();
  for (const a of inputs.actual)
    if (a.account && plan.connectors.includes(a.connector))
      for (const e of a.entitlements) keys.add(inputs.key(e));
  for (const e of inputs.desired.entitlements)
    if (!plan.connectors.includes(e.connector)) keys.add(inputs.key(e));
  for (const e of inputs.observed ?? []) keys.add(inputs.key(e));
  return keys;
}

/** Takes the grants SoD rules hold back out of the plan's additions. */
export function holdBack(plan: AccessPlan, inputs: PlanInputs): AccessPlan {
  const { key } = inputs;
  const before = heldNow(plan, inputs);
  const removed = new Set(plan.removals.map((c) => entitlementKey(c, key)).filter(isString));
  let additions = plan.additions;
  const heldBack: HeldBack[] = [];
  for (const rule of [...inputs.sodRules].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const { left, right } = ruleSides(rule, inputs.roles, key);
    const after = new Set([...before].filter((k) => !removed.has(k)));
    for (const c of additions) {
      const k = entitlementKey(c, key);
      if (k) after.add(k);
    }
    if (!intersects(after, left) || !intersects(after, right)) continue;
    // the side the person does not hold yet is the one being granted: hold it back
    const toRight = intersects(before, left) || !intersects(before, right);
    const [side, keys, other] = toRight
      ? [rule.right, right, rule.left]
      : [rule.left, left, rule.right];
    const held = additions.filter((c) => belongsTo(c, side, keys, key));
    if (held.length === 0) continue;
    additions = additions.filter((c) => !held.includes(c));
    for (const change of held) {
      heldBack.push({
        change,
        rule: rule.name,
        reason: sodReason(
          rule,
          side,
          other,
          `${change.kind} ${change.value} on ${change.connector}`,
        ),
        action: rule.action,
        ...(rule.approval ? { approval: rule.approval } : {}),
      });
    }
  }
  return { ...plan, additions, heldBack: [...plan.heldBack, ...heldBack] };
}

function entitlementKey(change: Change, key: EntitlementKey): string | undefined {
  if (change.op !== 'addEntitlement' && change.op !== 'removeEntitlement') return undefined;
  return key({ connector: change.connector, kind: change.kind ?? '', value: change.value ?? '' });
}

function isString(value: string | undefined): value is string {
  return value !== undefined;
}

/**
 * Rules a new explicit grant of `grant` would break, given what the person is entitled to now
 * (`entitled`, desired entitlements): the grant's entitlements complete a pair.
 */
export function grantConflicts(
  entitled: readonly EntitlementRef[],
  grant: readonly EntitlementRef[],
  rules: readonly SodRuleIR[],
  roles: readonly RoleIR[],
  key: EntitlementKey,
): Array<{ rule: SodRuleIR; reason: string }> {
  const before = new Set(entitled.map(key));
  const adding = new Set(grant.map(key));
  const after = new Set([...before, ...adding]);
  const out: Array<{ rule: SodRuleIR; reason: string }> = [];
  for (const rule of rules) {
    const { left, right } = ruleSides(rule, roles, key);
    if (!intersects(after, left) || !intersects(after, right)) continue;
    if (intersects(before, left) && intersects(before, right)) continue;
    const toRight = intersects(adding, right) && !intersects(before, right);
    const [side, other] = toRight ? [rule.right, rule.left] : [rule.left, rule.right];
    out.push({ rule, reason: sodReason(rule, side, other, 'the grant') });
  }
  return out;
}
