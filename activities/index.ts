/**
 * Every activity of the idflow worker, created with its dependencies injected. Workflows proxy
 * `Activities` (the type only).
 *
 * Each activity is guarded: whatever it throws reaches Temporal (and from there the run's
 * state, its history, the audit log and the worker's log) only as an idflow failure type with
 * a message that names the activity, never as a driver's or library's raw error.
 */
import type { ActiveConnectors } from '../src/connectors/active';
import type { Database } from '../src/db/client';
import type { Logger } from '../src/logging';
import type { SlackNotifier } from '../src/notify/slack';
import { createAccessActivities } from './access';
import { createApprovalTaskActivities } from './approval-tasks';
import { createApprovalActivities } from './approvals';
import { createConnectorActivities } from './connectors';
import { createCorrelationActivities } from './correlation';
import { createDryRunActivities } from './dry-run';
import { createTimelineActivities } from './timeline';
import { activityFailure, errorName } from './errors';
import { createNotifyActivities } from './notify';
import { createPopulationActivities } from './population';
import { createRecordActivities } from './records';
import { createScheduleActivities } from './schedules';

export interface ActivityDeps {
  db: Database;
  logger: Logger;
  connectors: ActiveConnectors;
  /** Present when Slack is configured. */
  slack?: SlackNotifier;
  /** IDFLOW_VISIBLE_PERSONAL_DATA: whether the Web UI's unencrypted summaries may name persons. */
  visiblePersonalData?: boolean;
}

type ActivityFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

/** Wraps each activity so that what it throws is mapped by `activityFailure`. */
export function guardActivities<T extends ActivityFunctions>(activities: T, logger: Logger): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    guarded[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        const mapped = activityFailure(name, err);
        const type = (mapped as { type?: string }).type;
        if (mapped !== err && (type === 'InternalError' || type === 'DatabaseError')) {
          // a bug: where it came from, for whoever fixes it (the frames, not the message)
          const stack = err instanceof Error ? (err.stack ?? '').split('\n').slice(1) : [];
          logger.error(
            { activity: name, error: errorName(err), stack: stack.map((l) => l.trim()) },
            'activity failed unexpectedly',
          );
        }
        throw mapped;
      }
    };
  }
  return guarded as T;
}

export function createActivities(deps: ActivityDeps) {
  return guardActivities(
    {
      ...createRecordActivities(deps),
      ...createConnectorActivities(deps),
      ...createNotifyActivities(deps),
      ...createApprovalActivities(deps),
      ...createApprovalTaskActivities(deps),
      ...createAccessActivities(deps),
      ...createCorrelationActivities(deps),
      ...createScheduleActivities(deps),
      ...createPopulationActivities(deps),
      ...createDryRunActivities(deps),
      ...createTimelineActivities(),
    },
    deps.logger,
  );
}

export type Activities = ReturnType<typeof createActivities>;
