/**
 * idflow's own records: events as received, the dispatch decision, the outcome of runs. Each
 * writes an audit row, keyed by the fact it records, so a retried or replayed activity (its
 * completion lost when the worker or Temporal went away) does not write it twice. A value the
 * database refuses fails the activity for good (InvalidValue), naming the column.
 */
import { Context } from '@temporalio/activity';
import type { Compiled, FlowIR, PolicyIR } from '../src/dsl/ir';
import type { Database } from '../src/db/client';
import { appendAudit, type AuditEntry } from '../src/db/repos/audit';
import { activeDefinitions } from '../src/db/repos/definitions';
import { insertEvent, recordDecision as storeDecision } from '../src/db/repos/events';
import { getPersons, toPerson } from '../src/db/repos/persons';
import { dispatchWorkflowId, type IdentityEvent } from '../src/model/event';
import type { ManagerSummary, SubjectSnapshot } from '../src/model/person';
import type { RuleTrace } from '../src/policy/evaluate';
import type { EventContext, RunOutcome, RunRef } from '../src/temporal/contracts';
import { subjectTarget } from '../src/schedules/ids';
import { databaseFailure } from './errors';

/** One transition of an event on a person's timeline, as `personTimeline` reports it. */
export interface TimelineRecord {
  /** The timeline's workflow id. */
  timeline: string;
  personId: string;
  what: 'accepted' | 'started' | 'finished' | 'cancelled' | 'abandoned';
  seq: number;
  source: string;
  eventId: string;
  type: string;
  runs?: string[];
  cancel?: { action: 'cancel' | 'supersede'; by: string };
  outcomes?: Array<{ workflowId: string; status: string }>;
}

/**
 * The audit outcome of a timeline step: an event abandoned, or finished with a run that did not
 * complete or was not started (its dispatch failed, its run id was taken), is flagged.
 */
function timelineOutcome(entry: TimelineRecord): string {
  if (entry.what === 'cancelled') return 'cancelled';
  if (entry.what === 'abandoned') return 'flagged';
  const settled = ['Completed', 'Cancelled'];
  return entry.outcomes?.some((o) => !settled.includes(o.status)) ? 'flagged' : 'ok';
}

export interface RecordDeps {
  db: Database;
  /** IDFLOW_VISIBLE_PERSONAL_DATA: whether the Web UI's unencrypted summaries may name persons. */
  visiblePersonalData?: boolean;
}

/** The stored person overlaid with what the event says, plus the manager as stored. */
export async function snapshotOf(db: Database, event: IdentityEvent): Promise<SubjectSnapshot> {
  const [stored] = await getPersons(db, [event.subject.id]);
  const known = stored ? toPerson(stored) : undefined;
  const subject: SubjectSnapshot = { ...known, ...event.subject };
  if (known && event.subject.attributes)
    subject.attributes = { ...known.attributes, ...event.subject.attributes };
  delete (subject as Record<string, unknown>).createdAt;
  delete (subject as Record<string, unknown>).updatedAt;
  if (subject.managerId) {
    const [manager] = await getPersons(db, [subject.managerId]);
    if (manager) {
      const summary: ManagerSummary = { id: manager.id };
      if (manager.employeeId) summary.employeeId = manager.employeeId;
      const name =
        manager.displayName ?? [manager.givenName, manager.familyName].filter(Boolean).join(' ');
      if (name) summary.displayName = name;
      if (manager.email) summary.email = manager.email;
      if (manager.managerId) summary.managerId = manager.managerId;
      subject.manager = summary;
    }
  }
  return subject;
}

/** The Temporal run id of the workflow that called the running activity, if any. */
function callerRunId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.runId;
  } catch {
    return undefined; // called directly, not as an activity
  }
}

/** Runs a record's database work; its database errors name the record. */
async function recording<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw databaseFailure(`records: ${operation}`, err, { fromDatabase: true }) ?? err;
  }
}

