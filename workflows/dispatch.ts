/**
 * `dispatchEvent`: one per identity event, id `event/<source>/<id>`, so a duplicate event meets
 * the same workflow. It records the event, evaluates the active policies against it, starts
 * one `runFlow` child per chosen flow (abandoned on close: runs outlive their dispatch) and
 * records the decision with its trace.
 */
import {
  ParentClosePolicy,
  proxyLocalActivities,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { renderValue, stringify, toCel } from '../src/dsl/cel-runtime';
import type { Compiled, FlowIR } from '../src/dsl/ir';
import { ATTRIBUTES, eventShape, PERSON_SHAPE } from '../src/dsl/shapes';
import { runWorkflowId, type IdentityEvent } from '../src/model/event';
import type { SubjectSnapshot } from '../src/model/person';
import { evaluatePolicies } from '../src/policy/evaluate';
import type { DispatchResult, RunRef } from '../src/temporal/contracts';
import {
  IdflowDefinitionHash,
  IdflowEventType,
  IdflowFlow,
  IdflowStatus,
  IdflowSubject,
} from '../src/temporal/search-attributes';
import { runFlow } from './run-flow';

/**
 * Records are short writes to idflow's own database: local activities, retried until the
 * database answers, never given up.
 */
const { recordEvent, recordDecision } = proxyLocalActivities<Activities>({
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

export async function dispatchEvent(event: IdentityEvent): Promise<DispatchResult> {
  const context = await recordEvent(event);
  const scope = {
    event: toCel(event, eventShape(ATTRIBUTES)),
    subject: toCel(context.subject, PERSON_SHAPE),
    now: new Date(),
  };
  const decision = evaluatePolicies(context.policies, event.type, scope);
  const runs: RunRef[] = [];
  const starts: Array<Promise<unknown>> = [];
  for (const name of decision.flows) {
    const flow = context.flows[name];
    if (!flow) {
      decision.trace.push({
        policy: '(dispatch)',
        rule: name,
        priority: 0,
        fallback: false,
        matched: false,
        reason: `flow '${name}' is not active: no run started`,
        flows: [name],
      });
      continue;
    }
    const workflowId = runWorkflowId(name, event.subject.id, event.id);
    runs.push({ flow: name, workflowId, hash: flow.hash });
    starts.push(
      startChild(runFlow, {
        workflowId,
        args: [{ ir: flow.ir, hash: flow.hash, event, subject: context.subject }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: summaryOf(flow, event, context.subject),
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
  await recordDecision({ source: event.source, id: event.id, trace: decision.trace, runs });
  return { source: event.source, eventId: event.id, trace: decision.trace, runs };
}
