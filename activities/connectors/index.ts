/**
 * `runConnectorOp`: the one activity behind every action step. It resolves the connector's
 * active configuration, checks that its type is the one the run was compiled against,
 * validates the arguments against the op's schema, runs the op, and validates the result.
 */
import { connectorType } from '../../src/connectors/registry';
import { argsOf } from '../../src/connectors/spec';
import type { JsonValue } from '../../src/dsl/ir';
import type { Database } from '../../src/db/client';
import type { ConnectorCall } from '../../src/temporal/contracts';
import type { ActiveConnectors } from '../../src/connectors/active';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { appendAudit } from '../../src/db/repos/audit';
import { observeStep } from '../../src/metrics';
import { activityFailure, connectorFailure } from '../errors';
import { createIdstoreOps } from './idstore';
import { createGrantOps } from './idstore-grants';
import { createHoldOps } from './idstore-holds';
import { createHttpConnector } from './http';
import { createLdapConnector, SECRET_ATTRIBUTE } from './ldap';
import { createScimConnector } from './scim';
import type { OpContext } from './types';

export interface ConnectorDeps {
  db: Database;
  connectors: ActiveConnectors;
}

type OpHandler = (args: never, ctx: OpContext) => Promise<unknown>;

function issuesOf(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .map((i) => `${i.path.map(String).join('.') || '(args)'}: ${i.message}`)
    .join('; ');
}

export function createConnectorActivities({ db, connectors }: ConnectorDeps) {
  const implementations: Record<string, Record<string, OpHandler>> = {
    idstore: { ...createIdstoreOps(db), ...createGrantOps(db), ...createHoldOps(db, connectors) },
    ldap: createLdapConnector(undefined, db).ops,
    scim: createScimConnector().ops,
    http: createHttpConnector().ops,
  };

  /**
   * The attempt's timeout, cancellation and number when running as an activity (none when
   * called directly: a first attempt).
   */
  function currentAttempt(): { timeoutMs?: number; signal?: AbortSignal; attempt: number } {
    try {
      const context = Context.current();
      return {
        timeoutMs: context.info.startToCloseTimeoutMs,
        signal: context.cancellationSignal,
        attempt: context.info.attempt,
      };
    } catch {
      return { attempt: 1 };
    }
  }

  /** Arguments as the audit log keeps them: values of credential-like keys replaced. */
  function redacted(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redacted);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_ATTRIBUTE.test(k) ? '(redacted)' : redacted(v),
      ]),
    );
  }

  /**
   * One audit row per remote side effect: who, which connector and op, the target's answer.
   * A success keeps the arguments (what was provisioned); a failure names the argument fields
   * only, next to the failure's type and message. Keyed by the call's idempotency key, so a
   * retry or replay of the same step run does not write it twice.
   */
  const auditRemote = (call: ConnectorCall, outcome: string, detail: Record<string, unknown>) =>
    appendAudit(db, {
      actor: `flow:${call.flow}`,
      action: `${call.connectorType}.${call.op}`,
      target: `connector:${call.connector}`,
      outcome,
      detail: {
        step: call.stepId,
        ...(outcome === 'failed'
          ? { fields: Object.keys((call.args as Record<string, unknown> | null) ?? {}).sort() }
          : { args: redacted(call.args) }),
        ...detail,
      },
      runId: call.runId,
      dedupeKey: `${call.idempotencyKey}/${call.connectorType}.${call.op}${outcome === 'failed' ? '/failed' : ''}`,
    });

  return {
    async runConnectorOp(call: ConnectorCall): Promise<JsonValue> {
      const spec = connectorType(call.connectorType);
      const ops = implementations[call.connectorType];
      if (!spec || !ops) {
        throw connectorFailure(
          'InvalidRequest',
          `this worker has no connector type '${call.connectorType}'`,
        );
      }
      const connector = await connectors.get(call.connector);
      if (!connector) {
        throw connectorFailure(
          'ConnectorNotConfigured',
          `connector '${call.connector}' is not active; activate a Connector definition with that name`,
        );
      }
      if (connector.type !== call.connectorType) {
        throw connectorFailure(
          'ConnectorNotConfigured',
          `connector '${call.connector}' is of type ${connector.type} now, but this run was compiled for ${call.connectorType}`,
        );
      }
      const op = spec.ops[call.op];
      const handler = ops[call.op];
      if (!op || !handler)
        throw connectorFailure('InvalidRequest', `${call.connectorType} has no op '${call.op}'`);
      const args = argsOf(op, connector.config).safeParse(call.args);
      if (!args.success) {
        throw connectorFailure(
          'InvalidRequest',
          `${call.connector}.${call.op}: invalid arguments: ${issuesOf(args.error)}`,
        );
      }
      const { timeoutMs, signal, attempt } = currentAttempt();
      const ctx: OpContext = {
        connector: call.connector,
        config: connector.config,
        idempotencyKey: call.idempotencyKey,
        runId: call.runId,
        flow: call.flow,
        stepId: call.stepId,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(signal ? { signal } : {}),
      };
      let result: unknown;
      // the op's latency, whether it runs as a regular or a local activity
      const started = performance.now();
      const took = (outcome: 'ok' | 'failed') =>
        observeStep(call.connector, call.op, (performance.now() - started) / 1000, outcome);
      try {
        result = await handler(args.data as never, ctx);
        took('ok');
      } catch (thrown) {
        took('failed');
        // what a library threw is told by its type and name only
        const err = activityFailure(`${call.connector}.${call.op}`, thrown);
        // the last word on a permanent failure is audited; transient ones are retried first
        if (!spec.local && !op.readOnly && err instanceof ApplicationFailure && err.nonRetryable)
          await auditRemote(call, 'failed', { error: { type: err.type, message: err.message } });
        throw err;
      }
      if (!spec.local && !op.readOnly) {
        const changed =
          (result as { changed?: unknown; created?: unknown; deleted?: unknown }) ?? {};
        const unchanged =
          (changed.changed === false && changed.created !== true && changed.deleted !== true) ||
          changed.deleted === false;
        // an attempt cut off after the target applied its change (a worker killed, a lost
        // answer) leaves no row: its retry finds the change in place, and the row it writes
        // gives the change to this call rather than leaving it to nobody
        const retried = unchanged && attempt > 1;
        await auditRemote(call, unchanged && !retried ? 'unchanged' : 'ok', {
          result,
          ...(retried ? { attempt, alreadyApplied: true } : {}),
        });
      }
      const checked = op.result.safeParse(result);
      if (!checked.success) {
        throw connectorFailure(
          'InvalidResponse',
          `${call.connector}.${call.op} gave an unexpected result: ${issuesOf(checked.error)}`,
        );
      }
      return checked.data as JsonValue;
    },
  };
}
