/**
 * Keeps Temporal's Schedules in step with the active flows' `schedules:`. Each schedule of an
 * active flow is one Temporal Schedule, id `idflow/<task queue>/<flow>/<schedule>`, whose action
 * starts `scheduledRun` with the flow's IR pinned. A sync creates what is missing, updates what
 * changed (keeping an operator's pause), deletes idflow's schedules whose flow or schedule is no
 * longer active, and leaves every other schedule alone. Running it again changes nothing.
 *
 * Temporal keeps a schedule's own memo as it was created (an update cannot change it), so the
 * memo marks the schedule as idflow's, and the hashes a sync compares travel in the action's
 * memo, which every update replaces.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { Database } from '../db/client';
import { appendAudit } from '../db/repos/audit';
import { activeDefinitions } from '../db/repos/definitions';
import { contentHash } from '../dsl/hash';
import type { FlowIR } from '../dsl/ir';
import type { ScheduleIR } from '../dsl/schedule-ir';
import {
  IdflowDefinitionHash,
  IdflowEventType,
  IdflowFlow,
  IdflowStatus,
} from '../temporal/search-attributes';
import { scheduledDetails, summaryMemo } from '../temporal/summaries';
import type { ScheduledRunInput } from '../../workflows/scheduled';
import {
  parseScheduleId,
  SCHEDULE_FIRED,
  scheduledWorkflowId,
  scheduleTarget,
  temporalScheduleId,
} from './ids';
import { describeTiming, overlapPolicy, scheduleSpec } from './spec';
import { visibleText } from '../temporal/visible';

/**
 * Bumped when what a sync puts in a schedule changes, so the next sync updates them all
 * (2: the action's memo carries the run's summary for `GET /v1/runs`).
 */
const SYNC_FORMAT = 2;

/** The memo key idflow keeps on its schedules and their actions. */
export const MEMO_KEY = 'idflow';

/** The schedule's own memo, set once at creation: it marks the schedule as idflow's. */
export interface ScheduleMarker {
  managedBy: 'idflow';
  taskQueue: string;
  flow: string;
  schedule: string;
  /** The definition and spec hashes the schedule was created with. */
  definitionHash: string;
  specHash: string;
}

/** The action's memo, replaced at each update (and carried by every run it starts). */
export interface ActionMarker {
  flow: string;
  schedule: string;
  title: string;
  /** The timing in words, for `idflow schedules list`. */
  when: string;
  definitionHash: string;
  /** Hash of the spec, policies and action a sync gave the schedule: equal means unchanged. */
  specHash: string;
  /** What the definition said about pausing, to tell a definition's change from an operator's. */
  paused: boolean;
}

/** An active flow, as the registry holds it. */
export interface ActiveFlow {
  name: string;
  hash: string;
  ir: FlowIR;
}

/** One schedule a sync touched or looked at. */
export interface ScheduleRef {
  scheduleId: string;
  flow: string;
  schedule: string;
}

/** What a sync did, each list in schedule id order. */
export interface SyncResult {
  created: ScheduleRef[];
  updated: ScheduleRef[];
  deleted: ScheduleRef[];
  unchanged: ScheduleRef[];
  /** Schedules with an idflow id that idflow did not create: left alone. */
  foreign: ScheduleRef[];
}

type ScheduledRunAction = ScheduleOptionsStartWorkflowAction<Workflow>;

interface Desired extends ScheduleRef {
  ir: ScheduleIR;
  definitionHash: string;
  specHash: string;
  options: ScheduleOptions<ScheduledRunAction>;
}

/** idflow's marker in a schedule's memo, if the schedule is idflow's. */
export function scheduleMarker(
  memo: Record<string, unknown> | undefined,
): ScheduleMarker | undefined {
  const marker = memo?.[MEMO_KEY] as Partial<ScheduleMarker> | undefined;
  return marker?.managedBy === 'idflow' ? (marker as ScheduleMarker) : undefined;
}

