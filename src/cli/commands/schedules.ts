/**
 * `idflow schedules sync|list|describe|pause|unpause|trigger|backfill`: the Temporal Schedules
 * of the active flows' `schedules:`. Operators' actions are audited with who took them.
 */
import { table } from '../access-view';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import {
  backfillSchedule,
  findSchedule,
  listSchedules,
  parseScheduleName,
  setPaused,
  triggerSchedule,
  type FoundSchedule,
  type OperatorContext,
} from '../../schedules/operate';
import { syncActiveSchedules, syncReport, type SyncResult } from '../../schedules/sync';
import { createTemporalClient } from '../../temporal/client';
import { cliActor, withDatabase } from '../runtime';

/** How long one command may wait on Temporal before it gives up. */
const TEMPORAL_DEADLINE_MS = 60_000;

/** Runs `fn` with the database and a Temporal client, each closed afterwards. */
function withTemporal<T>(
  fn: (db: Database, client: Client, config: Config) => Promise<T>,
): Promise<T> {
  return withDatabase(async (db, config) => {
    const temporal = createTemporalClient(config);
    try {
      return await temporal.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
        fn(db, temporal.client, config),
      );
    } finally {
      await temporal.close();
    }
  });
}

/**
 * Syncs the active flows' schedules for `definitions apply` and `idflow dev`: what it did, or
 * why it could not (the definitions stay applied; `idflow schedules sync` tries again).
 */
export async function syncAfterApply(
  db: Database,
  config: Config,
  actor: string,
): Promise<{ ok: true; result: SyncResult } | { ok: false; message: string }> {
  const temporal = createTemporalClient(config);
  try {
    const result = await temporal.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      syncActiveSchedules(db, temporal.client, { taskQueue: config.temporal.taskQueue, actor }),
    );
    return { ok: true, result };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      message: `schedules were not synced with Temporal at ${config.temporal.address} (${why}); run 'idflow schedules sync' once it answers`,
    };
  } finally {
    await temporal.close();
  }
}

const utc = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `2027-03-01 09:00 EST`: an instant as the schedule's time zone reads it. */
function local(d: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
    })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

function zoneOf(found: FoundSchedule): string {
  return found.description.spec.timezone ?? 'UTC';
}

function describeLines(found: FoundSchedule): string[] {
  const { description: d, action } = found;
  const zone = zoneOf(found);
  const lines = [
    `schedule:    ${found.flow}/${found.schedule}${action?.title && action.title !== found.schedule ? ` (${action.title})` : ''}`,
    `temporal id: ${found.scheduleId}`,
    `when:        ${action?.when ?? '(not synced by this idflow)'}`,
    `time zone:   ${zone}`,
    ...(d.spec.startAt ? [`starts:      ${utc(d.spec.startAt)}`] : []),
    ...(d.spec.endAt ? [`ends:        ${utc(d.spec.endAt)}`] : []),
    ...(d.spec.jitter ? [`jitter:      ${d.spec.jitter} ms`] : []),
    `overlap:     ${d.policies.overlap ?? 'SKIP'}`,
    `paused:      ${d.state.paused ? `yes${d.state.note ? ` (${d.state.note})` : ''}` : 'no'}`,
    `definition:  ${action?.definitionHash ?? '?'}`,
    `actions:     ${d.info.numActionsTaken} taken, ${d.info.numActionsSkippedOverlap} skipped for overlap`,
    '',
    'next runs:',
  ];
  const next = d.info.nextActionTimes.slice(0, 5);
  if (next.length === 0) lines.push('  (none)');
  for (const t of next) lines.push(`  ${utc(t)}  ${local(t, zone)}`);
  lines.push('', 'recent runs:');
  const recent = [...d.info.recentActions].reverse();
  if (recent.length === 0) lines.push('  (none)');
  for (const r of recent) {
    lines.push(
      `  ${utc(r.scheduledAt)}  ${r.action.workflow.workflowId}  ${r.action.workflow.firstExecutionRunId}`,
    );
  }
  return lines;
}

function operatorContext(db: Database, client: Client, config: Config): OperatorContext {
  return { db, client, taskQueue: config.temporal.taskQueue, actor: cliActor() };
}

