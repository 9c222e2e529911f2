/**
 * Records workflow histories into test/replays/ for the replay test, which runs every recorded
 * history against the current workflow code: a change to the interpreter that would break runs
 * already in flight fails CI. Re-record when the definitions or fixtures change meaningfully:
 *
 *   node --import tsx scripts/record-replays.ts [name …]
 *
 * With names, only those histories (and their dispatches) are recorded. Histories recorded by
 * older workflow code are kept (never overwritten): `approval.json` is an approval run from
 * before the `approval-task-table` patch, and must keep replaying. `--prefix=P` writes
 * `P<name>.json`, for a new generation beside the old: the `gen2-*` histories were recorded by
 * generation 2 of the workflow code (workflows/patches.ts).
 *
 * `encrypted` records an approval run and its dispatch with payload encryption on, under the
 * test keys of test/support/payload-keys.ts (never a deployment's).
 *
 * Needs the Temporal CLI (scripts/setup.sh) and PostgreSQL at 127.0.0.1:5432.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { insertPersonIfAbsent } from '../src/db/repos/persons';
import { ReviewService } from '../src/gateway/services/reviews';
import { SCIM_DEV_TOKEN, startTargets, type Targets } from '../src/targets';
import { LDAP_TARGET } from '../src/targets/slapd';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import type { RunState } from '../src/temporal/contracts';
import { timelineWorkflowId } from '../src/model/event';
import { activeDefinitions } from '../src/db/repos/definitions';
import type { FlowIR } from '../src/dsl/ir';
import { temporalScheduleId } from '../src/schedules/ids';
import { syncSchedules } from '../src/schedules/sync';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { TEST_KEY_1 } from '../test/support/payload-keys';
import { freePort } from '../test/support/ports';

const OUT = join(ROOT, 'test', 'replays');
const exec = promisify(execFile);

/** Runs `fn` with the local targets (directory, CRM, mail) started, and stops them after. */
async function withTargets(name: string, fn: (targets: Targets) => Promise<void>): Promise<void> {
  const targets = await startTargets(
    join(ROOT, '.idflow', 'test', `record-replays-${name}-${process.pid}`),
    (m) => console.warn(m),
  );
  try {
    await fn(targets);
  } finally {
    await targets.stop();
  }
}

