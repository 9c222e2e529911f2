/**
 * The idflow worker: polls the task queue for dispatch and flow workflows and runs the
 * activities. On SIGTERM or SIGINT it stops polling, lets in-flight activities finish (up to
 * the shutdown grace time) and exits.
 */
import { NativeConnection, Runtime, Worker, type InjectedSinks } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { closeChannels } from '../../activities/notify/channels';
import type { Config } from '../config';
import { ActiveConnectors } from '../connectors/active';
import type { Database } from '../db/client';
import { openTasksByFlow } from '../db/repos/approval-tasks';
import { startMetricsServer, type MetricsServer } from '../gateway/metrics-server';
import { addLogContext, type Logger } from '../logging';
import { countRun, setPendingApprovalsSource, setTemporalMetricsUrl } from '../metrics';
import { SlackNotifier } from '../notify/slack';
import { freePort } from '../ports';
import { workflowBundle } from './bundle';
import type { RunMetricsSinks } from './contracts';
import { describeTemporalConnection, temporalConnectionOptions } from './connection-options';
import { idflowDataConverter } from './data-converter';
import { activityLogContext, temporalLogger } from './runtime-logger';
import { ensureOptionsOf, ensureSearchAttributes } from './search-attribute-check';
import { join } from 'node:path';

let runtimeInstalled = false;

/**
 * Installs signal handling once, and the SDK's logging: its Rust core's warnings forwarded to
 * `logger` (when given) with repeats throttled, so a Temporal server that is down for a while
 * is a few log lines, not hundreds. With `metricsPort`, the core's worker metrics are exported
 * in the Prometheus format on that loopback port, and idflow's /metrics appends them.
 */
export function installRuntime(logger?: Logger, metricsPort?: number): void {
  if (runtimeInstalled) return;
  const metrics = metricsPort
    ? {
        metrics: {
          prometheus: {
            bindAddress: `127.0.0.1:${metricsPort}`,
            countersTotalSuffix: true,
            useSecondsForDurations: true,
          },
        },
      }
    : {};
  Runtime.install({
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    ...(logger
      ? {
          logger: temporalLogger(logger),
          telemetryOptions: {
            logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
            ...metrics,
          },
        }
      : { telemetryOptions: metrics }),
  });
  if (metricsPort) setTemporalMetricsUrl(`http://127.0.0.1:${metricsPort}/metrics`);
  runtimeInstalled = true;
}

/** The worker's side of the runs' metrics sink: each call counts once, never during replay. */
function runMetricsSinks(): InjectedSinks<RunMetricsSinks> {
  const count = (metric: Parameters<typeof countRun>[0]) => ({
    fn: (_info: unknown, flow: string) => countRun(metric, flow),
    callDuringReplay: false,
  });
  return {
    runMetrics: {
      started: count('started'),
      parked: count('parked'),
      overBudget: count('overBudget'),
      finished: {
        fn: (_info, flow, status) =>
          countRun(
            status === 'Completed' ? 'completed' : status === 'Failed' ? 'failed' : 'cancelled',
            flow,
          ),
        callDuringReplay: false,
      },
    },
  };
}

export interface WorkerHandle {
  worker: Worker;
  run(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics for a worker run alone, on `config.metrics.port` (none when unset): the
 * same registry the gateway renders, with the same token check.
 */
export async function serveWorkerMetrics(
  config: Config,
  db: Database,
  logger: Logger,
): Promise<MetricsServer | undefined> {
  if (!config.metrics.port) return undefined;
  return startMetricsServer(db, logger, config.http.host, config.metrics.port);
}

export async function createWorker(
  config: Config,
  db: Database,
  logger: Logger,
): Promise<WorkerHandle> {
  if (!runtimeInstalled) installRuntime(logger, config.metrics.temporalPort ?? (await freePort()));
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  } catch (err) {
    throw new Error(
      `cannot connect to Temporal at ${describeTemporalConnection(config.temporal)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    // before polling: a run would otherwise fail at its first upsert, task after task
    await ensureSearchAttributes(connection, ensureOptionsOf(config.temporal, logger));
  } catch (err) {
    await connection.close();
    throw err;
  }
  setPendingApprovalsSource(() => openTasksByFlow(db));
  addLogContext(activityLogContext);
  const bundle = await workflowBundle(join(config.dataDir, 'bundle'), (m) => logger.info(m));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: bundle,
    dataConverter: idflowDataConverter(config.payloads.keys),
    activities: createActivities({
      db,
      logger,
      connectors: new ActiveConnectors(db),
      visiblePersonalData: config.payloads.visiblePersonalData,
      ...(config.slack
        ? { slack: new SlackNotifier(config.slack.botToken, config.slack.apiUrl) }
        : {}),
    }),
    sinks: runMetricsSinks(),
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
