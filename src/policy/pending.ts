/**
 * What an event does to a run still pending for the same person, as policies declare it. The
 * person's timeline workflow imports this module, so it has no Node imports.
 */
import type { PendingAction } from '../dsl/ir';

/**
 * Pending actions from strongest to weakest: where several matched rules name the same event
 * type, the strongest wins. Cancelling or replacing a pending run is never overruled by a rule
 * that would merely wait for it or run beside it.
 */
export const PENDING_PRECEDENCE: readonly PendingAction[] = [
  'cancel',
  'supersede',
  'queue',
  'alongside',
];

/** The stronger of two pending actions. */
export function strongerPending(a: PendingAction, b: PendingAction): PendingAction {
  return PENDING_PRECEDENCE.indexOf(a) <= PENDING_PRECEDENCE.indexOf(b) ? a : b;
}

/**
 * Merges the `pending` maps of several rules: every key any of them names, each with the
 * strongest action the rules give it.
 */
export function mergePending(
  maps: ReadonlyArray<Record<string, PendingAction> | undefined>,
): Record<string, PendingAction> {
  const merged: Record<string, PendingAction> = {};
  for (const map of maps) {
    for (const [key, action] of Object.entries(map ?? {})) {
      const known = merged[key];
      merged[key] = known === undefined ? action : strongerPending(known, action);
    }
  }
  return merged;
}

/**
 * What the event does to a run pending for the person that an event of `pendingEventType`
 * started: the action named for that type, else for `*`, else `queue` (the safe default: wait
 * for the pending run to end, then run).
 */
export function pendingAction(
  pending: Record<string, PendingAction> | undefined,
  pendingEventType: string,
): PendingAction {
  if (!pending) return 'queue';
  return own(pending, pendingEventType) ?? own(pending, '*') ?? 'queue';
}

function own(map: Record<string, PendingAction>, key: string): PendingAction | undefined {
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}
