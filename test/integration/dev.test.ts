/**
 * `idflow dev --with-targets` as a user runs it (bin/idflow.js, its own data directory and free
 * ports): the README's quick start, pasted as written, emails the manager; a Temporal dev server
 * killed with SIGKILL is restarted on the same state, runs in flight finish and nothing is
 * audited twice; the targets keep their data across a restart of `idflow dev`, and `--reset`
 * empties everything.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Client as LdapClient } from 'ldapts';
import postgres from 'postgres';
import { LDAP_TARGET } from '../../src/targets/slapd';
import { SCIM_DEV_TOKEN } from '../../src/targets';
import { findTemporalCli } from '../../src/temporal/cli';
import { freePort } from '../support/ports';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'idflow.js');
const LOGS = join(ROOT, '.idflow', 'test');

interface Ports {
  http: number;
  temporal: number;
  ui: number;
  ldap: number;
  scim: number;
  smtp: number;
}

async function freePorts(): Promise<Ports> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  return {
    http: await next(),
    temporal: await next(),
    ui: await next(),
    ldap: await next(),
    scim: await next(),
    smtp: await next(),
  };
}

/** A copy of definitions/ whose connectors point at these targets' ports. */
function definitionsFor(dir: string, ports: Ports): string {
  cpSync(join(ROOT, 'definitions'), dir, { recursive: true });
  const connectors = join(dir, 'connectors');
  for (const file of readdirSync(connectors)) {
    const path = join(connectors, file);
    const text = readFileSync(path, 'utf8')
      .replace('ldap://127.0.0.1:3389', `ldap://127.0.0.1:${ports.ldap}`)
      .replace('http://127.0.0.1:8090/', `http://127.0.0.1:${ports.scim}/`)
      .replace(/^ {2}port: 2525$/m, `  port: ${ports.smtp}`);
    writeFileSync(path, text);
  }
  return dir;
}

