/**
 * The `audit` section of bench/operations.ts: what the hash chain costs a writer, and what
 * `GET /v1/audit` costs over ROWS (default 100,000) audit rows, each against a baseline in the
 * same run, in a scratch PostgreSQL database (IDFLOW_TEST_POSTGRES_URL's server).
 *
 * 1. Appends per second, one writer and WRITERS (default 8) at once: `appendAudit` (the row,
 *    its hash, under the chain's lock, in its transaction) against the plain INSERT … ON
 *    CONFLICT DO NOTHING the log was before it had a chain.
 * 2. ROWS chained rows are seeded (hashes computed here, inserted in batches): 90 days of 50
 *    actors, 20 actions, 10,000 targets. Then, TRIES (default 50) times each after a warm-up:
 *    the first page, a page 90% deep in the log (by cursor), a page filtered by actor and
 *    action, and a time window — each as the plain SQL query alone, as the in-process
 *    `auditPage`, and as `GET /v1/audit` on an in-process gateway (token check, validation,
 *    JSON). Last, once each: a CSV export of the whole log through the gateway against
 *    `COPY … TO STDOUT WITH CSV` of the same rows, and `idflow audit verify` of the chain.
 */
import type { Server } from 'node:http';
import { Client } from '@temporalio/client';
import postgres from 'postgres';
import { asStoredJson, chainHash, GENESIS_HASH } from '../src/audit/chain';
import { auditPage, AuditQuerySchema, encodeCursor } from '../src/audit/query';
import { verifyChain } from '../src/audit/verify';
import { loadConfig } from '../src/config';
import { openDatabase, type Database } from '../src/db/client';
import { appendAudit, type AuditEntry } from '../src/db/repos/audit';
import { auditLog } from '../src/db/schema';
import { createGatewayApp } from '../src/gateway/server';
import { TokenService } from '../src/gateway/services/tokens';
import { createLogger } from '../src/logging';
import { createTestDatabase } from '../test/support/postgres';
import { timed as timedRuns, type Timing } from './timing';

const ROWS = Number(process.env.ROWS ?? 100_000);
const TRIES = Number(process.env.TRIES ?? 50);
const WRITERS = Number(process.env.WRITERS ?? 8);
const APPENDS = Number(process.env.APPENDS ?? 1_000);
const BATCH = 2_000;

/** Median and p95 of `fn`'s duration over TRIES runs after one warm-up, in ms. */
const timed = (fn: () => Promise<unknown>): Promise<Timing> => timedRuns(fn, TRIES, 1);

function printTable(title: string, header: string[], rows: string[][]): void {
  console.log(`\n${title}\n`);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

/** The log as it was written before it had a chain: one INSERT, no lock. */
async function plainInsert(db: Database, e: AuditEntry): Promise<void> {
  await db
    .insert(auditLog)
    .values({
      ...e,
      detail: e.detail ?? {},
      runId: e.runId ?? null,
      dedupeKey: e.dedupeKey ?? null,
    })
    .onConflictDoNothing({ target: auditLog.dedupeKey });
}

async function appendsPerSecond(
  append: (e: AuditEntry) => Promise<void>,
  tag: string,
  writers: number,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < APPENDS) {
        const i = next++;
        await append({
          actor: 'bench:writer',
          action: 'bench.appended',
          target: `bench:${i}`,
          outcome: 'ok',
          detail: { i, step: 'create-account' },
          dedupeKey: `${tag}:${i}`,
        });
      }
    }),
  );
  return APPENDS / ((performance.now() - start) / 1000);
}

async function appendSection(db: Database): Promise<void> {
  const rows: string[][] = [];
  for (const writers of [1, WRITERS]) {
    const plain = await appendsPerSecond((e) => plainInsert(db, e), `plain-${writers}`, writers);
    const chained = await appendsPerSecond((e) => appendAudit(db, e), `chain-${writers}`, writers);
    rows.push([
      `${writers} writer${writers === 1 ? '' : 's'}`,
      plain.toFixed(0),
      chained.toFixed(0),
    ]);
  }
  printTable(
    `audit appends per second (${APPENDS} each, PostgreSQL)`,
    ['', 'plain INSERT (baseline)', 'appendAudit (chained)'],
    rows,
  );
}

/** ROWS chained rows over the last 90 days, inserted a batch at a time. */
async function seed(db: Database, sql: postgres.Sql): Promise<void> {
  const start = Date.now() - 90 * 86_400_000;
  const step = Math.floor((90 * 86_400_000) / ROWS);
  const actions = Array.from({ length: 20 }, (_, i) => `bench.action-${i}`);
  let prevHash = GENESIS_HASH;
  const began = performance.now();
  for (let from = 1; from <= ROWS; from += BATCH) {
    const batch: Array<typeof auditLog.$inferInsert> = [];
    for (let seq = from; seq < Math.min(from + BATCH, ROWS + 1); seq++) {
      const content = {
        seq,
        at: new Date(start + seq * step),
        actor: `token:bench-${seq % 50}`,
        action: actions[seq % 20] as string,
        target: `person:p-${seq % 10_000}`,
        outcome: seq % 17 === 0 ? 'failed' : 'ok',
        detail: asStoredJson({ connector: 'corp-directory', step: `step-${seq % 7}`, attempt: 1 }),
        runId: `flow/bench/p-${seq % 10_000}/e-${seq}`,
        dedupeKey: `bench:${seq}`,
      };
      const hash = chainHash(prevHash, content);
      batch.push({ ...content, detail: content.detail, prevHash, hash });
      prevHash = hash;
    }
    await db.insert(auditLog).values(batch);
  }
  await sql`select setval('audit_log_seq_seq', ${ROWS})`;
  await sql`analyze audit_log`;
  console.log(
    `\nseeded ${ROWS} chained audit rows in ${((performance.now() - began) / 1000).toFixed(1)} s`,
  );
}

