/**
 * What happened to a person and why, in one list: every event idflow received about them
 * (from the events table, with the rules that matched and the runs it started), every run for
 * them (from Temporal visibility, with how it ended or where it stands: the parked step and its
 * error, what it waits on), and the audit rows about them — oldest first. Runs whose state
 * cannot be read any more show what visibility knows (status and times).
 */
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { listAudit } from '../db/repos/audit';
import { eventsOfSubject } from '../db/repos/events';
import type { RuleTrace } from '../policy/evaluate';
import { listRuns, type RunSummary } from './list';
import type { Redactor } from './redact';
import { showRun, type WaitView } from './view';

/** At most this many events, runs and audit rows each (the latest ones). */
export const HISTORY_LIMIT = 500;
/** Runs whose state is read for their outcome (the latest ones not completed). */
const DETAILED_RUNS = 50;

export interface HistoryEvent {
  kind: 'event';
  at: string;
  source: string;
  id: string;
  type: string;
  occurredAt: string;
  effectiveAt?: string;
  /** Rules that matched, and the flows they named. */
  matched: Array<{ policy: string; rule: string; reason: string; flows: string[] }>;
  /** The runs it started (workflow ids); absent until the event is decided. */
  runs?: string[];
  /** Decided without starting anything. */
  startedNothing?: boolean;
}

export interface HistoryRun {
  kind: 'run';
  at: string;
  workflowId: string;
  flow: string;
  eventType?: string;
  status: string;
  closedAt?: string;
  definitionHash?: string;
  overBudget?: boolean;
  /** How it ended or where it stands, in words. */
  outcome: string;
  /** The step it is parked on or failed at, with the error. */
  step?: { id: string; error?: { type: string; message: string; attempts?: number } };
  waitingOn?: WaitView;
}

export interface HistoryAudit {
  kind: 'audit';
  at: string;
  actor: string;
  action: string;
  outcome: string;
  runId?: string;
  detail: Record<string, unknown>;
}

export type HistoryEntry = HistoryEvent | HistoryRun | HistoryAudit;

export interface PersonHistory {
  personId: string;
  entries: HistoryEntry[];
  /** Set when a list stopped at HISTORY_LIMIT (older entries are left out). */
  truncated?: Array<'events' | 'runs' | 'audit'>;
}

function eventEntries(rows: Awaited<ReturnType<typeof eventsOfSubject>>): HistoryEvent[] {
  return rows.map((e) => {
    const trace = Array.isArray(e.decision) ? (e.decision as RuleTrace[]) : [];
    return {
      kind: 'event',
      at: e.receivedAt.toISOString(),
      source: e.source,
      id: e.id,
      type: e.type,
      occurredAt: e.occurredAt.toISOString(),
      ...(e.effectiveAt ? { effectiveAt: e.effectiveAt.toISOString() } : {}),
      matched: trace
        .filter((t) => t.matched)
        .map((t) => ({ policy: t.policy, rule: t.rule, reason: t.reason, flows: t.flows })),
      ...(e.runs ? { runs: e.runs.map((r) => r.workflowId) } : {}),
      ...(e.runs && e.runs.length === 0 ? { startedNothing: true } : {}),
    };
  });
}

const OUTCOMES: Record<string, string> = {
  Completed: 'completed',
  Cancelled: 'cancelled',
  Running: 'running',
  Waiting: 'waiting',
  Parked: 'parked, waiting on an operator',
  Failed: 'failed',
};