/** The workflow bundle the suite's global setup built, so a fresh data dir starts faster. */
function seedBundle(dataDir: string): void {
  const cache = join(ROOT, '.idflow', 'bundle');
  if (!existsSync(cache)) return;
  const newest = readdirSync(cache)
    .filter((f) => /^workflows-[0-9a-f]+\.js$/.test(f))
    .map((f) => ({ f, t: statSync(join(cache, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t)[0];
  if (!newest) return;
  mkdirSync(join(dataDir, 'bundle'), { recursive: true });
  copyFileSync(join(cache, newest.f), join(dataDir, 'bundle', newest.f));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last instanceof Error ? ` (${last.message})` : ''}`,
      );
    await sleep(250);
  }
}

/** One `idflow dev --with-targets` process. */
class Dev {
  child?: ChildProcess;
  output = '';
  private exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly options: {
      name: string;
      cwd: string;
      ports: Ports;
      definitions: string;
      /** Unset: the default, `.idflow` under `cwd`. */
      dataDir?: string;
      databaseUrl?: string;
      /** Default true. */
      withTargets?: boolean;
      env?: NodeJS.ProcessEnv;
    },
  ) {}

  get dataDir(): string {
    return this.options.dataDir ?? join(this.options.cwd, '.idflow');
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.ports.http}`;
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (/^(IDFLOW_|TEMPORAL_(?!CLI)|DATABASE_URL|LDAP_BIND_PASSWORD|CRM_SCIM_TOKEN)/.test(key))
        continue;
      env[key] = value;
    }
    const { ports } = this.options;
    return {
      ...env,
      IDFLOW_PORT: String(ports.http),
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      TEMPORAL_UI_PORT: String(ports.ui),
      IDFLOW_TARGET_LDAP_PORT: String(ports.ldap),
      IDFLOW_TARGET_SCIM_PORT: String(ports.scim),
      IDFLOW_TARGET_SMTP_PORT: String(ports.smtp),
      IDFLOW_DEFINITIONS: this.options.definitions,
      IDFLOW_LOG_LEVEL: 'info',
      ...(this.options.dataDir ? { IDFLOW_DATA_DIR: this.options.dataDir } : {}),
      ...(this.options.databaseUrl ? { DATABASE_URL: this.options.databaseUrl } : {}),
      ...this.options.env,
    };
  }

  /** Starts `idflow dev [--with-targets] [args]` and waits until it says it is running. */
  async start(...args: string[]): Promise<this> {
    this.output = '';
    mkdirSync(LOGS, { recursive: true });
    const log = createWriteStream(join(LOGS, `dev-${this.options.name}.log`), { flags: 'a' });
    const targets = this.options.withTargets === false ? [] : ['--with-targets'];
    const child = spawn(process.execPath, [BIN, 'dev', ...targets, ...args], {
      cwd: this.options.cwd,
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        process.removeListener('exit', reap);
        resolve({ code, signal });
      }),
    );
    const take = (chunk: Buffer) => {
      this.output += chunk.toString();
      log.write(chunk);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    void this.exit.then(() => log.end());
    const exited = this.exit.then(() => {
      throw new Error(
        `idflow dev (${this.options.name}) exited early:\n${this.output.slice(-3000)}`,
      );
    });
    exited.catch(() => undefined);
    const started = eventually(
      `idflow dev (${this.options.name}) to start`,
      () =>
        this.output.includes('idflow is running.') || child.exitCode !== null ? true : undefined,
      180_000,
    );
    started.catch(() => undefined);
    await Promise.race([started, exited]).catch((err: unknown) => {
      child.kill('SIGKILL');
      // what it printed last says where the start stalled
      if (err instanceof Error && !err.message.includes('exited early'))
        err.message += `; its output ended with:\n${this.output.slice(-3000)}`;
      throw err;
    });
    if (!this.output.includes('idflow is running.')) await exited;
    return this;
  }

  /** Stops it as Ctrl-C would (SIGINT to idflow dev only) and resolves with how it ended. */
  async stop(
    signal: NodeJS.Signals = 'SIGINT',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child || !this.exit) throw new Error('not started');
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 60_000);
    const exit = await this.exit;
    clearTimeout(timer);
    return exit;
  }

  token(): string {
    return readFileSync(join(this.dataDir, 'dev-token'), 'utf8').trim();
  }

  async post(event: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    return { status: res.status, body: await res.json() };
  }

  async event(source: string, id: string): Promise<{ status: number; body: EventView }> {
    const res = await fetch(`${this.url}/v1/events/${source}/${id}`, {
      headers: { authorization: `Bearer ${this.token()}` },
    });
    return { status: res.status, body: (await res.json()) as EventView };
  }

  /** Waits until the event's one run has ended and returns its status. */
  async runEnded(id: string, timeoutMs = 90_000): Promise<string> {
    return eventually(
      `the run of ${id} to end`,
      async () => {
        const { body } = await this.event('it', id);
        // a run the person's timeline has not started yet is NOT_FOUND: not ended either
        const status = body.runs?.[0]?.status;
        return status && !['RUNNING', 'UNKNOWN', 'NOT_FOUND'].includes(status) ? status : undefined;
      },
      timeoutMs,
    );
  }

  temporalPid(): number | undefined {
    const path = join(this.dataDir, 'temporal.pid');
    return existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : undefined;
  }

  lines(pattern: RegExp): string[] {
    return this.output.split('\n').filter((l) => pattern.test(l));
  }
}

interface EventView {
  runs?: Array<{ flow: string; workflowId: string; status?: string }>;
}

function joiner(
  id: string,
  subject: Record<string, unknown>,
  effectiveAt: Date = new Date(Date.now() - 60_000),
): Record<string, unknown> {
  return {
    source: 'it',
    id,
    type: 'person.joiner',
    occurredAt: new Date().toISOString(),
    effectiveAt: effectiveAt.toISOString(),
    subject,
  };
}

async function ldapAccounts(port: number, uid: string): Promise<Array<Record<string, unknown>>> {
  const client = new LdapClient({ url: `ldap://127.0.0.1:${port}` });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const { searchEntries } = await client.search(`ou=people,${LDAP_TARGET.baseDn}`, {
      filter: `(uid=${uid})`,
    });
    return searchEntries;
  } finally {
    await client.unbind();
  }
}

