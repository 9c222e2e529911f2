/**
 * What scheduled runs record: each firing of a schedule, audited once with the run it started,
 * so the audit trail shows why a run that no event caused exists.
 */
import type { Database } from '../src/db/client';
import { appendAudit } from '../src/db/repos/audit';
import { SCHEDULE_FIRED, scheduleTarget } from '../src/schedules/ids';
import { databaseFailure } from './errors';

/** One firing, as `scheduledRun` reports it. */
export interface ScheduleFiring {
  flow: string;
  schedule: string;
  /** The definition hash the run carries. */
  hash: string;
  /** The time the schedule fired for (ISO 8601), which may precede the start (jitter, backfill). */
  scheduledAt: string;
  workflowId: string;
  runId: string;
}

export function createScheduleActivities({ db }: { db: Database }) {
  return {
    /** Audits a firing (once per run, however often the activity is retried). */
    async recordScheduleFired(firing: ScheduleFiring): Promise<void> {
      try {
        await appendAudit(db, {
          actor: 'idflow:scheduler',
          action: SCHEDULE_FIRED,
          target: scheduleTarget(firing.flow, firing.schedule),
          outcome: 'ok',
          detail: {
            flow: firing.flow,
            schedule: firing.schedule,
            hash: firing.hash,
            scheduledAt: firing.scheduledAt,
          },
          runId: firing.workflowId,
          dedupeKey: `${SCHEDULE_FIRED}:${firing.workflowId}/${firing.runId}`,
        });
      } catch (err) {
        throw databaseFailure('records: recordScheduleFired', err, { fromDatabase: true }) ?? err;
      }
    },
  };
}
