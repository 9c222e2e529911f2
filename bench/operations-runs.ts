/**
 * The `runs` section of bench/operations.ts: what a page of `GET /v1/runs` costs over RUNS
 * (default 10,000) runs in Temporal visibility, against the raw visibility list call it is
 * built on, in the same run.
 *
 * The runs carry idflow's search attributes, a static summary and the summary memo as the
 * dispatch workflow sets them (flow, person, event type, status, definition hash), spread over
 * PEOPLE (default 1,000) persons: 86% Completed, 2% each Parked, Waiting, Failed, Cancelled, 6% Running. They
 * are `runFlow` executions started directly on a task queue no worker polls; the closed ones
 * are then terminated. A real flow's run costs a dispatch workflow, the person's timeline and
 * PostgreSQL writes: REAL_RUNS (default 100) runs of a one-step flow go through `POST
 * /v1/events` first, so the table says what 10,000 of those would take, and they are listed
 * with the others. LEGACY (default PAGE) more runs, of event type `person.rehire` and persons
 * of their own, carry no memo, as runs started before idflow set it: listing them takes a
 * describe call each.
 *
 * Timed, page size PAGE (default 50, the API's default): the first page, a person's page, the
 * Parked runs' page, page DEEP (default 20) reached through the cursor, and the page of runs
 * without the memo — each as the raw `listWorkflowExecutions` call, as `listRuns` in-process
 * without and with the summaries (from the memo; one describe call per run without it, ten at
 * a time), and as `GET /v1/runs` on the gateway; TRIES (default 20) times each after two
 * warm-ups, the four ways of one page taking turns.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { runsQuery, type RunFilter } from '../src/runs/filter';
import { listRuns } from '../src/runs/list';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import { summaryMemo } from '../src/temporal/summaries';
import {
  IdflowDefinitionHash,
  IdflowEventType,
  IdflowFlow,
  IdflowStatus,
  IdflowSubject,
  type RunStatus,
} from '../src/temporal/search-attributes';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';
import { quantiles, type Timing } from './timing';

const RUNS = Number(process.env.RUNS ?? 10_000);
const PEOPLE = Number(process.env.PEOPLE ?? 1_000);
const REAL_RUNS = Number(process.env.REAL_RUNS ?? 100);
const TRIES = Number(process.env.TRIES ?? 20);
const PAGE = Number(process.env.PAGE ?? 50);
const DEEP = Number(process.env.DEEP ?? 20);
const LEGACY = Number(process.env.LEGACY ?? PAGE);
/** Starts (or terminations) in flight at once. */
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 64);

/**
 * Median and p95 of each of `fns`' durations, in ms: two warm-ups each, then TRIES rounds that
 * run every one of them once, each round starting one further along, so a drift of the
 * machine's load (Temporal settling after the seeding) weighs on all of them alike.
 */
async function timedSideBySide(fns: Array<() => Promise<unknown>>): Promise<Timing[]> {
  for (const fn of fns) for (let i = 0; i < 2; i++) await fn();
  const times = fns.map((): number[] => []);
  for (let round = 0; round < TRIES; round++) {
    for (let k = 0; k < fns.length; k++) {
      const j = (round + k) % fns.length;
      const start = performance.now();
      await fns[j]?.();
      times[j]?.push(performance.now() - start);
    }
  }
  return times.map(quantiles);
}

/** Runs `fn` for 0…n-1, IN_FLIGHT at a time; the time it took in ms. */
async function inParallel(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n) }, lane));
  return performance.now() - start;
}

const FLOWS = [
  ['joiner-standard', 'person.joiner'],
  ['mover-standard', 'person.mover'],
  ['leaver-standard', 'person.leaver'],
  ['leaver-contractor', 'person.leaver'],
] as const;

