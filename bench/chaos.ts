/**
 * The chaos benchmark: joiner events at a steady RATE into `idflow gateway` while a worker,
 * the gateway or the Temporal server is SIGKILLed at random moments (KILLS times) and started
 * again. Events whose POST fails (refused or reset connection, 503) are sent again with the
 * same id until the gateway accepts them, as an HR feed does. Once the load has drained it
 * checks that nothing was lost or done twice: every event accepted once, every run completed,
 * each run's audit rows as a joiner run before any kill wrote them, and one directory entry,
 * one SCIM user and one welcome mail to the manager per joiner. Prints each kill with its
 * recovery time (from the kill until an event is accepted again, and until a run completes
 * after that) and PASS/FAIL per check; exits 1 on any failure.
 *
 * Run: npm run bench:chaos   (KILLS=20 RATE=1 DURATION=120 WORKERS=2 DRAIN=300 SEED=<random>
 *                        SERVER=real|dev)
 */
import type { ChildProcess } from 'node:child_process';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Targets } from '../src/targets';
import { Harness, makeEvent } from '../test/support/harness';
import { referenceWorld } from '../test/support/reference-world';
import {
  startKillableDevServer,
  startKillableRealServer,
  type KillableTemporal,
} from './chaos-server';
import {
  auditProfiles,
  compareAudit,
  completionTimes,
  firstCompletionAfter,
  ldapEntries,
  otherOutcomes,
  scimUsers,
  storedEvents,
  welcomeMails,
  type Check,
} from './chaos-verify';

const KILLS = Number(process.env.KILLS ?? 20);
// 1 event/s: what this 2-core machine completes while it also restarts what was killed (at 5/s
// the runs stop completing: see README)
const RATE = Number(process.env.RATE ?? 1);
const DURATION_MS = Number(process.env.DURATION ?? 120) * 1000;
const WORKERS = Number(process.env.WORKERS ?? 2);
/** `real` (scripts/temporal-server.sh, PostgreSQL) or `dev` (the file-backed dev server). */
const SERVER = process.env.SERVER ?? 'real';
const SEED = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Between one kill's recovery and the next kill, and how long a killed process stays down. */
const GAP_MS = [1_000, 6_000] as const;
const DOWN_MS = [0, 2_000] as const;
const RECOVERY_LIMIT_MS = 120_000;
const DRAIN_LIMIT_MS = Number(process.env.DRAIN ?? 300) * 1000;

const MANAGER = { id: 'c-manager', email: 'grace@example.com' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32: a small seeded generator, so a failing run can be repeated with its SEED. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A Sales joiner reporting to the manager: directory account, CRM user, welcome mail. */
function chaosSubject(n: number | string) {
  return {
    id: `c-${n}`,
    employeeId: `C${n}`,
    givenName: 'Ada',
    familyName: `Lovelace${n}`,
    displayName: `Ada Lovelace${n}`,
    email: `ada${n}@example.com`,
    department: 'Sales',
    managerId: MANAGER.id,
  };
}

/** One offered event and what became of it. */
interface Offer {
  eventId: string;
  personId: string;
  displayName: string;
  runId: string;
  offeredAt: number;
  attempts: number;
  acceptedAt?: number;
  status?: number;
  refused?: string;
}

interface Kill {
  target: string;
  at: number;
  restartMs: number;
  acceptMs?: number;
  completedMs?: number;
  note?: string;
}

type Target = { kind: 'worker'; index: number } | { kind: 'gateway' } | { kind: 'temporal' };
const label = (t: Target) => (t.kind === 'worker' ? `worker-${t.index + 1}` : t.kind);

/** The error a failed POST met, by its cause's code where it has one. */
function reason(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err instanceof Error ? err.message : String(err));
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    sleep(ms).then(() => {
      throw new Error(`no answer within ${ms} ms`);
    }),
  ]);
}

async function main(): Promise<void> {
  const temporal: KillableTemporal =
    SERVER === 'dev' ? await startKillableDevServer() : await startKillableRealServer();
  try {
    // the targets on free ports, and a copy of definitions/ whose connectors point at them
    const world = await referenceWorld('chaos');
    try {
      await chaos(temporal, world.targets, world.definitions);
    } finally {
      await world.targets.stop();
    }
  } finally {
    await temporal.stop();
  }
}

