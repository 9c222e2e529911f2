/**
 * Every activity of the idflow worker, created with its dependencies injected. Workflows proxy
 * `Activities` (the type only).
 */
import type { ActiveConnectors } from '../src/connectors/active';
import type { Database } from '../src/db/client';
import type { Logger } from '../src/logging';
import type { SlackNotifier } from '../src/notify/slack';
import { createApprovalActivities } from './approvals';
import { createConnectorActivities } from './connectors';
import { createNotifyActivities } from './notify';
import { createRecordActivities } from './records';

export interface ActivityDeps {
  db: Database;
  logger: Logger;
  connectors: ActiveConnectors;
  /** Present when Slack is configured. */
  slack?: SlackNotifier;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordActivities(deps),
    ...createConnectorActivities(deps),
    ...createNotifyActivities(deps),
    ...createApprovalActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
