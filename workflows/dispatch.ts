/**
 * `dispatchEvent`: one per identity event, id `event/<source>/<id>`, so a duplicate event meets
 * the same workflow. It records the event, evaluates the active policies against it, starts
 * one `runFlow` child per chosen flow (abandoned on close: runs outlive their dispatch) and
 * records the decision with its trace.
 */
import {
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyLocalActivities,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { renderValue, stringify, toCel } from '../src/dsl/cel-runtime';
import type { Compiled, FlowIR } from '../src/dsl/ir';
import { ATTRIBUTES, eventShape, PERSON_SHAPE } from '../src/dsl/shapes';
import type { IdentityEvent } from '../src/model/event';
import { runWorkflowId, timelineWorkflowId } from '../src/model/workflow-ids';
import type { SubjectSnapshot } from '../src/model/person';
import { evaluatePolicies, type RuleTrace } from '../src/policy/evaluate';
import type {
  DispatchResult,
  EventContext,
  RunRef,
  TimelineDecision,
  TimelineRun,
} from '../src/temporal/contracts';
import {
  IdflowDefinitionHash,
  IdflowEventType,
  IdflowFlow,
  IdflowStatus,
  IdflowSubject,
} from '../src/temporal/search-attributes';
import { runDetails, summaryMemo, timelineDetails } from '../src/temporal/summaries';
import { visibleText } from '../src/temporal/visible';
import { hasPatch } from './patches';
import { runFlow } from './run-flow';
import { decideSignal, personTimeline } from './timeline';

/**
 * Hands a decision to the person's timeline: starts it when the person has none running,
 * signals it otherwise. A timeline that ended between the two is started again.
 */
async function toTimeline(
  workflowId: string,
  personId: string,
  decision: TimelineDecision,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await startChild(personTimeline, {
        workflowId,
        args: [{ personId }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        staticSummary: visibleText(`Timeline of ${personId}`),
        staticDetails: visibleText(timelineDetails(personId)),
        typedSearchAttributes: [{ key: IdflowSubject, value: personId }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    try {
      await getExternalWorkflowHandle(workflowId).signal(decideSignal, decision);
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

/**
 * Hands a decision to the person's timeline: in the dispatch's own workflow task with a local
 * activity's signal-with-start (generation `timeline-signal-with-start`), or as dispatches
 * before it did, with a child start and a signal.
 */
async function decide(
  workflowId: string,
  personId: string,
  decision: TimelineDecision,
): Promise<void> {
  if (!hasPatch('timeline-signal-with-start')) return toTimeline(workflowId, personId, decision);
  await handToTimeline.executeWithOptions(
    { summary: visibleText(`hand the decision to the timeline of ${personId}`) },
    [{ timeline: workflowId, personId, decision }],
  );
}

/**
 * Records are short writes to idflow's own database: local activities, retried until the
 * database answers, never given up.
 */
const { recordEvent, recordDecision, handToTimeline } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', maximumInterval: '1m', backoffCoefficient: 2 },
});

/** "Joiner: Ada Lovelace (E1001) — joiner-standard", or the flow's own summary template. */
function summaryOf(flow: Compiled<FlowIR>, event: IdentityEvent, subject: SubjectSnapshot): string {
  if (flow.ir.summary) {
    try {
      const scope = {
        event: toCel(event, flow.ir.event),
        subject: toCel(subject, PERSON_SHAPE),
        now: new Date(),
      };
      return stringify(renderValue(flow.ir.summary, scope));
    } catch {
      // a summary that cannot be rendered falls back to the standard one
    }
  }
  const name =
    subject.displayName ??
    ([subject.givenName, subject.familyName].filter(Boolean).join(' ') || subject.id);
  const employee = subject.employeeId ? ` (${subject.employeeId})` : '';
  return `${flow.ir.title}: ${name}${employee} — ${flow.ir.name}`;
}

/**
 * The run's static summary, readable without decryption: "Joiner: p-1001 (E1001) —
 * joiner-standard" (person and employee ids, no name), or the full summary when the worker
 * lets personal data be visible (IDFLOW_VISIBLE_PERSONAL_DATA).
 */
function visibleSummaryOf(flow: Compiled<FlowIR>, event: IdentityEvent, context: EventContext) {
  if (context.visiblePersonalData) return summaryOf(flow, event, context.subject);
  const employee = context.subject.employeeId ? ` (${context.subject.employeeId})` : '';
  return `${flow.ir.title}: ${event.subject.id}${employee} — ${flow.ir.name}`;
}

/** The trace line of a flow a rule names that is not active. */
function notActive(name: string): RuleTrace {
  return {
    policy: '(dispatch)',
    rule: name,
    priority: 0,
    fallback: false,
    matched: false,
    reason: `flow '${name}' is not active: no run started`,
    flows: [name],
  };
}

/** What the gateway tells a dispatch besides the event. */
export interface DispatchOptions {
  /** The workflow id of the person's timeline (it names the deployment's task queue). */
  timeline?: string;
}

export async function dispatchEvent(
  event: IdentityEvent,
  options: DispatchOptions = {},
): Promise<DispatchResult> {
  const timeline =
    options.timeline ?? timelineWorkflowId(workflowInfo().taskQueue, event.subject.id);
  let context: EventContext;
  try {
    context = await recordEvent.executeWithOptions(
      {
        summary: visibleText(
          `record event ${event.source}/${event.id} and read the active policies`,
        ),
      },
      [event],
    );
  } catch (err) {
    // the event keeps no place it cannot use: the timeline lets the person's next events go on
    if (hasPatch('person-timeline'))
      await decide(timeline, event.subject.id, {
        source: event.source,
        id: event.id,
        type: event.type,
        runs: [],
        pending: {},
        failed: true,
      });
    throw err;
  }
  const scope = {
    event: toCel(event, eventShape(ATTRIBUTES)),
    subject: toCel(context.subject, PERSON_SHAPE),
    now: new Date(),
  };
  const decision = evaluatePolicies(context.policies, event.type, scope);
  if (hasPatch('person-timeline')) {
    const runs: TimelineRun[] = [];
    for (const name of decision.flows) {
      const flow = context.flows[name];
      if (!flow) {
        decision.trace.push(notActive(name));
        continue;
      }
      runs.push({
        flow: name,
        workflowId: runWorkflowId(name, event.subject.id, event.id),
        hash: flow.hash,
        summary: summaryOf(flow, event, context.subject),
        ...(hasPatch('visible-summary')
          ? { visibleSummary: visibleSummaryOf(flow, event, context) }
          : {}),
        input: { ir: flow.ir, hash: flow.hash, event, subject: context.subject },
      });
    }
    const refs: RunRef[] = runs.map((r) => ({
      flow: r.flow,
      workflowId: r.workflowId,
      hash: r.hash,
    }));
    const record = () =>
      recordDecision.executeWithOptions(
        { summary: visibleText(`record the decision: ${refs.length} run(s) to the timeline`) },
        [{ source: event.source, id: event.id, trace: decision.trace, runs: refs }],
      );
    const handOver = () =>
      decide(timeline, event.subject.id, {
        source: event.source,
        id: event.id,
        type: event.type,
        runs,
        pending: decision.pending,
      });
    if (hasPatch('decision-before-hand-over')) {
      await record();
      await handOver();
    } else {
      await handOver();
      await record();
    }
    return { source: event.source, eventId: event.id, trace: decision.trace, runs: refs };
  }
  const runs: RunRef[] = [];
  const starts: Array<Promise<unknown>> = [];
  for (const name of decision.flows) {
    const flow = context.flows[name];
    if (!flow) {
      decision.trace.push(notActive(name));
      continue;
    }
    const workflowId = runWorkflowId(name, event.subject.id, event.id);
    const summary = summaryOf(flow, event, context.subject);
    runs.push({ flow: name, workflowId, hash: flow.hash });
    starts.push(
      startChild(runFlow, {
        workflowId,
        args: [{ ir: flow.ir, hash: flow.hash, event, subject: context.subject }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: summary,
        memo: summaryMemo(summary),
        staticDetails: runDetails(
          { ir: flow.ir, hash: flow.hash, event },
          { startedBy: workflowInfo().workflowId },
        ),
        typedSearchAttributes: [
          { key: IdflowFlow, value: name },
          { key: IdflowSubject, value: event.subject.id },
          { key: IdflowEventType, value: event.type },
          { key: IdflowStatus, value: 'Running' },
          { key: IdflowDefinitionHash, value: flow.hash },
        ],
      }),
    );
  }
  await Promise.all(starts);
  await recordDecision.executeWithOptions(
    { summary: visibleText(`record the decision: ${runs.length} run(s) started`) },
    [{ source: event.source, id: event.id, trace: decision.trace, runs }],
  );
  return { source: event.source, eventId: event.id, trace: decision.trace, runs };
}
