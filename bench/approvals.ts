/**
 * Approvals at scale: RUNS runs (default 1000) waiting on one approver at once, started in a
 * batch the way the dispatch workflow starts them. Prints the worker's RSS while they wait and
 * the latency of listing the approver's tasks, side by side with its baselines in the same run:
 *
 * - `GET /v1/approvals` (first page of 50, and every page of 200) — the listing through the
 *   gateway, read from the approval_tasks table;
 * - the same lookup straight through the repository, and the raw SQL index range alone
 *   (EXPLAIN ANALYZE) — what the HTTP layer adds;
 * - the listing as it was before the table (a visibility list, then a `state` query per run),
 *   while at most OLD_MAX (default 1000) wait: beyond that it takes minutes.
 *
 * The figures are printed at every thousand runs waiting (while later runs are still being
 * created) and once all RUNS wait.
 *
 * Then APPROVE (default 100) of the tasks are approved through the API.
 *
 * Run: npm run bench:approvals   (RUNS=1000 OLD_MAX=1000 APPROVE=100 CONCURRENCY=16 HEAP_MB=512)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import { waitingTasks } from '../src/db/repos/approval-tasks';
import { insertPersonIfAbsent } from '../src/db/repos/persons';
import { TokenService } from '../src/gateway/services/tokens';
import type { RunState } from '../src/temporal/contracts';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import { equals, visibilityQuery } from '../src/temporal/visibility';
import { startWaitingRuns } from '../test/support/approval-runs';
import { Harness, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';

const RUNS = Number(process.env.RUNS ?? 1000);
const OLD_MAX = Number(process.env.OLD_MAX ?? 1000);
const APPROVE = Number(process.env.APPROVE ?? 100);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const HEAP_MB = Number(process.env.HEAP_MB ?? 512);
const SAMPLES = 21;

function rssMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid ?? 0}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
}

async function inParallel<T>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Median and p95 of `fn`'s duration over SAMPLES runs (after one warm-up), in ms. */
async function timed(fn: () => Promise<unknown>): Promise<string> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN).toFixed(1);
  return `median ${at(0.5)} ms, p95 ${at(0.95)} ms`;
}

