/**
 * The runtime benchmark, on a real Temporal dev server (file-backed, eager activities) and the
 * machine's PostgreSQL, with `idflow worker` and `idflow gateway` as processes, and the local
 * LDAP, SCIM and SMTP targets the reference joiner provisions into. Prints:
 *
 *  1. end to end: p50/p95/p99 from the gateway's 202 to the reference joiner run completed,
 *     for EVENTS events (default 500) offered at RATE per second (default 5);
 *  2. interpreter overhead: the reference joiner run by `runFlow` from its compiled IR, against
 *     the same joiner written by hand calling the same activities, interleaved on one worker;
 *  3. events accepted per second at the gateway (ACCEPT events, CONCURRENCY at a time);
 *  4. peak RSS of the worker and gateway processes.
 *
 * Run: npm run bench:runtime   (EVENTS=500 RATE=5 OVERHEAD_RUNS=200 ACCEPT=2000 CONCURRENCY=32)
 */
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTargets } from '../src/targets';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';
import { referenceJoiner } from './reference-joiner';
import { percentile } from './timing';

const EVENTS = Number(process.env.EVENTS ?? 500);
const RATE = Number(process.env.RATE ?? 5);
const OVERHEAD_RUNS = Number(process.env.OVERHEAD_RUNS ?? 200);
const ACCEPT = Number(process.env.ACCEPT ?? 2000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `p50 ${percentile(s, 50).toFixed(0)} ms, p95 ${percentile(s, 95).toFixed(0)} ms, p99 ${percentile(s, 99).toFixed(0)} ms, mean ${mean.toFixed(0)} ms (n=${s.length})`;
}

/** Peak resident set size of a process (VmHWM), in MiB. */
function peakRssMiB(pid: number | undefined): string {
  if (!pid) return 'n/a';
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return `${(kb / 1024).toFixed(0)} MiB`;
}

function joinerSubject(n: number): Record<string, unknown> {
  return {
    id: `b-${n}`,
    employeeId: `E${n}`,
    givenName: 'Ada',
    familyName: `Lovelace${n}`,
    email: `ada${n}@example.com`,
    managerId: 'b-manager',
  };
}

