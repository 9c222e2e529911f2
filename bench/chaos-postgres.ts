/**
 * A PostgreSQL cluster of the chaos benchmark's own for its Temporal server: a real Temporal
 * server holds up to some eighty connections, and next to the server tests share on the
 * machine's PostgreSQL (100 connections) it would run that one out of connections. A throwaway
 * cluster (initdb as the postgres user, trust auth, loopback, a free port) keeps the two apart.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/ports';

export interface OwnPostgres {
  port: number;
  stop(): void;
}

function binDir(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return join('/usr/lib/postgresql', versions[0], 'bin');
}

export async function startOwnPostgres(maxConnections = 300): Promise<OwnPostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'idflow-chaos-pg-'));
  // initdb and postgres refuse to run as root: as the postgres user, which must own the directory
  const asPostgres = (cmd: string, args: string[]) => {
    const argv =
      userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    execFileSync(argv[0] as string, argv[1] as string[], { stdio: 'pipe' });
  };
  if (userInfo().uid === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  asPostgres(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'postgres.log'),
    '-w',
    '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=${maxConnections}`,
    'start',
  ]);
  const stop = () => {
    try {
      asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  return {
    port,
    stop() {
      process.removeListener('exit', stop);
      stop();
    },
  };
}
