/**
 * LDAP and SCIM operations per second through the worker: RUNS runs of a flow with five LDAP
 * ops (create, update, add to group, disable, read) against the local slapd, then RUNS runs of
 * a flow with four SCIM ops (create, patch, read, deactivate) against the local SCIM service.
 * Each op is one activity; ops/s counts completed ops over the wall time of all runs.
 *
 * Run: npm run bench:connectors   (RUNS=200 CONCURRENCY=32)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTargets } from '../src/targets';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';

const RUNS = Number(process.env.RUNS ?? 200);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);

async function inParallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function measure(h: Harness, type: string, flow: string, opsPerRun: number): Promise<void> {
  const ids = Array.from({ length: RUNS }, (_, i) => `${flow}-${i}`);
  const t0 = Date.now();
  await inParallel(ids, async (id) => {
    const event = makeEvent(type, { id });
    const res = await h.postEvent(event);
    if (res.status !== 202) throw new Error(`event ${id}: ${res.status}`);
    const outcome = await h.runOutcome(`flow/${flow}/${id}/${event.id as string}`, 120_000);
    if (!outcome.ok || (outcome.result as { status?: string }).status !== 'Completed')
      throw new Error(`${flow} ${id}: ${JSON.stringify(outcome)}`);
  });
  const seconds = (Date.now() - t0) / 1000;
  const ops = RUNS * opsPerRun;
  console.log(
    `${flow}: ${RUNS} runs × ${opsPerRun} ops = ${ops} ops in ${seconds.toFixed(1)} s → ${(ops / seconds).toFixed(0)} ops/s (${(RUNS / seconds).toFixed(1)} runs/s, ${CONCURRENCY} runs in flight)`,
  );
}

async function main(): Promise<void> {
  const targets = await startTargets(mkdtempSync(join(tmpdir(), 'idflow-targets-')), (m) => {
    throw new Error(m);
  });
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    dbFilename: join(mkdtempSync(join(tmpdir(), 'idflow-bench-')), 'temporal.db'),
    logFile: join(ROOT, '.idflow', 'bench-connectors-temporal.log'),
  });
  const h = new Harness({
    definitions: ['bench/connectors'],
    temporalAddress: server.address,
    env: { IDFLOW_RATE_LIMIT_PER_MINUTE: '1000000' },
  });
  try {
    await h.start();
    console.log(
      `idflow connectors benchmark — local slapd and SCIM service, Temporal dev server ${server.address} (file-backed)`,
    );
    await measure(h, 'bench.ldap', 'bench-ldap', 5);
    await measure(h, 'bench.scim', 'bench-scim', 4);
  } finally {
    await h.close();
    await server.stop();
    await targets.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
