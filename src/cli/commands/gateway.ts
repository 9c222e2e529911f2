/** `idflow gateway`: the HTTP API, until SIGTERM. */
import type { Command } from 'commander';
import { startGateway } from '../../gateway/server';
import type { Config } from '../../config';
import type { Logger } from '../../logging';
import { createTemporalClient } from '../../temporal/client';
import {
  ensureOptionsOf,
  ensureSearchAttributes,
  SearchAttributesError,
  type OperatorConnection,
} from '../../temporal/search-attribute-check';
import {
  configOrExit,
  database,
  exitForSearchAttributes,
  logger,
  shutdownSignal,
} from '../runtime';

/**
 * The gateway starts runs with idflow's search attributes: a namespace without them is
 * registered or named before it listens (exit 1). A Temporal server that does not answer does
 * not stop it: the gateway answers 503 until Temporal is back, and the worker checks at its
 * own start.
 */
async function checkSearchAttributes(
  config: Config,
  connection: OperatorConnection,
  log: Logger,
): Promise<void> {
  try {
    await ensureSearchAttributes(connection, {
      ...ensureOptionsOf(config.temporal, log),
      callTimeoutMs: 5_000,
    });
  } catch (err) {
    if (!(err instanceof SearchAttributesError)) {
      log.warn(
        { temporal: config.temporal.address, err: String(err) },
        'search attributes not checked',
      );
      return;
    }
    exitForSearchAttributes(err, log);
  }
}

export function registerGateway(program: Command): void {
  program
    .command('gateway')
    .description('run the HTTP gateway until SIGTERM')
    .action(async () => {
      const config = configOrExit();
      const log = logger(config, 'idflow-gateway');
      const temporal = createTemporalClient(config);
      await checkSearchAttributes(config, temporal.client.connection, log);
      const db = await database(config, 'gateway');
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