/** idflow's marker in a schedule action's memo. */
export function actionMarker(description: ScheduleDescription): ActionMarker | undefined {
  return description.action.memo?.[MEMO_KEY] as ActionMarker | undefined;
}

/** The Temporal schedule of one schedule of an active flow, and the hash that identifies it. */
function desired(taskQueue: string, flow: ActiveFlow, schedule: ScheduleIR): Desired {
  const scheduleId = temporalScheduleId(taskQueue, flow.name, schedule.id);
  const specHash = contentHash({ format: SYNC_FORMAT, taskQueue, flow: flow.hash, schedule });
  const input: ScheduledRunInput = {
    ir: flow.ir,
    hash: flow.hash,
    flow: flow.name,
    schedule: schedule.id,
    attributes: schedule.attributes,
  };
  const when = describeTiming(schedule);
  const summary = `${flow.ir.title}: ${schedule.title}, ${when} (${schedule.timezone}) — ${flow.name}`;
  const action: ActionMarker = {
    flow: flow.name,
    schedule: schedule.id,
    title: schedule.title,
    when,
    definitionHash: flow.hash,
    specHash,
    paused: schedule.paused,
  };
  const marker: ScheduleMarker = {
    managedBy: 'idflow',
    taskQueue,
    flow: flow.name,
    schedule: schedule.id,
    definitionHash: flow.hash,
    specHash,
  };
  return {
    scheduleId,
    flow: flow.name,
    schedule: schedule.id,
    ir: schedule,
    definitionHash: flow.hash,
    specHash,
    options: {
      scheduleId,
      spec: scheduleSpec(schedule),
      action: {
        type: 'startWorkflow',
        workflowType: 'scheduledRun',
        workflowId: scheduledWorkflowId(flow.name, schedule.id),
        taskQueue,
        args: [input],
        memo: { [MEMO_KEY]: action, ...summaryMemo(summary) },
        staticSummary: visibleText(summary),
        staticDetails: visibleText(
          scheduledDetails(flow.ir, flow.hash, {
            id: schedule.id,
            title: schedule.title,
            when,
            timezone: schedule.timezone,
          }),
        ),
        typedSearchAttributes: [
          { key: IdflowFlow, value: flow.name },
          { key: IdflowEventType, value: SCHEDULE_FIRED },
          { key: IdflowStatus, value: 'Running' },
          { key: IdflowDefinitionHash, value: flow.hash },
        ],
      },
      policies: { overlap: overlapPolicy(schedule.overlap) },
      memo: { [MEMO_KEY]: marker },
      state: {
        paused: schedule.paused,
        ...(schedule.paused ? { note: 'paused in the definition' } : {}),
      },
    },
  };
}

/** Every schedule of the given active flows, as Temporal should hold them. */
function desiredSchedules(taskQueue: string, flows: readonly ActiveFlow[]): Desired[] {
  return flows
    .flatMap((flow) => (flow.ir.schedules ?? []).map((s) => desired(taskQueue, flow, s)))
    .sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : a.scheduleId > b.scheduleId ? 1 : 0));
}

async function describeOrUndefined(
  client: Client,
  scheduleId: string,
): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** Brings one schedule to `want`: what was done. */
async function syncOne(
  client: Client,
  want: Desired,
): Promise<'created' | 'updated' | 'unchanged' | 'foreign'> {
  let current = await describeOrUndefined(client, want.scheduleId);
  if (!current) {
    try {
      await client.schedule.create(want.options);
      return 'created';
    } catch (err) {
      // another sync created it in between: compare with what it created
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      current = await client.schedule.getHandle(want.scheduleId).describe();
    }
  }
  if (!scheduleMarker(current.memo)) return 'foreign';
  if (actionMarker(current)?.specHash === want.specHash) return 'unchanged';
  await client.schedule.getHandle(want.scheduleId).update((previous) => {
    // an operator's pause stays, unless the definition itself changed what it says
    const definitionSaid = actionMarker(previous)?.paused;
    const state =
      definitionSaid === want.ir.paused
        ? {
            paused: previous.state.paused,
            ...(previous.state.note ? { note: previous.state.note } : {}),
          }
        : (want.options.state ?? {});
    return {
      spec: want.options.spec,
      action: want.options.action,
      policies: want.options.policies ?? {},
      state,
    };
  });
  return 'updated';
}