export function createRecordActivities({ db, visiblePersonalData }: RecordDeps) {
  return {
    /** Stores the event (once), and gives the dispatcher the subject and active definitions. */
    async recordEvent(event: IdentityEvent): Promise<EventContext> {
      const workflowId = dispatchWorkflowId(event.source, event.id);
      await recording('recordEvent', () =>
        db.transaction(async (tx) => {
          if (!(await insertEvent(tx, event, workflowId))) return;
          await appendAudit(tx, {
            actor: `source:${event.source}`,
            action: 'event.received',
            target: `person:${event.subject.id}`,
            outcome: 'ok',
            detail: {
              source: event.source,
              eventId: event.id,
              type: event.type,
              occurredAt: event.occurredAt,
            },
            runId: workflowId,
            dedupeKey: `event.received:${event.source}/${event.id}`,
          });
        }),
      );
      return recording('recordEvent', () => contextOf(event));
    },

    /** Stores the dispatch decision and the runs it started. */
    async recordDecision(decision: {
      source: string;
      id: string;
      trace: RuleTrace[];
      runs: RunRef[];
    }): Promise<void> {
      await recording('recordDecision', () =>
        db.transaction(async (tx) => {
          await storeDecision(tx, decision.source, decision.id, decision.trace, decision.runs);
          await appendAudit(tx, {
            actor: 'idflow:dispatcher',
            action: 'event.dispatched',
            target: `event:${decision.source}/${decision.id}`,
            outcome: decision.runs.length ? 'ok' : 'unchanged',
            detail: {
              matchedRules: decision.trace
                .filter((t) => t.matched)
                .map((t) => `${t.policy}/${t.rule}`),
              runs: decision.runs,
            },
            runId: dispatchWorkflowId(decision.source, decision.id),
            dedupeKey: `event.dispatched:${decision.source}/${decision.id}`,
          });
        }),
      );
    },

    /**
     * Audits steps of events on a person's timeline, in order: accepted (with its place in
     * acceptance order), started (its runs), cancelled or superseded (by which event), abandoned
     * (no decision came), finished.
     */
    async recordTimeline(entries: TimelineRecord[]): Promise<void> {
      const rows = entries.map((entry): AuditEntry => {
        const key = `${entry.source}/${entry.eventId}`;
        return {
          actor: 'idflow:timeline',
          action: `timeline.${entry.what}`,
          target: `person:${entry.personId}`,
          outcome: timelineOutcome(entry),
          detail: {
            seq: entry.seq,
            event: key,
            type: entry.type,
            ...(entry.runs ? { runs: entry.runs } : {}),
            ...(entry.cancel ? { cancel: entry.cancel } : {}),
            ...(entry.outcomes ? { outcomes: entry.outcomes } : {}),
          },
          runId: entry.timeline,
          dedupeKey: `timeline.${entry.what}:${entry.personId}/${key}/${entry.seq}`,
        };
      });
      if (rows.length > 0) await recording('recordTimeline', () => appendAudit(db, rows));
    },

    /** Audits how a run ended (and whether it overran its execution budget). */
    async recordRunOutcome(outcome: RunOutcome): Promise<void> {
      // one outcome per execution of the run's workflow
      const run = `${outcome.runId}/${callerRunId() ?? ''}`;
      const action =
        outcome.status === 'Completed'
          ? 'run.completed'
          : outcome.status === 'Cancelled'
            ? 'run.cancelled'
            : 'run.failed';
      const rows: AuditEntry[] = [
        {
          actor: 'idflow:interpreter',
          action,
          target: subjectTarget(outcome.subjectId),
          outcome:
            outcome.status === 'Completed'
              ? 'ok'
              : outcome.status === 'Cancelled'
                ? 'cancelled'
                : 'failed',
          detail: {
            flow: outcome.flow,
            hash: outcome.hash,
            ...(outcome.error ? { error: outcome.error } : {}),
            ...(outcome.cancelled ? { cancelled: outcome.cancelled } : {}),
          },
          runId: outcome.runId,
          dedupeKey: `${action}:${run}`,
        },
      ];
      if (outcome.budgetExceeded) {
        rows.push({
          actor: 'idflow:interpreter',
          action: 'run.budget-exceeded',
          target: subjectTarget(outcome.subjectId),
          outcome: 'flagged',
          detail: { flow: outcome.flow, hash: outcome.hash, ...outcome.budgetExceeded },
          runId: outcome.runId,
          dedupeKey: `run.budget-exceeded:${run}`,
        });
      }
      await recording('recordRunOutcome', () => appendAudit(db, rows));
    },
  };

  /** The subject as stored and the active definitions the event's policies may start. */
  async function contextOf(event: IdentityEvent): Promise<EventContext> {
    const subject = await snapshotOf(db, event);
    const policies = (await activeDefinitions(db, 'Policy')).map((d) => d.ir as PolicyIR);
    const names = new Set<string>();
    for (const policy of policies) {
      for (const rule of policy.rules)
        if (rule.on.includes(event.type)) rule.run.forEach((f) => names.add(f));
    }
    const flows: Record<string, Compiled<FlowIR>> = {};
    for (const def of await activeDefinitions(db, 'Flow', [...names])) {
      flows[def.name] = { ir: def.ir as FlowIR, hash: def.hash };
    }
    return { subject, policies, flows, ...(visiblePersonalData ? { visiblePersonalData } : {}) };
  }
}
