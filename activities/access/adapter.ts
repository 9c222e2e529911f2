/**
 * What reconcile needs from a connector type that roles can grant on: read one person's account
 * and managed entitlements in few calls, and carry out changes through the connector's own ops
 * (so every change is validated, idempotent and audited like an action step's).
 */
import type { ActualAccess, Change, EntitlementRef } from '../../src/access/types';
import type { JsonValue } from '../../src/dsl/ir';
import type { OpContext } from '../connectors/types';

/** Calls one op of the connector being reconciled, as an action step would (audited). */
export type InvokeOp = (op: string, args: Record<string, JsonValue>) => Promise<JsonValue>;

export interface AccessAdapter {
  /**
   * The person's account on this connector, found by the connector's correlation attribute
   * (`owner` is its value, the person id), and which of `managed` it holds. Reads are batched:
   * a constant number of calls whatever the number of entitlements.
   */
  read(ctx: OpContext, owner: string, managed: EntitlementRef[]): Promise<ActualAccess>;
  /**
   * Carries out `changes`, all on this connector and in the given order (the caller orders
   * removals before additions), each through `invoke`. Returns, per change, whether the target
   * changed.
   */
  apply(ctx: OpContext, owner: string, changes: Change[], invoke: InvokeOp): Promise<boolean[]>;
}
