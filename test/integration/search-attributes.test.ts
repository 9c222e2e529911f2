/**
 * `idflow worker` and `idflow gateway` (bin/idflow.js, as an operator starts them) against a
 * Temporal server that lacks idflow's search attributes: this file's own dev server, started
 * without them, one namespace per case. With IDFLOW_REGISTER_SEARCH_ATTRIBUTES=false the worker
 * exits 1 naming all seven; with auto it registers them and the server lists them with their
 * types; an attribute of another type is named and the worker exits; two processes
 * registering at once both succeed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { findTemporalCli } from '../../src/temporal/cli';
import { waitForTemporal } from '../../src/temporal/dev-server';
import { ensureSearchAttributes, typeName } from '../../src/temporal/search-attribute-check';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { freePort } from '../support/ports';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'idflow.js');
const CLI = findTemporalCli(process.env.TEMPORAL_CLI);
const NAMESPACES = ['sa-false', 'sa-auto', 'sa-conflict', 'sa-race', 'sa-gateway'];

let server: ChildProcess;
let address: string;
let connection: Connection;
let db: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  const port = await freePort();
  address = `127.0.0.1:${port}`;
  // a server as an operator might run one: no --search-attribute flags
  server = spawn(
    CLI,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--headless',
      '--log-level',
      'warn',
      ...NAMESPACES.flatMap((n) => ['--namespace', n]),
    ],
    { stdio: 'ignore' },
  );
  process.once('exit', () => server.kill('SIGKILL'));
  await waitForTemporal(address, 60_000);
  connection = await Connection.connect({ address });
  db = await createTestDatabase('idflow_sa');
  dataDir = mkdtempSync(join(tmpdir(), 'idflow-sa-'));
  // the suite's prebuilt workflow bundle, so the worker need not bundle again
  const bundle = join(ROOT, '.idflow', 'bundle');
  if (existsSync(bundle)) cpSync(bundle, join(dataDir, 'bundle'), { recursive: true });
  else mkdirSync(join(dataDir, 'bundle'));
  const created = spawnSync(
    CLI,
    [
      'operator',
      'search-attribute',
      'create',
      '--address',
      address,
      '--namespace',
      'sa-conflict',
      '--name',
      'IdflowFlow',
      '--type',
      'Text',
    ],
    { encoding: 'utf8' },
  );
  expect(created.stderr).toBe('');
  expect(created.status).toBe(0);
}, 120_000);

afterAll(async () => {
  await connection?.close();
  server?.kill('SIGTERM');
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** The namespace's custom attributes: name → type, as the Temporal CLI names them. */
async function listed(namespace: string): Promise<Record<string, string>> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({
    namespace,
  });
  return Object.fromEntries(
    Object.entries(customAttributes ?? {}).map(([name, type]) => [name, typeName(type)]),
  );
}

const IDFLOW_ATTRIBUTES = Object.fromEntries(SEARCH_ATTRIBUTES);
const Indexed = temporal.api.enums.v1.IndexedValueType;

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

