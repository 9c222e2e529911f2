/**
 * `personTimeline`: one per person, id `person/<task queue>/<person id>`. It applies the person's events in the
 * order idflow accepted them: the gateway hands it each event at acceptance (`accept`), the
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
  CancelledFailure,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { pendingAction } from '../src/policy/pending';
import type {
  TimelineAccept,
  TimelineDecision,
  TimelineEntry,
  TimelineInput,
  TimelineState,
} from '../src/temporal/contracts';
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

/** Keys of finished entries kept for recognising duplicates. */
const RECENT_KEYS = 200;
const CONTINUE_AFTER = 500;
/**
 * How long an accepted event may hold the timeline without a decision. A dispatch decides
 * within a second; one that never does (failed, or terminated by an operator) must not block
 * the person for good. Past this the event stops holding the timeline (`timeline.abandoned`);
 * should its decision come after all, it takes its place at the end.
 */
const DECISION_TIMEOUT_MS = 60 * 60_000;

const { recordTimeline } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', maximumInterval: '1m', backoffCoefficient: 2 },
});

const keyOf = (e: { source: string; id: string }): string => `${e.source}/${e.id}`;

/** Whether an entry's runs still hold (or may yet hold) the person's timeline. */
const unfinished = (e: TimelineEntry): boolean => e.state !== 'done' && e.state !== 'cancelled';