/** The groups (cn) the account `uid` is in, read from the directory. */
async function ldapGroups(port: number, uid: string): Promise<string[]> {
  const client = new LdapClient({ url: `ldap://127.0.0.1:${port}` });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const { searchEntries } = await client.search(`ou=groups,${LDAP_TARGET.baseDn}`, {
      filter: `(member=uid=${uid},ou=people,${LDAP_TARGET.baseDn})`,
      attributes: ['cn'],
    });
    return searchEntries.map((e) => String(e.cn)).sort();
  } finally {
    await client.unbind();
  }
}

async function scimUsers(
  port: number,
  externalId?: string,
): Promise<Array<Record<string, unknown>>> {
  const filter = externalId ? `?filter=${encodeURIComponent(`externalId eq "${externalId}"`)}` : '';
  const res = await fetch(`http://127.0.0.1:${port}/scim/v2/Users${filter}`, {
    headers: { authorization: `Bearer ${SCIM_DEV_TOKEN}` },
  });
  const body = (await res.json()) as { Resources?: Array<Record<string, unknown>> };
  return body.Resources ?? [];
}

function mailIn(dataDir: string): string[] {
  const dir = join(dataDir, 'mail');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.eml')) : [];
}

const running: Dev[] = [];
afterAll(async () => {
  for (const dev of running) {
    if (dev.child && dev.child.exitCode === null && dev.child.signalCode === null)
      await dev.stop('SIGTERM');
  }
});

/** The README's quick start commands (the block that reads the dev token) and its printed output. */
function readmeQuickStart(): { script: string; printed: string[] } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## How it works'));
  const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1],
    body: m[2] as string,
  }));
  const at = blocks.findIndex((b) => b.body.startsWith('TOKEN=$(cat .idflow/dev-token)'));
  if (at < 0)
    throw new Error("README.md's quick start has no block starting TOKEN=$(cat .idflow/dev-token)");
  const output = blocks[at + 1];
  if (output?.lang !== 'json')
    throw new Error("README.md's quick start shows no output after its commands");
  return { script: (blocks[at] as { body: string }).body, printed: output.body.trim().split('\n') };
}

