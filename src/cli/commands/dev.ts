/**
 * `idflow dev`: everything on one machine with embedded defaults. Starts (or reuses) a Temporal
 * dev server with its Web UI, opens the database (PGlite unless DATABASE_URL is set) and
 * applies migrations, loads definitions/, writes a dev API token to .idflow/dev-token, and
 * runs the worker and the gateway in this process until Ctrl-C. With --with-targets, also the
 * local LDAP, SCIM and SMTP targets the reference connectors point at.
 *
 * The child servers it starts are supervised: a Temporal dev server or slapd that exits is
 * restarted on the same data (a few times in a row, with backoff); when one keeps exiting,
 * `idflow dev` stops with exit status 1 naming it, rather than serving without it. Everything
 * lives in the data directory and is kept between starts; `--reset` starts from empty.
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import { applyDefinitions } from '../../definitions/apply';
import { startGateway, type GatewayHandle } from '../../gateway/server';
import { SCOPES, TokenService } from '../../gateway/services/tokens';
import type { Logger } from '../../logging';
import { supervise, type Supervisor } from '../../supervise';
import { startTargets, targetPaths, type Targets } from '../../targets';
import { createTemporalClient } from '../../temporal/client';
import { findTemporalCli } from '../../temporal/cli';
import { isPlaintext, temporalConnectionOptions } from '../../temporal/connection-options';
import { startDevServer, temporalAnswers, type DevServer } from '../../temporal/dev-server';
import { createWorker, type WorkerHandle } from '../../temporal/worker';
import {
  newPayloadKeyEntry,
  PAYLOAD_KEYS_FILE,
  parsePayloadKeys,
} from '../../temporal/payload-keys';
import { configOrExit, database, logger } from '../runtime';
import { syncAfterApply } from './schedules';

/** The dev token from .idflow/dev-token if it still works, else a new one written there (mode 600). */
async function devToken(db: Database, dataDir: string): Promise<{ token: string; path: string }> {
  const path = join(dataDir, 'dev-token');
  const tokens = new TokenService(db);
  const existing = await readFile(path, 'utf8').then(
    (t) => t.trim(),
    () => undefined,
  );
  if (existing && (await tokens.authenticate(existing))) return { token: existing, path };
  const { token } = await tokens.create({ name: 'dev', scopes: [...SCOPES], actor: 'idflow:dev' });
  await mkdir(dataDir, { recursive: true });
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return { token, path };
}

/**
 * The payload keys `idflow dev` runs with: those configured (IDFLOW_PAYLOAD_KEYS, even empty,
 * or the data directory's file), else a new key written to `<data dir>/payload-keys` (mode
 * 600), so a local install encrypts what Temporal stores from its first run. Every idflow
 * command using this data directory reads the file; `--reset` keeps it (payloads in a kept
 * PostgreSQL database's runs, or a copied history, stay readable).
 */
