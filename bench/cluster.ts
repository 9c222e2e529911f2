/**
 * The cluster benchmark: idflow on a real Temporal server on PostgreSQL
 * (scripts/temporal-server.sh), with `idflow gateway` and WORKERS `idflow worker` processes,
 * the reference joiner provisioning into the local LDAP, SCIM and SMTP targets.
 *
 * After a warm-up (10 runs on each side, not measured), offered load is stepped (STEPS events/s,
 * each for STEP_SECONDS). For each step it prints the completed runs/s and p50/p95/p99 from the
 * gateway's 202 to the run completed, then the same for the baseline: `handWrittenJoiner`
 * (bench/workflows.ts), the same activities called in the same order written by hand as one
 * workflow, started on the same server by the same number of worker processes
 * in the same run — the engine's own limit here. Stepping stops once both are saturated
 * (completed runs/s below 90 % of the offered rate). Then, for a sample of runs: workflow tasks
 * and history events per run, idflow's summed over the event's dispatch, the person's timeline
 * and the flow run.
 *
 * Run: npm run bench:cluster   (WORKERS=2 STEPS=2,4,8,16,32 STEP_SECONDS=20 SAMPLE=10)
 *
 * CPU_PROFILE_DIR=d writes a V8 CPU profile of each idflow worker process after the first
 * (WORKERS ≥ 2) into d, for Chrome DevTools or `node bench/cpu-profile-top.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { dispatchWorkflowId, runWorkflowId, timelineWorkflowId } from '../src/model/event';
import { startTargets } from '../src/targets';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { startRealTemporal } from '../test/support/real-temporal';
import { referenceJoiner } from './reference-joiner';
import { percentile } from './timing';

const WORKERS = Number(process.env.WORKERS ?? 2);
const STEPS = (process.env.STEPS ?? '2,4,8,16,32').split(',').map(Number);
const STEP_SECONDS = Number(process.env.STEP_SECONDS ?? 20);
const SAMPLE = Number(process.env.SAMPLE ?? 10);
/** PostgreSQL connections of each idflow and baseline worker process. */
const POOL = process.env.IDFLOW_DATABASE_POOL_SIZE ?? '5';
/** Runs each side starts (at WARM_UP_RATE a second) and completes before the first step. */
const WARM_UP_RUNS = 10;
const WARM_UP_RATE = 2;
/** A step whose completed runs/s fall below this share of the offered rate is saturated. */
const SATURATED_BELOW = 0.9;

