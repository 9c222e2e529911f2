/**
 * `dryRunEvent`: what an event would do, computed on the worker (the one process holding the
 * targets' credentials) and changing nothing. It takes the subject and the active definitions
 * as the dispatch workflow would, but records no event; it calls read-only connector ops for
 * real and describes writes; a reconcile is planned against the live targets for the person as
 * the flow's identity-store writes would leave them. Its one record is an audit row of the dry
 * run: who asked, the event type, the subject's id and the flows — no personal data.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActiveConnectors } from '../src/connectors/active';
import { idstore } from '../src/connectors/idstore';
import type { OpSpec } from '../src/connectors/spec';
import type { Database } from '../src/db/client';
import { appendAudit } from '../src/db/repos/audit';
import { activeDefinitions } from '../src/db/repos/definitions';
import { activeFlowVersions } from '../src/db/repos/dry-run';
import { getPerson, getPersons, toPerson } from '../src/db/repos/persons';
import { planEvent } from '../src/dryrun/plan';
import type { DryRunInput, DryRunResult } from '../src/dryrun/types';
import type { DryRunDeps } from '../src/dryrun/walk';
import type { JsonValue, PolicyIR } from '../src/dsl/ir';
import type { Person } from '../src/model/person';
import { subjectTarget } from '../src/schedules/ids';
import { planAccessOf } from './access';
import { createConnectorActivities } from './connectors';
import { SECRET_ATTRIBUTE } from './connectors/ldap-directory';
import { databaseFailure } from './errors';
import { createPopulationActivities } from './population';
import { snapshotOf } from './records';

export interface DryRunActivityDeps {
  db: Database;
  connectors: ActiveConnectors;
}

/** Rendered arguments as a plan shows them: values of credential-like keys replaced. */
function redact(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_ATTRIBUTE.test(k) ? '(redacted)' : redact(v)]),
  );
}

/** Merges attribute changes as the identity store does: a null value removes the attribute. */
function merge(
  attributes: Record<string, unknown>,
  changes: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const merged = { ...attributes };
  for (const [key, value] of Object.entries(changes ?? {})) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/**
 * The person a flow's reconcile steps plan for: the stored person (or a new, pending one), with
 * the flow's identity-store writes applied as they come — in memory, never to the store.
 */
class SimulatedPerson {
  constructor(public person: Person) {}

  apply(op: string, args: JsonValue): void {
    const spec = (idstore.ops as Record<string, OpSpec | undefined>)[op];
    const parsed = spec?.args.safeParse(args);
    if (!parsed?.success) return;
    const data: Record<string, unknown> = parsed.data;
    const id = (data.id ?? data.personId) as string | undefined;
    if (id !== this.person.id) return;
    const now = new Date().toISOString();
    if (op === 'upsertPerson') {
      const { attributes, ...fields } = data;
      const defined = Object.fromEntries(
        Object.entries(fields).filter(([k, v]) => k !== 'id' && v !== undefined),
      );
      this.person = {
        ...this.person,
        ...defined,
        attributes: merge(this.person.attributes, attributes as Record<string, unknown>),
        updatedAt: now,
      };
    } else if (op === 'setStatus') {
      this.person = { ...this.person, status: data.status as Person['status'], updatedAt: now };
    } else if (op === 'setAttributes') {
      this.person = {
        ...this.person,
        attributes: merge(this.person.attributes, data.attributes as Record<string, unknown>),
        updatedAt: now,
      };
    }
  }
}

export function createDryRunActivities({ db, connectors }: DryRunActivityDeps) {
  const connectorOps = createConnectorActivities({ db, connectors });
  const population = createPopulationActivities({ db });

  return {
    async dryRunEvent(input: DryRunInput): Promise<DryRunResult> {
      const { event } = input;
      let workflowId = `dryrun/${event.subject.id}`;
      try {
        workflowId = Context.current().info.workflowExecution?.workflowId ?? workflowId;
      } catch {
        // called directly, not as an activity
      }
      const reading = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
        try {
          return await fn();
        } catch (err) {
          throw databaseFailure(`dry run: ${what}`, err, { fromDatabase: true }) ?? err;
        }
      };
      const [subject, [stored], policyRows] = await reading('read the subject and policies', () =>
        Promise.all([
          snapshotOf(db, event),
          getPersons(db, [event.subject.id]),
          activeDefinitions(db, 'Policy'),
        ]),
      );
      const policies = policyRows.map((d) => d.ir as PolicyIR);
      const names = new Set<string>();
      for (const policy of policies)
        for (const rule of policy.rules)
          if (rule.on.includes(event.type)) rule.run.forEach((f) => names.add(f));
      const flows = await reading('read the active flows', () =>
        activeFlowVersions(db, [...names].sort()),
      );
      const now = new Date().toISOString();
      const start: Person = stored
        ? toPerson(stored)
        : {
            id: event.subject.id,
            status: 'pending',
            attributes: {},
            createdAt: now,
            updatedAt: now,
          };

      const depsFor = (flow: string): DryRunDeps => {
        const simulated = new SimulatedPerson(start);
        const common = { runId: workflowId, flow };
        return {
          read: async (call) =>
            connectorOps.runConnectorOp({
              ...call,
              ...common,
              idempotencyKey: `${workflowId}:${flow}/${call.stepId}`,
            }),
          simulate: (op, args) => simulated.apply(op, args),
          planAccess: async ({ personId, connectors: only, keep, stepId }) => {
            let person = simulated.person;
            if (personId !== start.id) {
              const row = await getPerson(db, personId);
              if (!row)
                throw ApplicationFailure.nonRetryable(
                  `no person with id ${personId} in the identity store`,
                  'PersonNotFound',
                );
              person = toPerson(row);
            }
            return planAccessOf({ db, connectors }, person, {
              ...common,
              personId,
              connectors: only,
              ...(keep ? { keep } : {}),
              record: false,
              stepId,
            });
          },
          count: async (page) => {
            const result = await population.readPopulation(page);
            return { matched: result.matched, scanned: result.scanned };
          },
          redact,
        };
      };

      const result = await planEvent(
        event,
        { subject, subjectKnown: stored !== undefined, policies, flows },
        depsFor,
      );
      await reading('audit the dry run', () =>
        appendAudit(db, {
          actor: input.actor,
          action: 'plan.event',
          target: subjectTarget(event.subject.id),
          outcome: 'ok',
          detail: {
            type: event.type,
            matchedRules: result.rules.filter((r) => r.matched).map((r) => `${r.policy}/${r.rule}`),
            flows: result.flows.map((f) => ({
              flow: f.flow,
              ...(f.version !== undefined ? { version: f.version } : {}),
              hash: f.hash,
            })),
          },
          runId: workflowId,
          dedupeKey: `plan.event:${workflowId}`,
        }),
      );
      return result;
    },
  };
}
