/**
 * `forEach`: the item steps for every person or account a filter selects, or every item of a
 * list. The run starts one `forEachItems` child that reads the population page by page and
 * hands batches to `forEachBatch` children, so the run's own history holds a handful of events
 * whatever the population. Before anything is changed, a step whose items may disable or delete
 * counts them against the blast radius and parks for an operator when they are too many.
 */
import {
  ApplicationFailure,
  defineSignal,
  executeChild,
  ParentClosePolicy,
} from '@temporalio/workflow';
import type { ForEachStepIR, JsonValue } from '../../src/dsl/ir';
import { FOR_EACH_OUTPUT_SHAPE } from '../../src/dsl/shapes';
import { overBlastRadius } from '../../src/population/guard';
import type {
  ForEachInput,
  ForEachItem,
  ForEachProgress,
  ForEachTally,
  ItemContext,
  PopulationPage,
} from '../../src/temporal/contracts';
import type { forEachItems } from '../for-each';
import { forEachDetails, forEachSummary } from '../../src/temporal/summaries';
import { BLAST_RADIUS_EXCEEDED, stepFailure, type FlowRun } from '../run';
import { visibleText } from '../../src/temporal/visible';

/** A forEach child's progress, sent to the run as its batches complete. */
export const forEachProgressSignal = defineSignal<[ForEachProgress]>('forEachProgress');

/** Most items a list value may give (queries of the identity store have no limit). */
export const MAX_LIST_ITEMS = 10_000;

/** Workflow id of a forEach step's child that goes over its items. */
export function forEachWorkflowId(runId: string, stepId: string): string {
  return `foreach/${runId}/${stepId}`;
}

function listItems(run: FlowRun, step: ForEachStepIR): ForEachItem[] | undefined {
  if (step.over.kind !== 'items') return undefined;
  const value = run.render(step.over.items, step);
  if (!Array.isArray(value)) {
    throw stepFailure(
      step,
      'BadItems',
      `items gave ${value === null ? 'null' : typeof value}, not a list`,
    );
  }
  if (value.length > MAX_LIST_ITEMS) {
    throw stepFailure(
      step,
      'TooManyItems',
      `items gave ${value.length} values; a list may hold at most ${MAX_LIST_ITEMS} (go over persons or accounts of the identity store instead)`,
    );
  }
  return value.map((v: JsonValue, i) => ({ key: String(i), value: v }));
}

/**
 * Counts what the step would act on and parks while it is over the blast radius. Returns who
 * approved going past it, `skip` when an operator skipped the step, or undefined within it.
 */
async function guard(
  run: FlowRun,
  step: ForEachStepIR,
  record: ReturnType<FlowRun['begin']>,
  items: ForEachItem[] | undefined,
  scope: PopulationPage['scope'],
): Promise<{ approvedBy?: string; skip?: boolean }> {
  const limit = step.guard;
  if (!limit) return {};
  const noun = step.over.kind === 'items' ? 'items' : step.over.kind;
  for (;;) {
    let count: { matched: number; population?: number };
    if (items) count = { matched: items.length };
    else {
      const { readPopulation } = run.activities({ ...step, local: false });
      const page = await readPopulation.executeWithOptions(
        { summary: visibleText(`${step.id}: count what ${step.title} would act on`) },
        [
          {
            over: step.over as PopulationPage['over'],
            as: step.as,
            scope,
            limit: 0,
            countOnly: true,
          },
        ],
      );
      count = { matched: page.matched, population: page.scanned };
    }
    // the limit is the run's: what earlier guarded steps of this run act on counts too
    const earlier = run.actedOn;
    const over = overBlastRadius(limit, { ...count, matched: count.matched + earlier }, noun);
    if (!over) {
      run.actedOn += count.matched;
      return {};
    }
    const error = {
      type: BLAST_RADIUS_EXCEEDED,
      message: `step '${step.id}' ${over}${earlier > 0 ? ` (${earlier} of them by earlier steps of this run)` : ''}; its items may disable or delete (${limit.effects.join(', ')}). Nothing was changed: approve to go on, retry to count again, or skip or abort the step`,
    };
    record.status = 'parked';
    record.error = error;
    record.output = {
      matched: count.matched,
      ...(count.population !== undefined ? { population: count.population } : {}),
    };
    const action = await run.park(step, error);
    record.status = 'running';
    delete record.error;
    if (action.action === 'approve') {
      run.actedOn += count.matched;
      return { approvedBy: action.by };
    }
    if (action.action === 'skip') {
      run.finishStep(record, 'skipped', { error });
      return { skip: true };
    }
    if (action.action === 'abort') {
      run.finishStep(record, 'failed', { error });
      throw ApplicationFailure.nonRetryable(
        `step '${step.id}' was aborted by ${action.by}${action.reason ? `: ${action.reason}` : ''} (${over})`,
        'AbortedByOperator',
        { step: step.id },
      );
    }
  }
}

export async function runForEach(run: FlowRun, step: ForEachStepIR): Promise<void> {
  const record = run.begin(step);
  const items = listItems(run, step);
  const { ir, event, subject } = run.input;
  const scope: PopulationPage['scope'] = {
    event: { ...event, attributes: run.attributes } as unknown as JsonValue,
    eventShape: ir.event,
    subject: subject as unknown as JsonValue,
    vars: { ...run.vars },
    varShapes: ir.vars,
    now: new Date().toISOString(),
  };
  const verdict = await guard(run, step, record, items, scope);
  if (verdict.skip) return;
  const context: ItemContext = {
    run: { ...run.input, ir: { ...ir, steps: [] } },
    attributes: run.attributes,
    vars: { ...run.vars },
    outputs: { ...run.outputs },
    runId: run.runId,
  };
  const input: ForEachInput = {
    step,
    context,
    parentWorkflowId: run.workflowId,
    ...(items ? { items } : { scope }),
  };
  const of = { ir, hash: run.input.hash, step, runId: run.runId, personId: subject.id };
  const tally: ForEachTally = await executeChild<typeof forEachItems>('forEachItems', {
    workflowId: forEachWorkflowId(run.runId, step.id),
    args: [input],
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    staticSummary: visibleText(forEachSummary(of)),
    staticDetails: visibleText(forEachDetails(of)),
  });
  const output = {
    ...tally,
    ...(verdict.approvedBy ? { approvedBy: verdict.approvedBy } : {}),
  } as unknown as JsonValue;
  run.setOutput(step.id, output, FOR_EACH_OUTPUT_SHAPE);
  if (step.maxFailures !== undefined && tally.failed > step.maxFailures) {
    const error = {
      type: 'ItemsFailed',
      message: `${tally.failed} of ${tally.total} items failed, more than the ${step.maxFailures} the step allows`,
    };
    run.finishStep(record, 'failed', { output, error });
    throw stepFailure(step, error.type, error.message);
  }
  run.finishStep(record, 'completed', { output });
}