async function main(): Promise<void> {
  // the worker reads the local targets' secrets from its environment
  process.env.LDAP_BIND_PASSWORD ??= LDAP_TARGET.bindPassword;
  process.env.CRM_SCIM_TOKEN ??= SCIM_DEV_TOKEN;
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    logFile: join(ROOT, '.idflow', 'test', 'record-replays.log'),
  });
  const h = new Harness({
    definitions: [
      'definitions',
      'test/fixtures/runtime',
      'test/fixtures/approvals',
      'test/fixtures/access',
      'test/fixtures/parallel',
      'test/fixtures/timeline',
      'test/fixtures/foreach',
      'test/fixtures/schedules',
      'test/fixtures/budget',
    ],
    temporalAddress: server.address,
  });
  try {
    await h.start();
    const args = process.argv.slice(2);
    const prefix = args.find((a) => a.startsWith('--prefix='))?.slice('--prefix='.length) ?? '';
    const only = args.filter((a) => !a.startsWith('--prefix='));
    const want = (name: string) => only.length === 0 || only.includes(name);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const recorded: Array<[string, string]> = [];
    const send = async (name: string, event: Record<string, unknown>, flow: string) => {
      const res = await h.postEvent(event);
      if (res.status !== 202) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
      const subject = (event.subject as { id: string }).id;
      recorded.push([`${name}-dispatch`, `event/${event.source as string}/${event.id as string}`]);
      recorded.push([name, `flow/${flow}/${subject}/${event.id as string}`]);
      return `flow/${flow}/${subject}/${event.id as string}`;
    };

    if (want('reference')) {
      // the reference flows act on the local targets (directory, CRM, mail)
      await withTargets('reference', async () => {
        await h.runOutcome(
          await send(
            'joiner-manager',
            makeEvent(
              'person.joiner',
              {
                id: 'r-1000',
                givenName: 'Grace',
                familyName: 'Hopper',
                email: 'grace@example.com',
              },
              { effectiveAt: past },
            ),
            'joiner-standard',
          ),
        );
        await h.runOutcome(
          await send(
            'joiner',
            makeEvent(
              'person.joiner',
              {
                id: 'r-1001',
                employeeId: 'E1001',
                givenName: 'Ada',
                familyName: 'Lovelace',
                managerId: 'r-1000',
              },
              { effectiveAt: past, attributes: { costCenter: 'CC-1' } },
            ),
            'joiner-standard',
          ),
        );
        await h.runOutcome(
          await send(
            'mover',
            makeEvent(
              'person.mover',
              { id: 'r-1001', department: 'Research', managerId: 'r-1000' },
              { effectiveAt: past, previous: { department: 'Engineering' } },
            ),
            'mover-standard',
          ),
        );
        await h.runOutcome(
          await send(
            'leaver-contractor',
            makeEvent(
              'person.leaver',
              { id: 'r-1000', employmentType: 'contractor' },
              { effectiveAt: past },
            ),
            'leaver-contractor',
          ),
        );
        const leaver = await send(
          'leaver-standard-in-grace-period',
          makeEvent(
            'person.leaver',
            { id: 'r-1001', employmentType: 'employee' },
            { effectiveAt: past },
          ),
          'leaver-standard',
        );
        await h.eventually(async () => {
          const state = await h.client.workflow
            .getHandle(leaver)
            .query<RunState>('state')
            .catch(() => undefined);
          return state?.waitingOn?.step === 'grace-period' ? true : undefined;
        });
        await h.runOutcome(
          await send(
            'failing-step',
            makeEvent('test.fail', { id: 'r-ghost' }),
            'it-fail-unknown-person',
          ),
        );
        await h.runOutcome(
          await send('missing-input', makeEvent('test.input', { id: 'r-input' }), 'it-needs-input'),
        );
      });
    }

    await insertPersonIfAbsent(h.db.db, {
      id: 'r-mgr',
      displayName: 'Mina Manager',
      status: 'active',
    });
    await insertPersonIfAbsent(h.db.db, {
      id: 'p-sec',
      displayName: 'Sam Security',
      status: 'active',
    });
    const waitingOnApproval = (runId: string, approvers: string[]) =>
      h.eventually(async () => {
        const state = await h.client.workflow
          .getHandle(runId)
          .query<RunState>('state')
          .catch(() => undefined);
        const on = state?.waitingOn;
        return on?.kind === 'approval' && on.approvers.join() === approvers.join()
          ? true
          : undefined;
      });
    const decide = (runId: string, step: string, by: string) =>
      h.client.workflow.getHandle(runId).executeUpdate('decide', {
        args: [{ step, decision: 'approve', by, onBehalfOf: by, channel: 'api', comment: 'ok' }],
      });
    if (want('approval-task-table')) {
      // approval tasks written to the approval_tasks table: assigned, one of two approvers
      // decides (the task stays open and is rewritten), the other decides, closed
      const approval = await send(
        'approval-task-table',
        makeEvent('test.all', { id: 'r-2002', managerId: 'r-mgr' }),
        'ap-all',
      );
      await waitingOnApproval(approval, ['r-mgr', 'p-sec']);
      await decide(approval, 'both', 'r-mgr');
      await waitingOnApproval(approval, ['p-sec']);
      await decide(approval, 'both', 'p-sec');
      await h.runOutcome(approval);
    }

    if (want('reconcile')) {
      // the reconcile step against the local targets: a Sales joiner (directory account and
      // groups, CRM user), a move to Engineering (removals, then additions), a leaver whose
      // VPN group is kept for a grace period
      await withTargets('targets', async () => {
        const subject = {
          id: 'r-3001',
          givenName: 'Sam',
          familyName: 'Seller',
          department: 'Sales',
          employmentType: 'employee',
        };
        const joiner = makeEvent('person.joiner', subject, { effectiveAt: past });
        await h.runOutcome(await send('reconcile-joiner', joiner, 'joiner-standard'), 60_000);
        const mover = makeEvent(
          'person.mover',
          { id: 'r-3001', department: 'Engineering' },
          { effectiveAt: past, previous: { department: 'Sales' } },
        );
        await h.runOutcome(await send('reconcile-mover', mover, 'mover-standard'), 60_000);
        const leaver = makeEvent('test.leave-with-grace', { id: 'r-3001' });
        await h.runOutcome(await send('reconcile-grace', leaver, 'it-leave-with-grace'), 60_000);
      });
    }

    if (want('parallel')) {
      // parallel steps: two branches that wait side by side and complete, and a failFast step
      // whose failing branch cancels the other (a timer cancelled in a cancellation scope)
      await h.runOutcome(
        await send(
          'parallel',
          makeEvent('test.parallel-waits', { id: 'r-4001', givenName: 'Pat' }),
          'it-parallel-waits',
        ),
      );
      await h.runOutcome(
        await send(
          'parallel-fail-fast',
          makeEvent('test.parallel-fail-fast', { id: 'r-4002', givenName: 'Pat' }),
          'it-parallel-fail-fast',
        ),
      );
    }

    if (want('for-each')) {
      // forEach: a run over persons in batches (its coordinator and one batch recorded too),
      // with an item that fails; and a disabling step parked on its blast radius, then approved
      for (let i = 0; i < 12; i++) {
        await insertPersonIfAbsent(h.db.db, {
          id: `r-fe-${i}`,
          status: 'active',
          department: i < 8 ? 'Marking' : 'Guarded',
          attributes: i === 3 ? { bad: true } : {},
        });
      }
      const runId = await send(
        'for-each',
        makeEvent(
          'test.foreach-persons',
          { id: 'r-5001' },
          { attributes: { department: 'Marking' } },
        ),
        'it-foreach-persons',
      );
      await h.runOutcome(runId);
      recorded.push(['for-each-items', `foreach/${runId}/each`]);
      recorded.push(['for-each-batch', `foreach/${runId}/each/batch-0`]);
      const guarded = await send(
        'for-each-guard',
        makeEvent(
          'test.foreach-guard',
          { id: 'r-5002' },
          { attributes: { department: 'Guarded' } },
        ),
        'it-foreach-guard',
      );
      const handle = h.client.workflow.getHandle(guarded);
      await h.eventually(async () => {
        const s = await handle.query<RunState>('state').catch(() => undefined);
        return s?.status === 'Parked' ? s : undefined;
      });
      await handle.executeUpdate('operator', {
        args: [{ action: 'approve', step: 'disable-all', by: 'r-ops' }],
      });
      await h.runOutcome(guarded);
    }

    if (want('correlation')) {
      // the correlate step: an HR record without a person id matches two persons by email,
      // waits for a review, is resolved to one of them, and that person is reconciled
      await withTargets('targets', async () => {
        for (const [id, givenName] of [
          ['r-4001', 'Alex'],
          ['r-4002', 'Sam'],
        ] as const) {
          await insertPersonIfAbsent(h.db.db, {
            id,
            givenName,
            familyName: 'Twin',
            email: 'twin@example.com',
            status: 'active',
            attributes: { username: `rtwin${id.slice(-1)}` },
          });
        }
        const event = makeEvent('person.inbox-joiner', {
          id: 'wd-R4000',
          givenName: 'Alex',
          familyName: 'Twin',
          email: 'twin@example.com',
        });
        const res = await h.postEvent(event);
        if (res.status !== 202) throw new Error(`correlation: ${res.status}`);
        const runId = `flow/person-inbox-joiner/wd-R4000/${event.id as string}`;
        recorded.push(['correlation', runId]);
        const reviewId = await h.eventually(async () => {
          const state = await h.client.workflow
            .getHandle(runId)
            .query<RunState>('state')
            .catch(() => undefined);
          return state?.waitingOn?.kind === 'review' ? state.waitingOn.reviewId : undefined;
        });
        await new ReviewService(h.db.db, h.client).resolve(
          reviewId,
          { personId: 'r-4002' },
          'cli:record-replays',
        );
        await h.runOutcome(runId, 60_000);
      });
    }

    if (want('timeline')) {
      // a person's timeline: a planned leave waits for its date, a return cancels it; the
      // dispatches hand their decisions to the timeline, which starts and cancels the runs
      const personId = 'r-5000';
      const leave = makeEvent(
        'test.leave',
        { id: personId },
        { effectiveAt: new Date(Date.now() + 60_000).toISOString() },
      );
      const leaveRun = await send('timeline-cancelled', leave, 'it-leave');
      await h.eventually(async () => {
        const state = await h.client.workflow
          .getHandle(leaveRun)
          .query<RunState>('state')
          .catch(() => undefined);
        return state?.waitingOn?.step === 'wait-for-date' ? true : undefined;
      });
      const back = makeEvent('test.back', { id: personId });
      await h.runOutcome(await send('timeline-return', back, 'it-back'));
      await h.client.workflow
        .getHandle(leaveRun)
        .result()
        .catch(() => undefined);
      recorded.push(['timeline', timelineWorkflowId(h.taskQueue, personId)]);
    }

    if (want('scheduled')) {
      // a schedule's firing, triggered: scheduledRun names it as an event, audits it and runs
      // the flow inline (the flow's other schedules are synced too, none fires here)
      const [flow] = await activeDefinitions(h.db.db, 'Flow', ['it-sched-report']);
      if (!flow) throw new Error('scheduled: it-sched-report is not active');
      await syncSchedules(h.client, h.taskQueue, [
        { name: flow.name, hash: flow.hash, ir: flow.ir as FlowIR },
      ]);
      const schedule = h.client.schedule.getHandle(
        temporalScheduleId(h.taskQueue, 'it-sched-report', 'nightly'),
      );
      await schedule.trigger();
      const workflowId = await h.eventually(async () => {
        const [action] = (await schedule.describe()).info.recentActions;
        return action?.action.workflow.workflowId;
      });
      await h.runOutcome(workflowId);
      recorded.push(['scheduled', workflowId]);
    }

    if (want('planned-leaver')) {
      // the reference leaver of a last day ahead, second-scale through its inputs: the wait for
      // the notice day, the manager's notice, the wait for the last day, termination-pending and
      // reconcile, the grace period, termination and reconcile again (the CRM user deleted)
      await withTargets('leaver', async () => {
        const hire = async (subject: Record<string, unknown>) => {
          const event = makeEvent('person.joiner', subject, { effectiveAt: past });
          if ((await h.postEvent(event)).status !== 202) throw new Error('planned-leaver: joiner');
          await h.runOutcome(
            `flow/joiner-standard/${subject.id as string}/${event.id as string}`,
            60_000,
          );
        };
        await hire({
          id: 'r-6000',
          givenName: 'Mia',
          familyName: 'Manager',
          email: 'mia@example.com',
        });
        await hire({
          id: 'r-6001',
          givenName: 'Pat',
          familyName: 'Planned',
          department: 'Sales',
          managerId: 'r-6000',
        });
        const leaver = makeEvent(
          'person.leaver',
          { id: 'r-6001', employmentType: 'employee' },
          {
            effectiveAt: new Date(Date.now() + 8_000).toISOString(),
            attributes: { noticePeriod: '4s', gracePeriod: '3s' },
          },
        );
        await h.runOutcome(await send('planned-leaver', leaver, 'leaver-standard'), 60_000);
      });
    }

    if (want('encrypted')) {
      // an approval run with payload encryption on (test key 1 encrypting): its inputs,
      // signals, updates and results are ciphertext in the history, which the replay test
      // decrypts with the test keys as a worker decrypts the runs in flight
      const e = new Harness({
        definitions: ['test/fixtures/approvals'],
        temporalAddress: server.address,
        env: { IDFLOW_PAYLOAD_KEYS: TEST_KEY_1 },
      });
      try {
        await e.start();
        for (const [id, displayName] of [
          ['r-mgr', 'Mina Manager'],
          ['p-sec', 'Sam Security'],
        ] as const)
          await insertPersonIfAbsent(e.db.db, { id, displayName, status: 'active' });
        const event = makeEvent('test.all', {
          id: 'r-9001',
          givenName: 'Enid',
          familyName: 'Encrypted',
          email: 'enid@example.com',
          managerId: 'r-mgr',
        });
        const res = await e.postEvent(event);
        if (res.status !== 202) throw new Error(`encrypted: ${res.status}`);
        const runId = `flow/ap-all/r-9001/${event.id as string}`;
        recorded.push([
          'encrypted-approval-dispatch',
          `event/${event.source as string}/${event.id as string}`,
        ]);
        recorded.push(['encrypted-approval', runId]);
        for (const [by, left] of [
          ['r-mgr', ['r-mgr', 'p-sec']],
          ['p-sec', ['p-sec']],
        ] as const) {
          await e.eventually(async () => {
            const state = await e.client.workflow
              .getHandle(runId)
              .query<RunState>('state')
              .catch(() => undefined);
            const on = state?.waitingOn;
            return on?.kind === 'approval' && on.approvers.join() === left.join()
              ? true
              : undefined;
          });
          await e.client.workflow.getHandle(runId).executeUpdate('decide', {
            args: [
              {
                step: 'both',
                decision: 'approve',
                by,
                onBehalfOf: by,
                channel: 'api',
                comment: 'ok',
              },
            ],
          });
        }
        await e.runOutcome(runId);
      } finally {
        await e.close();
      }
    }

    if (want('over-budget')) {
      // a run over its 1 ms execution budget (an email to the local SMTP target is a regular
      // activity): it flags itself with IdflowOverBudget behind the execution-budget-flag patch
      await withTargets('budget', async () => {
        const runId = await send(
          'over-budget',
          makeEvent('test.over-time', { id: 'r-7000' }),
          'it-over-time',
        );
        await h.runOutcome(runId, 60_000);
        const state = await h.client.workflow.getHandle(runId).query<RunState>('state');
        if (!state.overBudget) throw new Error('over-budget: the run stayed within its budget');
      });
    }

    mkdirSync(OUT, { recursive: true });
    const cli = findTemporalCli(process.env.TEMPORAL_CLI);
    for (const [name, workflowId] of recorded) {
      // the CLI writes proto3 JSON, the form Worker.runReplayHistory reads back
      const { stdout } = await exec(cli, [
        'workflow',
        'show',
        '--address',
        server.address,
        '-w',
        workflowId,
        '--output',
        'json',
      ]);
      const history: unknown = JSON.parse(stdout);
      writeFileSync(
        join(OUT, `${prefix}${name}.json`),
        JSON.stringify({ workflowId, history }, null, 1) + '\n',
      );
      console.log(`recorded ${prefix}${name} (${workflowId})`);
    }
  } finally {
    await h.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
