/**
 * `personTimeline`: one per person, id `person/<task queue>/<person id>`. It applies the
 * person's events in the order idflow accepted them: the gateway hands it each event at acceptance (`accept`), the
 * event's dispatch workflow hands it the decision (`decide`: the runs to start, pinned), and the
 * timeline starts an event's runs only once every earlier event of the person has finished,
 * unless the later event's policy says otherwise for that event type (`pending:` on the rule):
 * `alongside` runs next to it, `supersede` and `cancel` cancel it (the later event's runs start
 * once it has stopped), `queue` (the default) waits.
 *
 * Events of different persons never wait for each other: each person has their own timeline.
 * The timeline continues as new when idle after `continueAfter` finished events, carrying what
 * it has not finished.
 */
import {
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import type {
  TimelineAccept,
  TimelineDecision,
  TimelineEntry,
  TimelineInput,
  TimelineRun,
  TimelineState,
} from '../src/temporal/contracts';
import { dispatchWorkflowId } from '../src/model/workflow-ids';
import { runDetails, summaryMemo, timelineCurrent } from '../src/temporal/summaries';
import { visibleText } from '../src/temporal/visible';
import { keyOf, TimelineBook, type StopOrder } from '../src/timeline/book';
import {
  IdflowDefinitionHash,
  IdflowEventType,
  IdflowFlow,
  IdflowStatus,
  IdflowSubject,
} from '../src/temporal/search-attributes';
import { cancelRunSignal, runFlow } from './run-flow';

export const acceptSignal = defineSignal<[TimelineAccept]>('accept');
export const decideSignal = defineSignal<[TimelineDecision]>('decide');
export const timelineQuery = defineQuery<TimelineState>('timeline');

const CONTINUE_AFTER = 100;
/**
 * How long an accepted event may hold the timeline without a decision. A dispatch decides
 * within a second, and one that fails says so (a decision with no runs); one that never does
 * (terminated by an operator) must not block the person for good. Past this the event stops
 * holding the timeline (`timeline.abandoned`); should its decision come after all, it takes its
 * place at the end. Long, so that a dispatch backlog or a database outage does not reorder.
 */
const DECISION_TIMEOUT_MS = 24 * 60 * 60_000;

const { recordTimeline } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', maximumInterval: '1m', backoffCoefficient: 2 },
});

const nowIso = () => new Date().toISOString();

/** Runs being started: resolved true once started, false when the start was refused. */
type Starting = Map<string, Promise<boolean>>;

/**
 * Starts one run of an event as a child and waits for it; how it ended, in one word. Started
 * in a scope an operator's cancellation of the timeline does not reach: runs end on their own.
 */
async function runOne(
  starting: Starting,
  run: TimelineRun,
  personId: string,
  eventType: string,
): Promise<{ workflowId: string; status: string }> {
  let started!: (ok: boolean) => void;
  starting.set(run.workflowId, new Promise<boolean>((resolve) => (started = resolve)));
  try {
    const child = await CancellationScope.nonCancellable(() =>
      startChild(runFlow, {
        workflowId: run.workflowId,
        args: [run.input],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        // the Web UI's line, unencrypted; a decision from before it has only the memo's line,
        // which then stays a payload like any other (encrypted with keys)
        staticSummary:
          run.visibleSummary === undefined ? run.summary : visibleText(run.visibleSummary),
        memo: summaryMemo(run.summary),
        staticDetails: visibleText(
          runDetails(run.input, {
            startedBy: workflowInfo().workflowId,
            dispatch: dispatchWorkflowId(run.input.event.source, run.input.event.id),
          }),
        ),
        typedSearchAttributes: [
          { key: IdflowFlow, value: run.flow },
          { key: IdflowSubject, value: personId },
          { key: IdflowEventType, value: eventType },
          { key: IdflowStatus, value: 'Running' },
          { key: IdflowDefinitionHash, value: run.hash },
        ],
      }),
    );
    started(true);
    await CancellationScope.nonCancellable(() => child.result());
    return { workflowId: run.workflowId, status: 'Completed' };
  } catch (err) {
    started(false);
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { workflowId: run.workflowId, status: 'AlreadyStarted' };
    if (err instanceof ChildWorkflowFailure)
      return {
        workflowId: run.workflowId,
        status: err.cause instanceof CancelledFailure ? 'Cancelled' : 'Failed',
      };
    throw err;
  } finally {
    starting.delete(run.workflowId);
  }
}