/** The idflow status of synthetic run `i`: 86% Completed, 2% each of the rare ones, 6% Running. */
function statusOf(i: number): RunStatus {
  const r = i % 50;
  if (r === 0) return 'Parked';
  if (r === 1) return 'Waiting';
  if (r === 2) return 'Failed';
  if (r === 3) return 'Cancelled';
  if (r <= 6) return 'Running';
  return 'Completed';
}
const closed = (status: RunStatus) => ['Completed', 'Failed', 'Cancelled'].includes(status);
const personOf = (tag: string, i: number) => `br-${tag}-${String(i % PEOPLE).padStart(5, '0')}`;

/** One flow with one `set` step: the smallest real run. */
const REAL_DEFINITIONS = `apiVersion: idflow/v1
kind: Policy
metadata: { name: bench-runs }
rules:
  - { on: [bench.runs], run: [bench-runs-noop] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: bench-runs-noop, title: Bench no-op }
steps:
  - id: note
    set: { done: true }`;

/** The event type of the LEGACY runs, started without the summary memo. */
const LEGACY_TYPE = 'person.rehire';

/**
 * Starts LEGACY runs without the summary memo and RUNS with it, terminates the closed ones; the
 * time of each phase in ms.
 */
async function seedRuns(
  client: Client,
  tag: string,
): Promise<{ startMs: number; closeMs: number; closedCount: number }> {
  const taskQueue = `bench-runs-idle-${tag}`; // no worker polls it
  const hash = randomBytes(32).toString('hex');
  const idOf = (i: number) => {
    const [flow] = FLOWS[i % FLOWS.length] ?? FLOWS[0];
    return `flow/${flow}/${personOf(tag, i)}/evt-${tag}-${i}`;
  };
  await inParallel(LEGACY, async (i) => {
    const person = `br-${tag}-legacy-${i}`;
    await client.workflow.start('runFlow', {
      taskQueue,
      workflowId: `flow/joiner-standard/${person}/evt-${tag}-legacy-${i}`,
      args: [],
      staticSummary: `joiner-standard: ${LEGACY_TYPE} for ${person}`,
      typedSearchAttributes: [
        { key: IdflowFlow, value: 'joiner-standard' },
        { key: IdflowSubject, value: person },
        { key: IdflowEventType, value: LEGACY_TYPE },
        { key: IdflowStatus, value: 'Running' },
        { key: IdflowDefinitionHash, value: hash },
      ],
    });
  });
  const startMs = await inParallel(RUNS, async (i) => {
    const [flow, eventType] = FLOWS[i % FLOWS.length] ?? FLOWS[0];
    const person = personOf(tag, i);
    const summary = `${flow}: ${eventType} for ${person}`;
    await client.workflow.start('runFlow', {
      taskQueue,
      workflowId: idOf(i),
      args: [],
      staticSummary: summary,
      memo: summaryMemo(summary),
      typedSearchAttributes: [
        { key: IdflowFlow, value: flow },
        { key: IdflowSubject, value: person },
        { key: IdflowEventType, value: eventType },
        { key: IdflowStatus, value: statusOf(i) },
        { key: IdflowDefinitionHash, value: hash },
      ],
    });
  });
  const toClose = Array.from({ length: RUNS }, (_, i) => i).filter((i) => closed(statusOf(i)));
  const closeMs = await inParallel(toClose.length, (k) =>
    client.workflow.getHandle(idOf(toClose[k] ?? 0)).terminate('bench: a closed run'),
  );
  return { startMs, closeMs, closedCount: toClose.length };
}

/** Posts REAL_RUNS events of the one-step flow and waits for their runs; the time in ms. */
async function realRuns(h: Harness, tag: string): Promise<number> {
  const runIds: string[] = [];
  const start = performance.now();
  await inParallel(REAL_RUNS, async (i) => {
    const subject = { id: `brr-${tag}-${i}` };
    const event = makeEvent('bench.runs', subject);
    const res = await h.postEvent(event);
    if (res.status !== 202) throw new Error(`event ${i}: ${res.status}`);
    runIds.push(`flow/bench-runs-noop/${subject.id}/${event.id as string}`);
  });
  await inParallel(runIds.length, async (k) => {
    const outcome = await h.runOutcome(runIds[k] ?? '', 120_000);
    if (!outcome.ok) throw new Error(`${runIds[k]}: ${outcome.message}`);
  });
  return performance.now() - start;
}

