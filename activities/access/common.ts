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