/** The run's outcome, reading its state for the parked step, the failure or the wait. */
async function runEntry(
  client: Client,
  run: RunSummary,
  redactor: Redactor,
  detailed: boolean,
): Promise<HistoryRun> {
  const entry: HistoryRun = {
    kind: 'run',
    at: run.startedAt,
    workflowId: run.workflowId,
    flow: run.flow,
    ...(run.eventType ? { eventType: run.eventType } : {}),
    status: run.status,
    ...(run.closedAt ? { closedAt: run.closedAt } : {}),
    ...(run.definitionHash ? { definitionHash: run.definitionHash } : {}),
    ...(run.overBudget !== undefined ? { overBudget: run.overBudget } : {}),
    outcome: OUTCOMES[run.status] ?? run.status.toLowerCase(),
  };
  if (!detailed) return entry;
  const view = await showRun(client, run.workflowId, redactor, { queryTimeoutMs: 2_000 }).catch(
    () => undefined,
  );
  if (!view || view.source !== 'live') return entry;
  const wait = view.waitingOn;
  if (wait?.kind === 'operator' && wait.error) {
    const attempts = wait.error.attempts ? ` after ${wait.error.attempts} attempts` : '';
    return {
      ...entry,
      outcome: `parked at step '${wait.step}': ${wait.error.type}${attempts}`,
      step: { id: wait.step, error: wait.error },
      waitingOn: wait,
    };
  }
  if (wait) {
    const until = wait.until ? ` until ${wait.until}` : '';
    return {
      ...entry,
      outcome: `waiting on ${wait.what} at step '${wait.step}'${until}`,
      waitingOn: wait,
    };
  }
  const failed = [...view.steps].reverse().find((s) => s.status === 'failed' && s.error);
  if (view.status === 'Failed' && failed?.error)
    return {
      ...entry,
      outcome: `failed at step '${failed.id}': ${failed.error.type}`,
      step: { id: failed.id, error: failed.error },
    };
  return entry;
}

/** Every event, run and audit row about `personId`, oldest first. */
export async function personHistory(
  deps: { client: Client; db: Database },
  personId: string,
  redactor: Redactor,
): Promise<PersonHistory> {
  const runs: RunSummary[] = [];
  let cursor: string | undefined;
  let runsTruncated = false;
  do {
    const page = await listRuns(
      deps.client,
      { person: personId, limit: 200, ...(cursor ? { cursor } : {}) },
      { summaries: false },
    );
    runs.push(...page.runs);
    cursor = page.nextCursor;
    if (runs.length >= HISTORY_LIMIT && cursor) runsTruncated = true;
  } while (cursor && runs.length < HISTORY_LIMIT);
  const [events, audit] = await Promise.all([
    eventsOfSubject(deps.db, personId, HISTORY_LIMIT),
    // one more than shown, to know whether older rows were left out
    listAudit(deps.db, { target: `person:${personId}` }, HISTORY_LIMIT + 1),
  ]);
  // the state of runs that did not simply complete says where they stopped; the latest first
  const detailed = new Set(
    [...runs]
      .filter((r) => r.status !== 'Completed' && r.status !== 'Cancelled')
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
      .slice(0, DETAILED_RUNS)
      .map((r) => r.workflowId),
  );
  const runEntries: HistoryRun[] = [];
  for (let i = 0; i < runs.length; i += 10)
    runEntries.push(
      ...(await Promise.all(
        runs
          .slice(i, i + 10)
          .map((r) => runEntry(deps.client, r, redactor, detailed.has(r.workflowId))),
      )),
    );
  const auditRows = audit.slice(-HISTORY_LIMIT).map((a): HistoryAudit => ({
    kind: 'audit',
    at: a.at.toISOString(),
    actor: a.actor,
    action: a.action,
    outcome: a.outcome,
    ...(a.runId ? { runId: a.runId } : {}),
    detail: (a.detail ?? {}) as Record<string, unknown>,
  }));
  const order: Record<HistoryEntry['kind'], number> = { event: 0, run: 1, audit: 2 };
  const entries = [...eventEntries(events), ...runEntries, ...auditRows].sort(
    (a, b) => a.at.localeCompare(b.at) || order[a.kind] - order[b.kind],
  );
  const truncated = [
    ...(events.length >= HISTORY_LIMIT ? (['events'] as const) : []),
    ...(runsTruncated ? (['runs'] as const) : []),
    ...(audit.length > HISTORY_LIMIT ? (['audit'] as const) : []),
  ];
  return {
    personId,
    entries: redactor.value(entries),
    ...(truncated.length ? { truncated } : {}),
  };
}
