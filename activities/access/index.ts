/**
 * The reconcile activities. `planAccess` reads the person, the active roles, SoD rules and
 * grants, and what each target holds (a few batched reads per connector), and computes the plan;
 * `applyAccess` carries out one phase of it, change by change, through the connectors' own ops
 * (validated, idempotent, audited like an action step's). The workflow calls `applyAccess` for
 * the removals and only then for the additions: no window with both positions' access.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { desiredState } from '../../src/access/desired';
import { isEmptyPlan, planAccess as computePlan, planSummary } from '../../src/access/plan';
import { entitlementKeys, managedScopes, observedBySod } from '../../src/access/scope';
import type { AccessPlan, ActualAccess, Change, EntitlementRef } from '../../src/access/types';
import type { ActiveConnectors } from '../../src/connectors/active';
import type { Database } from '../../src/db/client';
import { activeGrants, managedForPerson, recordAccess } from '../../src/db/repos/access';
import { appendAudit } from '../../src/db/repos/audit';
import { activeAccessDefinitions } from '../../src/db/repos/definitions';
import { activeHolds } from '../../src/db/repos/holds';
import { getPerson, toPerson } from '../../src/db/repos/persons';
import type { JsonValue } from '../../src/dsl/ir';
import type { Person } from '../../src/model/person';
import type {
  ApplyAccessInput,
  ApplyAccessResult,
  PlanAccessInput,
} from '../../src/temporal/contracts';
import { createConnectorActivities } from '../connectors';
import { connectorFailure } from '../errors';
import { accessAdapter } from './adapters';

export interface AccessDeps {
  db: Database;
  connectors: ActiveConnectors;
}

function context(): { timeoutMs?: number; signal?: AbortSignal; activityId?: string } {
  try {
    const c = Context.current();
    return {
      timeoutMs: c.info.startToCloseTimeoutMs,
      signal: c.cancellationSignal,
      activityId: c.info.activityId,
    };
  } catch {
    return {};
  }
}

/**
 * The plan for `person` as given, read from the live targets: `planAccess` plans for the
 * person as stored; a dry run of an event plans for the person as the flow's earlier
 * identity-store writes would leave them (with `record: false`).
 */
export async function planAccessOf(
  { db, connectors }: AccessDeps,
  person: Person,
  input: PlanAccessInput,
): Promise<AccessPlan> {
  const now = new Date();
  const [{ roles, sodRules }, grants, granted, holds, active] = await Promise.all([
    activeAccessDefinitions(db),
    activeGrants(db, person.id, now),
    managedForPerson(db, person.id),
    activeHolds(db, person.id),
    connectors.all(),
  ]);
  const key = entitlementKeys(active);
  const desired = desiredState(person, roles, grants, now, holds);
  const { scopes, problems } = managedScopes(roles, granted, active, input.connectors, key);
  const { activityId, ...ctx } = context();
  const actual: ActualAccess[] = [];
  const observed: EntitlementRef[] = [];
  const sodOnly = observedBySod(sodRules, scopes, key);
  for (const scope of scopes) {
    const connector = active.get(scope.connector);
    const adapter = accessAdapter(scope.connectorType);
    if (!connector || !adapter) continue;
    const extra = sodOnly.get(scope.connector) ?? [];
    const read = await adapter.read(
      {
        connector: scope.connector,
        config: connector.config,
        idempotencyKey: `${input.runId}:${input.stepId}/read`,
        runId: input.runId,
        flow: input.flow,
        stepId: input.stepId,
        ...ctx,
      },
      person.id,
      [...scope.entitlements, ...extra],
    );
    // what only SoD rules name is seen, for the rules, and left alone
    const extraKeys = new Set(extra.map(key));
    const seen = read.entitlements.filter((e) => extraKeys.has(key(e)));
    observed.push(...seen);
    actual.push({
      ...read,
      entitlements: read.entitlements.filter((e) => !extraKeys.has(key(e))),
      unmanaged: read.unmanaged + seen.length,
    });
  }
  const plan = computePlan({
    desired: { ...desired, problems: [...desired.problems, ...problems] },
    actual,
    scopes,
    roles,
    sodRules,
    keep: input.keep ?? [],
    observed,
    key,
  });
  if (input.record) {
    const sources: Record<string, Record<string, string>> = {};
    for (const e of desired.entitlements)
      (sources[e.connector] ??= {})[`${e.kind}:${e.value}`] = e.sources.join(', ');
    for (const a of actual) {
      await recordAccess(db, {
        personId: person.id,
        actual: a,
        sources: sources[a.connector] ?? {},
        runId: input.runId,
        now,
      });
    }
    if (!isEmptyPlan(plan) || plan.heldBack.length > 0 || plan.problems.length > 0) {
      await appendAudit(db, {
        actor: `flow:${input.flow}`,
        action: 'access.plan',
        target: `person:${person.id}`,
        outcome: plan.problems.length > 0 ? 'invalid' : 'planned',
        detail: { step: input.stepId, ...planSummary(plan) },
        runId: input.runId,
        dedupeKey: `${input.runId}:${input.stepId}/plan/${activityId ?? now.toISOString()}`,
      });
    }
  }
  return plan;
}