async function devPayloadKeys(config: Config): Promise<Config> {
  if (config.payloads.keySource !== 'none') return config;
  const entry = newPayloadKeyEntry(
    `dev-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`,
  );
  const path = join(config.dataDir, PAYLOAD_KEYS_FILE);
  await mkdir(config.dataDir, { recursive: true });
  try {
    await writeFile(path, `${entry}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // there, but with no key in it: never overwrite a key file
    console.error(`idflow dev: ${path} holds no key; add one or delete the file`);
    process.exit(1);
  }
  await chmod(path, 0o600);
  return {
    ...config,
    payloads: { ...config.payloads, keys: parsePayloadKeys(entry).keys, keySource: 'data-dir' },
  };
}

/** What the banner says of payload encryption. */
function payloadLine(config: Config): string {
  const [key] = config.payloads.keys;
  if (!key) return 'not encrypted (IDFLOW_PAYLOAD_KEYS is empty)';
  const from =
    config.payloads.keySource === 'data-dir'
      ? `${relative(process.cwd(), join(config.dataDir, PAYLOAD_KEYS_FILE))}, mode 600`
      : 'IDFLOW_PAYLOAD_KEYS';
  return `encrypted with key '${key.id}' (${from})`;
}

/** Where `idflow dev` keeps the Temporal dev server's state, log and process id. */
function temporalPaths(dataDir: string): { db: string; log: string; pid: string } {
  return {
    db: join(dataDir, 'temporal.db'),
    log: join(dataDir, 'temporal.log'),
    pid: join(dataDir, 'temporal.pid'),
  };
}

/**
 * `--reset`: deletes what `idflow dev` keeps in the data directory — the PGlite database, the
 * Temporal dev server's state, the dev token and the targets' data (directory, SCIM users and
 * groups, mail). The Temporal CLI and the workflow bundle cache stay.
 */
async function resetDataDir(config: Config, log: Logger): Promise<void> {
  const temporal = temporalPaths(config.dataDir);
  const targets = targetPaths(config.dataDir);
  const paths = [
    temporal.db,
    `${temporal.db}-wal`,
    `${temporal.db}-shm`,
    join(config.dataDir, 'dev-token'),
    targets.slapd,
    join(targets.scimStore, '..'),
    targets.mail,
    ...(config.databaseUrl ? [] : [join(config.dataDir, 'pglite')]),
  ];
  await Promise.all(paths.map((p) => rm(p, { recursive: true, force: true })));
  log.warn(
    { dataDir: config.dataDir },
    config.databaseUrl
      ? '--reset: Temporal state, dev token and target data deleted; the PostgreSQL database at DATABASE_URL is left as it is'
      : '--reset: database, Temporal state, dev token and target data deleted',
  );
}

/** What is running, in start order; stopped in reverse. */
interface Running {
  targets?: Targets;
  temporal?: Supervisor<DevServer>;
  db?: { close(): Promise<void> };
  worker?: WorkerHandle;
  client?: { close(): Promise<void> };
  gateway?: GatewayHandle;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('run Temporal, the worker and the gateway locally, with definitions/ loaded')
    .option(
      '--with-targets',
      'also start the local LDAP directory (slapd), SCIM application and SMTP server the reference connectors use',
    )
    .option(
      '--reset',
      "start from empty: delete the data directory's database (PGlite), Temporal dev server state, dev token and the targets' data (LDAP directory re-seeded, SCIM users, mail)",
    )
    .action(async (options: { withTargets?: boolean; reset?: boolean }) => {
      const config = await devPayloadKeys(configOrExit());
      const log = logger(config, 'idflow');
      const running: Running = {};

      // A supervised server that keeps exiting ends idflow dev: nothing would work without it.
      let halting = false;
      const halt = (error: Error): void => {
        if (halting) return;
        halting = true;
        log.fatal(`idflow dev is stopping: ${error.message}`);
        const cleanup = async () => {
          await running.gateway?.close();
          await running.client?.close();
          await running.db?.close();
          await running.targets?.stop();
          await running.temporal?.stop();
        };
        const done = () => process.exit(1);
        void Promise.race([cleanup(), new Promise((r) => setTimeout(r, 10_000))]).then(done, done);
      };

      // Ctrl-C reaches the child servers too (same process group): they are not restarted then.
      const release = (signal: NodeJS.Signals) => {
        running.temporal?.release();
        running.targets?.release();
        // until the worker runs, nothing else handles the signal: end here (children are reaped)
        if (!running.worker) process.exit(signal === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGINT', release);
      process.once('SIGTERM', release);

      const [host, port] = config.temporal.address.split(':') as [string, string];
      const temporalRunning = await temporalAnswers(
        config.temporal.address,
        temporalConnectionOptions(config.temporal),
      );
      if (!temporalRunning && !isPlaintext(config.temporal)) {
        // the dev server idflow dev would start serves plaintext without API keys
        console.error(
          `idflow dev: no Temporal server answers at ${config.temporal.address} with the TLS or API key settings (TEMPORAL_TLS*, TEMPORAL_API_KEY), and the dev server idflow dev starts serves neither; start that server, or unset them to use a local dev server`,
        );
        process.exit(1);
      }
      if (options.reset) {
        if (temporalRunning) {
          console.error(
            `idflow dev --reset: a Temporal server already answers at ${config.temporal.address} and --reset cannot empty it; stop it (or set TEMPORAL_ADDRESS to a free address) and run again`,
          );
          process.exit(1);
        }
        await resetDataDir(config, log);
      }
      // before the worker starts: the targets set the secrets the reference connectors read
      if (options.withTargets) {
        running.targets = await startTargets(config.dataDir, (m) => log.warn(m), {
          ports: {
            ldap: config.targets.ldapPort,
            scim: config.targets.scimPort,
            smtp: config.targets.smtpPort,
          },
          keepData: true,
          supervise: { log, onGiveUp: halt },
        });
      }
      if (temporalRunning) {
        log.info(
          { address: config.temporal.address },
          'using the Temporal server already running there',
        );
      } else {
        const paths = temporalPaths(config.dataDir);
        const cli = findTemporalCli(config.temporal.cli);
        const start = () =>
          startDevServer({
            cli,
            ip: host,
            port: Number(port),
            uiPort: config.temporal.uiPort,
            dbFilename: paths.db,
            logFile: paths.log,
            pidFile: paths.pid,
          });
        const first = await start();
        running.temporal = supervise(first, {
          name: `the Temporal dev server (${first.address}, state in ${paths.db})`,
          start,
          log,
          onGiveUp: halt,
        });
        log.info({ address: first.address, serverPid: first.pid }, 'Temporal dev server started');
      }
      const db = await database(config, 'dev');
      running.db = db;
      const applied = await applyDefinitions(db.db, [config.definitionsDir], {
        replace: true,
        actor: 'idflow:dev',
      });
      log.info({ ...applied.counts, activated: applied.activated.length }, 'definitions loaded');
      const { path } = await devToken(db.db, config.dataDir);
      const worker = await createWorker(config, db.db, log);
      running.worker = worker;
      const workerDone = worker.run();
      const temporal = createTemporalClient(config);
      running.client = temporal;
      // the loaded flows' schedules, in the Temporal server idflow dev runs against
      const synced = await syncAfterApply(db.db, config, 'idflow:dev');
      if (synced.ok) {
        const { created, updated, deleted, unchanged } = synced.result;
        log.info(
          {
            created: created.length,
            updated: updated.length,
            deleted: deleted.length,
            unchanged: unchanged.length,
          },
          'schedules synced',
        );
      } else log.warn(synced.message);
      const gateway = await startGateway(config, db.db, temporal.client, log);
      running.gateway = gateway;

      const tokenFile = relative(process.cwd(), path) || path;
      console.log(
        [
          '',
          'idflow is running.',
          `  Gateway:     ${gateway.url}`,
          `  Temporal UI: http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${config.temporal.uiPort}`,
          `  Database:    ${db.location}`,
          `  API token:   ${tokenFile} (mode 600)`,
          `  Payloads:    ${payloadLine(config)}`,
          ...(config.payloads.keys.length
            ? [
                `  Decoding:    ${gateway.url}/codec (Web UI: sign in at ${gateway.url}/codec/session; CLI: temporal workflow show --codec-endpoint ${gateway.url}/codec --codec-auth "Bearer $(cat ${tokenFile})")`,
              ]
            : []),
          ...(running.targets ? ['', 'Test targets:', ...running.targets.lines] : []),
          '',
          'Send the example joiner event:',
          `  curl -sS -w '\\n' -X POST ${gateway.url}/v1/events -H "Authorization: Bearer $(cat ${tokenFile})" -H 'Content-Type: application/json' --data @examples/events/joiner.json`,
          '',
          'Stop with Ctrl-C.',
          '',
        ].join('\n'),
      );
      await workerDone; // resolves once SIGINT/SIGTERM has drained the worker
      if (halting) return;
      await gateway.close();
      await temporal.close();
      await worker.close();
      await db.close();
      await running.temporal?.stop();
      await running.targets?.stop();
      log.info('stopped');
      // a connection some library keeps open must not hold a stopped idflow dev
      setTimeout(() => process.exit(0), 2_000).unref();
    });
}
