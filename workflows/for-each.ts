/**
 * The workflows behind a `forEach` step. `forEachItems` reads the population page by page (a
 * `readPopulation` activity per batch, keyset-paginated, filtered where the data is) and runs
 * each batch as a `forEachBatch` child, a few at a time; `forEachBatch` runs the item steps for
 * its items, `concurrency` at a time, each item on an interpreter of its own that never parks.
 * Both continue as new long before their history nears Temporal's limits, so a step over
 * 100,000 items keeps every history to a few thousand events.
 */
import {
  ApplicationFailure,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { JsonValue, StepIR } from '../src/dsl/ir';
import type {
  ForEachBatchInput,
  ForEachInput,
  ForEachItem,
  ForEachTally,
  PopulationPage,
} from '../src/temporal/contracts';
import {
  batchDetails,
  batchSummary,
  forEachCurrent,
  type ForEachOf,
} from '../src/temporal/summaries';
import { FlowRun } from './run';
import { runSteps } from './steps';
import { forEachProgressSignal } from './steps/for-each';
import { visibleText } from '../src/temporal/visible';

/** Batches running at once under one forEach step. */
const BATCHES_IN_FLIGHT = 2;
/**
 * A coordinator's history this long continues as new once its batches in flight are done
 * (about 80 batches, each a page read, a child start and its result).
 */
const COORDINATOR_CONTINUE_AT = 1_000;
/** A batch's history this long continues as new with the items it has not started. */
const BATCH_CONTINUE_AT = 3_000;
/** First failures kept in the step's output; the rest are counted. */
const FAILURES_KEPT = 100;
/** Rows of `collect` kept in the step's output (a report's lines); the rest are counted. */
const ROWS_KEPT = 10_000;
/** Least time between two progress reports to the run. */
const PROGRESS_EVERY_MS = 2_000;

function emptyTally(): ForEachTally {
  return {
    scanned: 0,
    total: 0,
    completed: 0,
    failed: 0,
    failures: [],
    rows: [],
    truncated: false,
    batches: 0,
  };
}

/** Adds a batch's tally to the step's (items, outcomes, failures and rows within their caps). */
function merge(into: ForEachTally, batch: ForEachTally): void {
  into.completed += batch.completed;
  into.failed += batch.failed;
  for (const failure of batch.failures) {
    if (into.failures.length < FAILURES_KEPT) into.failures.push(failure);
  }
  for (const row of batch.rows) {
    if (into.rows.length < ROWS_KEPT) into.rows.push(row);
    else into.truncated = true;
  }
  into.truncated ||= batch.truncated;
}

export async function forEachItems(input: ForEachInput): Promise<ForEachTally> {
  const { step, context } = input;
  const { readPopulation } = proxyActivities<Activities>({
    startToCloseTimeout: step.timeoutMs,
    heartbeatTimeout: Math.min(step.timeoutMs, 60_000),
    retry: {
      maximumAttempts: step.retry.maximumAttempts,
      initialInterval: step.retry.initialIntervalMs,
      backoffCoefficient: step.retry.backoffCoefficient,
      maximumInterval: step.retry.maximumIntervalMs,
    },
  });
  const tally = input.tally ?? emptyTally();
  const of: ForEachOf = {
    ir: context.run.ir,
    hash: context.run.hash,
    step,
    runId: context.runId,
    personId: context.run.subject.id,
  };
  let cursor = input.cursor;
  let offset = input.offset ?? 0;
  let done = input.done ?? false;
  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  let reportedAt = Date.now();
  const report = async (force: boolean): Promise<void> => {
    if (!force && Date.now() - reportedAt < PROGRESS_EVERY_MS) return;
    reportedAt = Date.now();
    const { scanned, total, completed, failed, batches } = tally;
    setCurrentDetails(forEachCurrent(of, tally));
    await parent.signal(forEachProgressSignal, {
      step: step.id,
      scanned,
      total,
      completed,
      failed,
      batches,
    });
  };

  const next = async (): Promise<ForEachItem[]> => {
    if (input.items) {
      const batch = input.items.slice(offset, offset + step.batchSize);
      offset += batch.length;
      done = offset >= input.items.length;
      tally.scanned += batch.length;
      return batch;
    }
    const page = await readPopulation.executeWithOptions(
      { summary: visibleText(`${step.id}: read the next ${step.batchSize} items`) },
      [
        {
          over: step.over as PopulationPage['over'],
          as: step.as,
          scope: input.scope as PopulationPage['scope'],
          limit: step.batchSize,
          ...(cursor !== undefined ? { after: cursor } : {}),
        },
      ],
    );
    tally.scanned += page.scanned;
    cursor = page.cursor;
    done = page.cursor === undefined;
    return page.items;
  };

  const inFlight = new Map<number, Promise<void>>();
  for (;;) {
    const draining = workflowInfo().historyLength >= COORDINATOR_CONTINUE_AT;
    if (draining && inFlight.size === 0 && !done) {
      await report(true);
      return continueAsNew<typeof forEachItems>({
        ...input,
        ...(cursor !== undefined ? { cursor } : {}),
        offset,
        tally,
        done,
      });
    }
    if (!done && !draining && inFlight.size < BATCHES_IN_FLIGHT) {
      const items = await next();
      if (items.length > 0) {
        const n = tally.batches++;
        tally.total += items.length;
        const batch: ForEachBatchInput = { step, context, items };
        const running = executeChild(forEachBatch, {
          workflowId: `${workflowInfo().workflowId}/batch-${n}`,
          args: [batch],
          staticSummary: visibleText(batchSummary(of, n, items.length)),
          staticDetails: visibleText(batchDetails(of, n, items.length)),
        }).then((result) => {
          merge(tally, result);
          inFlight.delete(n);
        });
        inFlight.set(n, running);
      }
      continue;
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight.values());
    await report(false);
  }
  await report(true);
  return tally;
}

/** Why an item failed: the step that failed in it, its error type and message. */
function itemFailure(key: string, err: unknown): ForEachTally['failures'][number] {
  if (err instanceof ApplicationFailure) {
    const details = err.details?.[0] as { step?: unknown } | undefined;
    return {
      key,
      step: typeof details?.step === 'string' ? details.step : '',
      type: err.type ?? 'Error',
      message: err.message,
    };
  }
  return {
    key,
    step: '',
    type: 'Error',
    message: err instanceof Error ? err.message : String(err),
  };
}

/**
 * Most history events one item's steps can write: three per activity (scheduled, started,
 * completed) and a workflow task's three; a reconcile reads, applies and reads again per
 * connector. Both branches of an if or switch count, so this is an upper bound.
 */
export function eventsPerItem(steps: readonly StepIR[]): number {
  let events = 0;
  for (const step of steps) {
    if (step.kind === 'action' || step.kind === 'notify') events += 6;
    else if (step.kind === 'reconcile') events += 6 * (4 + 2 * Math.max(1, step.connectors.length));
    else if (step.kind === 'if') events += eventsPerItem(step.then) + eventsPerItem(step.else);
    else if (step.kind === 'switch')
      events += step.cases.reduce((n, c) => n + eventsPerItem(c.then), eventsPerItem(step.default));
  }
  return events;
}

/** One item: its steps on an interpreter of its own, then the row `collect` gives. */
async function runItem(input: ForEachBatchInput, item: ForEachItem, tally: ForEachTally) {
  const { step, context } = input;
  const run = new FlowRun(context.run, context.attributes, {
    name: step.as,
    shape: step.itemShape,
    key: item.key,
    value: item.value,
    step: step.id,
    runId: context.runId,
  });
  for (const [name, value] of Object.entries(context.vars)) run.setVar(name, value);
  for (const [id, out] of Object.entries(context.outputs)) run.setOutput(id, out.value, out.shape);
  try {
    await runSteps(run, step.steps);
    if (step.collect) {
      const row: JsonValue = run.render(step.collect, step);
      if (tally.rows.length < ROWS_KEPT) tally.rows.push(row);
      else tally.truncated = true;
    }
    tally.completed++;
  } catch (err) {
    tally.failed++;
    if (tally.failures.length < FAILURES_KEPT) tally.failures.push(itemFailure(item.key, err));
  }
}

/**
 * A batch of a forEach step's items, `concurrency` at a time. A batch whose history grows long
 * (many steps per item) continues as new with the items it has not started.
 */
export async function forEachBatch(
  input: ForEachBatchInput & { tally?: ForEachTally },
): Promise<ForEachTally> {
  const tally = input.tally ?? emptyTally();
  const queue = [...input.items];
  // local activities' markers reach the history only when a workflow task completes, so the
  // length Temporal reports lags behind: a batch also bounds the items it starts per execution
  // by what their steps could write (an upper bound per item, from the IR)
  const perRun = Math.max(
    input.step.concurrency,
    Math.floor(BATCH_CONTINUE_AT / Math.max(1, eventsPerItem(input.step.steps))),
  );
  let started = 0;
  const workers = Array.from({ length: Math.min(input.step.concurrency, queue.length) }, () =>
    (async () => {
      for (;;) {
        if (started >= perRun || workflowInfo().historyLength >= BATCH_CONTINUE_AT) return;
        const item = queue.shift();
        if (!item) return;
        started++;
        await runItem(input, item, tally);
      }
    })(),
  );
  await Promise.all(workers);
  if (queue.length > 0) {
    return continueAsNew<typeof forEachBatch>({ ...input, items: queue, tally });
  }
  return tally;
}
