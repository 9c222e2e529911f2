/**
 * A real Temporal server on the machine's PostgreSQL (scripts/temporal-server.sh), for tests
 * that want more than the suite's dev server. Nothing is skipped: when the script cannot build
 * or start the server, the test fails with the script's own words.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'temporal-server.sh');

/**
 * A server of one's own, so that nobody else's `stop` ends it mid-test: its directory (under
 * the repository) and the names of its two databases. Omitted: the script's shared server
 * (.idflow/temporal-server, temporal_idflow and temporal_idflow_visibility).
 */
export interface OwnServer {
  dir: string;
  database: string;
}

export interface RealTemporal {
  address: string;
  namespace: string;
  /** The server's own version, as it reports it (e.g. 1.29.1). */
  version: string;
  /** Stops the server if this call started it; a server that was already up is left up. */
  stop(): Promise<void>;
}

async function script(
  args: string[],
  timeoutMs: number,
  own?: OwnServer,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const where = own ? ['--dir', join(ROOT, own.dir)] : [];
  const env = own
    ? {
        ...process.env,
        IDFLOW_TEMPORAL_DB: own.database,
        IDFLOW_TEMPORAL_VISIBILITY_DB: `${own.database}_visibility`,
      }
    : process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)('bash', [SCRIPT, ...args, ...where], {
      env,
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(err),
    };
  }
}

/**
 * Starts the real server (building it first if scripts/setup.sh has not) and returns its
 * address. Allow minutes when the server is not built yet.
 */
export async function startRealTemporal(
  own?: OwnServer,
  timeoutMs = 15 * 60_000,
): Promise<RealTemporal> {
  const wasRunning = (await script(['status'], 30_000, own)).code === 0;
  const started = await script(['start'], timeoutMs, own);
  const address = /^TEMPORAL_ADDRESS=(\S+)$/m.exec(started.stdout)?.[1];
  if (started.code !== 0 || !address) {
    throw new Error(
      `scripts/temporal-server.sh start failed (exit ${started.code}):\n${started.stderr.trim()}`,
    );
  }
  const connection = await Connection.connect({ address });
  const info = await connection.workflowService.getSystemInfo({}).finally(() => connection.close());
  return {
    address,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    version: info.serverVersion ?? 'unknown',
    async stop() {
      if (wasRunning) return;
      const stopped = await script(['stop'], 60_000, own);
      if (stopped.code !== 0)
        throw new Error(`scripts/temporal-server.sh stop failed:\n${stopped.stderr.trim()}`);
    },
  };
}
