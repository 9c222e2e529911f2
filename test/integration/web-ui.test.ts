/**
 * The Temporal Web UI as the operator's console: every workflow of an event (dispatch, timeline,
 * run) carries a static summary and markdown details naming the flow, its version and the person
 * by id; every activity, local ones too, and every timer carries its step id and title; a waiting
 * run says in its current details what it waits on. No email reaches any of it, and the details
 * name the person by id only.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import { dispatchWorkflowId, timelineWorkflowId } from '../../src/model/event';
import type { RunState } from '../../src/temporal/contracts';
import { IdflowDefinitionHash } from '../../src/temporal/search-attributes';
import { Harness, makeEvent } from '../support/harness';

let h: Harness;

const SUBJECT = {
  id: 'p-webui-1',
  givenName: 'Wanda',
  familyName: 'Webber',
  displayName: 'Wanda Webber',
  email: 'wanda.webber@example.com',
  managerId: 'p-webui-mgr',
};
const MANAGER = { id: 'p-webui-mgr', displayName: 'Mona Manager', email: 'mona@example.com' };

beforeAll(async () => {
  h = new Harness({
    definitions: ['definitions/connectors/identity-store.yaml', 'test/fixtures/web-ui'],
  });
  await h.start();
  for (const person of [SUBJECT, MANAGER])
    await insertPersonIfAbsent(h.db.db, { ...person, status: 'active' });
});

afterAll(async () => {
  await h?.close();
});

/** The run's current details: what the Web UI shows under "Current details". */
async function currentDetails(workflowId: string): Promise<string> {
  const metadata = await h.client.workflow
    .getHandle(workflowId)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

function decode(payload: temporal.api.common.v1.IPayload | null | undefined): string | undefined {
  return payload ? String(defaultPayloadConverter.fromPayload(payload)) : undefined;
}

/** Each scheduled activity, local activity marker and timer of a history, with its summary. */
async function commandSummaries(
  workflowId: string,
): Promise<Array<{ what: string; summary?: string }>> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const found: Array<{ what: string; summary?: string }> = [];
  for (const e of history.events ?? []) {
    const summary = decode(e.userMetadata?.summary);
    const item = (what: string) => found.push({ what, ...(summary ? { summary } : {}) });
    if (e.activityTaskScheduledEventAttributes)
      item(`activity ${e.activityTaskScheduledEventAttributes.activityType?.name ?? ''}`);
    else if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      item('local activity');
    else if (e.timerStartedEventAttributes) item('timer');
  }
  return found;
}

test('a run, its dispatch and its timeline read like a business request, and say what the run waits on', async () => {
  const event = makeEvent('access.requested', SUBJECT, {
    attributes: { entitlement: 'finance-reports' },
  });
  expect((await h.postEvent(event)).status).toBe(202);
  const eventId = event.id as string;
  const runId = `flow/access-request/${SUBJECT.id}/${eventId}`;

  // the timer: until when, at which step
  const timer = await h.eventually(async () => {
    const state = await h.client.workflow
      .getHandle(runId)
      .query<RunState>('state')
      .catch(() => undefined);
    return state?.waitingOn?.kind === 'timer' ? state.waitingOn : undefined;
  });
  const waitingForTimer = await currentDetails(runId);
  expect(waitingForTimer).toContain(`Waiting until ${timer.until}`);
  expect(waitingForTimer).toContain('`cool-off` (Give the requester a moment to withdraw)');

  // the approval: who, since when, until when
  const approval = await h.eventually(async () => {
    const state = await h.client.workflow.getHandle(runId).query<RunState>('state');
    return state.waitingOn?.kind === 'approval' ? state.waitingOn : undefined;
  });
  const waitingForApproval = await currentDetails(runId);
  expect(waitingForApproval).toContain('**Waiting for approval** at step `ask-manager`');
  expect(waitingForApproval).toContain(MANAGER.id);
  expect(waitingForApproval).toContain(`since ${approval.since}`);
  expect(waitingForApproval).toContain(`Times out ${approval.deadline}`);

  // the run's static summary and details: flow, version, person id, the event that started it
  const run = await h.client.workflow.getHandle(runId).describe();
  const hash = run.typedSearchAttributes.get(IdflowDefinitionHash) as string;
  // the summary the Web UI shows unencrypted names the person by id (IDFLOW_VISIBLE_PERSONAL_DATA
  // is false); the full line is in the memo, a payload (GET /v1/runs lists it)
  expect(await run.staticSummary()).toBe('Access request: p-webui-1 — access-request');
  expect(run.memo).toEqual({ summary: 'Access request: Wanda Webber — access-request' });
  const runDetails = (await run.staticDetails()) ?? '';
  expect(runDetails).toContain('**Run of flow `access-request`** for person `p-webui-1`');
  expect(runDetails).toContain(`version \`${hash.slice(0, 12)}\``);
  expect(runDetails).toContain(`\`${hash}\``);
  expect(runDetails).toContain(`id \`${eventId}\``);
  expect(runDetails).toContain(`\`${dispatchWorkflowId('test-hr', eventId)}\``);
  expect(runDetails).toContain(`\`${timelineWorkflowId(h.taskQueue, SUBJECT.id)}\``);
  expect(runDetails).toContain("`IdflowSubject = 'p-webui-1'`");

  // the dispatch and the timeline the gateway started
  const dispatch = await h.client.workflow
    .getHandle(dispatchWorkflowId('test-hr', eventId))
    .describe();
  expect(await dispatch.staticSummary()).toBe('access.requested from test-hr: p-webui-1');
  expect(await dispatch.staticDetails()).toContain('- **Person:** `p-webui-1`');
  const timelineId = timelineWorkflowId(h.taskQueue, SUBJECT.id);
  const timeline = await h.client.workflow.getHandle(timelineId).describe();
  expect(await timeline.staticSummary()).toBe('Timeline of p-webui-1');
  expect(await timeline.staticDetails()).toContain('- **Person:** `p-webui-1`');
  expect(await currentDetails(timelineId)).toContain(`\`test-hr/${eventId}\`: running`);

  // every activity, local or not, and the timer carry their step id and title
  const commands = await commandSummaries(runId);
  expect(commands).toEqual(
    expect.arrayContaining([
      { what: 'local activity', summary: 'note-request: Note the request on the person' },
      { what: 'timer', summary: 'cool-off: Give the requester a moment to withdraw' },
      { what: 'local activity', summary: 'ask-manager: find the approvers' },
    ]),
  );
  expect(commands.filter((c) => c.what !== 'timer' && !c.summary)).toEqual([]);
  const dispatchCommands = await commandSummaries(dispatchWorkflowId('test-hr', eventId));
  expect(dispatchCommands.length).toBeGreaterThanOrEqual(2);
  expect(dispatchCommands.filter((c) => !c.summary)).toEqual([]);

  // nothing personal beyond the summary's display name, which is the project's standard line
  const texts = [
    runDetails,
    waitingForTimer,
    (await dispatch.staticSummary()) ?? '',
    (await dispatch.staticDetails()) ?? '',
    (await timeline.staticDetails()) ?? '',
    ...commands.map((c) => c.summary ?? ''),
    ...dispatchCommands.map((c) => c.summary ?? ''),
  ];
  for (const text of [...texts, waitingForApproval]) {
    expect(text).not.toContain(SUBJECT.email);
    expect(text).not.toContain(MANAGER.email);
  }
  for (const text of texts) {
    expect(text).not.toContain(SUBJECT.givenName);
    expect(text).not.toContain(SUBJECT.familyName);
  }
});