async function readSection(db: Database, sql: postgres.Sql): Promise<void> {
  await seed(db, sql);
  const h = await openGateway(db);
  try {
    const deep = Math.floor(ROWS * 0.1);
    const [mid] = await sql<
      Array<{ at: Date }>
    >`select at from audit_log where seq = ${Math.floor(ROWS / 2)}`;
    const from = mid!.at.toISOString();
    const to = new Date(mid!.at.getTime() + 86_400_000).toISOString();
    const cases: Array<{
      name: string;
      query: Record<string, string>;
      sql: () => Promise<unknown>;
    }> = [
      {
        name: 'first page (100)',
        query: { limit: '100' },
        sql: () => sql`select * from audit_log order by seq desc limit 101`,
      },
      {
        name: `page 90% deep (seq < ${deep})`,
        query: { limit: '100', cursor: encodeCursor('desc', deep) },
        sql: () => sql`select * from audit_log where seq < ${deep} order by seq desc limit 101`,
      },
      {
        name: 'actor and action',
        query: { limit: '100', actor: 'token:bench-7', action: 'bench.action-7' },
        sql: () =>
          sql`select * from audit_log where actor = 'token:bench-7' and action = 'bench.action-7' order by seq desc limit 101`,
      },
      {
        name: 'one day (from, to)',
        query: { limit: '100', from, to },
        sql: () =>
          sql`select * from audit_log where at >= ${from} and at < ${to} order by seq desc limit 101`,
      },
    ];
    const rows: string[][] = [];
    for (const c of cases) {
      const q = AuditQuerySchema.parse(c.query);
      const plain = await timed(c.sql);
      const inProcess = await timed(() => auditPage(db, q));
      const http = await timed(() => h.get(`/v1/audit?${new URLSearchParams(c.query).toString()}`));
      rows.push([
        c.name,
        `${plain.p50.toFixed(2)} / ${plain.p95.toFixed(2)}`,
        `${inProcess.p50.toFixed(2)} / ${inProcess.p95.toFixed(2)}`,
        `${http.p50.toFixed(2)} / ${http.p95.toFixed(2)}`,
      ]);
    }
    printTable(
      `GET /v1/audit over ${ROWS} rows, ms p50 / p95 (${TRIES} tries)`,
      ['page', 'SQL alone (baseline)', 'auditPage in-process', 'GET /v1/audit'],
      rows,
    );

    let start = performance.now();
    let copied = 0;
    const copy =
      await sql`copy (select * from audit_log order by seq) to stdout with csv header`.readable();
    for await (const chunk of copy) copied += (chunk as Buffer).length;
    const copyMs = performance.now() - start;
    start = performance.now();
    const csv = await h.get('/v1/audit?format=csv&order=asc');
    const csvMs = performance.now() - start;
    start = performance.now();
    const report = await verifyChain(db, { publicKeys: [] });
    const verifyMs = performance.now() - start;
    if (!report.ok) throw new Error(`the seeded chain does not verify: ${report.problem?.message}`);
    printTable(
      `the whole log (${ROWS} rows), once`,
      ['what', 'ms', 'rows/s', 'bytes'],
      [
        [
          'COPY … TO STDOUT CSV (baseline)',
          copyMs.toFixed(0),
          (ROWS / (copyMs / 1000)).toFixed(0),
          String(copied),
        ],
        [
          'GET /v1/audit?format=csv',
          csvMs.toFixed(0),
          (ROWS / (csvMs / 1000)).toFixed(0),
          String(csv.bytes),
        ],
        [
          'idflow audit verify (walk)',
          verifyMs.toFixed(0),
          (report.rowsVerified / (verifyMs / 1000)).toFixed(0),
          '-',
        ],
      ],
    );
  } finally {
    await h.close();
  }
}

/** The gateway's app in this process, on a free port, with a token that reads the audit log. */
async function openGateway(db: Database) {
  const config = loadConfig({
    IDFLOW_LOG_LEVEL: 'silent',
    IDFLOW_RATE_LIMIT_PER_MINUTE: '10000000',
  });
  // the audit route needs PostgreSQL only; the Temporal client connects lazily and never does
  const app = createGatewayApp(config, db, new Client(), createLogger('silent'));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const { token } = await new TokenService(db).create({
    name: 'bench-audit',
    scopes: ['audit:read'],
    actor: 'bench',
  });
  return {
    async get(path: string): Promise<{ bytes: number }> {
      const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.arrayBuffer();
      if (res.status !== 200)
        throw new Error(`${path}: ${res.status} ${Buffer.from(body).toString()}`);
      return { bytes: body.byteLength };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A scratch database with idflow's migrations, dropped afterwards. */
async function withScratch(fn: (db: Database, sql: postgres.Sql) => Promise<void>): Promise<void> {
  const scratch = await createTestDatabase('idflow_bench_audit');
  const handle = await openDatabase({ databaseUrl: scratch.url, dataDir: '', max: WRITERS + 2 });
  const sql = postgres(scratch.url, { max: 2, onnotice: () => undefined });
  try {
    await handle.migrate();
    await fn(handle.db, sql);
  } finally {
    await sql.end();
    await handle.close();
    await scratch.drop();
  }
}

export async function auditSection(): Promise<void> {
  await withScratch((db) => appendSection(db));
  await withScratch((db, sql) => readSection(db, sql));
}
