/**
 * What the Temporal Web UI shows of each idflow workflow: a one-line static summary (the list
 * view's Summary column, the top of the detail page) and static details in markdown (what the
 * workflow is, for which person, which flow and version, started by what, and the saved query
 * that finds its siblings). Persons appear by id only: a name in a summary is the flow's own
 * `summary:` template or the run's standard line, never these details.
 *
 * Sandbox-safe (no Node imports): workflows, the gateway and the CLI build the same text.
 */
import type { FlowIR, ForEachStepIR } from '../dsl/ir';
import type { IdentityEvent } from '../model/event';
import type { TimelineState } from './contracts';

/** A value inside inline code in markdown: backticks and line breaks cannot break out of it. */
export function code(value: string): string {
  const flat = value.replace(/[\r\n]+/g, ' ');
  return `\`${flat.replace(/`/g, "'")}\``;
}

/** The first 12 characters of a definition hash, as `idflow definitions history` shows it. */
export function shortHash(hash: string): string {
  return hash.length > 12 ? hash.slice(0, 12) : hash;
}

/** The memo key under which a listed run carries its one-line summary. */
export const SUMMARY_MEMO_KEY = 'summary';

/**
 * The memo of a run `GET /v1/runs` lists: its static summary once more, because visibility
 * returns a run's memo with each listed run but not its static summary, so a page of runs
 * reads its summaries without a describe call per run. The memo is a Temporal payload as the
 * static summary is: a payload codec, once there is one, encrypts both alike, the memo's copy
 * in the visibility store included, so the memo adds no exposure the static summary lacks.
 * Temporal's replay compares only a child start's workflow id and type, so a memo added to a
 * child start replays against histories recorded without it.
 */
export function summaryMemo(summary: string): Record<string, string> {
  return { [SUMMARY_MEMO_KEY]: summary };
}

/** A visibility query on one attribute, for the details' "find" lines (quotes escaped). */
function query(attribute: string, value: string): string {
  return code(`${attribute} = '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
}

function eventLine(
  event: Pick<IdentityEvent, 'type' | 'source' | 'id' | 'occurredAt'> & {
    effectiveAt?: string | undefined;
  },
): string {
  const effective = event.effectiveAt ? `, effective ${event.effectiveAt}` : '';
  return `- **Event:** ${code(event.type)} from ${code(event.source)}, id ${code(event.id)}, occurred ${event.occurredAt}${effective}`;
}

/** Details of a dispatch workflow (`event/<source>/<id>`), set by the gateway when it starts it. */
export function dispatchDetails(event: IdentityEvent, timeline: string): string {
  return [
    `**Dispatch of an identity event**: records it, evaluates the active policies and hands the runs they choose to the person's timeline.`,
    '',
    `- **Person:** ${code(event.subject.id)}`,
    eventLine(event),
    `- **Timeline:** ${code(timeline)}`,
    `- **Runs of this person:** ${query('IdflowSubject', event.subject.id)}`,
  ].join('\n');
}

/** Details of a person's timeline (`person/<task queue>/<id>`). */
export function timelineDetails(personId: string): string {
  return [
    `**Timeline of one person**: applies their events in the order idflow accepted them; a later event's runs start once the earlier ones have finished, unless its policy says otherwise.`,
    '',
    `- **Person:** ${code(personId)}`,
    `- **Runs of this person:** ${query('IdflowSubject', personId)}`,
  ].join('\n');
}

/** Where a run came from, for its details. */
export interface RunOrigin {
  /** The workflow that started the run (the person's timeline, a dispatch or a schedule). */
  startedBy: string;
  /** The dispatch workflow of the event, when an event started the run. */
  dispatch?: string;
}

/** The flow's identity in details: title, name, version hash. */
function flowLines(ir: Pick<FlowIR, 'title' | 'name'>, hash: string): string[] {
  return [
    `- **Flow:** ${ir.title} (${code(ir.name)}), version ${code(shortHash(hash))}`,
    `- **Version hash:** ${code(hash)}`,
  ];
}

/** Details of a flow run (`flow/<flow>/<person>/<event>`). */
export function runDetails(
  input: { ir: FlowIR; hash: string; event: IdentityEvent },
  origin: RunOrigin,
): string {
  const { ir, hash, event } = input;
  const budget = `${Math.round(ir.executionBudgetMs / 100) / 10} s automated, ${ir.stepBudget} steps`;
  return [
    `**Run of flow ${code(ir.name)}** for person ${code(event.subject.id)}.`,
    '',
    ...flowLines(ir, hash),
    `- **Person:** ${code(event.subject.id)}`,
    eventLine(event),
    `- **Started by:** ${code(origin.startedBy)}${origin.dispatch ? ` (dispatch ${code(origin.dispatch)})` : ''}`,
    `- **Budget:** ${budget}`,
    `- **Runs of this person:** ${query('IdflowSubject', event.subject.id)}`,
    '',
    'What it waits on, when it waits, is in the current details below; `idflow runs show <workflow id>` prints its steps.',
  ].join('\n');
}

