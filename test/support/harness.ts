/**
 * An idflow deployment for one integration test file: its own PostgreSQL database with
 * migrations and definitions applied, its own task queue on the suite's Temporal dev server,
 * and the worker and gateway as real `idflow worker` / `idflow gateway` processes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { openDatabase, type DatabaseHandle } from '../../src/db/client';
import { applyDefinitions } from '../../src/definitions/apply';
import { SCOPES, TokenService } from '../../src/gateway/services/tokens';
import type { OperatorAction, RunState } from '../../src/temporal/contracts';
import { idflowDataConverter } from '../../src/temporal/data-converter';
import { parsePayloadKeys } from '../../src/temporal/payload-keys';
import { createTestDatabase, type TestDatabase } from './postgres';
import { freePort } from './ports';

export const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'idflow.js');

/** What an `idflow` command did: its exit code and what it printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface HarnessOptions {
  definitions: string[];
  /** Temporal frontend; default: the suite's dev server. */
  temporalAddress?: string;
  /** Temporal namespace on that frontend; default: `default`. */
  temporalNamespace?: string;
  /** Extra environment for the worker and gateway processes. */
  env?: NodeJS.ProcessEnv;
  /** Let the gateway reach PostgreSQL through a proxy on this port (to cut it off in tests). */
  databaseProxyPort?: number;
}

export class Harness {
  readonly taskQueue = `it-${randomBytes(4).toString('hex')}`;
  gatewayUrl = '';
  token = '';
  client!: Client;
  db!: DatabaseHandle;
  worker?: ChildProcess;
  gateway?: ChildProcess;
  private connection?: Connection;
  private testDb!: TestDatabase;
  private log!: WriteStream;

  constructor(readonly options: HarnessOptions) {}

  get temporalAddress(): string {
    const address = this.options.temporalAddress ?? process.env.IDFLOW_TEST_TEMPORAL;
    if (!address)
      throw new Error(
        'no Temporal server: run the integration tests through jest (global setup starts one)',
      );
    return address;
  }

