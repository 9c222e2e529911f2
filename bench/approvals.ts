/**
 * Approvals at scale: RUNS runs (default 1000) waiting on one approver at once, the worker's
 * memory while they wait, then every one approved through the API. Prints the worker's RSS,
 * the time to list the approver's tasks, to approve them all, and until every run completed.
 *
 * Run: npm run bench:approvals   (RUNS=1000 CONCURRENCY=16 HEAP_MB=512)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insertPersonIfAbsent } from '../src/db/repos/persons';
import { TokenService } from '../src/gateway/services/tokens';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';

const RUNS = Number(process.env.RUNS ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const HEAP_MB = Number(process.env.HEAP_MB ?? 512);

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

    const t0 = Date.now();
    const ids = Array.from({ length: RUNS }, (_, i) => i);
    await inParallel(ids, 32, async (i) => {
      const res = await h.postEvent(
        makeEvent('bench.approval', { id: `b-${i}`, managerId: 'b-mgr' }),
      );
      if (res.status !== 202) throw new Error(`event ${i}: ${res.status}`);
    });
    let waiting = 0;
    while (waiting < RUNS) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const count = await h.client.workflow.count(`IdflowPendingApprovers = 'b-mgr'`);
      waiting = count.count;
    }
    console.log(`${RUNS} runs waiting on b-mgr after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(
      `worker RSS with ${RUNS} runs waiting: ${rssMiB(h.worker?.pid, 'VmRSS').toFixed(0)} MiB (peak so far ${rssMiB(h.worker?.pid, 'VmHWM').toFixed(0)} MiB)`,
    );

    const t1 = Date.now();
    const list = await h.request<{ tasks: Array<{ taskId: string }> }>(
      'GET',
      '/v1/approvals?approver=b-mgr',
      { token },
    );
    if (list.status !== 200) throw new Error(`list: ${list.status} ${JSON.stringify(list.body)}`);
    console.log(
      `GET /v1/approvals?approver=b-mgr: ${list.body.tasks.length} tasks in ${((Date.now() - t1) / 1000).toFixed(1)} s`,
    );

    const t2 = Date.now();
    await inParallel(list.body.tasks, CONCURRENCY, async (task) => {
      const res = await h.request('POST', `/v1/approvals/${task.taskId}/decision`, {
        token,
        body: { decision: 'approve' },
      });
      if (res.status !== 200)
        throw new Error(`decision: ${res.status} ${JSON.stringify(res.body)}`);
    });
    const approveSeconds = (Date.now() - t2) / 1000;
    console.log(
      `approved all ${list.body.tasks.length} through the API in ${approveSeconds.toFixed(1)} s (${(list.body.tasks.length / approveSeconds).toFixed(0)}/s, ${CONCURRENCY} at a time)`,
    );
    let open = RUNS;
    while (open > 0) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      open = (
        await h.client.workflow.count(
          `IdflowFlow = 'bench-approval' AND ExecutionStatus = 'Running'`,
        )
      ).count;
    }
    console.log(
      `every run completed ${((Date.now() - t2) / 1000).toFixed(1)} s after the first decision`,
    );
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
