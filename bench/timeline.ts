/**
 * The person's timeline, on a real Temporal dev server (file-backed, eager activities) and the
 * machine's PostgreSQL, with `idflow worker` and `idflow gateway` as processes, the local LDAP,
 * SCIM and SMTP targets and a fake of Slack's Web API. Prints:
 *
 *  1. the cost of ordering: EVENTS events (default 1,000) of a one-step flow for EVENTS distinct
 *     persons, against the same number of events for one person (which the timeline applies one
 *     after another), all posted CONCURRENCY at a time: events per second from the first post
 *     to the last run completed; side by side, the same runs started by the client alone (no
 *     gateway, dispatch or timeline), the floor;
 *  2. Possible Account Takeover: from the gateway's 202 to the person's first account disabled
 *     (the audit row of the connector op, written once the target said yes), p50/p99 over RUNS
 *     runs (default 50), one at a time, for persons the reference joiner provisioned; side by
 *     side, interleaved, the floor: the same directory account disabled by a one-step run that
 *     the client starts directly (no gateway, no dispatch, no timeline, no reconcile read).
 *
 * Figures only: nothing here asserts a time.
 *
 * Run: npm run bench:timeline   (EVENTS=1000 CONCURRENCY=32 RUNS=50)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { compileSources } from '../src/dsl/compiler';
import { loadSources } from '../src/dsl/load';
import { auditLog } from '../src/db/schema';
import { getPerson } from '../src/db/repos/persons';
import { runWorkflowId } from '../src/model/event';
import { startTargets } from '../src/targets';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import type { RunFlowInput } from '../src/temporal/contracts';
import { FakeSlack } from '../test/support/fake-slack';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';

const EVENTS = Number(process.env.EVENTS ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const RUNS = Number(process.env.RUNS ?? 50);

/** Audit actions of an account being disabled, on each connector type. */
const DISABLES = ['ldap.disableAccount', 'scim.deactivateUser'];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(0)} ms, p99 ${percentile(s, 99).toFixed(0)} ms, min ${s[0]?.toFixed(0)} ms, max ${s[s.length - 1]?.toFixed(0)} ms (n=${s.length})`;
}

let retried = 0;

/**
 * Posts an event the way a sender should: a 503 (a dependency slow or down, nothing accepted)
 * is sent again after a pause; the same id is never accepted twice.
 */
async function send(h: Harness, event: Record<string, unknown>): Promise<void> {
  for (;;) {
    const res = await h.postEvent(event);
    if (res.status === 202 || res.status === 200) return;
    if (res.status !== 503) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
    retried++;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function main(): Promise<void> {
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    dbFilename: join(mkdtempSync(join(tmpdir(), 'idflow-bench-')), 'temporal.db'),
    logFile: join(ROOT, '.idflow', 'bench-temporal.log'),
  });
  const targets = await startTargets(mkdtempSync(join(tmpdir(), 'idflow-targets-')), (m) => {
    throw new Error(m);
  });
  const slack = new FakeSlack('xoxb-bench', {});
  await slack.start();
  const h = new Harness({
    definitions: ['definitions', 'bench/definitions/timeline.yaml'],
    temporalAddress: server.address,
    env: {
      IDFLOW_RATE_LIMIT_PER_MINUTE: '10000000',
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.url,
    },
  });
  try {
    await h.start();
    console.log(
      `idflow timeline benchmark — Temporal dev server ${server.address} (file-backed, eager activities)`,
    );

    // 1. the cost of ordering
    console.log(`\n1. ${EVENTS} one-step events, ${CONCURRENCY} posted at a time`);
    const tag = randomBytes(3).toString('hex');
    const measure = async (label: string, personOf: (i: number) => string) => {
      const events = Array.from({ length: EVENTS }, (_, i) =>
        makeEvent('bench.touch', { id: personOf(i) }),
      );
      const start = Date.now();
      retried = 0;
      await pool(events, CONCURRENCY, (event) => send(h, event));
      const accepted = Date.now() - start;
      for (const event of events) {
        const runId = runWorkflowId(
          'bench-touch',
          (event.subject as { id: string }).id,
          event.id as string,
        );
        const outcome = await h.runOutcome(runId, 30 * 60_000);
        if (!outcome.ok) throw new Error(`${runId} failed: ${outcome.message}`);
      }
      const seconds = (Date.now() - start) / 1000;
      console.log(
        `   ${label.padEnd(22)} ${(EVENTS / seconds).toFixed(1)} events/s (${seconds.toFixed(1)} s; all ${EVENTS} accepted in ${(accepted / 1000).toFixed(1)} s, ${retried} posts retried after a 503)`,
      );
      return EVENTS / seconds;
    };
    const { sources } = await loadSources([
      join(ROOT, 'definitions'),
      join(ROOT, 'bench/definitions/timeline.yaml'),
    ]);
    const compiled = compileSources(sources);
    const touch = compiled.flows.get('bench-touch');
    const disable = compiled.flows.get('bench-disable');
    if (!touch || !disable) throw new Error('the bench flows did not compile');

    const distinct = await measure(`${EVENTS} persons`, (i) => `bt-${tag}-${i}`);
    const one = await measure('one person', () => `bt-${tag}-one`);
    // the floor: the same runs started by the client, no gateway, dispatch or timeline
    const floorStart = Date.now();
    await pool(
      Array.from({ length: EVENTS }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const id = `bt-${tag}-floor-${i}`;
        const input: RunFlowInput = {
          ir: touch.ir,
          hash: touch.hash,
          event: makeEvent('bench.touch', { id }) as never,
          subject: { id },
        };
        const handle = await h.client.workflow.start('runFlow', {
          taskQueue: h.taskQueue,
          workflowId: `bench-touch-floor-${tag}-${i}`,
          args: [input],
        });
        await handle.result();
      },
    );
    const floorSeconds = (Date.now() - floorStart) / 1000;
    console.log(
      `   ${'runs alone (floor)'.padEnd(22)} ${(EVENTS / floorSeconds).toFixed(1)} events/s (${floorSeconds.toFixed(1)} s: the same runs started by the client, ${CONCURRENCY} at a time)`,
    );
    console.log(`   ordering costs ×${(distinct / one).toFixed(1)} in throughput for one person`);

    // 2. Possible Account Takeover, 202 → first account disabled
    console.log(`\n2. Possible Account Takeover: 202 → first account disabled, ${RUNS} runs`);
    const past = new Date(Date.now() - 60_000).toISOString();
    const people = Array.from({ length: RUNS * 2 }, (_, i) => ({
      id: `bp-${tag}-${i}`,
      employeeId: `EB${tag}${i}`,
      givenName: 'Alan',
      familyName: `Turing${tag}x${i}`,
      email: `alan.${tag}.${i}@example.com`,
      department: 'Engineering',
    }));
    await pool(people, 8, async (subject) => {
      const event = makeEvent('person.joiner', subject, { effectiveAt: past });
      await send(h, event);
      const outcome = await h.runOutcome(
        runWorkflowId('joiner-standard', subject.id, event.id as string),
        120_000,
      );
      if (!outcome.ok) throw new Error(`joiner ${subject.id} failed: ${outcome.message}`);
    });

    const firstDisable = async (runId: string): Promise<Date> =>
      h.eventually(async () => {
        const [row] = await h.db.db
          .select({ at: auditLog.at })
          .from(auditLog)
          .where(and(eq(auditLog.runId, runId), inArray(auditLog.action, DISABLES)))
          .orderBy(auditLog.seq)
          .limit(1);
        return row?.at;
      }, 60_000);

    const takeover: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const subject = people[i] as (typeof people)[number];
      const event = makeEvent(
        'account.takeover-suspected',
        { id: subject.id },
        { attributes: { signal: 'impossible travel' } },
      );
      const t = Date.now();
      const res = await h.postEvent(event);
      if (res.status !== 202) throw new Error(`takeover: ${res.status}`);
      const at = await firstDisable(
        runWorkflowId('account-takeover', subject.id, event.id as string),
      );
      takeover.push(at.getTime() - t);

      const other = people[RUNS + i] as (typeof people)[number];
      const stored = await getPerson(h.db.db, other.id);
      const input: RunFlowInput = {
        ir: disable.ir,
        hash: disable.hash,
        event: makeEvent('bench.disable', { id: other.id }) as never,
        subject: {
          id: other.id,
          attributes: (stored?.attributes ?? {}) as Record<string, unknown>,
        },
      };
      const workflowId = `bench-disable-${tag}-${i}`;
      const t2 = Date.now();
      await h.client.workflow.start('runFlow', {
        taskQueue: h.taskQueue,
        workflowId,
        args: [input],
      });
      floor.push((await firstDisable(workflowId)).getTime() - t2);
    }
    console.log(
      `   takeover (gateway → dispatch → timeline → run → reconcile): ${summary(takeover)}`,
    );
    console.log(`   floor (client → one-step run → LDAP disable):             ${summary(floor)}`);
  } finally {
    await h.close();
    await slack.stop();
    await targets.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
