/**
 * The idflow worker: polls the task queue for dispatch and flow workflows and runs the
 * activities. On SIGTERM or SIGINT it stops polling, lets in-flight activities finish (up to
 * the shutdown grace time) and exits.
 */
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { closeChannels } from '../../activities/notify/channels';
import type { Config } from '../config';
import { ActiveConnectors } from '../connectors/active';
import type { Database } from '../db/client';
import type { Logger } from '../logging';
import { SlackNotifier } from '../notify/slack';
import { workflowBundle } from './bundle';
import { temporalLogger } from './runtime-logger';
import { join } from 'node:path';

let runtimeInstalled = false;

/**
 * Installs signal handling once, and the SDK's logging: its Rust core's warnings forwarded to
 * `logger` (when given) with repeats throttled, so a Temporal server that is down for a while
 * is a few log lines, not hundreds.
 */
export function installRuntime(logger?: Logger): void {
  if (runtimeInstalled) return;
  Runtime.install({
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    ...(logger
      ? {
          logger: temporalLogger(logger),
          telemetryOptions: {
            logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
          },
        }
      : {}),
  });
  runtimeInstalled = true;
}

export interface WorkerHandle {
  worker: Worker;
  run(): Promise<void>;
  close(): Promise<void>;
}

export async function createWorker(
  config: Config,
  db: Database,
  logger: Logger,
): Promise<WorkerHandle> {
  installRuntime(logger);
  const bundle = await workflowBundle(join(config.dataDir, 'bundle'), (m) => logger.info(m));
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: bundle,
    activities: createActivities({
      db,
      logger,
      connectors: new ActiveConnectors(db),
      ...(config.slack
        ? { slack: new SlackNotifier(config.slack.botToken, config.slack.apiUrl) }
        : {}),
    }),
    shutdownGraceTime: config.worker.shutdownGraceTime,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 100,
  });
  return {
    worker,
    run: () => worker.run(),
    async close() {
      await connection.close();
      // pooled SMTP connections would keep the process alive
      closeChannels();
    },
  };
}
