/**
 * `idflow runs list|show|retry|skip|abort`: find runs by flow, person or status, read their
 * state, and decide parked steps. Decisions are Temporal updates, audited with who made them.
 */
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { appendAudit } from '../../db/repos/audit';
import { NAME_PATTERN } from '../../dsl/schema';
import { isPersonId, PERSON_ID_MESSAGE } from '../../model/person';
import type { OperatorAction, RunState } from '../../temporal/contracts';
import { createTemporalClient } from '../../temporal/client';
import type { RunStatus } from '../../temporal/search-attributes';
import { equals, isSet, visibilityQuery } from '../../temporal/visibility';
import { cliActor, configOrExit, withDatabase } from '../runtime';

const STATUSES: readonly RunStatus[] = [
  'Running',
  'Waiting',
  'Parked',
  'Completed',
  'Failed',
  'Cancelled',
];

/** The visibility query of `runs list`: each option checked against its grammar, then escaped. */
export function runsQuery(options: { flow?: string; subject?: string; status?: string }): string {
  const clauses = [isSet('IdflowFlow')];
  if (options.flow !== undefined) {
    if (!NAME_PATTERN.test(options.flow))
      throw new Error(`--flow must be a flow name, like joiner-standard, not '${options.flow}'`);
    clauses.push(equals('IdflowFlow', options.flow, '--flow'));
  }
  if (options.subject !== undefined) {
    if (!isPersonId(options.subject))
      throw new Error(`--subject ${PERSON_ID_MESSAGE}, not ${JSON.stringify(options.subject)}`);
    clauses.push(equals('IdflowSubject', options.subject, '--subject'));
  }
  if (options.status !== undefined) {
    if (!(STATUSES as readonly string[]).includes(options.status))
      throw new Error(`--status must be one of ${STATUSES.join(', ')}, not '${options.status}'`);
    clauses.push(equals('IdflowStatus', options.status, '--status'));
  }
  return visibilityQuery(...clauses);
}

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const config = configOrExit();
  const temporal = createTemporalClient(config);
  try {
    return await fn(temporal.client);
  } finally {
    await temporal.close();
  }
}

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('find, inspect and repair flow runs');
  runs
    .command('list')
    .description('list runs, newest first')
    .option('--flow <name>')
    .option('--subject <person-id>')
    .option('--status <status>', 'Running, Waiting, Parked, Completed or Failed')
    .option('--limit <n>', 'at most this many', '50')
    .action(
      async (options: { flow?: string; subject?: string; status?: string; limit: string }) => {
        const query = runsQuery(options);
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1)
          throw new Error(`--limit must be a positive whole number, not '${options.limit}'`);
        await withClient(async (client) => {
          let n = 0;
          for await (const run of client.workflow.list({ query })) {
            const status = run.searchAttributes.IdflowStatus?.[0] ?? run.status.name;
            console.log([run.workflowId, String(status), run.startTime.toISOString()].join('\t'));
            if (++n >= limit) break;
          }
        });
      },
    );
  runs
    .command('show')
    .description("a run's state: its steps, what it waits on, its variables")
    .argument('<workflow-id>')
    .action(async (workflowId: string) => {
      await withClient(async (client) => {
        const state = await client.workflow.getHandle(workflowId).query<RunState>('state');
        console.log(JSON.stringify(state, null, 2));
      });
    });
  const descriptions = {
    retry: 'retry the step a parked run waits on',
    skip: 'skip the step a parked run waits on',
    abort: 'abort the step a parked run waits on (the run fails)',
    approve: 'let a step the blast-radius guard parked go on and act on every item it counted',
  } as const;
  for (const action of ['retry', 'skip', 'abort', 'approve'] as const) {
    runs
      .command(action)
      .description(descriptions[action])
      .argument('<workflow-id>')
      .option('--reason <text>', 'why, for the audit log')
      .action((workflowId: string, options: { reason?: string }) =>
        withDatabase((db) =>
          withClient(async (client) => {
            const handle = client.workflow.getHandle(workflowId);
            const state = await handle.query<RunState>('state');
            if (state.waitingOn?.kind !== 'operator') {
              throw new Error(`${workflowId} is not parked (status ${state.status})`);
            }
            const reason = options.reason ? { reason: options.reason } : {};
            const request: OperatorAction = {
              action,
              step: state.waitingOn.step,
              by: cliActor(),
              ...reason,
            };
            await handle.executeUpdate<RunState, [OperatorAction]>('operator', { args: [request] });
            await appendAudit(db, {
              actor: request.by,
              action: `run.step-${action}`,
              target: `run:${workflowId}`,
              outcome: 'ok',
              detail: { step: request.step, ...reason },
              runId: workflowId,
            });
            console.error(`${action}: step '${request.step}' of ${workflowId}`);
          }),
        ),
      );
  }
}
