/**
 * The dormant-accounts scan over ACCOUNTS directory accounts (default 100,000), on a real
 * Temporal dev server (file-backed, eager activities), the machine's PostgreSQL, the local slapd
 * and SMTP targets, with `idflow worker` as its own process. DORMANT_EVERY-th account (default
 * every 100th) last signed in 120 days ago, every other one 10 days ago. Prints:
 *
 *  1. the reference `dormant-accounts` flow, started as its nightly schedule starts it (days 90,
 *     disable, tell the owners, the admin's CSV): accounts per second from start to completion
 *     (the time it stays parked on its blast radius until the bench approves is left out), the
 *     time of each phase (reading sign-ins from the directory, the guard's count, the forEach),
 *     and the worker's peak resident memory during the run (sampled, and its high-water mark);
 *  2. side by side, the same work written by hand in one process, no Temporal and no idflow:
 *     a paged read of the directory's sign-ins into the accounts table, a keyset scan of the
 *     accounts with the same filter in JavaScript, the same disables (owner checked) and mails.
 *
 * Figures only: nothing here asserts a time.
 *
 * Run: npm run bench:dormant   (ACCOUNTS=100000 DORMANT_EVERY=100)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { Attribute, Change, Client as LdapClient } from 'ldapts';
import nodemailer from 'nodemailer';
import { parseGeneralizedTime } from '../activities/connectors/ldap-times';
import { accounts, persons } from '../src/db/schema';
import { temporalScheduleId } from '../src/schedules/ids';
import { syncActiveSchedules, syncSchedules } from '../src/schedules/sync';
import { LDAP_TARGET } from '../src/targets/slapd';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import type { OperatorAction, RunState } from '../src/temporal/contracts';
import type { ScheduledRunInput } from '../workflows/scheduled';
import {
  recordSeededAccounts,
  seedLdapAccounts,
  type SeedAccount,
} from '../test/support/account-activity';
import { Harness, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';
import { referenceWorld } from '../test/support/reference-world';

const ACCOUNTS = Number(process.env.ACCOUNTS ?? 100_000);
const DORMANT_EVERY = Number(process.env.DORMANT_EVERY ?? 100);
const DAY = 86_400_000;
const PEOPLE = `ou=people,${LDAP_TARGET.baseDn}`;

const pad = (n: number) => String(n).padStart(6, '0');
const uidOf = (i: number) => `bd${pad(i)}`;
const dormant = (i: number) => i % DORMANT_EVERY === 0;

/** Resident memory of a process now and its high-water mark, in MiB (Linux /proc). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

const ms = (a?: string, b?: string) => (a && b ? Date.parse(b) - Date.parse(a) : NaN);
const rate = (n: number, millis: number) =>
  `${Math.round((n * 1000) / millis).toLocaleString('en-US')}/s`;

async function main(): Promise<void> {
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    dbFilename: join(mkdtempSync(join(tmpdir(), 'idflow-bench-')), 'temporal.db'),
    logFile: join(ROOT, '.idflow', 'bench-temporal.log'),
  });
  const world = await referenceWorld(`bench-dormant`);
  const { targets } = world;
  const ldapUrl = targets.slapd?.url ?? '';
  const h = new Harness({ definitions: [world.definitions], temporalAddress: server.address });
  try {
    await h.start();
    const worker = h.worker?.pid as number;
    console.log(
      `idflow dormant-accounts benchmark — ${ACCOUNTS.toLocaleString('en-US')} accounts, every ${DORMANT_EVERY}th dormant; Temporal dev server ${server.address}`,
    );

    // --- seed: persons, directory entries with their sign-in times, idflow's records ---
    const seeding = Date.now();
    const now = Date.now();
    for (let i = 0; i < ACCOUNTS; i += 1000) {
      await h.db.db.insert(persons).values(
        Array.from({ length: Math.min(1000, ACCOUNTS - i) }, (_, k) => ({
          id: `p-bd-${pad(i + k)}`,
          status: 'active',
          displayName: `Bench ${pad(i + k)}`,
          email: `${uidOf(i + k)}@example.com`,
        })),
      );
    }
    const seed: SeedAccount[] = Array.from({ length: ACCOUNTS }, (_, i) => ({
      uid: uidOf(i),
      owner: `p-bd-${pad(i)}`,
      lastLoginAt: new Date(now - (dormant(i) ? 120 : 10) * DAY),
    }));
    await seedLdapAccounts(ldapUrl, seed, { concurrency: 16 });
    await recordSeededAccounts(h.db.db, 'corp-directory', seed);
    const expected = seed.filter((_, i) => dormant(i)).length;
    console.log(`seeded in ${((Date.now() - seeding) / 1000).toFixed(1)} s; ${expected} dormant\n`);

    // --- 1. the reference flow, as its nightly schedule starts it ---
    const synced = await syncActiveSchedules(h.db.db, h.client, {
      taskQueue: h.taskQueue,
      actor: 'bench',
    });
    if (!synced.created.some((r) => r.flow === 'dormant-accounts'))
      throw new Error('the reference dormant-accounts schedule was not synced');
    const schedule = h.client.schedule.getHandle(
      temporalScheduleId(h.taskQueue, 'dormant-accounts', 'nightly'),
    );
    await schedule.pause('benchmark');
    const { action } = await schedule.describe();
    if (action.type !== 'startWorkflow') throw new Error('not a workflow schedule');
    const input = action.args?.[0] as ScheduledRunInput;
    const runId = `flow/dormant-accounts/schedule.nightly-bench-${randomBytes(3).toString('hex')}`;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, memoryOf(worker).rss);
    }, 200);
    const before = memoryOf(worker);
    const started = Date.now();
    await h.client.workflow.start('scheduledRun', {
      taskQueue: h.taskQueue,
      workflowId: runId,
      args: [input],
      ...(action.typedSearchAttributes
        ? { typedSearchAttributes: action.typedSearchAttributes }
        : {}),
    });
    const handle = h.client.workflow.getHandle(runId);
    // approve the blast radius at once: the parked time is reported and left out
    let parkedMs = 0;
    const approver = (async () => {
      for (;;) {
        const s = await handle.query<RunState>('state').catch(() => undefined);
        if (s && ['Completed', 'Failed', 'Cancelled'].includes(s.status)) return;
        if (s?.status === 'Parked' && s.waitingOn?.kind === 'operator') {
          const since = Date.parse(s.waitingOn.since);
          await handle.executeUpdate<RunState, [OperatorAction]>('operator', {
            args: [{ action: 'approve', step: s.waitingOn.step, by: 'bench' }],
          });
          parkedMs += Date.now() - since;
          console.log(`  parked on the blast radius at '${s.waitingOn.step}'; approved`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await handle.result();
    const took = Date.now() - started;
    clearInterval(sampler);
    await approver;
    const after = memoryOf(worker);
    const state = await handle.query<RunState>('state');
    const step = (id: string) => state.steps.find((s) => s.id === id);
    const forEach = step('act-on-dormant');
    const output = forEach?.output as {
      scanned: number;
      total: number;
      completed: number;
      failed: number;
    };
    const scanMs = took - parkedMs;
    console.log('1. idflow: the reference dormant-accounts flow');
    console.log(
      `  ${ACCOUNTS.toLocaleString('en-US')} accounts in ${(scanMs / 1000).toFixed(1)} s: ${rate(ACCOUNTS, scanMs)} (parked ${(parkedMs / 1000).toFixed(1)} s, left out)`,
    );
    console.log(
      `  read sign-ins from the directory: ${(ms(step('refresh-sign-ins')?.startedAt, step('refresh-sign-ins')?.finishedAt) / 1000).toFixed(1)} s`,
    );
    console.log(
      `  forEach (count, scan, ${output.total} disabled and told): ${((ms(forEach?.startedAt, forEach?.finishedAt) - parkedMs) / 1000).toFixed(1)} s; scanned ${output.scanned}, completed ${output.completed}, failed ${output.failed}`,
    );
    console.log(
      `  worker RSS: ${before.rss.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB during (high-water mark ${after.hwm.toFixed(0)} MiB)`,
    );
    if (output.total !== expected)
      console.log(`  !! expected ${expected} dormant accounts, the run found ${output.total}`);

    // --- 2. the same work by hand ---
    // the directory as seeded again: the dormant accounts enabled, idflow's records untouched
    const ldap = new LdapClient({ url: ldapUrl });
    await ldap.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    for (const account of seed.filter((_, i) => dormant(i))) {
      await ldap.modify(`uid=${account.uid},${PEOPLE}`, [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'userAccountControl', values: ['512'] }),
        }),
      ]);
    }
    await h.db.db.update(accounts).set({ lastLoginAt: null, status: 'enabled' });
    const mailer = nodemailer.createTransport({
      host: '127.0.0.1',
      port: targets.smtp.port,
      secure: false,
      pool: true,
      maxConnections: 4,
    });
    const began = Date.now();
    // read every entry's sign-in, a page at a time, into the accounts table
    const read = await ldap.search(PEOPLE, {
      scope: 'one',
      filter: '(uid=bd*)',
      attributes: ['uid', 'authTimestamp'],
      paged: { pageSize: 1000 },
    });
    const times = read.searchEntries.map((e) => ({
      name: String(e.uid),
      at: typeof e.authTimestamp === 'string' ? parseGeneralizedTime(e.authTimestamp) : null,
    }));
    for (let i = 0; i < times.length; i += 1000) {
      const page = times.slice(i, i + 1000);
      const values = JSON.stringify(
        page.map((t) => ({ name: t.name, at: t.at?.toISOString() ?? null })),
      );
      await h.db.db.execute(sql`
        update accounts set last_login_at = v.at
        from jsonb_to_recordset(${values}::jsonb) as v(name text, at timestamptz)
        where accounts.connector = 'corp-directory' and accounts.account_name = v.name`);
    }
    // scan the accounts in key order, filter, disable (owner checked) and tell the owner
    const rows: string[] = [];
    let after_: string | undefined;
    let acted = 0;
    for (;;) {
      const page = await h.db.db
        .select({ account: accounts, person: persons })
        .from(accounts)
        .leftJoin(persons, eq(persons.id, accounts.personId))
        .where(
          and(
            eq(accounts.connector, 'corp-directory'),
            after_ ? gt(accounts.id, after_) : undefined,
          ),
        )
        .orderBy(asc(accounts.id))
        .limit(2000);
      if (page.length === 0) break;
      after_ = page[page.length - 1]?.account.id;
      const idle = page.filter(
        (r) =>
          r.account.status === 'enabled' &&
          r.account.lastLoginAt !== null &&
          Math.floor(Date.now() / DAY) - Math.floor(r.account.lastLoginAt.getTime() / DAY) >= 90,
      );
      await Promise.all(
        idle.map(async (r) => {
          const dn = `uid=${r.account.accountName},${PEOPLE}`;
          const { searchEntries } = await ldap.search(dn, {
            scope: 'base',
            attributes: ['employeeNumber'],
          });
          if (searchEntries[0]?.employeeNumber !== r.account.personId) return;
          await ldap.modify(dn, [
            new Change({
              operation: 'replace',
              modification: new Attribute({ type: 'userAccountControl', values: ['514'] }),
            }),
          ]);
          await mailer.sendMail({
            from: 'idflow@example.com',
            to: r.person?.email ?? '',
            subject: 'Your account was disabled',
            text: 'dormant',
          });
          rows.push(`${r.account.accountName},${r.account.personId}`);
          acted++;
        }),
      );
    }
    await mailer.sendMail({
      from: 'idflow@example.com',
      to: 'iam-reports@example.com',
      subject: 'Dormant accounts',
      text: `${rows.length} accounts`,
      attachments: [
        { filename: 'dormant-accounts.csv', content: ['account,personId', ...rows].join('\n') },
      ],
    });
    const byHand = Date.now() - began;
    mailer.close();
    await ldap.unbind();
    console.log('\n2. baseline: the same work by hand, one process, no Temporal, no idflow');
    console.log(
      `  ${ACCOUNTS.toLocaleString('en-US')} accounts in ${(byHand / 1000).toFixed(1)} s: ${rate(ACCOUNTS, byHand)}; ${acted} disabled and told`,
    );
    console.log(`\nidflow / baseline: ${(byHand / scanMs).toFixed(2)}× the baseline's rate`);
  } finally {
    await syncSchedules(h.client, h.taskQueue, []).catch(() => undefined);
    await h.close();
    await targets.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