  get temporalNamespace(): string {
    return this.options.temporalNamespace ?? 'default';
  }

  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      DATABASE_URL: this.testDb.url,
      TEMPORAL_ADDRESS: this.temporalAddress,
      ...(this.options.temporalNamespace ? { TEMPORAL_NAMESPACE: this.temporalNamespace } : {}),
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      IDFLOW_DATA_DIR: join(ROOT, '.idflow'),
      IDFLOW_LOG_LEVEL: 'warn',
      IDFLOW_WORKER_SHUTDOWN_GRACE: '5s',
      // payloads in clear unless a test (or IDFLOW_TEST_PAYLOAD_KEYS, for the whole suite) sets
      // keys; never the data directory's key file a local `idflow dev` may have written
      IDFLOW_PAYLOAD_KEYS: process.env.IDFLOW_TEST_PAYLOAD_KEYS ?? '',
      ...this.options.env,
    };
  }

  async start(): Promise<this> {
    mkdirSync(join(ROOT, '.idflow', 'test'), { recursive: true });
    this.log = createWriteStream(join(ROOT, '.idflow', 'test', `${this.taskQueue}.log`));
    this.testDb = await createTestDatabase();
    this.db = await openDatabase({
      databaseUrl: this.testDb.url,
      dataDir: join(ROOT, '.idflow'),
      max: 4,
    });
    await this.db.migrate();
    await applyDefinitions(
      this.db.db,
      this.options.definitions.map((p) => join(ROOT, p)),
      { replace: true, actor: 'test' },
    );
    const { token } = await new TokenService(this.db.db).create({
      name: 'test-admin',
      scopes: [...SCOPES],
      actor: 'test',
    });
    this.token = token;
    this.connection = await Connection.connect({ address: this.temporalAddress });
    this.client = new Client({
      connection: this.connection,
      namespace: this.temporalNamespace,
      dataConverter: idflowDataConverter(
        parsePayloadKeys(this.env().IDFLOW_PAYLOAD_KEYS ?? '').keys,
      ),
    });
    await Promise.all([this.startWorker(), this.startGateway()]);
    return this;
  }

  private spawn(command: string, databasePort?: number): ChildProcess {
    const env = this.env();
    if (databasePort) {
      const url = new URL(this.testDb.url);
      url.port = String(databasePort);
      env.DATABASE_URL = url.toString();
    }
    const child = spawn(process.execPath, [BIN, command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A failed or interrupted test run must not leave workers and gateways behind.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.removeListener('exit', reap));
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    return child;
  }

  /** Starts an `idflow worker` process and waits until it polls the task queue. */
  async startWorker(): Promise<ChildProcess> {
    const before = await this.pollerIdentities();
    const child = this.spawn('worker');
    this.worker = child;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(
          `idflow worker exited with ${child.exitCode} before it started; see .idflow/test/${this.taskQueue}.log`,
        );
      }
      const now = await this.pollerIdentities();
      if ([...now].some((id) => !before.has(id) && id.startsWith(`${child.pid}@`))) return child;
      await sleep(200);
    }
    throw new Error('idflow worker did not poll within 60 s');
  }

  /** Identities of the workers polling this harness's task queue for workflow tasks. */
  private async pollerIdentities(): Promise<Set<string>> {
    const response = await this.client.workflowService.describeTaskQueue({
      namespace: this.temporalNamespace,
      taskQueue: { name: this.taskQueue },
      taskQueueType: 1,
    });
    return new Set((response.pollers ?? []).map((p) => p.identity ?? ''));
  }

  /** Kills the worker process with `signal` and waits for it to end. */
  async stopWorker(signal: NodeJS.Signals): Promise<void> {
    const child = this.worker;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async startGateway(): Promise<ChildProcess> {
    const port = await freePort();
    this.options.env = { ...this.options.env, IDFLOW_PORT: String(port) };
    const child = this.spawn('gateway', this.options.databaseProxyPort);
    this.gateway = child;
    this.gatewayUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(
          `idflow gateway exited with ${child.exitCode}; see .idflow/test/${this.taskQueue}.log`,
        );
      try {
        if ((await fetch(`${this.gatewayUrl}/healthz`)).ok) return child;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error('idflow gateway did not start within 30 s');
  }

  /** `idflow <args>` against this deployment, as an operator runs it; a failure is its code, not a throw. */
  async idflow(...args: string[]): Promise<CliResult> {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
        env: this.env(),
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as CliResult;
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; contentType?: string; token?: string | null } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? this.token : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const res = await fetch(`${this.gatewayUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as T };
  }

  postEvent(event: unknown, token?: string | null): Promise<HttpResult> {
    return this.request('POST', '/v1/events', {
      body: event,
      ...(token !== undefined ? { token } : {}),
    });
  }

  /**
   * A workflow's result. An event's runs are named (in the events table and the 200 of a
   * duplicate) when the dispatch decides, and the person's timeline starts them after: a run
   * not there yet is waited for, for up to 20 s.
   */
  private async resultOnceStarted(workflowId: string): Promise<unknown> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        return await this.client.workflow.getHandle(workflowId).result();
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  }

  /** The result of a workflow, or its failure (so tests can assert on failures too). */
  async outcome(
    workflowId: string,
  ): Promise<{ ok: true; result: unknown } | { ok: false; type?: string; message: string }> {
    try {
      return { ok: true, result: await this.resultOnceStarted(workflowId) };
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        const cause = err.cause as { type?: string; message: string } | undefined;
        return {
          ok: false,
          ...(cause?.type ? { type: cause.type } : {}),
          message: cause?.message ?? err.message,
        };
      }
      throw err;
    }
  }

  /** A run's state (its `state` query), or undefined while the run has not started. */
  async runState(workflowId: string): Promise<RunState | undefined> {
    // a closed run's state comes from a worker replaying it, which a loaded machine can be slow
    // to do: a failed query is asked twice more before the run counts as having none
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.workflow.getHandle(workflowId).query<RunState>('state');
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || attempt === 3) return undefined;
        await sleep(1000);
      }
    }
  }

  /** An operator's action on a parked step, as `idflow runs retry|skip|abort|approve` sends it. */
  operate(workflowId: string, action: OperatorAction): Promise<RunState> {
    return this.client.workflow
      .getHandle(workflowId)
      .executeUpdate<RunState, [OperatorAction]>('operator', { args: [action] });
  }

  /** The outcome of a run that a dispatch is about to start (waits for the start too). */
  runOutcome(workflowId: string, timeoutMs = 30_000): ReturnType<Harness['outcome']> {
    return this.eventually(async () => this.outcome(workflowId).catch(() => undefined), timeoutMs);
  }

  /** Polls until `check` returns a value (visibility and child starts are eventually visible). */
  async eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await sleep(200);
    }
  }

  async close(): Promise<void> {
    await this.stopWorker('SIGTERM');
    if (this.gateway && this.gateway.exitCode === null) {
      const exited = new Promise((resolve) => this.gateway?.once('exit', resolve));
      this.gateway.kill('SIGTERM');
      await exited;
    }
    await this.connection?.close();
    await this.db?.close();
    await this.testDb?.drop();
    this.log?.end();
  }
}

/** A joiner/leaver/… event with a fresh id. */
export function makeEvent(
  type: string,
  subject: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    source: 'test-hr',
    id: `evt-${randomBytes(6).toString('hex')}`,
    type,
    occurredAt: new Date().toISOString(),
    subject,
    ...extra,
  };
}
