/**
 * The Temporal server the chaos benchmark kills: one that can be SIGKILLed and started again on
 * the same state and the same address, so the worker, gateway and client connections find it
 * again once it is back.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { ROOT } from '../test/support/harness';
import { startOwnPostgres } from './chaos-postgres';
import { freePort } from '../test/support/ports';

export interface KillableTemporal {
  /** What it is, for the report. */
  readonly description: string;
  readonly address: string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** Start it again on the same state and address; resolves once the frontend answers. */
  restart(): Promise<void>;
  /** An orderly stop at the end. */
  stop(): Promise<void>;
}

const SCRIPT = join(ROOT, 'scripts', 'temporal-server.sh');
const SERVER_VERSION = () => {
  try {
    return `v${readFileSync(join(ROOT, '.idflow', 'bin', '.temporal-server.version'), 'utf8')
      .trim()
      .replace(/^v/, '')}`;
  } catch {
    return '';
  }
};

/**
 * The real Temporal server of scripts/temporal-server.sh, on a PostgreSQL cluster and in a
 * directory of its own (not the shared server tests may be using): `start --reset` at first,
 * SIGKILL of the pid in its pid file, and `start` again, which reuses the directory's ports, so
 * the address stays.
 */
export async function startKillableRealServer(): Promise<KillableTemporal> {
  const dir = join(ROOT, '.idflow', 'chaos-temporal');
  const postgres = await startOwnPostgres();
  const env = {
    ...process.env,
    IDFLOW_TEMPORAL_PG_PORT: String(postgres.port),
    IDFLOW_TEMPORAL_DB: 'temporal_idflow_chaos',
    IDFLOW_TEMPORAL_VISIBILITY_DB: 'temporal_idflow_chaos_visibility',
  };
  const start = async (...extra: string[]): Promise<string> => {
    try {
      const { stdout } = await promisify(execFile)(
        'bash',
        [SCRIPT, 'start', '--dir', dir, ...extra],
        { env, timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const address = /^TEMPORAL_ADDRESS=(\S+)$/m.exec(stdout)?.[1];
      if (!address) throw new Error(`no TEMPORAL_ADDRESS line in: ${stdout}`);
      return address;
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new Error(`scripts/temporal-server.sh start failed: ${stderr ?? String(err)}`, {
        cause: err,
      });
    }
  };
  // gone, or a zombie no one has reaped yet
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const pid = () => Number(readFileSync(join(dir, 'server.pid'), 'utf8').trim());
  // the server runs in a session of its own: an interrupted benchmark must not leave it behind
  const reap = () => {
    try {
      process.kill(pid(), 'SIGKILL');
    } catch {
      // not running
    }
  };
  process.once('exit', reap);
  let address: string;
  try {
    address = await start('--reset');
  } catch (err) {
    postgres.stop();
    throw err;
  }
  return {
    description: `Temporal server ${SERVER_VERSION()} ${address} on PostgreSQL (127.0.0.1:${postgres.port}, a cluster of its own; scripts/temporal-server.sh --dir ${dir})`,
    address,
    async kill() {
      const killed = pid();
      process.kill(killed, 'SIGKILL');
      while (alive(killed)) await new Promise((resolve) => setTimeout(resolve, 50));
    },
    async restart() {
      const again = await start();
      if (again !== address)
        throw new Error(`the Temporal server came back at ${again}, not at ${address}`);
    },
    async stop() {
      await promisify(execFile)('bash', [SCRIPT, 'stop', '--dir', dir], { env });
      process.removeListener('exit', reap);
      postgres.stop();
    },
  };
}

/** The dev server, file-backed (SQLite), on a fixed port. */
export async function startKillableDevServer(): Promise<KillableTemporal> {
  const options = {
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    dbFilename: join(mkdtempSync(join(tmpdir(), 'idflow-chaos-')), 'temporal.db'),
    logFile: join(ROOT, '.idflow', 'bench-chaos-temporal.log'),
  };
  let server: DevServer = await startDevServer(options);
  return {
    description: `Temporal dev server ${server.address} (SQLite file ${options.dbFilename})`,
    address: server.address,
    async kill() {
      server.process.kill('SIGKILL');
      await server.exited;
    },
    async restart() {
      server = await startDevServer(options);
    },
    stop: () => server.stop(),
  };
}
