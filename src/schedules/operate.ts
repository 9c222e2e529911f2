/**
 * What operators do with a flow's schedules, by `<flow>/<schedule>`: read them, pause and
 * unpause, fire one now, backfill a past period. Each action is audited with who did it. A
 * schedule that is not idflow's (or not there) is an error naming what was asked for.
 */
import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
} from '@temporalio/client';
import type { Database } from '../db/client';
import { appendAudit } from '../db/repos/audit';
import { NAME_PATTERN } from '../dsl/schema';
import { parseScheduleId, scheduleTarget, temporalScheduleId } from './ids';
import { actionMarker, scheduleMarker, type ActionMarker } from './sync';

/** A schedule asked for that idflow does not have. */
export class UnknownScheduleError extends Error {
  override readonly name = 'UnknownScheduleError';
}

/** A flow's schedule, by flow name and schedule id. */
export interface ScheduleName {
  flow: string;
  schedule: string;
}

/** `<flow>/<schedule>` as an operator writes it, checked against both names' grammar. */
export function parseScheduleName(text: string): ScheduleName {
  const [flow, schedule, ...rest] = text.split('/');
  if (!flow || !schedule || rest.length || !NAME_PATTERN.test(flow) || !NAME_PATTERN.test(schedule))
    throw new Error(
      `a schedule is named <flow>/<schedule>, like dormant-accounts/weekly, not ${JSON.stringify(text)}`,
    );
  return { flow, schedule };
}

/** One of idflow's schedules as Temporal describes it. */
export interface FoundSchedule extends ScheduleName {
  scheduleId: string;
  handle: ScheduleHandle;
  description: ScheduleDescription;
  action?: ActionMarker;
}

/** The idflow schedule `name` of this deployment, or UnknownScheduleError. */
export async function findSchedule(
  client: Client,
  taskQueue: string,
  name: ScheduleName,
): Promise<FoundSchedule> {
  const scheduleId = temporalScheduleId(taskQueue, name.flow, name.schedule);
  const handle = client.schedule.getHandle(scheduleId);
  const unknown = () =>
    new UnknownScheduleError(
      `no schedule '${name.flow}/${name.schedule}' on task queue ${taskQueue}: 'idflow schedules list' shows the schedules there, and 'idflow schedules sync' creates those of the active flows`,
    );
  let description: ScheduleDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw unknown();
    throw err;
  }
  if (!scheduleMarker(description.memo)) throw unknown();
  const action = actionMarker(description);
  return { ...name, scheduleId, handle, description, ...(action ? { action } : {}) };
}

/** Every idflow schedule of this deployment, described, in schedule id order. */
export async function listSchedules(client: Client, taskQueue: string): Promise<FoundSchedule[]> {
  const names: ScheduleName[] = [];
  for await (const summary of client.schedule.list()) {
    const name = parseScheduleId(taskQueue, summary.scheduleId);
    if (name && scheduleMarker(summary.memo)) names.push(name);
  }
  const found: FoundSchedule[] = [];
  for (const name of names) {
    try {
      found.push(await findSchedule(client, taskQueue, name));
    } catch (err) {
      // deleted since the listing, which lags behind
      if (!(err instanceof UnknownScheduleError)) throw err;
    }
  }
  return found.sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : 1));
}

/** Who acts on a schedule, and why (for the audit log and Temporal's note). */
export interface OperatorContext {
  db: Database;
  client: Client;
  taskQueue: string;
  actor: string;
}

async function audit(
  ctx: OperatorContext,
  found: FoundSchedule,
  action: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await appendAudit(ctx.db, {
    actor: ctx.actor,
    action,
    target: scheduleTarget(found.flow, found.schedule),
    outcome: 'ok',
    detail: { scheduleId: found.scheduleId, ...detail },
  });
}

/** Pauses or unpauses a schedule; the note Temporal shows says who and why. */
export async function setPaused(
  ctx: OperatorContext,
  name: ScheduleName,
  paused: boolean,
  reason?: string,
): Promise<FoundSchedule> {
  const found = await findSchedule(ctx.client, ctx.taskQueue, name);
  const note = `${paused ? 'paused' : 'unpaused'} by ${ctx.actor}${reason ? `: ${reason}` : ''}`;
  if (paused) await found.handle.pause(note);
  else await found.handle.unpause(note);
  await audit(ctx, found, paused ? 'schedule.paused' : 'schedule.unpaused', {
    ...(reason ? { reason } : {}),
  });
  return found;
}

/** Fires a schedule now; a run still going is treated as the schedule's overlap policy says. */
export async function triggerSchedule(
  ctx: OperatorContext,
  name: ScheduleName,
): Promise<FoundSchedule> {
  const found = await findSchedule(ctx.client, ctx.taskQueue, name);
  await found.handle.trigger(found.description.policies.overlap);
  await audit(ctx, found, 'schedule.triggered', {});
  return found;
}

/** Runs the firings a schedule would have had between `from` and `to`. */
export async function backfillSchedule(
  ctx: OperatorContext,
  name: ScheduleName,
  from: Date,
  to: Date,
): Promise<FoundSchedule> {
  if (!(from < to)) throw new Error('--from must be before --to');
  const found = await findSchedule(ctx.client, ctx.taskQueue, name);
  await found.handle.backfill({
    start: from,
    end: to,
    overlap: found.description.policies.overlap,
  });
  await audit(ctx, found, 'schedule.backfilled', {
    from: from.toISOString(),
    to: to.toISOString(),
  });
  return found;
}