function instant(option: string, text: string): Date {
  const at = /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(at.getTime()))
    throw new Error(
      `${option} must be a timestamp with a time zone, like 2027-03-01T00:00:00Z, not ${JSON.stringify(text)}`,
    );
  return at;
}

export function registerSchedules(program: Command): void {
  const schedules = program
    .command('schedules')
    .description("the Temporal Schedules of the active flows' schedules:");
  schedules
    .command('sync')
    .description('create, update and delete Temporal Schedules to match the active flows')
    .action(() =>
      withTemporal(async (db, client, config) => {
        const result = await syncActiveSchedules(db, client, {
          taskQueue: config.temporal.taskQueue,
          actor: cliActor(),
        });
        for (const line of syncReport(result)) console.log(line);
      }),
    );
  schedules
    .command('list')
    .description("every schedule of this idflow's task queue")
    .action(() =>
      withTemporal(async (_db, client, config) => {
        const found = await listSchedules(client, config.temporal.taskQueue);
        if (found.length === 0) {
          console.log('no schedules: no active flow has schedules (after idflow schedules sync)');
          return;
        }
        const header = ['FLOW', 'SCHEDULE', 'WHEN', 'TIME ZONE', 'PAUSED', 'NEXT RUN', 'LAST RUN'];
        const rows: string[][] = [];
        for (const f of found) {
          const next = f.description.info.nextActionTimes[0];
          const last = f.description.info.recentActions.at(-1)?.scheduledAt;
          rows.push([
            f.flow,
            f.schedule,
            f.action?.when ?? '?',
            zoneOf(f),
            f.description.state.paused ? 'yes' : 'no',
            next ? utc(next) : '-',
            last ? utc(last) : '-',
          ]);
        }
        console.log(table(header, rows, ''));
      }),
    );
  schedules
    .command('describe')
    .description('a schedule: its timing, next five runs (UTC and local), recent runs')
    .argument('<flow/schedule>')
    .action((name: string) => {
      const schedule = parseScheduleName(name);
      return withTemporal(async (_db, client, config) => {
        const found = await findSchedule(client, config.temporal.taskQueue, schedule);
        for (const line of describeLines(found)) console.log(line);
      });
    });
  for (const paused of [true, false]) {
    const verb = paused ? 'pause' : 'unpause';
    schedules
      .command(verb)
      .description(`${verb} a schedule (a sync keeps an operator's pause)`)
      .argument('<flow/schedule>')
      .option('--reason <text>', 'why, for the audit log and the schedule note')
      .action((name: string, options: { reason?: string }) => {
        const schedule = parseScheduleName(name);
        return withTemporal(async (db, client, config) => {
          const ctx = operatorContext(db, client, config);
          const found = await setPaused(ctx, schedule, paused, options.reason);
          console.log(`${paused ? 'paused' : 'unpaused'} ${found.flow}/${found.schedule}`);
        });
      });
  }
  schedules
    .command('trigger')
    .description("fire a schedule now (a run still going is handled by the schedule's overlap)")
    .argument('<flow/schedule>')
    .action((name: string) => {
      const schedule = parseScheduleName(name);
      return withTemporal(async (db, client, config) => {
        const found = await triggerSchedule(operatorContext(db, client, config), schedule);
        console.log(`triggered ${found.flow}/${found.schedule}`);
      });
    });
  schedules
    .command('backfill')
    .description('run the firings a schedule would have had in a past period')
    .argument('<flow/schedule>')
    .requiredOption('--from <timestamp>', 'start of the period, like 2027-03-01T00:00:00Z')
    .requiredOption('--to <timestamp>', 'end of the period')
    .action((name: string, options: { from: string; to: string }) => {
      const schedule = parseScheduleName(name);
      const from = instant('--from', options.from);
      const to = instant('--to', options.to);
      if (!(from < to)) throw new Error('--from must be before --to');
      return withTemporal(async (db, client, config) => {
        const ctx = operatorContext(db, client, config);
        const found = await backfillSchedule(ctx, schedule, from, to);
        console.log(`backfilling ${found.flow}/${found.schedule} from ${utc(from)} to ${utc(to)}`);
      });
    });
}
