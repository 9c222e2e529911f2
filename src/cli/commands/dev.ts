/**
 * `idflow dev`: everything on one machine with embedded defaults. Starts (or reuses) a Temporal
 * dev server with its Web UI, opens the database (PGlite unless DATABASE_URL is set) and
 * applies migrations, loads definitions/, writes a dev API token to .idflow/dev-token, and
 * runs the worker and the gateway in this process until Ctrl-C. With --with-targets, also the
 * local LDAP, SCIM and SMTP targets the reference connectors point at.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import type { Database } from '../../db/client';
import { applyDefinitions } from '../../definitions/apply';
import { startGateway } from '../../gateway/server';
import { SCOPES, TokenService } from '../../gateway/services/tokens';
import { createTemporalClient } from '../../temporal/client';
import { findTemporalCli } from '../../temporal/cli';
import { startDevServer, temporalAnswers, type DevServer } from '../../temporal/dev-server';
import { startTargets } from '../../targets';
import { createWorker } from '../../temporal/worker';
import { configOrExit, database, logger } from '../runtime';

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

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('run Temporal, the worker and the gateway locally, with definitions/ loaded')
    .option(
      '--with-targets',
      'also start the local LDAP directory (slapd), SCIM application and SMTP server the reference connectors use',
    )
    .action(async (options: { withTargets?: boolean }) => {
      const config = configOrExit();
      const log = logger(config, 'idflow');
      // before the worker starts: the targets set the secrets the reference connectors read
      const targets = options.withTargets
        ? await startTargets(config.dataDir, (m) => log.warn(m))
        : undefined;
      const [host, port] = config.temporal.address.split(':') as [string, string];
      let server: DevServer | undefined;
      if (await temporalAnswers(config.temporal.address)) {
        log.info(
          { address: config.temporal.address },
          'using the Temporal server already running there',
        );
      } else {
        server = await startDevServer({
          cli: findTemporalCli(config.temporal.cli),
          ip: host,
          port: Number(port),
          uiPort: config.temporal.uiPort,
          dbFilename: join(config.dataDir, 'temporal.db'),
          logFile: join(config.dataDir, 'temporal.log'),
        });
        log.info({ address: server.address }, 'Temporal dev server started');
      }
      const db = await database(config, 'dev');
      const applied = await applyDefinitions(db.db, [config.definitionsDir], {
        replace: true,
        actor: 'idflow:dev',
      });
      log.info({ ...applied.counts, activated: applied.activated.length }, 'definitions loaded');
      const { path } = await devToken(db.db, config.dataDir);
      const worker = await createWorker(config, db.db, log);
      const running = worker.run();
      const temporal = createTemporalClient(config);
      const gateway = await startGateway(config, db.db, temporal.client, log);

      const tokenFile = relative(process.cwd(), path) || path;
      console.log(
        [
          '',
          'idflow is running.',
          `  Gateway:     ${gateway.url}`,
          `  Temporal UI: http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${config.temporal.uiPort}`,
          `  Database:    ${db.location}`,
          `  API token:   ${tokenFile} (mode 600)`,
          ...(targets ? ['', 'Test targets:', ...targets.lines] : []),
          '',
          'Send the example joiner event:',
          `  curl -sS -X POST ${gateway.url}/v1/events -H "Authorization: Bearer $(cat ${tokenFile})" -H 'Content-Type: application/json' --data @examples/events/joiner.json`,
          '',
          'Stop with Ctrl-C.',
          '',
        ].join('\n'),
      );
      await running; // resolves once SIGINT/SIGTERM has drained the worker
      await gateway.close();
      await temporal.close();
      await worker.close();
      await db.close();
      await server?.stop();
      await targets?.stop();
      log.info('stopped');
    });
}
