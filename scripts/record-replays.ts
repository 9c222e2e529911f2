/**
 * Records workflow histories into test/replays/ for the replay test, which runs every recorded
 * history against the current workflow code: a change to the interpreter that would break runs
 * already in flight fails CI. Re-record when the definitions or fixtures change meaningfully:
 *
 *   node --import tsx scripts/record-replays.ts
 *
 * Needs the Temporal CLI (scripts/setup.sh) and PostgreSQL at 127.0.0.1:5432.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { insertPersonIfAbsent } from '../src/db/repos/persons';
import { findTemporalCli } from '../src/temporal/cli';
import { startDevServer } from '../src/temporal/dev-server';
import type { RunState } from '../src/temporal/contracts';
import { Harness, makeEvent, ROOT } from '../test/support/harness';
import { freePort } from '../test/support/ports';

const OUT = join(ROOT, 'test', 'replays');
const exec = promisify(execFile);

async function main(): Promise<void> {
  const server = await startDevServer({
    cli: findTemporalCli(process.env.TEMPORAL_CLI),
    port: await freePort(),
    logFile: join(ROOT, '.idflow', 'test', 'record-replays.log'),
  });
  const h = new Harness({
    definitions: ['definitions', 'test/fixtures/runtime', 'test/fixtures/approvals'],
    temporalAddress: server.address,
  });
  try {
    await h.start();
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

    await h.runOutcome(
      await send(
        'joiner-manager',
        makeEvent(
          'person.joiner',
          { id: 'r-1000', givenName: 'Grace', familyName: 'Hopper', email: 'grace@example.com' },
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

    // an approval: assigned, then approved by the manager through the run's `decide` update
    await insertPersonIfAbsent(h.db.db, {
      id: 'r-mgr',
      displayName: 'Mina Manager',
      status: 'active',
    });
    const approval = await send(
      'approval',
      makeEvent('test.approve', { id: 'r-2001', managerId: 'r-mgr' }),
      'ap-basic',
    );
    await h.eventually(async () => {
      const state = await h.client.workflow
        .getHandle(approval)
        .query<RunState>('state')
        .catch(() => undefined);
      return state?.waitingOn?.kind === 'approval' ? true : undefined;
    });
    await h.client.workflow.getHandle(approval).executeUpdate('decide', {
      args: [
        {
          step: 'ask-manager',
          decision: 'approve',
          by: 'r-mgr',
          onBehalfOf: 'r-mgr',
          channel: 'api',
          comment: 'ok',
        },
      ],
    });
    await h.runOutcome(approval);

    rmSync(OUT, { recursive: true, force: true });
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
        join(OUT, `${name}.json`),
        JSON.stringify({ workflowId, history }, null, 1) + '\n',
      );
      console.log(`recorded ${name} (${workflowId})`);
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
