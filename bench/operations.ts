/**
 * What operating idflow costs: each section below measures one operator-facing read against
 * its own baseline in the same run, and prints a table.
 *
 *   npm run bench:operations               every section
 *   npm run bench:operations -- metrics    only the named sections
 *
 * Sections
 * --------
 * - `metrics` — the /metrics scrape cost: time per scrape and bytes of a worker's `GET
 *   /metrics` (token check, idflow's registry, the approvals-pending gauge read from
 *   PostgreSQL, the Temporal SDK's exporter), side by side with prom-client's
 *   `registry.metrics()` alone, the Temporal exporter alone, and the approvals query alone.
 *   FLOWS (default 20) flows and EVENTS (default 200) runs make the series; OPEN_TASKS (default
 *   10000) open approval tasks make the gauge's query.
 * - `runs` — a page of `GET /v1/runs` over RUNS (default 10,000) runs: the first page, one
 *   person's, the Parked runs', and a page deep in the list by cursor, each as the raw
 *   Temporal visibility list call, as `listRuns` with and without the summaries (from each
 *   run's memo, a describe call for a run without it), and through the gateway; and a page of
 *   runs without the memo. See bench/operations-runs.ts.
 *
 * - `audit` — appends per second with the hash chain against a plain INSERT, then `GET
 *   /v1/audit` over ROWS (default 100,000) chained rows: the first page, a page deep by cursor,
 *   a filtered page and a time window against the plain SQL query, a CSV export of the whole
 *   log against COPY, and a verify walk. See bench/operations-audit.ts.
 *
 * A new section is one async function in SECTIONS that prints its own table.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { openTasksByFlow } from '../src/db/repos/approval-tasks';
import { TokenService } from '../src/gateway/services/tokens';
import { countEvent, countRun, observeStep, ownMetrics } from '../src/metrics';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';
import { auditSection } from './operations-audit';
import { runsSection } from './operations-runs';
import { timed as timedRuns, type Timing } from './timing';

const SAMPLES = Number(process.env.SAMPLES ?? 101);

/** Median and p95 of `fn`'s duration over SAMPLES runs (after three warm-ups), in ms. */
const timed = (fn: () => Promise<unknown>): Promise<Timing> => timedRuns(fn, SAMPLES, 3);

function table(title: string, rows: Array<[string, Timing, number]>): void {
  console.log(`\n${title}\n`);
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`${'what'.padEnd(width)}  ${'p50 ms'.padStart(8)}  ${'p95 ms'.padStart(8)}  bytes`);
  for (const [name, t, bytes] of rows) {
    console.log(
      `${name.padEnd(width)}  ${t.p50.toFixed(2).padStart(8)}  ${t.p95.toFixed(2).padStart(8)}  ${bytes}`,
    );
  }
}

/** Flows that each call one idstore op (a local activity) and set a variable. */
function metricsDefinitions(flows: number): string {
  const docs = [
    `apiVersion: idflow/v1
kind: Connector
metadata: { name: bench-people }
type: idstore`,
    `apiVersion: idflow/v1
kind: Policy
metadata: { name: bench-metrics }
rules:
${Array.from({ length: flows }, (_, i) => `  - { on: [bench.f${i}], run: [bench-f${i}] }`).join('\n')}`,
  ];
  for (let i = 0; i < flows; i++) {
    docs.push(`apiVersion: idflow/v1
kind: Flow
metadata: { name: bench-f${i}, title: Bench flow ${i} }
steps:
  - id: record
    action:
      connector: bench-people
      op: upsertPerson
      args: { id: '\${subject.id}', status: active }
  - id: note
    set: { done: true }`);
  }
  return docs.join('\n---\n');
}

