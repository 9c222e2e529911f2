/**
 * What a connector type declares: its configuration, its operations with zod schemas for
 * arguments and results, and its default timeout and retry policy. The compiler checks every
 * action against these declarations; the activities validate against the same schemas at run
 * time, so a definition and the code it calls cannot drift apart. Node-free.
 */
import type * as z from 'zod';
import type { RetryIR } from '../dsl/ir';

export interface OpSpec {
  description: string;
  args: z.ZodObject;
  result: z.ZodType;
  /** True for ops that only read: no audit row. Every other op's outcome is audited. */
  readOnly?: boolean;
  /**
   * What the op takes away from a person, when it does: `disable` (an account or a person is
   * disabled) or `delete`. Ops with an effect count against a run's blast radius.
   */
  effect?: 'disable' | 'delete';
  /**
   * The arguments under one connector's configuration, when they depend on it (an op that must
   * name the account's owner where the connector declares how owners are recorded). The
   * compiler checks actions and the activity checks calls against this; without it, `args`.
   */
  argsFor?: (config: Record<string, unknown>) => z.ZodObject;
}

/** The arguments `op` takes on a connector with `config`. */
export function argsOf(op: OpSpec, config: Record<string, unknown> | undefined): z.ZodObject {
  return op.argsFor ? op.argsFor(config ?? {}) : op.args;
}

/** An entitlement kind a connector type manages, as roles grant it. */
export interface EntitlementKindSpec {
  /** The key roles list values under, in the grant of a connector of this type (`groups`). */
  key: string;
  description: string;
  /**
   * What is wrong with `value` on a connector with `config` (a group outside `groupsDn`), or
   * undefined when it is fine. Checked by the compiler, so a role cannot name what the
   * connector could never hold.
   */
  check?: (value: string, config: Record<string, unknown>) => string | undefined;
  /**
   * The form two values are compared in (a group's cn and its DN are one group); without it,
   * the value itself.
   */
  canonical?: (value: string, config: Record<string, unknown>) => string;
}

/**
 * What a connector type lets roles manage: an account per person (found by the connector's
 * `correlation`) and entitlement kinds. Types without it cannot appear in a role.
 */
export interface AccessSpec {
  /** Roles may require an account on connectors of this type. */
  accounts: boolean;
  entitlements: Record<string, EntitlementKindSpec>;
}

export interface ConnectorTypeSpec {
  type: string;
  description: string;
  /** Type-specific `config` of a Connector document; secrets only as `{ secretEnv: NAME }`. */
  config: z.ZodObject;
  ops: Record<string, OpSpec>;
  /** True when `notify` steps may use instances of this type as their channel. */
  notifies: boolean;
  /**
   * True when every op is a short call to idflow's own database: actions then run as local
   * activities (in the worker, recorded in the run's history, no round trip through the
   * Temporal server per call). Remote targets are always regular activities.
   */
  local: boolean;
  defaults: { timeoutMs: number; retry: RetryIR };
  /** What roles may grant on connectors of this type; absent: nothing. */
  access?: AccessSpec;
}

/** Ties a spec's op names to its type, so `defineConnectorType` keeps them literal. */
export function defineConnectorType<const T extends ConnectorTypeSpec>(spec: T): T {
  return spec;
}