export function createAccessActivities({ db, connectors }: AccessDeps) {
  const connectorOps = createConnectorActivities({ db, connectors });

  async function planAccess(input: PlanAccessInput): Promise<AccessPlan> {
    const row = await getPerson(db, input.personId);
    if (!row) {
      throw ApplicationFailure.create({
        type: 'PersonNotFound',
        message: `no person with id ${input.personId} in the identity store`,
        nonRetryable: true,
      });
    }
    return planAccessOf({ db, connectors }, toPerson(row), input);
  }

  async function applyAccess(input: ApplyAccessInput): Promise<ApplyAccessResult> {
    const active = await connectors.all();
    const changed: boolean[] = new Array<boolean>(input.changes.length).fill(false);
    const { timeoutMs, signal } = context();
    const ctx = { ...(timeoutMs ? { timeoutMs } : {}), ...(signal ? { signal } : {}) };
    // one batch per connector, keeping the plan's order within it; connectors are independent
    const batches = new Map<string, number[]>();
    input.changes.forEach((change, index) => {
      const list = batches.get(change.connector) ?? [];
      list.push(index);
      batches.set(change.connector, list);
    });
    const applyBatch = async (name: string, indexes: number[]) => {
      const batch = indexes.map((i) => input.changes[i] as Change);
      const first = batch[0] as Change;
      const connector = active.get(name);
      const adapter = accessAdapter(first.connectorType);
      if (!connector || !adapter || batch.some((c) => c.connectorType !== connector.type)) {
        throw connectorFailure(
          'ConnectorNotConfigured',
          `connector '${name}' is not active as a ${first.connectorType} connector`,
        );
      }
      const invoke = (op: string, args: Record<string, JsonValue>, index: number) =>
        connectorOps.runConnectorOp({
          connector: name,
          connectorType: first.connectorType,
          op,
          args,
          // the change's place in the phase: the same key on every retry of this phase
          idempotencyKey: `${input.idempotencyKey}/${indexes[index] ?? `x${index}`}`,
          runId: input.runId,
          flow: input.flow,
          stepId: input.stepId,
        });
      const results = await adapter.apply(
        {
          connector: name,
          config: connector.config,
          idempotencyKey: `${input.idempotencyKey}/${name}`,
          runId: input.runId,
          flow: input.flow,
          stepId: input.stepId,
          ...ctx,
        },
        input.personId,
        batch,
        invoke,
      );
      results.forEach((value, k) => {
        changed[indexes[k] as number] = value;
      });
    };
    await Promise.all([...batches].map(([name, indexes]) => applyBatch(name, indexes)));
    return { changed };
  }

  return { planAccess, applyAccess };
}
