/**
 * The worker of the overhead benchmark: idflow's activities and workflows plus the
 * hand-written baseline, on their own task queue. Started by bench/runtime.ts.
 */
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  bundleWorkflowCode,
} from '@temporalio/worker';
import { createActivities } from '../activities';
import { ActiveConnectors } from '../src/connectors/active';
import { openDatabase } from '../src/db/client';
import { createLogger } from '../src/logging';
import { WORKFLOW_INTERCEPTORS_PATH } from '../src/temporal/bundle';

async function main(): Promise<void> {
  const [address, taskQueue, databaseUrl] = process.argv.slice(2) as [string, string, string];
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // the pool of an idflow process of the same settings
  const db = await openDatabase({
    databaseUrl,
    dataDir: '.idflow',
    max: Number(process.env.IDFLOW_DATABASE_POOL_SIZE ?? 10),
  });
  const logger = createLogger('warn');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows'),
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_PATH],
    logger: {
      log() {},
      trace() {},
      debug() {},
      info() {},
      warn() {},
      error: (m) => logger.error(m),
    },
  });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address }),
    taskQueue,
    workflowBundle: { code },
    activities: createActivities({ db: db.db, logger, connectors: new ActiveConnectors(db.db) }),
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 100,
  });
  process.stdout.write('ready\n');
  await worker.run();
  await db.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