async function chaos(
  temporal: KillableTemporal,
  targets: Targets,
  definitions: string,
): Promise<void> {
  const random = seeded(SEED);
  const between = ([lo, hi]: readonly [number, number]) => lo + random() * (hi - lo);
  const h = new Harness({
    definitions: [definitions],
    temporalAddress: temporal.address,
    env: {
      IDFLOW_RATE_LIMIT_PER_MINUTE: '1000000',
      IDFLOW_SOURCE_RATE_LIMIT_PER_MINUTE: '1000000',
    },
  });
  const workers: ChildProcess[] = [];
  const retries = new Map<string, number>();
  const offers: Offer[] = [];
  const kills: Kill[] = [];
  /** When the load started: the report's times count from here. */
  let t0 = Date.now();
  const secs = (at: number) => ((at - t0) / 1000).toFixed(1);
  let offering = true;
  try {
    // a worker that has not polled within the harness's minute (a loaded machine bundling its
    // workflows) is kept, not doubled: it polls once it is ready, and recovery waits for it
    const startWorker = async (): Promise<ChildProcess> => {
      try {
        return await h.startWorker();
      } catch (err) {
        const child = h.worker;
        if (!child || child.exitCode !== null || child.signalCode !== null) throw err;
        console.log(`  (a worker, pid ${child.pid}, did not poll within 60 s; kept)`);
        return child;
      }
    };
    await h.start();
    if (h.worker) workers.push(h.worker);
    while (workers.length < WORKERS) workers.push(await startWorker());
    console.log(`idflow chaos benchmark — SEED=${SEED} KILLS=${KILLS} RATE=${RATE}/s`);
    console.log(
      `  DURATION=${DURATION_MS / 1000}s WORKERS=${WORKERS}; ${temporal.description}; PostgreSQL; task queue ${h.taskQueue}`,
    );
    const past = new Date(Date.now() - 60_000).toISOString();

    // the manager, then one joiner before any kill: what each joiner run writes to the audit log
    const manager = makeEvent(
      'person.joiner',
      { id: MANAGER.id, givenName: 'Grace', familyName: 'Hopper', email: MANAGER.email },
      { effectiveAt: past },
    );
    await h.postEvent(manager);
    await h.runOutcome(`flow/joiner-standard/${MANAGER.id}/${manager.id as string}`, 60_000);
    const reference = makeEvent('person.joiner', chaosSubject('reference'), {
      effectiveAt: past,
    });
    const referenceRun = `flow/joiner-standard/c-reference/${reference.id as string}`;
    await h.postEvent(reference);
    const refOutcome = await h.runOutcome(referenceRun, 60_000);
    if (!refOutcome.ok) throw new Error(`the reference joiner failed: ${refOutcome.message}`);
    const expected =
      (await auditProfiles(h.db.db, [referenceRun])).get(referenceRun) ?? new Map<string, number>();
    console.log(`  a joiner run writes: ${[...expected].map(([a, n]) => `${a} ×${n}`).join(', ')}`);

    // the load: each event posted until the gateway answers 2xx
    const offer = async (n: number): Promise<void> => {
      const subject = chaosSubject(n);
      const event = makeEvent('person.joiner', subject, { effectiveAt: past });
      const o: Offer = {
        eventId: event.id as string,
        personId: subject.id,
        displayName: subject.displayName,
        runId: `flow/joiner-standard/${subject.id}/${event.id as string}`,
        offeredAt: Date.now(),
        attempts: 0,
      };
      offers.push(o);
      for (let backoff = 100; ; backoff = Math.min(backoff * 2, 1_000)) {
        o.attempts++;
        let why: string;
        try {
          const res = await withTimeout(h.postEvent(event), 20_000);
          if (res.status === 202 || res.status === 200) {
            o.acceptedAt = Date.now();
            o.status = res.status;
            return;
          }
          why = String(res.status);
          if (res.status !== 503 && res.status !== 429 && res.status < 500) {
            o.refused = `${res.status} ${JSON.stringify(res.body)}`;
            return;
          }
        } catch (err) {
          why = reason(err);
        }
        retries.set(why, (retries.get(why) ?? 0) + 1);
        await sleep(backoff);
      }
    };
    const posting: Array<Promise<void>> = [];
    t0 = Date.now();
    const load = (async () => {
      for (let n = 0; offering; n++) {
        const due = t0 + (n * 1000) / RATE;
        if (due > Date.now()) await sleep(due - Date.now());
        posting.push(offer(n));
      }
    })();

    // processes that end without being killed are a finding, and are started again
    const unplanned: string[] = [];
    const killed = new Set<ChildProcess>();
    const watch = (child: ChildProcess | undefined, name: string) =>
      child?.once('exit', (code, signal) => {
        if (!killed.has(child))
          unplanned.push(`${name} exited on its own at ${secs(Date.now())}s (${signal ?? code})`);
      });
    workers.forEach((w, i) => watch(w, `worker-${i + 1}`));
    watch(h.gateway, 'gateway');

    const start = async (t: Target): Promise<void> => {
      if (t.kind === 'worker') {
        workers[t.index] = await startWorker();
        watch(workers[t.index], label(t));
      } else if (t.kind === 'gateway') {
        await h.startGateway();
        watch(h.gateway, 'gateway');
      } else await temporal.restart();
    };
    const kill = async (t: Target): Promise<void> => {
      if (t.kind === 'temporal') return temporal.kill();
      const child = t.kind === 'worker' ? workers[t.index] : h.gateway;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      killed.add(child);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    const restartDead = async () => {
      for (let i = 0; i < workers.length; i++) {
        if (workers[i]?.exitCode !== null || workers[i]?.signalCode !== null)
          await start({ kind: 'worker', index: i });
      }
      if (h.gateway?.exitCode !== null || h.gateway?.signalCode !== null)
        await start({ kind: 'gateway' });
    };

    // the kills, one at a time: kill, stay down a moment, start again, wait for recovery
    for (let k = 0; k < KILLS; k++) {
      await sleep(between(GAP_MS));
      await restartDead();
      const pick = Math.floor(random() * 3);
      const target: Target =
        pick === 0
          ? { kind: 'worker', index: Math.floor(random() * WORKERS) }
          : pick === 1
            ? { kind: 'gateway' }
            : { kind: 'temporal' };
      const at = Date.now();
      await kill(target);
      await sleep(between(DOWN_MS));
      const restartAt = Date.now();
      await start(target);
      const entry: Kill = { target: label(target), at, restartMs: Date.now() - restartAt };
      kills.push(entry);
      console.log(
        `  kill ${k + 1}/${KILLS} at ${secs(at)}s: ${entry.target} SIGKILLed, back in ${entry.restartMs} ms`,
      );
      // recovery: the first event accepted after the kill, then the first run completed after that
      try {
        const first = await h.eventually(() => {
          const after = offers.filter((o) => o.acceptedAt !== undefined && o.acceptedAt > at);
          return Promise.resolve(
            after.sort((a, b) => (a.acceptedAt ?? 0) - (b.acceptedAt ?? 0))[0],
          );
        }, RECOVERY_LIMIT_MS);
        entry.acceptMs = (first.acceptedAt ?? 0) - at;
        const completed = await h.eventually(
          () => firstCompletionAfter(h.db.db, new Date(first.acceptedAt ?? at)),
          RECOVERY_LIMIT_MS,
        );
        entry.completedMs = completed.getTime() - at;
      } catch (err) {
        entry.note = `not recovered within ${RECOVERY_LIMIT_MS / 1000} s: ${err instanceof Error ? err.message : String(err)}`;
      }
      console.log(
        `    recovered: accepted again after ${entry.acceptMs ?? '—'} ms, run completed after ${entry.completedMs ?? '—'} ms${entry.note ? `; ${entry.note}` : ''}`,
      );
    }
    while (Date.now() - t0 < DURATION_MS) await sleep(200);
    offering = false;
    await load;
    await restartDead();

    // drain: every offer answered, then every accepted run finished
    const drainStart = Date.now();
    console.log(
      `\n  load stopped at ${secs(drainStart)}s: ${offers.length} events offered; draining`,
    );
    await withTimeout(Promise.all(posting), DRAIN_LIMIT_MS).catch(() => undefined);
    const accepted = offers.filter((o) => o.acceptedAt !== undefined);
    // each run's status from Temporal (describe), in rounds until every run has closed
    const outcomes = new Map<string, string>(accepted.map((o) => [o.runId, 'not started']));
    const open = () => [...outcomes].filter(([, s]) => s === 'RUNNING' || s === 'not started');
    while (open().length > 0 && Date.now() - drainStart < DRAIN_LIMIT_MS) {
      const round = open().map(([id]) => id);
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < round.length) {
            const id = round[next++] as string;
            try {
              const { status } = await h.client.workflow.getHandle(id).describe();
              outcomes.set(id, status.name);
            } catch (err) {
              if (!(err instanceof WorkflowNotFoundError)) throw err;
            }
          }
        }),
      );
      if (open().length > 0) await sleep(2_000);
    }
    console.log(`  drained in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`);

    // the checks
    const checks: Check[] = [];
    const count = (f: (o: Offer) => boolean) => offers.filter(f).length;
    const unanswered = offers.filter((o) => o.acceptedAt === undefined);
    checks.push({
      name: 'every offered event accepted',
      pass: unanswered.length === 0,
      detail:
        `${offers.length} offered, ${count((o) => o.status === 202)} answered 202, ${count((o) => o.status === 200)} answered 200 duplicate` +
        (unanswered.length
          ? `; not accepted: ${unanswered
              .slice(0, 10)
              .map((o) => `${o.eventId} (${o.refused ?? 'no 2xx'})`)
              .join(', ')}`
          : ''),
    });
    checks.push(
      await storedEvents(h.db.db, 'test-hr', new Map(accepted.map((o) => [o.eventId, o.runId]))),
    );
    const notCompleted = [...outcomes].filter(([, s]) => s !== 'COMPLETED');
    checks.push({
      name: 'every accepted run completed',
      pass: notCompleted.length === 0 && outcomes.size === accepted.length,
      detail:
        `${outcomes.size - notCompleted.length} of ${accepted.length} completed` +
        (notCompleted.length
          ? `; ${notCompleted
              .slice(0, 10)
              .map(([id, s]) => `${id} ${s}`)
              .join('; ')}`
          : ''),
    });
    const runIds = accepted.map((o) => o.runId);
    const audit = compareAudit(expected, await auditProfiles(h.db.db, runIds));
    checks.push(...audit.checks);
    const people = accepted.map((o) => o.personId);
    checks.push(await ldapEntries(targets, people));
    checks.push(scimUsers(targets, people));
    checks.push(
      welcomeMails(
        targets,
        MANAGER.email,
        accepted.map((o) => ({ id: o.personId, displayName: o.displayName })),
      ),
    );
    checks.push({
      name: 'no process ended unkilled',
      pass: unplanned.length === 0,
      detail: unplanned.length ? unplanned.join('; ') : 'none',
    });

    // recovery from the audit log too: each kill against the runs that completed after it
    const completed = await completionTimes(h.db.db, runIds);
    const other = await otherOutcomes(h.db.db, runIds);
    console.log('\nkills');
    for (const [i, k] of kills.entries()) {
      const after = [...completed.values()].filter((d) => d.getTime() > k.at).length;
      console.log(
        `  ${String(i + 1).padStart(2)}. ${secs(k.at).padStart(6)}s  ${k.target.padEnd(9)} restart ${String(k.restartMs).padStart(5)} ms  accepted after ${String(k.acceptMs ?? '—').padStart(6)} ms  run completed after ${String(k.completedMs ?? '—').padStart(6)} ms  (${after} runs completed after it)${k.note ? `  ${k.note}` : ''}`,
      );
    }
    console.log('\ncounts');
    console.log(`  offered:               ${offers.length}`);
    console.log(`  accepted (202):        ${count((o) => o.status === 202)}`);
    console.log(`  duplicates (200):      ${count((o) => o.status === 200)}`);
    console.log(`  POST attempts:         ${offers.reduce((s, o) => s + o.attempts, 0)}`);
    console.log(
      `  retried because:       ${[...retries].map(([r, n]) => `${r} ×${n}`).join(', ') || 'none'}`,
    );
    console.log(`  runs completed:        ${outcomes.size - notCompleted.length}`);
    for (const [action, total] of audit.totals) console.log(`  audit ${action}: ${total}`);
    console.log(
      `  other audit outcomes:  ${[...other].map(([a, n]) => `${a} ×${n}`).join(', ') || 'none'}`,
    );
    console.log('\nchecks');
    for (const c of checks) console.log(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
    const failed = checks.filter((c) => !c.pass).length;
    console.log(`\n${failed ? `FAIL: ${failed} checks failed` : 'PASS'} (SEED=${SEED})`);
    process.exitCode = failed ? 1 : 0;
  } finally {
    offering = false;
    for (const w of workers) if (w !== h.worker && w.exitCode === null) w.kill('SIGTERM');
    await h.close().catch((err: unknown) => console.error(err));
  }
}

// an interrupted run ends through process.exit, so the processes it started are reaped
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
