/**
 * `idflow runs list|show|retry|skip|abort`: find runs by flow, person or status, read their
 * state, and decide parked steps. Decisions are Temporal updates, audited with who made them.
 */
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { appendAudit } from '../../db/repos/audit';
import type { OperatorAction, RunState } from '../../temporal/contracts';
import { createTemporalClient } from '../../temporal/client';
import { cliActor, configOrExit, withDatabase } from '../runtime';

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
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
        const clauses = ['IdflowFlow IS NOT NULL'];
        if (options.flow) clauses.push(`IdflowFlow = ${quote(options.flow)}`);
        if (options.subject) clauses.push(`IdflowSubject = ${quote(options.subject)}`);
        if (options.status) clauses.push(`IdflowStatus = ${quote(options.status)}`);
        const limit = Number(options.limit);
        await withClient(async (client) => {
          let n = 0;
          for await (const run of client.workflow.list({ query: clauses.join(' AND ') })) {
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
  for (const action of ['retry', 'skip', 'abort'] as const) {
    runs
      .command(action)
      .description(`${action} the step a parked run waits on`)
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
