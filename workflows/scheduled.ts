/**
 * `scheduledRun`: what a flow's Temporal Schedule starts at each firing. It names the firing as
 * an event (`schedule.fired`, the schedule as its subject: a scheduled run belongs to no
 * person), audits it, and runs the flow inline with `runFlow` — one workflow, so a scheduled
 * run is a run like any other: the same search attributes, state query, operator actions and
 * audit. The IR is the one the schedule was synced with: a later sync updates the schedule,
 * never a run already going.
 */
import { proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Activities } from '../activities';
import type { FlowIR, JsonValue } from '../src/dsl/ir';
import type { IdentityEvent } from '../src/model/event';
import { SCHEDULE_FIRED, SCHEDULE_SOURCE, scheduleSubjectId } from '../src/schedules/ids';
import { runFlow, type RunFlowResult } from './run-flow';
import { visibleText } from '../src/temporal/visible';

/** Set by Temporal on every workflow a schedule starts: the time it fired for. */
export const TemporalScheduledStartTime = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

/** The schedule's action arguments, pinned when the schedule was synced. */
export interface ScheduledRunInput {
  ir: FlowIR;
  hash: string;
  flow: string;
  /** The schedule's id within the flow. */
  schedule: string;
  /** The run's event attributes: the schedule's `inputs`. */
  attributes: Record<string, JsonValue>;
}

const { recordScheduleFired } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', maximumInterval: '1m', backoffCoefficient: 2 },
});

export async function scheduledRun(input: ScheduledRunInput): Promise<RunFlowResult> {
  const { ir, hash, flow, schedule, attributes } = input;
  const info = workflowInfo();
  // a trigger or backfill fires for its own time; an unscheduled start counts from its start
  const scheduledAt = (
    info.typedSearchAttributes.get(TemporalScheduledStartTime) ?? info.startTime
  ).toISOString();
  const subject = { id: scheduleSubjectId(flow, schedule) };
  const event: IdentityEvent = {
    source: SCHEDULE_SOURCE,
    id: `${flow}/${schedule}/${scheduledAt}`,
    type: SCHEDULE_FIRED,
    subject,
    occurredAt: scheduledAt,
    attributes,
  };
  await recordScheduleFired.executeWithOptions(
    { summary: visibleText(`record the firing of ${schedule}`) },
    [
      {
        flow,
        schedule,
        hash,
        scheduledAt,
        workflowId: info.workflowId,
        runId: info.runId,
      },
    ],
  );
  return runFlow({ ir, hash, event, subject });
}
