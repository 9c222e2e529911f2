/**
 * Which behaviour changes ("patches") a workflow execution runs with, decided once, as it begins.
 *
 * `patched(id)` answers from the patch markers Temporal announces with the history of the
 * workflow task being replayed. A run can record a local activity's result in one workflow task
 * and the code that follows it in the next (the task was completed while the local activity
 * ran, or a query forced it). On replay the local activity resolves while the first task is
 * applied, before the next task's markers are announced, so a `patched()` called right after
 * it answers false although its marker is in the history: the run fails its replay with
 * "Non-deprecated patch marker encountered". A decision taken before any command is issued
 * never straddles two tasks.
 *
 * So every workflow decides here, before its own code runs (the `execute` interceptor of
 * workflows/interceptors.ts), which generation of idflow's workflow code it runs: the newest
 * generation whose marker it recorded. A new run records only the newest generation's marker,
 * one history event. Each generation has every behaviour of the ones before it.
 * - Generation 1, `patches-at-start`: every `LEGACY` behaviour is on.
 * - Runs from before generation 1 (generation 0) decide each `LEGACY` patch where its code first
 *   runs, as they ran.
 * A new behaviour change appends a generation and is asked with `hasPatch` like the others.
 */
import { patched } from '@temporalio/workflow';

/** The generations of idflow's workflow code, oldest first: generation n is `GENERATIONS[n-1]`. */
export const GENERATIONS = [
  'patches-at-start',
  // the dispatch hands its decision to the timeline with a local activity's signal-with-start,
  // in its one workflow task, instead of starting the timeline as a child and signalling it
  // (workflows/dispatch.ts)
  'timeline-signal-with-start',
  // the dispatch records its decision (the events row's runs, `event.dispatched`) before it
  // hands it to the timeline, so no run can start, let alone end, before its event names it
  // (workflows/dispatch.ts)
  'decision-before-hand-over',
] as const;

/**
 * Patches from before generation 1, decided where their code first ran by runs of generation 0.
 * Runs of generation 1 and later have them all.
 */
export const LEGACY = [
  // CEL string functions count code points (workflows/run.ts)
  'cel-code-point-strings',
  // a run flags itself as over its execution budget (workflows/run.ts)
  'execution-budget-flag',
  // approval steps write their task to the approval_tasks table (workflows/steps/approval.ts)
  'approval-task-table',
  // the dispatch hands its decision to the person's timeline (workflows/dispatch.ts)
  'person-timeline',
  // each run gets a static summary of its own, kept unencrypted (workflows/dispatch.ts)
  'visible-summary',
] as const;

export type Patch = (typeof LEGACY)[number] | (typeof GENERATIONS)[number];

/** This workflow execution's generation (the module is the execution's own in the sandbox). */
let generation: number | undefined;

/**
 * Decides the execution's generation; the interceptor calls it before the workflow's code. A
 * new run records the newest generation's marker; a replay finds the one its history holds.
 */
export function decidePatchesAtStart(): void {
  generation = 0;
  for (let g = GENERATIONS.length; g >= 1; g--) {
    if (patched(GENERATIONS[g - 1] as string)) {
      generation = g;
      return;
    }
  }
}

/** Whether this execution runs with the patch's behaviour. */
export function hasPatch(id: Patch): boolean {
  if (generation === undefined)
    throw new Error(`patch '${id}' asked before the workflow decided its patches`);
  const introduced = (GENERATIONS as readonly string[]).indexOf(id) + 1;
  if (introduced > 0) return generation >= introduced;
  return generation >= 1 || patched(id);
}
