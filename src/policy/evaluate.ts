/**
 * Policy evaluation: which flows an event starts, and a trace of why, rule by rule.
 * Deterministic and sandbox-safe: the dispatch workflow runs it.
 *
 * Rules listening to the event's type are tried by priority (highest first), then by policy
 * name and position. A fallback rule runs only when no other rule of its own policy matched.
 * A flow chosen by several rules is started once. What the event does to runs still pending
 * for the person merges the `pending` maps of the matched rules, the strongest action per key.
 */
import { evaluateExpression, ExpressionError, type CelScope } from '../dsl/cel-runtime';
import type { PendingAction, PolicyIR, RuleIR } from '../dsl/ir';
import { mergePending } from './pending';

export interface RuleTrace {
  policy: string;
  rule: string;
  priority: number;
  fallback: boolean;
  matched: boolean;
  /** Why it matched or not, in words. */
  reason: string;
  flows: string[];
}

export interface PolicyDecision {
  trace: RuleTrace[];
  /** Flows to start, in the order their rules matched, each once. */
  flows: string[];
  /**
   * What this event does to runs still pending for the person, by their event type or `*`:
   * the `pending` maps of the matched rules merged, where several name the same key the
   * strongest action winning (cancel > supersede > queue > alongside). Read it with
   * `pendingAction`; empty when no matched rule says anything (every pending run: queue).
   */
  pending: Record<string, PendingAction>;
}

interface Candidate {
  policy: PolicyIR;
  rule: RuleIR;
  index: number;
}

function conditionHolds(rule: RuleIR, scope: CelScope): { holds: boolean; reason: string } {
  if (rule.when === undefined) return { holds: true, reason: 'no condition' };
  try {
    const value = evaluateExpression(rule.when, scope);
    if (value === true) return { holds: true, reason: `condition '${rule.when}' is true` };
    return { holds: false, reason: `condition '${rule.when}' is ${JSON.stringify(value)}` };
  } catch (err) {
    const message = err instanceof ExpressionError ? err.message : String(err);
    return { holds: false, reason: `condition could not be evaluated: ${message}` };
  }
}

export function evaluatePolicies(
  policies: readonly PolicyIR[],
  eventType: string,
  scope: CelScope,
): PolicyDecision {
  const trace: RuleTrace[] = [];
  const candidates: Candidate[] = [];
  const ordered = [...policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const policy of ordered) {
    policy.rules.forEach((rule, index) => {
      if (rule.on.includes(eventType)) candidates.push({ policy, rule, index });
      else {
        trace.push({
          policy: policy.name,
          rule: rule.name,
          priority: rule.priority,
          fallback: rule.fallback,
          matched: false,
          reason: `listens to ${rule.on.join(', ')}, not ${eventType}`,
          flows: rule.run,
        });
      }
    });
  }
  candidates.sort(
    (a, b) =>
      Number(a.rule.fallback) - Number(b.rule.fallback) ||
      b.rule.priority - a.rule.priority ||
      (a.policy.name < b.policy.name ? -1 : a.policy.name > b.policy.name ? 1 : 0) ||
      a.index - b.index,
  );
  const matchedPolicies = new Map<string, string>();
  const flows: string[] = [];
  const pending: Array<RuleIR['pending']> = [];
  for (const { policy, rule } of candidates) {
    const entry = {
      policy: policy.name,
      rule: rule.name,
      priority: rule.priority,
      fallback: rule.fallback,
      flows: rule.run,
    };
    const otherMatch = matchedPolicies.get(policy.name);
    if (rule.fallback && otherMatch !== undefined) {
      trace.push({
        ...entry,
        matched: false,
        reason: `fallback not needed: rule '${otherMatch}' matched`,
      });
      continue;
    }
    const { holds, reason } = conditionHolds(rule, scope);
    trace.push({
      ...entry,
      matched: holds,
      reason: rule.fallback && holds ? `no other rule matched; ${reason}` : reason,
    });
    if (!holds) continue;
    if (!rule.fallback && !matchedPolicies.has(policy.name))
      matchedPolicies.set(policy.name, rule.name);
    for (const flow of rule.run) if (!flows.includes(flow)) flows.push(flow);
    pending.push(rule.pending);
  }
  return { trace, flows, pending: mergePending(pending) };
}
