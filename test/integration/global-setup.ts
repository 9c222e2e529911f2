/**
 * Starts one Temporal dev server for the integration suite (in memory, idflow's search
 * attributes registered, eager activities on) and prebuilds the workflow bundle, so each test
 * file's worker starts fast. Test files share the server and isolate themselves with their own
 * database and task queue.
 */
import { join } from 'node:path';
import { workflowBundle } from '../../src/temporal/bundle';
import { findTemporalCli } from '../../src/temporal/cli';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { freePort } from '../support/ports';

declare global {
  var __IDFLOW_TEMPORAL__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const root = join(__dirname, '..', '..');
  const port = await freePort();
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port,
    logFile: join(root, '.idflow', 'test', 'temporal.log'),
  });
  globalThis.__IDFLOW_TEMPORAL__ = server;
  process.env.IDFLOW_TEST_TEMPORAL = server.address;
  await workflowBundle(join(root, '.idflow', 'bundle'));
}