/**
 * Syncs the schedules of `flows` (the active flows) into Temporal for the deployment on
 * `taskQueue`. Returns what it created, updated, deleted, found unchanged, and found under an
 * idflow id without idflow's marker (left alone).
 */
export async function syncSchedules(
  client: Client,
  taskQueue: string,
  flows: readonly ActiveFlow[],
): Promise<SyncResult> {
  const result: SyncResult = { created: [], updated: [], deleted: [], unchanged: [], foreign: [] };
  const wanted = desiredSchedules(taskQueue, flows);
  const ref = (d: ScheduleRef): ScheduleRef => ({
    scheduleId: d.scheduleId,
    flow: d.flow,
    schedule: d.schedule,
  });
  for (const want of wanted) result[await syncOne(client, want)].push(ref(want));

  // listing is eventually consistent: each candidate is described before it is deleted
  const keep = new Set(wanted.map((w) => w.scheduleId));
  const candidates: ScheduleRef[] = [];
  for await (const summary of client.schedule.list()) {
    const names = parseScheduleId(taskQueue, summary.scheduleId);
    if (names && !keep.has(summary.scheduleId))
      candidates.push({ scheduleId: summary.scheduleId, ...names });
  }
  candidates.sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : 1));
  for (const candidate of candidates) {
    const current = await describeOrUndefined(client, candidate.scheduleId);
    if (!current) continue;
    const marker = scheduleMarker(current.memo);
    if (!marker || marker.taskQueue !== taskQueue) {
      result.foreign.push(candidate);
      continue;
    }
    try {
      await client.schedule.getHandle(candidate.scheduleId).delete();
      result.deleted.push(candidate);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return result;
}

/**
 * Syncs the schedules of the flows active in the registry, and audits each change as `actor`
 * (`definitions apply`, `idflow dev` and `idflow schedules sync` call it).
 */
export async function syncActiveSchedules(
  db: Database,
  client: Client,
  options: { taskQueue: string; actor: string },
): Promise<SyncResult> {
  const flows = (await activeDefinitions(db, 'Flow')).map((d) => ({
    name: d.name,
    hash: d.hash,
    ir: d.ir as FlowIR,
  }));
  const result = await syncSchedules(client, options.taskQueue, flows);
  const hashes = new Map(flows.map((f) => [f.name, f.hash]));
  const rows = (['created', 'updated', 'deleted'] as const).flatMap((what) =>
    result[what].map((r) => ({
      actor: options.actor,
      action: `schedule.${what}`,
      target: scheduleTarget(r.flow, r.schedule),
      outcome: 'ok',
      detail: {
        scheduleId: r.scheduleId,
        ...(what !== 'deleted' && hashes.has(r.flow) ? { hash: hashes.get(r.flow) } : {}),
      },
    })),
  );
  if (rows.length) await appendAudit(db, rows);
  return result;
}

/** The lines a sync prints: one per change, or that nothing changed. */
export function syncReport(result: SyncResult): string[] {
  const lines = [
    ...result.created.map((r) => `created ${r.scheduleId}`),
    ...result.updated.map((r) => `updated ${r.scheduleId}`),
    ...result.deleted.map((r) => `deleted ${r.scheduleId}`),
    ...result.foreign.map(
      (r) => `left alone ${r.scheduleId}: it has an idflow id but idflow did not create it`,
    ),
  ];
  if (!result.created.length && !result.updated.length && !result.deleted.length) {
    lines.push(
      `schedules unchanged (${result.unchanged.length} in step with the active definitions)`,
    );
  }
  return lines;
}