/** Details of a scheduled run, set on the schedule's action. */
export function scheduledDetails(
  ir: Pick<FlowIR, 'title' | 'name'>,
  hash: string,
  schedule: { id: string; title: string; when: string; timezone: string },
): string {
  return [
    `**Scheduled run of flow ${code(ir.name)}**: started by its Temporal Schedule, for no one person.`,
    '',
    ...flowLines(ir, hash),
    `- **Schedule:** ${schedule.title} (${code(schedule.id)}), ${schedule.when} (${schedule.timezone})`,
    `- **Runs of this flow:** ${query('IdflowFlow', ir.name)}`,
  ].join('\n');
}

/** What a forEach step's coordinator or batch belongs to. */
export interface ForEachOf {
  ir: Pick<FlowIR, 'title' | 'name'>;
  hash: string;
  step: Pick<ForEachStepIR, 'id' | 'title' | 'over' | 'batchSize' | 'concurrency'>;
  /** The run the step belongs to. */
  runId: string;
  personId: string;
}

function overLine(step: ForEachOf['step']): string {
  const over =
    step.over.kind === 'items'
      ? 'the items of a list'
      : step.over.kind === 'accounts' && step.over.connector
        ? `accounts of connector ${code(step.over.connector)}`
        : `${step.over.kind} of the identity store`;
  return `- **Over:** ${over}, ${step.batchSize} per batch, ${step.concurrency} at a time`;
}

/** Summary of a forEach step's coordinator (`foreach/<run>/<step>`). */
export function forEachSummary(of: ForEachOf): string {
  return `${of.ir.title}: ${of.step.title} (forEach of run ${of.runId})`;
}

/** Details of a forEach step's coordinator: reads the population and runs it in batches. */
export function forEachDetails(of: ForEachOf): string {
  return [
    `**forEach step ${code(of.step.id)}** (${of.step.title}) of run ${code(of.runId)}: reads what the step goes over page by page and runs it in batches.`,
    '',
    ...flowLines(of.ir, of.hash),
    `- **Person of the run:** ${code(of.personId)}`,
    overLine(of.step),
    `- **Progress:** in the run's current details and \`idflow runs show ${of.runId}\``,
  ].join('\n');
}

/** Summary of one batch of a forEach step's items. */
export function batchSummary(of: ForEachOf, batch: number, items: number): string {
  return `${of.ir.title}: ${of.step.title}, batch ${batch + 1} (${items} items) of run ${of.runId}`;
}

/** Details of one batch of a forEach step's items. */
export function batchDetails(of: ForEachOf, batch: number, items: number): string {
  return [
    `**Batch ${batch + 1} of forEach step ${code(of.step.id)}** (${of.step.title}) of run ${code(of.runId)}: ${items} items, each on an interpreter of its own that never parks (a failed item is counted).`,
    '',
    ...flowLines(of.ir, of.hash),
    `- **Person of the run:** ${code(of.personId)}`,
    overLine(of.step),
  ].join('\n');
}

/** Summary and details of a person's access plan (`plan/<person>/<uuid>`). */
export function planPersonText(
  personId: string,
  connectors: readonly string[],
): {
  summary: string;
  details: string;
} {
  return {
    summary: `Access plan of ${personId} (a preview: changes nothing)`,
    details: [
      `**Access plan of one person**: what a reconcile would grant and revoke, read from the live targets; nothing is changed or recorded.`,
      '',
      `- **Person:** ${code(personId)}`,
      `- **Connectors:** ${connectors.length ? connectors.map(code).join(', ') : 'every connector an active role or grant names'}`,
    ].join('\n'),
  };
}

/**
 * A timeline's current details: the person and each event it holds, in order, with its state
 * and runs. Static details do not survive a continue-as-new; current details are set again by
 * every execution, so a long-lived timeline always says what it is.
 */
export function timelineCurrent(state: TimelineState): string {
  const lines = state.entries.map(
    (e) =>
      `- #${e.seq} ${code(e.type)} ${code(`${e.source}/${e.id}`)}: ${e.state}${e.runs.length ? `, runs ${e.runs.map(code).join(', ')}` : ''}`,
  );
  return [
    `**Timeline of person ${code(state.personId)}**: ${state.entries.length === 0 ? 'no event waiting or running.' : `${state.entries.length} event(s) in order:`}`,
    ...(lines.length ? ['', ...lines] : []),
    '',
    `- **Runs of this person:** ${query('IdflowSubject', state.personId)}`,
  ].join('\n');
}

/**
 * A forEach coordinator's current details: what it is (static details are lost when it
 * continues as new) and how far it has got.
 */
export function forEachCurrent(
  of: ForEachOf,
  p: { scanned: number; total: number; completed: number; failed: number; batches: number },
): string {
  return [
    `**${forEachSummary(of)}**`,
    '',
    `${p.completed + p.failed} of ${p.total} items done so far (${p.failed} failed), ${p.scanned} read, in ${p.batches} batches.`,
  ].join('\n');
}
