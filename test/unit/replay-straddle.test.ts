/**
 * A local activity's result and the code after it can be recorded in two workflow tasks: the
 * task was completed while the local activity ran (a heartbeat of a long task, a query). On
 * replay the local activity resolves before the next task's patch markers are announced, so a
 * `patched()` asked right after it answers false although its marker is in the history.
 * Workflows therefore decide their patches as they begin (workflows/patches.ts).
 *
 * These tests cut recorded histories after a local activity's marker — a workflow task ends
 * there and the next begins, as on a busy worker — and replay them:
 * - histories of generations 2 and 3 replay, wherever they are cut;
 * - the control: a run from before generation 1, cut after the approval's first local
 *   activity, fails on its `approval-task-table` marker, which is how the cut broke runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../src/temporal/bundle';
import { idflowDataConverter } from '../../src/temporal/data-converter';
import { testKeys } from '../support/payload-keys';
import { ROOT } from '../support/definitions';

interface HistoryEvent {
  eventId: string;
  eventTime: string;
  eventType: string;
  [attributes: string]: unknown;
}

interface Recorded {
  workflowId: string;
  history: { events: HistoryEvent[] };
}

const dir = join(ROOT, 'test', 'replays');
const dataConverter = idflowDataConverter(testKeys());

function load(file: string): Recorded {
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Recorded;
}

const isLocalActivityMarker = (e: HistoryEvent) =>
  e.eventType === 'EVENT_TYPE_MARKER_RECORDED' &&
  (e.markerRecordedEventAttributes as { markerName?: string }).markerName === 'core_local_activity';

/** Event ids (and references to them) from `from` on move up by `by`. */
function shifted(value: unknown, from: number, by: number): unknown {
  if (Array.isArray(value)) return value.map((v) => shifted(v, from, by));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      /EventId$|^eventId$/.test(k) && typeof v === 'string' && Number(v) >= from
        ? String(Number(v) + by)
        : shifted(v, from, by),
    ]),
  );
}

/**
 * The history with a workflow task boundary after the event at `index`: the task ends there,
 * a new one is scheduled, started and completed, and the commands after it belong to the new
 * task.
 */
function cutAfter(events: HistoryEvent[], index: number): HistoryEvent[] {
  const at = events[index] as HistoryEvent;
  const id = Number(at.eventId) + 1;
  const moved = events.slice(index + 1).map((e) => shifted(e, id, 3) as HistoryEvent);
  const scheduled = events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED');
  const attrs = scheduled?.workflowTaskScheduledEventAttributes as Record<string, unknown>;
  const completedBefore = [...events.slice(0, index + 1)]
    .reverse()
    .find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED') as HistoryEvent;
  const base = { eventTime: at.eventTime, taskId: '0' };
  const boundary: HistoryEvent[] = [
    {
      ...base,
      eventId: String(id),
      eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      workflowTaskScheduledEventAttributes: { ...attrs, attempt: 1 },
    },
    {
      ...base,
      eventId: String(id + 1),
      eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED',
      workflowTaskStartedEventAttributes: { scheduledEventId: String(id), identity: 'cut' },
    },
    {
      ...base,
      eventId: String(id + 2),
      eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
      workflowTaskCompletedEventAttributes: {
        ...(completedBefore.workflowTaskCompletedEventAttributes as Record<string, unknown>),
        scheduledEventId: String(id),
        startedEventId: String(id + 1),
      },
    },
  ];
  // commands of the first task after the cut were completed by the new task
  const before = completedBefore.eventId;
  const reassigned = moved.map(
    (e) =>
      JSON.parse(
        JSON.stringify(e).replace(
          new RegExp(`"workflowTaskCompletedEventId":"${before}"`, 'g'),
          `"workflowTaskCompletedEventId":"${id + 2}"`,
        ),
      ) as HistoryEvent,
  );
  return [...events.slice(0, index + 1), ...boundary, ...reassigned];
}

/** Indexes of local activity markers followed by more commands of the same workflow task. */
function cuts(events: HistoryEvent[]): number[] {
  return events.flatMap((e, i) => {
    const next = events[i + 1];
    return isLocalActivityMarker(e) &&
      next !== undefined &&
      !next.eventType.startsWith('EVENT_TYPE_WORKFLOW_TASK_') &&
      !next.eventType.startsWith('EVENT_TYPE_WORKFLOW_EXECUTION_')
      ? [i]
      : [];
  });
}

/** Replays `cut` histories of one workflow with one replay worker; the first error, if any. */
async function replay(file: string, workflowId: string, ...cut: HistoryEvent[][]): Promise<void> {
  const bundle = await workflowBundle(join(ROOT, '.idflow', 'bundle'));
  const results = Worker.runReplayHistories(
    { workflowBundle: bundle, replayName: file, dataConverter },
    cut.map((events) => ({ workflowId, history: { events } })),
  );
  for await (const result of results) if (result.error) throw result.error;
}

const GENERATION_2_AND_LATER = [
  'gen2-approval-task-table.json',
  'gen2-approval-task-table-dispatch.json',
  'gen2-joiner.json',
  // generation 3: the dispatch records its decision, then hands it over
  'gen3-joiner-dispatch.json',
];

test.each(GENERATION_2_AND_LATER)(
  '%s replays when cut after any local activity',
  async (file) => {
    const { workflowId, history } = load(file);
    const at = cuts(history.events);
    expect(at.length).toBeGreaterThan(0);
    await replay(file, workflowId, ...at.map((index) => cutAfter(history.events, index)));
  },
  120_000,
);

test('control: a run from before generation 1 fails when cut after the approval’s first local activity', async () => {
  const { workflowId, history } = load('approval-task-table.json');
  // replays whole
  await replay('approval-task-table.json', workflowId, history.events);
  const first = cuts(history.events)[0] as number;
  await expect(
    replay('approval-task-table.json', workflowId, cutAfter(history.events, first)),
  ).rejects.toThrow(/patch marker/i);
});