async function metricsSection(): Promise<void> {
  const FLOWS = Number(process.env.FLOWS ?? 20);
  const EVENTS = Number(process.env.EVENTS ?? 200);
  const OPEN_TASKS = Number(process.env.OPEN_TASKS ?? 10_000);
  const tag = randomBytes(3).toString('hex');
  const defsDir = join(ROOT, '.idflow', 'bench', `operations-metrics-${tag}`);
  mkdirSync(defsDir, { recursive: true });
  writeFileSync(join(defsDir, 'bench.yaml'), metricsDefinitions(FLOWS));
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    logFile: join(ROOT, '.idflow', 'bench', 'operations-temporal.log'),
  });
  const metricsPort = await freePort();
  const temporalPort = await freePort();
  const h = new Harness({
    definitions: [join('.idflow', 'bench', `operations-metrics-${tag}`)],
    temporalAddress: server.address,
    env: {
      IDFLOW_METRICS_PORT: String(metricsPort),
      IDFLOW_TEMPORAL_METRICS_PORT: String(temporalPort),
    },
  });
  try {
    await h.start();
    // runs, so the worker's registry and the Temporal exporter hold the series they would
    const sent: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const event = makeEvent(`bench.f${i % FLOWS}`, { id: `bench-${tag}-${i}` });
      const res = await h.postEvent(event);
      if (res.status !== 202) throw new Error(`event ${i}: ${res.status}`);
      sent.push(`flow/bench-f${i % FLOWS}/bench-${tag}-${i}/${event.id as string}`);
    }
    for (const runId of sent) await h.runOutcome(runId, 60_000);
    // open approval tasks for the gauge's query, spread over the flows
    await h.db.db.execute(sql`
      insert into approval_tasks (task_id, workflow_id, step, flow, title, subject_id, request,
        mode, status, level, approvers, opened_at, deadline, version)
      select 'bench-' || g, 'flow/bench/' || g, 'ask', 'bench-f' || (g % ${FLOWS}), 'Ask',
        'p-' || g, 'Access?', 'any', 'open', 0, array['p-mgr'], now(), now() + interval '1 day', 1
      from generate_series(1, ${OPEN_TASKS}) g`);

    // the same series in this process, for prom-client alone
    for (let i = 0; i < EVENTS; i++) {
      const flow = `bench-f${i % FLOWS}`;
      countEvent('received', 'test-hr', `bench.f${i % FLOWS}`);
      countRun('started', flow);
      countRun('completed', flow);
      observeStep('bench-people', 'upsertPerson', 0.004, 'ok');
    }
    const own = await ownMetrics();

    const { token } = await new TokenService(h.db.db).create({
      name: `bench-metrics-${tag}`,
      scopes: ['metrics:read'],
      actor: 'bench',
    });
    const scrapeUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const temporalUrl = `http://127.0.0.1:${temporalPort}/metrics`;
    const scrape = async () => {
      const res = await fetch(scrapeUrl, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
      return res.text();
    };
    const full = await scrape();
    const temporal = await (await fetch(temporalUrl)).text();
    const bytes = (s: string) => Buffer.byteLength(s);

    table(`/metrics scrape cost (${FLOWS} flows, ${EVENTS} runs, ${OPEN_TASKS} open approvals)`, [
      [
        'baseline: prom-client registry.metrics() alone',
        await timed(() => ownMetrics()),
        bytes(own),
      ],
      [
        'the Temporal SDK exporter alone (loopback HTTP)',
        await timed(async () => (await fetch(temporalUrl)).text()),
        bytes(temporal),
      ],
      [
        'the approvals-pending query alone (uncached)',
        await timed(() => openTasksByFlow(h.db.db)),
        0,
      ],
      ['GET /metrics on the worker (token, all of it)', await timed(scrape), bytes(full)],
    ]);
    console.log(
      '\nThe approvals gauge reads PostgreSQL at most every 5 s: a scrape within that serves the last reading.',
    );
  } finally {
    await h.close();
    await server.stop();
    rmSync(defsDir, { recursive: true, force: true });
  }
}

const SECTIONS: Record<string, () => Promise<void>> = {
  metrics: metricsSection,
  runs: runsSection,
  audit: auditSection,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const name of wanted) {
    if (!SECTIONS[name])
      throw new Error(`no section '${name}'; sections: ${Object.keys(SECTIONS).join(', ')}`);
  }
  for (const [name, section] of Object.entries(SECTIONS)) {
    if (wanted.length === 0 || wanted.includes(name)) await section();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