/**
 * Asks each run of a stopped event to stop: the reason first, then Temporal's cancellation. A
 * run still being started is asked once it has started.
 */
function stopRuns(starting: Starting, order: StopOrder): void {
  for (const run of order.entry.decision?.runs ?? []) {
    void (starting.get(run.workflowId) ?? Promise.resolve(true)).then(async (started) => {
      if (!started) return;
      const handle = getExternalWorkflowHandle(run.workflowId);
      // the run may have ended already: nothing to stop, nothing to tell
      await handle
        .signal(cancelRunSignal, { reason: order.reason, by: keyOf(order.by) })
        .catch(() => undefined);
      await handle.cancel().catch(() => undefined);
    });
  }
}

export async function personTimeline(input: TimelineInput): Promise<void> {
  const { personId } = input;
  const continueAfter = input.continueAfter ?? CONTINUE_AFTER;
  const decisionTimeoutMs = input.decisionTimeoutMs ?? DECISION_TIMEOUT_MS;
  const book = new TimelineBook(input);
  // kept per timeline: workflow state never lives at module level
  const starting: Starting = new Map();
  const timeline = workflowInfo().workflowId;

  setHandler(acceptSignal, (event) => void book.accept(event, nowIso()));
  setHandler(decideSignal, (decision) =>
    book.decide(decision, nowIso()).forEach((order) => stopRuns(starting, order)),
  );
  setHandler(timelineQuery, () => book.snapshot(personId));

  const start = (entry: TimelineEntry) => {
    book.start(entry, nowIso());
    if (entry.decision?.failed) {
      // its dispatch failed before deciding: nothing to run, the place is given up at once
      const dispatch = `event/${entry.source}/${entry.id}`;
      book.finish(entry, [{ workflowId: dispatch, status: 'DispatchFailed' }], nowIso());
      return;
    }
    const runs = entry.decision?.runs ?? [];
    void Promise.all(runs.map((run) => runOne(starting, run, personId, entry.type))).then(
      (outcomes) => book.finish(entry, outcomes, nowIso()),
    );
  };

  let published: string | undefined;
  const continueDue = () =>
    (book.finished >= continueAfter || workflowInfo().continueAsNewSuggested) && !book.running();
  const ready = () => book.notes.length > 0 || book.due() || continueDue();

  for (;;) {
    const undecided = book.undecided();
    if (undecided) {
      const waited = Date.now() - Date.parse(undecided.acceptedAt);
      if (!(await condition(ready, Math.max(1, decisionTimeoutMs - waited))))
        book.abandon(undecided, nowIso());
    } else {
      await condition(ready);
    }
    book.sweep();
    book.ready().forEach(start);
    // one write for every transition since the last: audit rows in the order they happened
    const notes = book.notes.splice(0);
    if (notes.length > 0)
      await recordTimeline.executeWithOptions(
        {
          summary: visibleText(
            `record ${notes.map(({ what, entry }) => `#${entry.seq} ${what}`).join(', ')}`,
          ),
        },
        [
          notes.map(({ what, entry }) => ({
            timeline,
            personId,
            what,
            seq: entry.seq,
            source: entry.source,
            eventId: entry.id,
            type: entry.type,
            ...(entry.cancel && (what === 'cancelled' || what === 'finished')
              ? { cancel: entry.cancel }
              : {}),
            ...(what === 'finished' && entry.outcomes ? { outcomes: entry.outcomes } : {}),
            ...(what === 'started' && entry.decision
              ? { runs: entry.decision.runs.map((r) => r.workflowId) }
              : {}),
          })),
        ],
      );
    setCurrentDetails(timelineCurrent(book.snapshot(personId)));
    const status = book.busy() ? 'Running' : 'Waiting';
    if (status !== published) {
      upsertSearchAttributes([{ key: IdflowStatus, value: status }]);
      published = status;
    }
    if (continueDue() && book.notes.length === 0) {
      await continueAsNew<typeof personTimeline>({
        personId,
        continueAfter,
        decisionTimeoutMs,
        ...book.carry(),
      });
    }
  }
}