/** Waits until visibility counts `expected` runs of `query`; the time it waited in ms. */
async function visible(client: Client, query: string, expected: number): Promise<number> {
  const start = performance.now();
  const deadline = Date.now() + 300_000;
  for (;;) {
    const { count } = await client.workflow.count(query);
    if (count >= expected) return performance.now() - start;
    if (Date.now() > deadline)
      throw new Error(`visibility shows ${count} of ${expected} runs of ${query}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perSec = (n: number, ms: number) => `${Math.round((n * 1000) / ms)}/s`;

export async function runsSection(): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  const defsDir = join(ROOT, '.idflow', 'bench', `operations-runs-${tag}`);
  mkdirSync(defsDir, { recursive: true });
  writeFileSync(join(defsDir, 'bench.yaml'), REAL_DEFINITIONS);
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    logFile: join(ROOT, '.idflow', 'bench', 'operations-runs-temporal.log'),
  });
  const h = new Harness({
    definitions: [join('.idflow', 'bench', `operations-runs-${tag}`)],
    temporalAddress: server.address,
  });
  try {
    await h.start();
    const client = h.client;
    console.log(
      `\nGET /v1/runs over ${RUNS.toLocaleString('en-US')} runs of ${PEOPLE.toLocaleString('en-US')} persons (+${REAL_RUNS} real); Temporal dev server ${server.address} (SQLite visibility, in memory)\n`,
    );

    const realMs = REAL_RUNS > 0 ? await realRuns(h, tag) : 0;
    if (REAL_RUNS > 0)
      console.log(
        `real runs (POST /v1/events → dispatch → timeline → run, one set step): ${REAL_RUNS} in ${secs(realMs)}, ${perSec(REAL_RUNS, realMs)} — 10,000 would take ~${secs((realMs * 10_000) / REAL_RUNS)}`,
      );
    const seeded = await seedRuns(client, tag);
    console.log(
      `synthetic runs (client start with the attributes, summary and memo): ${RUNS} started in ${secs(seeded.startMs)}, ${perSec(RUNS, seeded.startMs)}; ${seeded.closedCount} terminated in ${secs(seeded.closeMs)}, ${perSec(seeded.closedCount, seeded.closeMs)}`,
    );
    const all = runsQuery({});
    const waited = Math.max(
      await visible(client, all, RUNS + LEGACY + REAL_RUNS),
      await visible(
        client,
        `${all} AND ExecutionStatus != 'Running'`,
        seeded.closedCount + REAL_RUNS,
      ),
    );
    console.log(`visibility caught up ${secs(waited)} after the last termination`);

    // page DEEP's cursor, from the pages before it
    let cursor: string | undefined;
    for (let p = 1; p < DEEP; p++) {
      const page = await listRuns(
        client,
        { limit: PAGE, ...(cursor ? { cursor } : {}) },
        {
          summaries: false,
        },
      );
      cursor = page.nextCursor;
      if (!cursor) throw new Error(`only ${p} pages of ${PAGE}`);
    }
    const deepCursor = cursor;
    const rawToken = (c: string | undefined) =>
      c ? Buffer.from(c, 'base64url').subarray(8) : undefined;

    const person = personOf(tag, 7);
    const cases: Array<{ name: string; filter: RunFilter; rows: number }> = [
      { name: 'first page', filter: { limit: PAGE }, rows: 0 },
      { name: `one person (${RUNS / PEOPLE} runs)`, filter: { person, limit: PAGE }, rows: 0 },
      {
        name: `status=Parked (${RUNS / 50} runs)`,
        filter: { status: 'Parked', limit: PAGE },
        rows: 0,
      },
      { name: `page ${DEEP} by cursor`, filter: { limit: PAGE, cursor: deepCursor }, rows: 0 },
      {
        name: `no memo (${LEGACY} runs)`,
        filter: { eventType: LEGACY_TYPE, limit: PAGE },
        rows: 0,
      },
    ];

    // the describe calls listRuns makes for a page's summaries, counted
    let describes = 0;
    const counting = new Client({
      connection: client.connection,
      namespace: client.options.namespace,
      dataConverter: client.options.dataConverter,
      interceptors: {
        workflow: [
          {
            describe: (input, next) => {
              describes++;
              return next(input);
            },
          },
        ],
      },
    });

    const httpGet = async (filter: RunFilter) => {
      const qs = new URLSearchParams(
        Object.entries(filter).map(([k, v]) => [k, String(v)] as [string, string]),
      );
      const res = await h.request<{ runs: unknown[] }>('GET', `/v1/runs?${qs.toString()}`);
      if (res.status !== 200) throw new Error(`GET /v1/runs?${qs.toString()}: ${res.status}`);
      return res.body.runs.length;
    };

    const rows: Array<[string, string, Timing]> = [];
    for (const c of cases) {
      const query = runsQuery(c.filter);
      const token = rawToken(c.filter.cursor);
      c.rows = await httpGet(c.filter);
      describes = 0;
      await listRuns(counting, c.filter);
      const describeCalls = describes;
      const hows: Array<[string, () => Promise<unknown>]> = [
        [
          'baseline: listWorkflowExecutions',
          () =>
            client.workflowService.listWorkflowExecutions({
              namespace: client.options.namespace,
              query,
              pageSize: PAGE,
              ...(token ? { nextPageToken: token } : {}),
            }),
        ],
        ['listRuns, no summaries', () => listRuns(client, c.filter, { summaries: false })],
        [
          `listRuns + summaries (${describeCalls} describe call${describeCalls === 1 ? '' : 's'})`,
          () => listRuns(client, c.filter),
        ],
        ['GET /v1/runs (gateway, HTTP)', () => httpGet(c.filter)],
      ];
      const timings = await timedSideBySide(hows.map(([, fn]) => fn));
      hows.forEach(([how], k) =>
        rows.push([k === 0 ? c.name : '', how, timings[k] ?? { p50: 0, p95: 0 }]),
      );
    }

    const oneId = (await listRuns(client, { limit: 1 }, { summaries: false })).runs[0]?.workflowId;
    if (!oneId) throw new Error('no run listed');
    rows.push([
      'one run',
      'describe (its static summary)',
      (await timedSideBySide([() => client.workflow.getHandle(oneId).describe()]))[0] ?? {
        p50: 0,
        p95: 0,
      },
    ]);

    console.log(
      `\nA page of ${PAGE}, ${TRIES} tries each after two warm-ups, the ways of one page taking turns\n`,
    );
    const w1 = Math.max(...rows.map(([a]) => a.length), 4);
    const w2 = Math.max(...rows.map(([, b]) => b.length));
    console.log(
      `${'page'.padEnd(w1)}  ${'how'.padEnd(w2)}  ${'p50 ms'.padStart(8)}  ${'p95 ms'.padStart(8)}`,
    );
    for (const [a, b, t] of rows)
      console.log(
        `${a.padEnd(w1)}  ${b.padEnd(w2)}  ${t.p50.toFixed(2).padStart(8)}  ${t.p95.toFixed(2).padStart(8)}`,
      );
    console.log(
      `\nrows per page: ${cases.map((c) => `${c.name} ${c.rows}`).join(', ')}. The summaries come from each run's memo, which visibility returns with the list; a run without it (started before idflow set it) costs one describe call for its static summary.`,
    );
  } finally {
    await h.close();
    await server.stop();
    rmSync(defsDir, { recursive: true, force: true });
  }
}