async function main(): Promise<void> {
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    dbFilename: join(mkdtempSync(join(tmpdir(), 'idflow-bench-')), 'temporal.db'),
    logFile: join(ROOT, '.idflow', 'bench-temporal.log'),
  });
  // the reference joiner provisions into LDAP, SCIM and email: their local targets
  const targets = await startTargets(mkdtempSync(join(tmpdir(), 'idflow-targets-')), (m) => {
    throw new Error(m);
  });
  const h = new Harness({
    definitions: ['definitions'],
    temporalAddress: server.address,
    env: { IDFLOW_RATE_LIMIT_PER_MINUTE: '1000000' },
  });
  let overheadWorker: ReturnType<typeof spawn> | undefined;
  try {
    await h.start();
    console.log(
      `idflow runtime benchmark — Temporal dev server ${server.address} (file-backed, eager activities), PostgreSQL ${h.taskQueue}`,
    );
    const past = new Date(Date.now() - 60_000).toISOString();

    // the manager every joiner reports to, so each run also sends its welcome note
    const manager = makeEvent(
      'person.joiner',
      { id: 'b-manager', givenName: 'Grace', familyName: 'Hopper', email: 'grace@example.com' },
      { effectiveAt: past },
    );
    await h.postEvent(manager);
    await h.runOutcome(`flow/joiner-standard/b-manager/${manager.id as string}`);

    // 1. end to end, 202 → run completed
    console.log(`\n1. end to end: ${EVENTS} joiner events at ${RATE}/s`);
    const accepted: Array<{ runId: string; at: number }> = [];
    const start = Date.now();
    const posts: Array<Promise<void>> = [];
    for (let i = 0; i < EVENTS; i++) {
      const due = start + (i * 1000) / RATE;
      if (due > Date.now()) await sleep(due - Date.now());
      const event = makeEvent('person.joiner', joinerSubject(i), { effectiveAt: past });
      posts.push(
        h.postEvent(event).then((res) => {
          if (res.status !== 202)
            throw new Error(`event ${i}: ${res.status} ${JSON.stringify(res.body)}`);
          accepted.push({
            runId: `flow/joiner-standard/b-${i}/${event.id as string}`,
            at: Date.now(),
          });
        }),
      );
    }
    await Promise.all(posts);
    const latencies: number[] = [];
    for (const { runId, at } of accepted) {
      const outcome = await h.runOutcome(runId, 120_000);
      if (!outcome.ok) throw new Error(`${runId} failed: ${outcome.message}`);
      const closed = (await h.client.workflow.getHandle(runId).describe()).closeTime;
      latencies.push((closed?.getTime() ?? NaN) - at);
    }
    console.log(`   202 → run completed: ${summary(latencies)}`);

    // 2. interpreter overhead against the hand-written joiner, same activities, same worker
    console.log(`\n2. interpreter overhead: ${OVERHEAD_RUNS} runs each, interleaved, 4 at a time`);
    const queue = `bench-overhead-${randomBytes(3).toString('hex')}`;
    overheadWorker = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'overhead-worker.ts'),
        server.address,
        queue,
        h.env().DATABASE_URL as string,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      overheadWorker?.stdout?.on(
        'data',
        (d: Buffer) => d.toString().includes('ready') && resolve(),
      );
      overheadWorker?.once('exit', (code) =>
        reject(new Error(`overhead worker exited ${String(code)}`)),
      );
    });
    const joinerInput = await referenceJoiner({
      id: 'b-manager',
      displayName: 'Grace Hopper',
      email: 'grace@example.com',
    });
    const timings: Record<'interpreter' | 'hand-written', number[]> = {
      interpreter: [],
      'hand-written': [],
    };
    const one = async (i: number, kind: 'interpreter' | 'hand-written') => {
      const n = (kind === 'interpreter' ? 100_000 : 200_000) + i;
      const input = joinerInput(joinerSubject(n), past);
      const t = Date.now();
      const handle = await h.client.workflow.start(
        kind === 'interpreter' ? 'runFlow' : 'handWrittenJoiner',
        {
          taskQueue: queue,
          workflowId: `${kind}-${i}-${randomBytes(3).toString('hex')}`,
          args: [input],
        },
      );
      await handle.result();
      timings[kind].push(Date.now() - t);
    };
    for (let i = 0; i < OVERHEAD_RUNS; i += 2) {
      await Promise.all([
        one(i, 'interpreter'),
        one(i, 'hand-written'),
        one(i + 1, 'hand-written'),
        one(i + 1, 'interpreter'),
      ]);
    }
    const median = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    console.log(`   interpreter (runFlow):  ${summary(timings.interpreter)}`);
    console.log(`   hand-written workflow:  ${summary(timings['hand-written'])}`);
    console.log(
      `   overhead (p50 ratio):   ${(median(timings.interpreter) / median(timings['hand-written'])).toFixed(2)}×`,
    );

    // 3. gateway acceptance: the worker is stopped, so this measures the gateway and Temporal's start
    console.log(
      `\n3. events accepted at the gateway: ${ACCEPT} events, ${CONCURRENCY} at a time (worker stopped)`,
    );
    const workerPeak = peakRssMiB(h.worker?.pid);
    await h.stopWorker('SIGTERM');
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ACCEPT) {
          next++;
          const res = await h.postEvent(makeEvent('bench.accept', { id: `a-${next}` }));
          if (res.status !== 202)
            throw new Error(`accept: ${res.status} ${JSON.stringify(res.body)}`);
        }
      }),
    );
    const seconds = (Date.now() - t0) / 1000;
    console.log(
      `   ${(ACCEPT / seconds).toFixed(0)} events/s accepted (${ACCEPT} in ${seconds.toFixed(1)} s)`,
    );

    console.log('\n4. peak RSS');
    console.log(`   gateway: ${peakRssMiB(h.gateway?.pid)}`);
    console.log(`   worker:  ${workerPeak} (after phases 1 and 2)`);
  } finally {
    overheadWorker?.kill('SIGTERM');
    await h.close();
    await server.stop();
    await targets.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
