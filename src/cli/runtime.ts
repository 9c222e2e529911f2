/**
 * What the long-running commands share: configuration (bad variables end the process with
 * every one named), the logger, the database with its migrations applied, and a Temporal client.
 */
import type { Client } from '@temporalio/client';
import { ConfigError, loadConfig, type Config } from '../config';
import { openDatabase, type DatabaseHandle } from '../db/client';
import { createLogger, type Logger } from '../logging';
import { createTemporalClient } from '../temporal/client';
import type { SearchAttributesError } from '../temporal/search-attribute-check';

export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`idflow: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

export function logger(config: Config, name: string): Logger {
  return createLogger(config.logLevel, name);
}

/** Opens the database and applies migrations. PGlite serves one process only. */
export async function database(
  config: Config,
  role: 'worker' | 'gateway' | 'dev' | 'cli',
): Promise<DatabaseHandle> {
  if (!config.databaseUrl && (role === 'worker' || role === 'gateway')) {
    throw new Error(
      `'idflow ${role}' as a process of its own needs DATABASE_URL (PostgreSQL): the embedded PGlite database serves one process. Use 'idflow dev' to run everything in one process.`,
    );
  }
  const handle = await openDatabase({
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    dataDir: config.dataDir,
    max: config.databasePoolSize,
  });
  await handle.migrate();
  return handle;
}

/** Resolves when the process gets SIGINT or SIGTERM. */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => resolve(signal);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

/** Runs `fn` with the database of a one-off command, and closes it afterwards. */
export async function withDatabase<T>(
  fn: (db: DatabaseHandle['db'], config: Config) => Promise<T>,
): Promise<T> {
  const config = configOrExit();
  const handle = await database(config, 'cli');
  try {
    return await fn(handle.db, config);
  } finally {
    await handle.close();
  }
}

/** Runs `fn` with a Temporal client for a one-off command, and closes its connection afterwards. */
export async function withTemporal<T>(
  config: Config,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const temporal = createTemporalClient(config);
  try {
    return await fn(temporal.client);
  } finally {
    await temporal.close();
  }
}

/** Who is acting, for the audit log of CLI commands. */
export function cliActor(): string {
  return `cli:${process.env.USER ?? 'unknown'}`;
}

/** Ends a worker or gateway whose namespace lacks idflow's search attributes: names them, exit 1. */
export function exitForSearchAttributes(err: SearchAttributesError, log: Logger): never {
  log.error(
    {
      missing: err.plan.missing.map(([name]) => name),
      conflicting: err.plan.conflicting.map((c) => c.name),
    },
    'search attributes missing or of another type',
  );
  console.error(`idflow: ${err.message}`);
  process.exit(1);
}