async function main(): Promise<void> {
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    dbFilename: join(mkdtempSync(join(tmpdir(), 'idflow-bench-')), 'temporal.db'),
    logFile: join(ROOT, '.idflow', 'bench-approvals-temporal.log'),
  });
  const h = new Harness({
    definitions: ['bench/definitions'],
    temporalAddress: server.address,
    // The worker's V8 heap otherwise grows lazily towards Node's default limit (several GiB
    // on a large machine) long before it needs to; production workers set the same cap.
    env: {
      IDFLOW_RATE_LIMIT_PER_MINUTE: '1000000',
      NODE_OPTIONS: process.env.NODE_OPTIONS ?? `--max-old-space-size=${HEAP_MB}`,
    },
  });
  const rows = async <T>(query: SQL): Promise<T[]> => {
    const result: unknown = await h.db.db.execute(query);
    return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
  };
  try {
    await h.start();
    await insertPersonIfAbsent(h.db.db, {
      id: 'b-mgr',
      displayName: 'Mina Manager',
      status: 'active',
    });
    const token = (
      await new TokenService(h.db.db).create({
        name: 'b-mgr',
        scopes: ['approvals'],
        personId: 'b-mgr',
        actor: 'bench',
      })
    ).token;
    console.log(
      `idflow approvals benchmark — ${RUNS} runs waiting on one approver, Temporal dev server ${server.address} (file-backed)`,
    );
    console.log(`worker RSS before: ${rssMiB(h.worker?.pid, 'VmRSS').toFixed(0)} MiB`);

    const get = async (path: string) => {
      const res = await h.request<{ tasks: Array<{ taskId: string }>; next?: string }>(
        'GET',
        path,
        { token },
      );
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const waitingNow = async () => {
      const [count] = await rows<{ n: number }>(
        sql`select count(*)::int as n from approval_assignees where person_id = 'b-mgr'`,
      );
      return Number(count?.n ?? 0);
    };

    /** The listing and its baselines, side by side, with `n` tasks waiting. */
    const measure = async (n: number, final: boolean) => {
      console.log(
        `\n${n} runs waiting after ${((Date.now() - t0) / 1000).toFixed(0)} s — worker RSS ${rssMiB(h.worker?.pid, 'VmRSS').toFixed(0)} MiB (peak ${rssMiB(h.worker?.pid, 'VmHWM').toFixed(0)} MiB)${final ? '' : ', runs still being created'}`,
      );
      console.log(
        `  GET /v1/approvals?approver=b-mgr (first page, 50):        ${await timed(() => get('/v1/approvals?approver=b-mgr'))}`,
      );
      console.log(
        `  the same lookup through the repository (no HTTP):      ${await timed(() =>
          waitingTasks(h.db.db, { persons: ['b-mgr'], notAbout: 'b-mgr', limit: 50 }),
        )}`,
      );
      const plan = await rows<{ 'QUERY PLAN': string }>(
        sql`explain analyze select task_id, person_id, deadline from approval_assignees
            where person_id = 'b-mgr' and subject_id <> 'b-mgr'
            order by deadline, task_id limit 51`,
      );
      const execution = plan
        .map((r) => r['QUERY PLAN'])
        .find((l) => l.startsWith('Execution Time'));
      const usesIndex = plan.some((r) => r['QUERY PLAN'].includes('approval_assignees_person_idx'));
      console.log(
        `  raw SQL index range (EXPLAIN ANALYZE):                  ${execution ?? '?'}${usesIndex ? ' (approval_assignees_person_idx)' : ' (NOT using the index)'}`,
      );
      if (final) {
        const walk = performance.now();
        let pages = 0;
        let listed = 0;
        let cursor: string | undefined;
        do {
          const page = await get(
            `/v1/approvals?approver=b-mgr&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
          pages++;
          listed += page.tasks.length;
          cursor = page.next;
        } while (cursor);
        console.log(
          `  every page of 200 through the API:                      ${listed} tasks in ${pages} pages, ${(performance.now() - walk).toFixed(0)} ms`,
        );
      }
      if (n <= OLD_MAX) {
        // the listing before the table: visibility names the runs, a `state` query per run
        const before = performance.now();
        const ids: string[] = [];
        for await (const run of h.client.workflow.list({
          query: visibilityQuery(equals('IdflowPendingApprovers', 'b-mgr')),
        }))
          ids.push(run.workflowId);
        let open = 0;
        let failed = 0;
        // as the former listing did: 16 at a time, 10 s each, a failed query skipped
        await inParallel(ids, 16, async (id) => {
          try {
            const state = await h.client.withDeadline(Date.now() + 10_000, () =>
              h.client.workflow.getHandle(id).query<RunState>('state'),
            );
            open += state.approvals.filter((t) => t.status === 'open').length;
          } catch {
            failed++;
          }
        });
        console.log(
          `  baseline: visibility + a state query per run (before): ${open} tasks in ${(performance.now() - before).toFixed(0)} ms${failed ? ` (${failed} of ${ids.length} queries failed or timed out)` : ''}`,
        );
      }
    };

    const t0 = Date.now();
    let started = false;
    const starting = startWaitingRuns(h, {
      flow: 'bench-approval',
      eventType: 'bench.approval',
      count: RUNS,
      prefix: 'b',
      managerId: 'b-mgr',
    }).then(() => {
      started = true;
      console.log(`all ${RUNS} runs started after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    });
    const milestones = [
      ...new Set([
        ...Array.from({ length: Math.floor(RUNS / 1000) }, (_, i) => (i + 1) * 1000),
        RUNS,
      ]),
    ].sort((a, b) => a - b);
    let seconds = 0;
    // runs that fail before their approval never wait: once every run has started and the
    // count has not moved for a minute, the last milestone is measured at what was reached
    let last = -1;
    let lastMoved = Date.now();
    for (const milestone of milestones) {
      let waiting = await waitingNow();
      while (waiting < milestone) {
        if (waiting !== last) [last, lastMoved] = [waiting, Date.now()];
        if (started && Date.now() - lastMoved > 60_000) break;
        await new Promise((resolve) => setTimeout(resolve, 2000));
        waiting = await waitingNow();
      }
      seconds = (Date.now() - t0) / 1000;
      if (waiting < milestone) {
        console.log(`\n${RUNS - waiting} of ${RUNS} runs never reached their approval`);
        await measure(waiting, true);
        break;
      }
      await measure(milestone, milestone === RUNS);
    }
    await starting;
    console.log(
      `\n${RUNS} runs waiting on b-mgr (written to approval_tasks) after ${seconds.toFixed(1)} s (${(RUNS / seconds).toFixed(1)}/s)`,
    );
    console.log(
      `worker RSS after listing: ${rssMiB(h.worker?.pid, 'VmRSS').toFixed(0)} MiB (peak ${rssMiB(h.worker?.pid, 'VmHWM').toFixed(0)} MiB)`,
    );

    const first = await get(`/v1/approvals?approver=b-mgr&limit=${Math.min(200, APPROVE || 1)}`);
    const toApprove = first.tasks.slice(0, APPROVE);
    if (toApprove.length) {
      const t2 = Date.now();
      await inParallel(toApprove, CONCURRENCY, async (task) => {
        const res = await h.request('POST', `/v1/approvals/${task.taskId}/decision`, {
          token,
          body: { decision: 'approve' },
        });
        if (res.status !== 200)
          throw new Error(`decision: ${res.status} ${JSON.stringify(res.body)}`);
      });
      const approveSeconds = (Date.now() - t2) / 1000;
      console.log(
        `approved ${toApprove.length} through the API in ${approveSeconds.toFixed(1)} s (${(toApprove.length / approveSeconds).toFixed(1)}/s, ${CONCURRENCY} at a time)`,
      );
    }
    console.log(
      `worker peak RSS: ${rssMiB(h.worker?.pid, 'VmHWM').toFixed(0)} MiB; gateway peak RSS: ${rssMiB(h.gateway?.pid, 'VmHWM').toFixed(0)} MiB`,
    );
  } finally {
    await h.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
