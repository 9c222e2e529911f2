/**
 * The approval task table, written by runs: a local activity at each transition of a task
 * (assigned, reminded, escalated, decided, closed). The write is an upsert guarded by the run's
 * version, so retries and late attempts are harmless.
 */
import type { Database } from '../src/db/client';
import { recordApprovalTask } from '../src/db/repos/approval-tasks';
import type { ApprovalTaskRecord } from '../src/temporal/contracts';

export function createApprovalTaskActivities({ db }: { db: Database }) {
  return {
    /** Stores the task as the run sees it now; true unless a newer version is already stored. */
    async writeApprovalTask(record: ApprovalTaskRecord): Promise<boolean> {
      return recordApprovalTask(db, record);
    },
  };
}