test("the README's quick start, pasted as written into a fresh directory, emails the manager; --reset empties everything", async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'idflow-quickstart-'));
  const ports = await freePorts();
  symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
  const dev = new Dev({
    name: 'quickstart',
    cwd,
    ports,
    definitions: definitionsFor(join(cwd, 'definitions'), ports),
  });
  running.push(dev);
  seedBundle(dev.dataDir);
  await dev.start();

  const { script, printed } = readmeQuickStart();
  expect(script).toContain('examples/events/joiner-manager.json');
  // the README's commands, back to back, addressed to this gateway instead of :8080
  const pasted = spawnSync(
    'bash',
    ['-e', '-c', script.replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.http}`)],
    {
      cwd,
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  expect(pasted.stderr).toBe('');
  expect(pasted.status).toBe(0);
  const lines = pasted.stdout.trim().split('\n');
  expect(lines.slice(0, printed.length)).toEqual(printed);
  expect(lines[printed.length]).toMatch(/^\{"source":"workday","eventId":"wd-evt-1001",/);

  const mail = await eventually('the manager to be emailed', () => {
    const files = mailIn(dev.dataDir);
    return files.length ? files : undefined;
  });
  expect(mail).toHaveLength(1);
  const message = readFileSync(join(dev.dataDir, 'mail', mail[0] as string), 'utf8');
  expect(message).toMatch(/^To: grace\.hopper@example\.com/m);
  expect(message).toContain('Subject: Ada Lovelace starts on 2026-01-12T08:00:00.000Z');
  expect(message).toContain('Hello Grace Hopper,');
  // what the README says the run did: the directory account in the groups Ada's roles grant,
  // and no CRM user (she is in Engineering, not Sales)
  expect(await ldapAccounts(ports.ldap, 'alovelace')).toHaveLength(1);
  expect(await ldapGroups(ports.ldap, 'alovelace')).toEqual([
    'all-staff',
    'deployers',
    'engineering',
    'site-london',
    'vpn-users',
  ]);
  expect(await scimUsers(ports.scim, 'p-1001')).toEqual([]);
  // a Sales joiner gets a CRM user, which --reset below must remove
  expect(
    (
      await dev.post(
        joiner('j-sol', {
          id: 'p-sol',
          givenName: 'Sol',
          familyName: 'Vance',
          department: 'Sales',
        }),
      )
    ).status,
  ).toBe(202);
  expect(await dev.runEnded('j-sol')).toBe('COMPLETED');
  expect(await scimUsers(ports.scim, 'p-sol')).toMatchObject([
    { userName: 'svance', active: true },
  ]);
  expect((await dev.stop()).code).toBe(0);

  // --reset: the PGlite database, Temporal's state, the directory, SCIM users and mail are gone
  const oldToken = dev.token();
  await dev.start('--reset');
  expect(dev.token()).not.toBe(oldToken);
  expect((await dev.event('workday', 'wd-evt-1001')).status).toBe(404);
  expect(await ldapAccounts(ports.ldap, 'alovelace')).toEqual([]);
  expect(await ldapAccounts(ports.ldap, '*')).toEqual([]);
  expect(await scimUsers(ports.scim)).toEqual([]);
  expect(mailIn(dev.dataDir)).toEqual([]);
  expect(dev.output).toContain('seeded;');
  expect((await dev.stop()).code).toBe(0);
}, 600_000);

describe('on PostgreSQL, with its own data directory', () => {
  let db: TestDatabase;
  let sql: postgres.Sql;

  beforeAll(async () => {
    db = await createTestDatabase();
    sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  });

  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  test('a killed Temporal dev server is restarted on its state; the targets keep their data across restarts; --reset empties them', async () => {
    const base = mkdtempSync(join(tmpdir(), 'idflow-dev-'));
    const ports = await freePorts();
    const dev = new Dev({
      name: 'supervision',
      cwd: ROOT,
      ports,
      dataDir: join(base, 'data'),
      databaseUrl: db.url,
      definitions: definitionsFor(join(base, 'definitions'), ports),
    });
    running.push(dev);
    seedBundle(dev.dataDir);
    await dev.start();

    // a manager and a starter whose runs finish now, and a contractor in Sales (so with a CRM
    // user) whose run waits for their first day while Temporal is killed
    const manager = {
      id: 'p-mira',
      givenName: 'Mira',
      familyName: 'Okafor',
      email: 'mira@example.com',
    };
    expect((await dev.post(joiner('j-mira', manager))).status).toBe(202);
    expect(
      (
        await dev.post(
          joiner('j-eli', {
            id: 'p-eli',
            givenName: 'Eli',
            familyName: 'Brandt',
            email: 'eli@example.com',
            managerId: 'p-mira',
          }),
        )
      ).status,
    ).toBe(202);
    const firstDay = new Date(Date.now() + 30_000);
    expect(
      (
        await dev.post(
          joiner(
            'j-cora',
            {
              id: 'p-cora',
              givenName: 'Cora',
              familyName: 'Quist',
              email: 'cora@example.com',
              department: 'Sales',
              employmentType: 'contractor',
            },
            firstDay,
          ),
        )
      ).status,
    ).toBe(202);
    expect(await dev.runEnded('j-mira')).toBe('COMPLETED');
    expect(await dev.runEnded('j-eli')).toBe('COMPLETED');
    const waiting = await eventually('the contractor run to start', async () => {
      const { body } = await dev.event('it', 'j-cora');
      return body.runs?.[0]?.status === 'RUNNING' ? body.runs[0] : undefined;
    });
    expect(Date.now()).toBeLessThan(firstDay.getTime() - 3_000);

    // SIGKILL the Temporal dev server
    const killed = dev.temporalPid();
    expect(killed).toBeGreaterThan(0);
    const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const dbFile = join(dev.dataDir, 'temporal.db');
    expect(cmdline(killed as number)).toContain(dbFile);
    process.kill(killed as number, 'SIGKILL');

    // restarted, on the same database file
    const restarted = await eventually('the Temporal dev server to be restarted', () => {
      const pid = dev.temporalPid();
      return pid && pid !== killed && dev.output.includes('is running again') ? pid : undefined;
    });
    const args = cmdline(restarted);
    expect(args[args.indexOf('--db-filename') + 1]).toBe(dbFile);
    expect(dev.lines(/exited \(signal SIGKILL\); restarting it/)).toHaveLength(1);
    expect(dev.lines(/is running again/)).toHaveLength(1);

    // the runs from before the kill are still there; the waiting one completes
    expect((await dev.event('it', 'j-eli')).body.runs?.[0]?.status).toBe('COMPLETED');
    expect(await dev.runEnded('j-cora')).toBe('COMPLETED');
    expect((await dev.event('it', 'j-cora')).body.runs?.[0]?.workflowId).toBe(waiting.workflowId);
    // a new event is accepted and runs
    const after = await eventually('a new event to be accepted', async () => {
      const r = await dev.post(
        joiner('j-noor', { id: 'p-noor', givenName: 'Noor', familyName: 'Haddad' }),
      );
      return r.status === 202 ? r : undefined;
    });
    expect(after.status).toBe(202);
    expect(await dev.runEnded('j-noor')).toBe('COMPLETED');
    // the worker did not log a warning for every failed poll while Temporal was down
    expect(dev.lines(/"level":40.*"component":"temporal-sdk"/).length).toBeLessThan(10);

    // slapd killed: restarted on its data, the accounts still there
    const slapdPid = Number(readFileSync(join(dev.dataDir, 'slapd', 'slapd.pid'), 'utf8'));
    const [eli] = await sql<Array<{ username: string }>>`
      select attributes->>'username' as username from persons where id = 'p-eli'`;
    process.kill(slapdPid, 'SIGKILL');
    await eventually('slapd to be restarted', () =>
      dev.lines(/slapd \(the LDAP target\) is running again/).length ? true : undefined,
    );
    expect(
      dev.lines(/slapd \(the LDAP target\) exited \(signal SIGKILL\); restarting/),
    ).toHaveLength(1);
    expect(Number(readFileSync(join(dev.dataDir, 'slapd', 'slapd.pid'), 'utf8'))).not.toBe(
      slapdPid,
    );
    expect(await ldapAccounts(ports.ldap, eli?.username as string)).toHaveLength(1);

    // every fact audited once
    const counted = await sql<Array<{ action: string; target: string; run_id: string; n: number }>>`
      select action, target, run_id, count(*)::int as n from audit_log
      where action in ('event.received', 'event.dispatched', 'run.completed')
      group by action, target, run_id order by action, run_id`;
    expect(counted.filter((r) => r.n !== 1)).toEqual([]);
    const perAction = (action: string) => counted.filter((r) => r.action === action).length;
    expect(perAction('event.received')).toBe(4);
    expect(perAction('event.dispatched')).toBe(4);
    expect(perAction('run.completed')).toBe(4);

    // the manager was emailed about Eli
    expect(mailIn(dev.dataDir)).toHaveLength(1);
    expect((await dev.stop()).code).toBe(0);
    expect(existsSync(join(dev.dataDir, 'temporal.pid'))).toBe(false);

    // a second start keeps the directory, the SCIM users and the mail
    const [cora] = await sql<Array<{ username: string }>>`
      select attributes->>'username' as username from persons where id = 'p-cora'`;
    const username = cora?.username as string;
    expect(username).toBeTruthy();
    await dev.start();
    expect(dev.output).toContain('data kept;');
    expect(await ldapAccounts(ports.ldap, username)).toHaveLength(1);
    expect(await ldapGroups(ports.ldap, username)).toEqual(['all-staff', 'contractors', 'sales']);
    expect(await scimUsers(ports.scim, 'p-cora')).toMatchObject([{ active: true }]);
    expect(mailIn(dev.dataDir)).toHaveLength(1);

    // HR sends a starter before their manager: the starter's run waits for the manager's record
    // (its one timer: the first day has passed), then emails her
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    const temporal = new Client({ connection });
    const timersOf = async (workflowId: string) =>
      ((await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [])
        .filter((e) => e.timerStartedEventAttributes)
        .map((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds));
    const theo = { id: 'p-theo', givenName: 'Theo', familyName: 'Marsh', managerId: 'p-zara' };
    expect((await dev.post(joiner('j-theo', theo))).status).toBe(202);
    const theoRun = await eventually('the starter to wait for the manager', async () => {
      const id = (await dev.event('it', 'j-theo')).body.runs?.[0]?.workflowId;
      return id && (await timersOf(id)).length ? id : undefined;
    });
    const zara = { id: 'p-zara', givenName: 'Zara', familyName: 'Lind', email: 'zara@example.com' };
    expect((await dev.post(joiner('j-zara', zara))).status).toBe(202);

    // ... and a leaver for the person from before the restart completes: every managed group
    // removed, account disabled, CRM user deleted (the CRM deletes terminated persons' users)
    const leaver = {
      source: 'it',
      id: 'l-cora',
      type: 'person.leaver',
      occurredAt: new Date().toISOString(),
      effectiveAt: new Date(Date.now() - 1_000).toISOString(),
      subject: { id: 'p-cora', employmentType: 'contractor' },
    };
    expect((await dev.post(leaver)).status).toBe(202);
    expect(await dev.runEnded('l-cora')).toBe('COMPLETED');
    expect((await dev.event('it', 'l-cora')).body.runs?.[0]?.flow).toBe('leaver-contractor');
    expect(await scimUsers(ports.scim, 'p-cora')).toEqual([]);
    expect(await ldapAccounts(ports.ldap, username)).toMatchObject([{ userAccountControl: '514' }]);
    expect(await ldapGroups(ports.ldap, username)).toEqual([]);

    expect(await dev.runEnded('j-theo', 120_000)).toBe('COMPLETED');
    const toZara = mailIn(dev.dataDir)
      .map((f) => readFileSync(join(dev.dataDir, 'mail', f), 'utf8'))
      .filter((m) => /^To: zara@example\.com/m.test(m));
    expect(toZara).toHaveLength(1);
    expect(toZara[0]).toContain('Hello Zara Lind,');
    expect(await timersOf(theoRun)).toEqual([30]);
    await connection.close();
    expect((await dev.stop()).code).toBe(0);

    // --reset: the directory is seeded again, the SCIM users and the mail are gone, and so is
    // Temporal's state (PostgreSQL at DATABASE_URL is left alone)
    await dev.start('--reset');
    expect(dev.output).toContain('seeded;');
    expect(await ldapAccounts(ports.ldap, username)).toEqual([]);
    expect(await scimUsers(ports.scim)).toEqual([]);
    expect(mailIn(dev.dataDir)).toEqual([]);
    expect((await dev.event('it', 'j-noor')).body.runs?.[0]?.status).toBe('NOT_FOUND');
    expect((await dev.stop()).code).toBe(0);
  }, 900_000);
});

test('a Temporal dev server that cannot be restarted ends idflow dev with exit status 1, naming it', async () => {
  const base = mkdtempSync(join(tmpdir(), 'idflow-giveup-'));
  const ports = await freePorts();
  // a Temporal CLI that starts once, then refuses
  const cli = join(base, 'temporal-once');
  writeFileSync(
    cli,
    `#!/bin/sh
n=$(cat "${base}/starts" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "${base}/starts"
[ "$n" -gt 1 ] && { echo "refusing to start" >&2; exit 7; }
exec "${findTemporalCli(process.env.TEMPORAL_CLI)}" "$@"
`,
    { mode: 0o755 },
  );
  const dev = new Dev({
    name: 'give-up',
    cwd: ROOT,
    ports,
    dataDir: join(base, 'data'),
    definitions: join(ROOT, 'definitions'),
    withTargets: false,
    env: { TEMPORAL_CLI: cli },
  });
  running.push(dev);
  seedBundle(dev.dataDir);
  await dev.start();
  process.kill(dev.temporalPid() as number, 'SIGKILL');
  const exit = await eventually(
    'idflow dev to give up',
    () => (dev.child?.exitCode !== null ? dev.child?.exitCode : undefined),
    120_000,
  );
  expect(exit).toBe(1);
  expect(readFileSync(join(base, 'starts'), 'utf8').trim()).toBe('6');
  expect(dev.lines(/restarting it in/)).toHaveLength(5);
  const [fatal] = dev.lines(/"level":60/);
  expect(fatal).toContain('idflow dev is stopping: the Temporal dev server (127.0.0.1:');
  expect(fatal).toContain(
    'keeps exiting (last: did not start: the Temporal dev server exited (exit code 7)',
  );
  expect(fatal).toContain('gave up after 5 restarts in a row');
}, 300_000);