export async function personTimeline(input: TimelineInput): Promise<void> {
  const { personId } = input;
  let nextSeq = input.nextSeq ?? 1;
  const entries: TimelineEntry[] = [...(input.entries ?? [])];
  const recent: string[] = [...(input.recent ?? [])];
  const continueAfter = input.continueAfter ?? CONTINUE_AFTER;
  const decisionTimeoutMs = input.decisionTimeoutMs ?? DECISION_TIMEOUT_MS;
  /** Keys of events abandoned for want of a decision: a late decision still counts. */
  const abandoned = new Set<string>(input.abandoned ?? []);
  let finished = 0;
  /** Transitions to audit, in the order they happened; written by the main loop. */
  const journal: Parameters<typeof recordTimeline>[0] = [];

  const find = (key: string) => entries.find((e) => keyOf(e) === key);
  const known = (key: string) => find(key) !== undefined || recent.includes(key);

  const note = (
    entry: TimelineEntry,
    what: 'accepted' | 'started' | 'finished' | 'cancelled' | 'abandoned',
  ) =>
    journal.push({
      timeline: workflowInfo().workflowId,
      personId,
      what,
      seq: entry.seq,
      source: entry.source,
      eventId: entry.id,
      type: entry.type,
      ...(entry.cancel ? { cancel: entry.cancel } : {}),
      ...(entry.outcomes ? { outcomes: entry.outcomes } : {}),
      ...(what === 'started' && entry.decision
        ? { runs: entry.decision.runs.map((r) => r.workflowId) }
        : {}),
    });

  const accept = (event: TimelineAccept): TimelineEntry | undefined => {
    const key = keyOf(event);
    if (known(key)) return find(key);
    const entry: TimelineEntry = {
      source: event.source,
      id: event.id,
      type: event.type,
      seq: nextSeq++,
      state: 'accepted',
      acceptedAt: new Date().toISOString(),
    };
    entries.push(entry);
    note(entry, 'accepted');
    return entry;
  };

  /** A later event's policy stops this entry: not started yet, it never starts. */
  const stop = (entry: TimelineEntry, action: 'cancel' | 'supersede', by: TimelineEntry) => {
    if (entry.cancel) return;
    entry.cancel = { action, by: keyOf(by) };
    if (entry.state === 'accepted' || entry.state === 'decided') {
      entry.state = 'cancelled';
      entry.finishedAt = new Date().toISOString();
      note(entry, 'cancelled');
      return;
    }
    // running: ask each run to stop, with the reason first
    const reason =
      action === 'cancel'
        ? `cancelled by ${by.type} ${keyOf(by)}`
        : `superseded by ${by.type} ${keyOf(by)}`;
    for (const run of entry.decision?.runs ?? []) {
      const handle = getExternalWorkflowHandle(run.workflowId);
      void handle
        .signal(cancelRunSignal, { reason, by: keyOf(by) })
        .then(() => handle.cancel())
        .catch(() => undefined); // the run has ended already: nothing to stop
    }
    note(entry, 'cancelled');
  };

  const decide = (decision: TimelineDecision) => {
    const key = keyOf(decision);
    if (abandoned.delete(key)) {
      const at = recent.indexOf(key);
      if (at >= 0) recent.splice(at, 1);
      const held = find(key);
      if (held) entries.splice(entries.indexOf(held), 1);
    }
    const entry = accept(decision);
    if (!entry || entry.decision || !unfinished(entry)) return; // a duplicate
    entry.decision = decision;
    if (entry.state === 'accepted') entry.state = 'decided';
    for (const earlier of entries) {
      if (earlier === entry) break;
      if (!unfinished(earlier)) continue;
      const action = pendingAction(decision.pending, earlier.type);
      if (action === 'cancel' || action === 'supersede') stop(earlier, action, entry);
    }
  };

  setHandler(acceptSignal, (event) => void accept(event));
  setHandler(decideSignal, decide);
  setHandler(timelineQuery, () => ({
    personId,
    entries: entries.map(({ decision, ...rest }) => ({
      ...rest,
      runs: decision?.runs.map((r) => r.workflowId) ?? [],
    })),
    recent: [...recent],
    finishedInThisRun: finished,
  }));

  /** An entry may start when every earlier unfinished entry is one it runs alongside. */
  const startable = (entry: TimelineEntry): boolean => {
    if (entry.state !== 'decided' || !entry.decision) return false;
    for (const earlier of entries) {
      if (earlier === entry) return true;
      if (!unfinished(earlier)) continue;
      if (pendingAction(entry.decision.pending, earlier.type) !== 'alongside') return false;
    }
    return true;
  };

  const start = (entry: TimelineEntry) => {
    entry.state = 'running';
    entry.startedAt = new Date().toISOString();
    note(entry, 'started');
    const runs = entry.decision?.runs ?? [];
    void Promise.all(
      runs.map(async (run) => {
        try {
          const child = await startChild(runFlow, {
            workflowId: run.workflowId,
            args: [run.input],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            staticSummary: run.summary,
            typedSearchAttributes: [
              { key: IdflowFlow, value: run.flow },
              { key: IdflowSubject, value: personId },
              { key: IdflowEventType, value: entry.type },
              { key: IdflowStatus, value: 'Running' },
              { key: IdflowDefinitionHash, value: run.hash },
            ],
          });
          await child.result();
          return { workflowId: run.workflowId, status: 'Completed' };
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError)
            return { workflowId: run.workflowId, status: 'AlreadyStarted' };
          if (err instanceof ChildWorkflowFailure)
            return {
              workflowId: run.workflowId,
              status: err.cause instanceof CancelledFailure ? 'Cancelled' : 'Failed',
            };
          throw err;
        }
      }),
    ).then((outcomes) => {
      entry.outcomes = outcomes;
      entry.state = 'done';
      entry.finishedAt = new Date().toISOString();
      note(entry, 'finished');
    });
  };

  let published: string | undefined;
  const idle = () => !entries.some((e) => e.state === 'running');
  const due = () => finished >= continueAfter || workflowInfo().continueAsNewSuggested;

  for (;;) {
    const undecided = entries.find((e) => e.state === 'accepted');
    const ready = () =>
      journal.length > 0 ||
      entries.some((e) => !unfinished(e) || startable(e)) ||
      (due() && idle());
    if (undecided) {
      const waited = Date.now() - Date.parse(undecided.acceptedAt);
      const decided = await condition(ready, Math.max(1, decisionTimeoutMs - waited));
      if (!decided && undecided.state === 'accepted') {
        abandoned.add(keyOf(undecided));
        undecided.state = 'cancelled';
        undecided.finishedAt = new Date().toISOString();
        note(undecided, 'abandoned');
      }
    } else {
      await condition(ready);
    }
    // finished and cancelled entries leave the timeline; their keys stay for a while
    for (let i = 0; i < entries.length;) {
      const entry = entries[i] as TimelineEntry;
      if (unfinished(entry)) {
        i++;
        continue;
      }
      entries.splice(i, 1);
      recent.push(keyOf(entry));
      finished++;
    }
    if (recent.length > RECENT_KEYS) recent.splice(0, recent.length - RECENT_KEYS);
    for (const entry of entries) if (startable(entry)) start(entry);
    // one write for every transition since the last: audit rows in the order they happened
    if (journal.length > 0) await recordTimeline(journal.splice(0));
    const status = entries.length > 0 ? 'Running' : 'Waiting';
    if (status !== published) {
      upsertSearchAttributes([{ key: IdflowStatus, value: status }]);
      published = status;
    }
    if (due() && idle() && journal.length === 0) {
      await continueAsNew<typeof personTimeline>({
        personId,
        nextSeq,
        entries,
        recent,
        continueAfter,
        decisionTimeoutMs,
        abandoned: [...abandoned],
      });
    }
  }
}
