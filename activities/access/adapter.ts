/**
 * What reconcile needs from a connector type that roles can grant on: read one person's account
 * and managed entitlements in few calls, and carry out changes through the connector's own ops
 * (so every change is validated, idempotent and audited like an action step's).
 */
import type { ActualAccess, Change, EntitlementRef } from '../../src/access/types';
import type { JsonValue } from '../../src/dsl/ir';
import type { OpContext } from '../connectors/types';

/**
 * Calls one op of the connector being reconciled, as an action step would (audited), for the
 * change at `index` of the batch: its idempotency key, so a retried batch acts once per change.
 */
export type InvokeOp = (
  op: string,
  args: Record<string, JsonValue>,
  index: number,
) => Promise<JsonValue>;

export interface AccessAdapter {
  /**
   * The person's account on this connector, found by the connector's correlation attribute
   * (`owner` is its value, the person id), and which of `managed` it holds. Reads are batched:
   * a constant number of calls whatever the number of entitlements.
   */
  read(ctx: OpContext, owner: string, managed: EntitlementRef[]): Promise<ActualAccess>;
  /**
   * Carries out `changes`, all on this connector, each through `invoke` with its index: account
   * changes in the given order, runs of entitlement changes between them concurrently (the
   * caller gives removals and additions in separate calls). Returns, per change, whether the
   * target changed.
   */
  apply(ctx: OpContext, owner: string, changes: Change[], invoke: InvokeOp): Promise<boolean[]>;
}
