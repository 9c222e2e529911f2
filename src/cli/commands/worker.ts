/** `idflow worker`: runs workflows and activities until SIGTERM, then drains in-flight activities. */
import type { Command } from 'commander';
import { SearchAttributesError } from '../../temporal/search-attribute-check';
import { createWorker, serveWorkerMetrics, type WorkerHandle } from '../../temporal/worker';
import { configOrExit, database, exitForSearchAttributes, logger } from '../runtime';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the idflow worker (workflows and activities) until SIGTERM')
    .action(async () => {
      const config = configOrExit();
      const log = logger(config, 'idflow-worker');
      const db = await database(config, 'worker');
      let worker: WorkerHandle;
      try {
        worker = await createWorker(config, db.db, log);
      } catch (err) {
        await db.close();
        if (!(err instanceof SearchAttributesError)) throw err;
        exitForSearchAttributes(err, log);
      }
      const metrics = await serveWorkerMetrics(config, db.db, log);
      log.info(
        {
          temporal: config.temporal.address,
          taskQueue: config.temporal.taskQueue,
          database: db.location,
          metrics: metrics ? `${metrics.url}/metrics` : 'off (set IDFLOW_METRICS_PORT)',
        },
        'worker started',
      );
      await worker.run();
      await metrics?.close();
      await worker.close();
      await db.close();
      log.info('worker stopped');
      // a connection some library keeps open must not hold a stopped worker
      setTimeout(() => process.exit(0), 2_000).unref();
    });
}
