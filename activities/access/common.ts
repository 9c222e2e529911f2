/**
 * What the access adapters share: the correlation setting reconcile cannot do without, the
 * check of a plan's changes before the first one is carried out, and what an op's result says
 * about whether the target changed.
 */
import type { Change } from '../../src/access/types';
import type { JsonValue } from '../../src/dsl/ir';
import { connectorFailure } from '../errors';
import type { Correlation } from '../connectors/ownership';
import type { OpContext } from '../connectors/types';

const OPS: ReadonlySet<string> = new Set<Change['op']>([
  'createAccount',
  'enableAccount',
  'updateAccount',
  'disableAccount',
  'deleteAccount',
  'addEntitlement',
  'removeEntitlement',
]);

/** The connector's correlation setting: reconcile finds a person's account only through it. */
export function correlationOf(ctx: OpContext): Correlation {
  const correlation = (ctx.config as { correlation?: Correlation }).correlation;
  if (!correlation) {
    throw connectorFailure(
      'InvalidRequest',
      `connector '${ctx.connector}': reconcile needs config.correlation, the attribute that records whose an account is`,
    );
  }
  return correlation;
}

/** Several accounts carry one person's id: which one is theirs is for a person to decide. */
export function duplicateOwner(ctx: OpContext, count: number, attribute: string): never {
  throw connectorFailure(
    'TargetConflict',
    `connector '${ctx.connector}': ${count} accounts carry the person's id in ${attribute}; reconcile needs exactly one, so it changed nothing`,
  );
}

/**
 * Refuses a plan with a change this adapter cannot carry out (an unknown op, an entitlement
 * kind other than `kinds`, an entitlement change without a value) before any change is made.
 */
export function checkChanges(ctx: OpContext, changes: Change[], kinds: string[]): void {
  for (const [i, change] of changes.entries()) {
    const where = `connector '${ctx.connector}': change ${i + 1} (${change.op})`;
    if (!OPS.has(change.op))
      throw connectorFailure('InvalidRequest', `${where}: no such change op`);
    if (change.connector !== ctx.connector)
      throw connectorFailure(
        'InvalidRequest',
        `${where}: it is for connector '${change.connector}'`,
      );
    if (change.op !== 'addEntitlement' && change.op !== 'removeEntitlement') continue;
    if (change.kind === undefined || !kinds.includes(change.kind)) {
      throw connectorFailure(
        'InvalidRequest',
        `${where}: entitlement kind '${change.kind ?? ''}' is not one the connector grants (${kinds.join(', ')})`,
      );
    }
    if (!change.value)
      throw connectorFailure('InvalidRequest', `${where}: the entitlement has no value`);
  }
}

/** Managed entitlements of a kind other than `kinds`: refused, like an unknown change. */
export function checkManaged(ctx: OpContext, kinds: string[], managedKinds: string[]): void {
  const unknown = managedKinds.find((kind) => !kinds.includes(kind));
  if (unknown !== undefined) {
    throw connectorFailure(
      'InvalidRequest',
      `connector '${ctx.connector}': entitlement kind '${unknown}' is not one the connector grants (${kinds.join(', ')})`,
    );
  }
}

/** Whether an op's result says the target changed (`changed`, `created` or `deleted`). */
export function changedBy(result: JsonValue): boolean {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return false;
  return result.changed === true || result.created === true || result.deleted === true;
}

/** Entitlement changes of one account carried out at once, at most this many in flight. */
export const ENTITLEMENT_CONCURRENCY = 8;

/**
 * Carries out `changes` in their order, where order matters: account changes (create, enable,
 * update, disable, delete) one at a time, each after everything before it; a run of entitlement
 * changes between them (independent memberships of one account) concurrently, at most
 * `concurrency` at once. The plan's phases keep removals and additions apart, so this never
 * lets an addition overtake a removal. `run` gets each change with its index in `changes`.
 */
export async function applyInStages(
  changes: readonly Change[],
  run: (change: Change, index: number) => Promise<boolean>,
  concurrency = ENTITLEMENT_CONCURRENCY,
): Promise<boolean[]> {
  const outcomes: boolean[] = new Array<boolean>(changes.length).fill(false);
  const isEntitlement = (c: Change) => c.op === 'addEntitlement' || c.op === 'removeEntitlement';
  let i = 0;
  while (i < changes.length) {
    const change = changes[i] as Change;
    if (!isEntitlement(change)) {
      outcomes[i] = await run(change, i);
      i++;
      continue;
    }
    let end = i;
    while (end < changes.length && isEntitlement(changes[end] as Change)) end++;
    let next = i;
    const worker = async () => {
      while (next < end) {
        const index = next++;
        outcomes[index] = await run(changes[index] as Change, index);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, end - i) }, worker));
    i = end;
  }
  return outcomes;
}