for (const [name, value] of Object.entries({ WORKERS, STEP_SECONDS, SAMPLE }))
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number of at least 1, not '${process.env[name]}'`);
if (STEPS.some((s) => !Number.isFinite(s) || s <= 0))
  throw new Error(
    `STEPS must be rates in events/s separated by commas, not '${process.env.STEPS}'`,
  );

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const EventType = temporal.api.enums.v1.EventType;

interface StepResult {
  offered: number;
  runs: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

interface Started {
  /** The run's workflow id. */
  runId: string;
  /** When the gateway answered 202 (idflow) or the start returned (baseline). */
  at: number;
}

function subjectOf(n: number): Record<string, unknown> {
  return {
    id: `c-${n}`,
    employeeId: `E${n}`,
    givenName: 'Ada',
    familyName: `Lovelace${n}`,
    email: `ada${n}@example.com`,
    managerId: 'c-manager',
  };
}

/** Offers `rate` starts a second, `count` in all; `start(i)` starts one and says when. */
async function offer(
  rate: number,
  start: (i: number) => Promise<Started>,
  count = Math.max(1, Math.round(rate * STEP_SECONDS)),
): Promise<Started[]> {
  const t0 = Date.now();
  const starts: Array<Promise<Started>> = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    starts.push(start(i));
  }
  return Promise.all(starts);
}

/** Waits for every run to close, then measures: runs/s over the step and start → close times. */
async function measure(client: Client, rate: number, started: Started[]): Promise<StepResult> {
  const closes: number[] = [];
  const latencies: number[] = [];
  const deadline = Date.now() + 10 * 60_000;
  for (const { runId, at } of started) {
    for (;;) {
      const d = await client.workflow
        .getHandle(runId)
        .describe()
        .catch(() => undefined);
      if (d?.closeTime) {
        if (d.status.name !== 'COMPLETED') throw new Error(`${runId} ended ${d.status.name}`);
        closes.push(d.closeTime.getTime());
        latencies.push(d.closeTime.getTime() - at);
        break;
      }
      if (Date.now() > deadline) throw new Error(`${runId} did not complete within 10 minutes`);
      await sleep(250);
    }
  }
  const first = Math.min(...started.map((s) => s.at));
  const last = Math.max(...closes);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    offered: rate,
    runs: started.length,
    perSecond: started.length / ((last - first) / 1000),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

const line = (r: StepResult) =>
  `${r.perSecond.toFixed(1).padStart(6)} runs/s   p50 ${r.p50.toFixed(0).padStart(6)} ms   p95 ${r.p95.toFixed(0).padStart(6)} ms   p99 ${r.p99.toFixed(0).padStart(6)} ms   (n=${r.runs})`;

/** Workflow tasks completed and history events of the workflows `ids`, summed. */
async function historyCost(
  client: Client,
  ids: string[],
): Promise<{ tasks: number; events: number }> {
  let tasks = 0;
  let events = 0;
  for (const id of ids) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      events++;
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) tasks++;
    }
  }
  return { tasks, events };
}

function spawnLogged(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready?: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    if (!ready) resolve(child);
    child.stdout?.on(
      'data',
      (d: Buffer) => ready && d.toString().includes(ready) && resolve(child),
    );
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${String(code)}`)));
  });
}

