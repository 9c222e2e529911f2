/**
 * `idflow runs list|show|retry|skip|abort|approve`: find runs by person, flow, status, event
 * type, start time or budget, read one run, and decide parked steps. The filters, the view and
 * the rules of a decision are the run operations the API uses (src/runs), so the two cannot
 * disagree; decisions are Temporal updates, audited with who made them.
 */
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { RunInputError } from '../../runs/errors';
import { RunFilterInput, type RunFilter } from '../../runs/filter';
import { listRuns } from '../../runs/list';
import { OPERATOR_ACTIONS, operateRun } from '../../runs/operate';
import { redactor } from '../../runs/secrets';
import { showRun } from '../../runs/view';
import { VisibilityValueError } from '../../temporal/visibility';
import { renderRun, renderRunPage } from '../run-view';
import { cliActor, configOrExit, withDatabase, withTemporal } from '../runtime';

/** The CLI's options of `runs list`, by the filter field each one sets. */
const OPTION_OF: Record<string, string> = {
  person: '--person',
  flow: '--flow',
  status: '--status',
  eventType: '--event-type',
  since: '--since',
  until: '--until',
  overBudget: '--over-budget',
  limit: '--limit',
  cursor: '--cursor',
};

export interface ListOptions {
  person?: string;
  subject?: string;
  flow?: string;
  status?: string;
  eventType?: string;
  since?: string;
  until?: string;
  overBudget?: boolean;
  limit?: string;
  cursor?: string;
}

/** The filter of `runs list` options, checked by the API's grammar; errors name the option. */
export function cliFilter(options: ListOptions): RunFilter {
  if (options.person !== undefined && options.subject !== undefined)
    throw new Error('give --person or --subject (the same thing), not both');
  const input = Object.fromEntries(
    Object.entries({
      person: options.person ?? options.subject,
      flow: options.flow,
      status: options.status,
      eventType: options.eventType,
      since: options.since,
      until: options.until,
      overBudget: options.overBudget ? 'true' : undefined,
      limit: options.limit,
      cursor: options.cursor,
    }).filter(([, v]) => v !== undefined),
  );
  const parsed = RunFilterInput.safeParse(input);
  if (!parsed.success)
    throw new Error(
      parsed.error.issues
        .map((i) => {
          const field = String(i.path[0] ?? '');
          const value = input[field];
          return `${OPTION_OF[field] ?? field} ${i.message}${value !== undefined ? `, not ${JSON.stringify(value)}` : ''}`;
        })
        .join('; '),
    );
  return parsed.data;
}

/** A run operation's input error with the CLI's option name. */
function optionError(err: unknown): unknown {
  if (err instanceof RunInputError || err instanceof VisibilityValueError)
    return new Error(
      `${OPTION_OF[err.field] ?? err.field} ${err.message.slice(err.field.length + 2)}`,
    );
  return err;
}

function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  return withTemporal(configOrExit(), fn);
}

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('find, inspect and repair flow runs');
  runs
    .command('list')
    .description('list runs, open runs first, newest first')
    .option('--person <person-id>', 'runs for this person')
    .option('--subject <person-id>', 'the same as --person')
    .option('--flow <name>')
    .option('--status <status>', 'Running, Waiting, Parked, Completed, Failed or Cancelled')
    .option('--event-type <type>', 'runs started by events of this type, like person.joiner')
    .option('--since <time>', 'started at or after this RFC 3339 time')
    .option('--until <time>', 'started before this RFC 3339 time')
    .option('--over-budget', 'only runs that went over their execution budget')
    .option('--limit <n>', 'at most this many (1 to 200)', '50')
    .option('--cursor <cursor>', 'the next page: the cursor the previous page printed')
    .option('--json', 'print the page as JSON')
    .action(async (options: ListOptions & { json?: boolean }) => {
      const filter = cliFilter(options);
      await withClient(async (client) => {
        const page = await listRuns(client, filter, { summaries: options.json === true }).catch(
          (err: unknown) => {
            throw optionError(err);
          },
        );
        if (options.json) {
          console.log(JSON.stringify(page, null, 2));
          return;
        }
        console.log(renderRunPage(page));
        if (page.nextCursor) console.error(`more: --cursor ${page.nextCursor}`);
      });
    });
  runs
    .command('show')
    .description(
      'a run: its steps with timings and errors, approvals, what it waits on and until when (secrets redacted)',
    )
    .argument('<workflow-id>')
    .option('--json', 'print the run as JSON')
    .action((workflowId: string, options: { json?: boolean }) =>
      withDatabase(async (db, config) =>
        withClient(async (client) => {
          const view = await showRun(client, workflowId, await redactor(db, config));
          console.log(options.json ? JSON.stringify(view, null, 2) : renderRun(view));
        }),
      ),
    );
  const descriptions = {
    retry: 'retry the step a parked run waits on',
    skip: 'skip the step a parked run waits on',
    abort: 'abort the step a parked run waits on (the run fails)',
    approve: 'let a step the blast-radius guard parked go on and act on every item it counted',
  } as const;
  for (const action of OPERATOR_ACTIONS) {
    runs
      .command(action)
      .description(descriptions[action])
      .argument('<workflow-id>')
      .option('--reason <text>', 'why, for the audit log')
      .option('--step <step-id>', 'which parked step, when several branches are parked')
      .action((workflowId: string, options: { reason?: string; step?: string }) =>
        withDatabase((db) =>
          withClient(async (client) => {
            const done = await operateRun({ client, db }, workflowId, {
              action,
              by: cliActor(),
              ...(options.reason !== undefined ? { reason: options.reason } : {}),
              ...(options.step !== undefined ? { step: options.step } : {}),
            });
            console.error(`${action}: step '${done.step}' of ${workflowId}`);
          }),
        ),
      );
  }
}
