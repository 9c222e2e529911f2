/** `idflow gateway`: the HTTP API, until SIGTERM. */
import type { Command } from 'commander';
import { startGateway } from '../../gateway/server';
import { createTemporalClient } from '../../temporal/client';
import { configOrExit, database, logger, shutdownSignal } from '../runtime';

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('run the HTTP gateway until SIGTERM')
    .action(async () => {
      const config = configOrExit();
      const log = logger(config, 'idflow-gateway');
      const db = await database(config, 'gateway');
      const temporal = createTemporalClient(config);
      const gateway = await startGateway(config, db.db, temporal.client, log);
      log.info(
        { url: gateway.url, temporal: config.temporal.address, database: db.location },
        'gateway listening',
      );
      await shutdownSignal();
      await gateway.close();
      await temporal.close();
      await db.close();
      log.info('gateway stopped');
    });
}