async function main(): Promise<void> {
  const server = await startRealTemporal();
  const targets = await startTargets(mkdtempSync(join(tmpdir(), 'idflow-targets-')), (m) => {
    throw new Error(m);
  });
  const h = new Harness({
    definitions: ['definitions'],
    temporalAddress: server.address,
    // five connections a process: the server's pools, the gateway and 2 × WORKERS workers fit
    // in PostgreSQL's default 100 connections
    env: { IDFLOW_RATE_LIMIT_PER_MINUTE: '1000000', IDFLOW_DATABASE_POOL_SIZE: POOL },
  });
  const children: ChildProcess[] = [];
  try {
    await h.start();
    // idflow: the harness's worker and WORKERS - 1 more, each its own process
    const profile = process.env.CPU_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROFILE_DIR}`]
      : [];
    for (let i = 1; i < WORKERS; i++)
      children.push(
        await spawnLogged([...profile, join(ROOT, 'bin', 'idflow.js'), 'worker'], h.env()),
      );
    // the baseline: WORKERS processes on their own task queue, the same activities
    const queue = `bench-baseline-${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < WORKERS; i++)
      children.push(
        await spawnLogged(
          [
            '--import',
            'tsx',
            join(__dirname, 'overhead-worker.ts'),
            server.address,
            queue,
            h.env().DATABASE_URL as string,
          ],
          { ...process.env, IDFLOW_DATABASE_POOL_SIZE: POOL },
          'ready',
        ),
      );
    console.log(
      `idflow cluster benchmark — Temporal ${server.version} on PostgreSQL at ${server.address}; ${WORKERS} idflow worker process(es) and ${WORKERS} baseline worker process(es); each step ${STEP_SECONDS} s`,
    );

    const past = new Date(Date.now() - 60_000).toISOString();
    const manager = makeEvent(
      'person.joiner',
      { id: 'c-manager', givenName: 'Grace', familyName: 'Hopper', email: 'grace@example.com' },
      { effectiveAt: past },
    );
    if ((await h.postEvent(manager)).status !== 202) throw new Error('the manager was refused');
    await h.runOutcome(runWorkflowId('joiner-standard', 'c-manager', manager.id as string));

    const joinerInput = await referenceJoiner({
      id: 'c-manager',
      displayName: 'Grace Hopper',
      email: 'grace@example.com',
    });

    let n = 0;
    // a 503 (a start that took longer than the gateway waits) is sent again, as a feed would
    let retried = 0;
    const idflowStart = async (): Promise<Started> => {
      const i = n++;
      const event = makeEvent('person.joiner', subjectOf(i), { effectiveAt: past });
      for (;;) {
        const res = await h.postEvent(event);
        if (res.status === 202 || res.status === 200)
          return {
            runId: runWorkflowId('joiner-standard', `c-${i}`, event.id as string),
            at: Date.now(),
          };
        if (res.status !== 503)
          throw new Error(`event ${i}: ${res.status} ${JSON.stringify(res.body)}`);
        retried++;
        await sleep(1000);
      }
    };
    const baselineStart = async (): Promise<Started> => {
      const i = 1_000_000 + n++;
      const input = joinerInput(subjectOf(i), past);
      const workflowId = `baseline/${i}`;
      await h.client.workflow.start('handWrittenJoiner', {
        taskQueue: queue,
        workflowId,
        args: [input],
      });
      return { runId: workflowId, at: Date.now() };
    };

    console.log(
      '\noffered      idflow (202 → run completed)                                   baseline (start → completed)',
    );
    // not measured: each side's workers load their code, warm their caches and JIT first
    await measure(h.client, WARM_UP_RATE, await offer(WARM_UP_RATE, idflowStart, WARM_UP_RUNS));
    await measure(h.client, WARM_UP_RATE, await offer(WARM_UP_RATE, baselineStart, WARM_UP_RUNS));
    const results: Array<{ idflow: StepResult; baseline: StepResult }> = [];
    const sampled: { idflow: string[][]; baseline: string[][] } = { idflow: [], baseline: [] };
    for (const rate of STEPS) {
      const idflowRuns = await offer(rate, idflowStart);
      const idflow = await measure(h.client, rate, idflowRuns);
      const baselineRuns = await offer(rate, baselineStart);
      const baseline = await measure(h.client, rate, baselineRuns);
      results.push({ idflow, baseline });
      console.log(`${String(rate).padStart(4)}/s   ${line(idflow)}   ${line(baseline)}`);
      if (retried > 0)
        console.log(`        (${retried} event(s) answered 503 first and sent again)`);
      retried = 0;
      if (sampled.idflow.length === 0) {
        for (const r of idflowRuns.slice(0, SAMPLE)) {
          const [, , person, eventId] = r.runId.split('/') as [string, string, string, string];
          sampled.idflow.push([
            dispatchWorkflowId('test-hr', eventId),
            timelineWorkflowId(h.taskQueue, person),
            r.runId,
          ]);
        }
        for (const r of baselineRuns.slice(0, SAMPLE)) sampled.baseline.push([r.runId]);
      }
      if (idflow.perSecond < SATURATED_BELOW * rate && baseline.perSecond < SATURATED_BELOW * rate)
        break;
    }

    const best = (k: 'idflow' | 'baseline') => Math.max(...results.map((r) => r[k].perSecond));
    console.log(
      `\nsaturation throughput: idflow ${best('idflow').toFixed(1)} runs/s, baseline ${best('baseline').toFixed(1)} runs/s (${(best('idflow') / best('baseline')).toFixed(2)}×)`,
    );

    console.log(`\nper run (mean of ${SAMPLE}):`);
    const mean = async (ids: string[], runs = ids.length) => {
      const cost = await historyCost(h.client, ids);
      return `${(cost.tasks / runs).toFixed(1)} workflow tasks, ${(cost.events / runs).toFixed(1)} history events`;
    };
    // idflow's three workflows per joiner event: its dispatch, the person's timeline, the run
    const part = (k: number) => sampled.idflow.map((ids) => ids[k] as string);
    console.log(
      `   idflow   ${await mean(sampled.idflow.flat(), sampled.idflow.length)} in all, per event:`,
    );
    console.log(`              dispatch   ${await mean(part(0))}`);
    console.log(`              timeline   ${await mean(part(1))}`);
    console.log(`              flow run   ${await mean(part(2))}`);
    console.log(`   baseline ${await mean(sampled.baseline.flat())}`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await h.close();
    await targets.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
