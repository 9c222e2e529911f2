/**
 * A Temporal dev server (`temporal server start-dev`) as a child process: file-backed, with
 * idflow's search attributes registered and eager activity execution on. Used by `idflow dev`,
 * the integration tests and the benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { describeExit, exitOf, type ChildExit, type SupervisedChild } from '../supervise';
import type { TemporalConnectionOptions } from './connection-options';
import { SEARCH_ATTRIBUTES } from './search-attributes';

export interface DevServerOptions {
  cli: string;
  port: number;
  /** Web UI port; omitted = no Web UI. */
  uiPort?: number;
  /** SQLite file for durable state; omitted = in memory. */
  dbFilename?: string;
  /** Where the server's own log goes. */
  logFile: string;
  /** Written with the server's process id while it runs (for operators and tests). */
  pidFile?: string;
  ip?: string;
}

export interface DevServer extends SupervisedChild {
  address: string;
  process: ChildProcess;
  /** Resolves when the server process has ended, however it ended. */
  exited: Promise<ChildExit>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until a Temporal frontend answers at `address`, up to `timeoutMs`; `options` (TLS, API
 * key, from `temporalConnectionOptions`) for a server that is not a plain dev server.
 */
export async function waitForTemporal(
  address: string,
  timeoutMs = 30_000,
  options: Omit<TemporalConnectionOptions, 'address'> = { tls: false },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ ...options, address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await sleep(250);
    }
  }
  throw new Error(
    `Temporal did not answer at ${address} within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

/** True when a Temporal frontend already answers at `address` (with `options`, as above). */
export async function temporalAnswers(
  address: string,
  options?: Omit<TemporalConnectionOptions, 'address'>,
): Promise<boolean> {
  try {
    await waitForTemporal(address, 1_500, options);
    return true;
  } catch {
    return false;
  }
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(options.port),
    '--log-level',
    'warn',
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    ...SEARCH_ATTRIBUTES.flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFilename) {
    mkdirSync(dirname(options.dbFilename), { recursive: true });
    // Write-ahead logging: commits stay durable (synchronous=FULL) and starts are ~1.5× faster.
    args.push('--db-filename', options.dbFilename, '--sqlite-pragma', 'journal_mode=wal');
  }
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  log.on('error', () => undefined); // a full disk must not end idflow
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  const exited = exitOf(child);
  // Never leave a server behind when this process ends, however it ends.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const pidFile = options.pidFile;
  if (pidFile && child.pid) writeFileSync(pidFile, `${child.pid}\n`);
  void exited.then(() => {
    process.removeListener('exit', reap);
    if (pidFile) rmSync(pidFile, { force: true });
  });
  const address = `${ip}:${options.port}`;
  const ready = waitForTemporal(address, 60_000).then(
    () => 'ready' as const,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  const outcome = await Promise.race([ready, exited]);
  if (outcome instanceof Error) {
    child.kill('SIGKILL');
    throw new Error(`${outcome.message}; see ${options.logFile}`);
  }
  if (outcome !== 'ready') {
    throw new Error(
      `the Temporal dev server exited (${describeExit(outcome)}) before it was ready; see ${options.logFile}`,
    );
  }
  return {
    address,
    process: child,
    pid: child.pid,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
