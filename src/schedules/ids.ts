/**
 * Names of a flow's schedules in Temporal and in idflow's records. Pure and sandbox-safe: the
 * `scheduledRun` workflow names its event and subject with these.
 */

/** The event source of scheduled runs. */
export const SCHEDULE_SOURCE = 'schedule';

/** The event type of scheduled runs, and their IdflowEventType. */
export const SCHEDULE_FIRED = 'schedule.fired';

/** What every idflow schedule's id starts with for one deployment (its task queue). */
export function schedulePrefix(taskQueue: string): string {
  return `idflow/${taskQueue}/`;
}

/**
 * The Temporal Schedule id of a flow's schedule: the task queue names the deployment, so two
 * idflow deployments on one namespace keep their schedules apart.
 */
export function temporalScheduleId(taskQueue: string, flow: string, schedule: string): string {
  return `${schedulePrefix(taskQueue)}${flow}/${schedule}`;
}

/** The flow and schedule of a Temporal Schedule id of this deployment, if it is one. */
export function parseScheduleId(
  taskQueue: string,
  scheduleId: string,
): { flow: string; schedule: string } | undefined {
  const prefix = schedulePrefix(taskQueue);
  if (!scheduleId.startsWith(prefix)) return undefined;
  const [flow, schedule, ...rest] = scheduleId.slice(prefix.length).split('/');
  if (!flow || !schedule || rest.length) return undefined;
  return { flow, schedule };
}

/**
 * The workflow id a schedule gives its runs; Temporal appends the firing time, and the `flow/`
 * prefix keeps them runs (`isRunWorkflowId`).
 */
export function scheduledWorkflowId(flow: string, schedule: string): string {
  return `flow/${flow}/schedule.${schedule}`;
}

/** The subject of a scheduled run: the schedule itself, since it belongs to no person. */
export function scheduleSubjectId(flow: string, schedule: string): string {
  return `schedule:${flow}.${schedule}`;
}

/** Whether a run's subject is a schedule rather than a person. */
export function isScheduleSubject(subjectId: string): boolean {
  return subjectId.startsWith('schedule:');
}

/**
 * The audit target of a schedule (its firings, operators' actions on it, its runs' outcomes):
 * the scheduled runs' subject id, so one filter finds all of it.
 */
export function scheduleTarget(flow: string, schedule: string): string {
  return scheduleSubjectId(flow, schedule);
}

/** The audit target of a run's subject: the schedule for scheduled runs, else the person. */
export function subjectTarget(subjectId: string): string {
  return isScheduleSubject(subjectId) ? subjectId : `person:${subjectId}`;
}