/** `idflow <command>` against the namespace, with only the variables this file sets. */
async function idflow(command: 'worker' | 'gateway', env: NodeJS.ProcessEnv): Promise<Started> {
  const inherited: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!/^(IDFLOW_|TEMPORAL_(?!CLI)|DATABASE_URL)/.test(key)) inherited[key] = value;
  const child = spawn(process.execPath, [BIN, command], {
    cwd: ROOT,
    env: {
      ...inherited,
      DATABASE_URL: db.url,
      IDFLOW_DATA_DIR: dataDir,
      IDFLOW_PORT: String(await freePort()),
      IDFLOW_LOG_LEVEL: 'info',
      TEMPORAL_ADDRESS: address,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exit.then(() => process.removeListener('exit', reap));
  return { child, output: () => output, exit };
}

async function exitOf(started: Started, timeoutMs = 60_000): Promise<number | null> {
  const timer = setTimeout(() => started.child.kill('SIGKILL'), timeoutMs);
  const code = await started.exit;
  clearTimeout(timer);
  return code;
}

test('false: the worker exits 1 naming all seven missing attributes and the commands that add them', async () => {
  const worker = await idflow('worker', {
    TEMPORAL_NAMESPACE: 'sa-false',
    TEMPORAL_TASK_QUEUE: 'sa-false',
    IDFLOW_REGISTER_SEARCH_ATTRIBUTES: 'false',
  });
  expect(await exitOf(worker)).toBe(1);
  const output = worker.output();
  expect(output).toContain(
    `idflow: the Temporal namespace "sa-false" at ${address} does not have idflow's search attributes as idflow needs them (IDFLOW_REGISTER_SEARCH_ATTRIBUTES=false: idflow does not register them):`,
  );
  for (const [name, type] of SEARCH_ATTRIBUTES)
    expect(output).toContain(`  ${name} (${type}) is missing\n`);
  expect(output).toContain(
    `add the missing ones with:\n  temporal operator search-attribute create --address ${address} --namespace sa-false --name IdflowFlow --type Keyword --name IdflowSubject --type Keyword --name IdflowEventType --type Keyword --name IdflowStatus --type Keyword --name IdflowDefinitionHash --type Keyword --name IdflowPendingApprovers --type KeywordList --name IdflowOverBudget --type Bool\n`,
  );
  expect(output).not.toContain('worker started');
  expect(await listed('sa-false')).toEqual({});
});

test('the command in the message adds them all, with their types', async () => {
  const worker = await idflow('worker', {
    TEMPORAL_NAMESPACE: 'sa-false',
    IDFLOW_REGISTER_SEARCH_ATTRIBUTES: 'false',
  });
  expect(await exitOf(worker)).toBe(1);
  const commands = worker
    .output()
    .split('\n')
    .filter((line) => line.startsWith('  temporal operator search-attribute create '))
    .map((line) => line.trim().split(' ').slice(1));
  expect(commands).toHaveLength(1);
  for (const args of commands) {
    const run = spawnSync(CLI, args, { encoding: 'utf8' });
    expect(run.status).toBe(0);
  }
  await expectEventually(async () => expect(await listed('sa-false')).toEqual(IDFLOW_ATTRIBUTES));
});

test('auto: the worker registers them, the server lists them with their types, and it starts', async () => {
  const worker = await idflow('worker', {
    TEMPORAL_NAMESPACE: 'sa-auto',
    TEMPORAL_TASK_QUEUE: 'sa-auto',
  });
  try {
    await expectEventually(() => {
      if (worker.child.exitCode !== null) throw new Error(`exited:\n${worker.output()}`);
      expect(worker.output()).toContain('"msg":"worker started"');
    }, 90_000);
    expect(await listed('sa-auto')).toEqual(IDFLOW_ATTRIBUTES);
    const line = worker
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"search attributes registered"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      level: 30,
      namespace: 'sa-auto',
      registered: SEARCH_ATTRIBUTES.map(([name]) => name),
    });
  } finally {
    worker.child.kill('SIGTERM');
    expect(await exitOf(worker)).toBe(0);
  }
});

test('a same-named attribute of another type is named with both types; the worker exits 1 and registers nothing', async () => {
  const worker = await idflow('worker', { TEMPORAL_NAMESPACE: 'sa-conflict' });
  expect(await exitOf(worker)).toBe(1);
  const output = worker.output();
  expect(output).toContain(
    `idflow: the Temporal namespace "sa-conflict" at ${address} does not have idflow's search attributes as idflow needs them (some have another type):\n  IdflowFlow is Text there; idflow needs Keyword\n`,
  );
  expect(output).toContain('give idflow a namespace of its own (TEMPORAL_NAMESPACE)');
  expect(output).toContain('  IdflowOverBudget (Bool) is missing\n');
  expect(await listed('sa-conflict')).toEqual({ IdflowFlow: 'Text' });
});

test('false: the gateway exits 1 naming them too, before it listens', async () => {
  const gateway = await idflow('gateway', {
    TEMPORAL_NAMESPACE: 'sa-gateway',
    IDFLOW_REGISTER_SEARCH_ATTRIBUTES: 'false',
  });
  expect(await exitOf(gateway)).toBe(1);
  const output = gateway.output();
  for (const [name, type] of SEARCH_ATTRIBUTES)
    expect(output).toContain(`  ${name} (${type}) is missing\n`);
  expect(output).not.toContain('gateway listening');
  expect(await listed('sa-gateway')).toEqual({});
});

test('two processes registering at once both succeed', async () => {
  const logged: unknown[] = [];
  const options = {
    address,
    namespace: 'sa-race',
    mode: 'auto' as const,
    logger: { info: ((fields: unknown) => logged.push(fields)) as never },
  };
  const [a, b] = await Promise.all([
    ensureSearchAttributes(connection, options),
    ensureSearchAttributes(connection, options),
  ]);
  expect(a.length + b.length).toBeGreaterThanOrEqual(7);
  expect(await listed('sa-race')).toEqual(IDFLOW_ATTRIBUTES);
  // the later of two registrations is a no-op on this server, even of another type (older
  // servers answer AlreadyExists): the check decides on what the server lists, not on the answer
  const add = (type: temporal.api.enums.v1.IndexedValueType) =>
    connection.operatorService.addSearchAttributes({
      namespace: 'sa-race',
      searchAttributes: { IdflowFlow: type },
    });
  await expect(add(Indexed.INDEXED_VALUE_TYPE_KEYWORD)).resolves.toEqual({});
  await expect(add(Indexed.INDEXED_VALUE_TYPE_TEXT)).resolves.toEqual({});
  expect(await listed('sa-race')).toEqual(IDFLOW_ATTRIBUTES);
  // a later start finds them all and registers nothing
  await expect(ensureSearchAttributes(connection, { ...options, mode: 'false' })).resolves.toEqual(
    [],
  );
});

async function expectEventually(check: () => unknown, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
