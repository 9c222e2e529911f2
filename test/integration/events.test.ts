/**
 * From an HTTP event to a finished run, on a real Temporal dev server and PostgreSQL, with the
 * worker and gateway as real processes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import { Client as LdapClient } from 'ldapts';
import { listAudit } from '../../src/db/repos/audit';
import { findEvent } from '../../src/db/repos/events';
import { getPerson } from '../../src/db/repos/persons';
import { events } from '../../src/db/schema';
import { startTargets, type Targets } from '../../src/targets';
import { LDAP_TARGET } from '../../src/targets/slapd';
import { Harness, makeEvent } from '../support/harness';

let h: Harness;
let targets: Targets;

beforeAll(async () => {
  // the reference definitions provision into LDAP, SCIM and email: their local targets
  targets = await startTargets(mkdtempSync(join(tmpdir(), 'idflow-targets-')), (m) => {
    throw new Error(m);
  });
  h = new Harness({ definitions: ['definitions', 'test/fixtures/runtime'] });
  await h.start();
});

afterAll(async () => {
  await h?.close();
  await targets?.stop();
});

/** The groups (cn) the directory account `uid` is in. */
async function groupsOf(uid: string): Promise<string[]> {
  const client = new LdapClient({ url: targets.slapd?.url ?? '' });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const { searchEntries } = await client.search(`ou=groups,${LDAP_TARGET.baseDn}`, {
      scope: 'sub',
      filter: `(member=uid=${uid},ou=people,${LDAP_TARGET.baseDn})`,
      attributes: ['cn'],
    });
    return searchEntries.map((e) => String(e.cn)).sort();
  } finally {
    await client.unbind();
  }
}

async function runsFor(subject: string): Promise<Array<{ workflowId: string; status?: string }>> {
  const found: Array<{ workflowId: string; status?: string }> = [];
  for await (const w of h.client.workflow.list({
    query: `IdflowSubject = '${subject}' AND IdflowFlow IS NOT NULL`,
  })) {
    found.push({
      workflowId: w.workflowId,
      status: w.searchAttributes.IdflowStatus?.[0] as string | undefined,
    });
  }
  return found;
}

test('a joiner event runs the joiner flow: person stored, audit written, run findable by search attributes', async () => {
  const event = makeEvent(
    'person.joiner',
    {
      id: 'p-ada',
      employeeId: 'E1001',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada@example.com',
    },
    {
      effectiveAt: new Date(Date.now() - 60_000).toISOString(),
      attributes: { costCenter: 'CC-1' },
    },
  );
  const accepted = await h.postEvent(event);
  expect(accepted.status).toBe(202);
  expect(accepted.body).toMatchObject({
    eventId: event.id,
    dispatchWorkflowId: `event/test-hr/${event.id as string}`,
    duplicate: false,
  });

  const runId = `flow/joiner-standard/p-ada/${event.id as string}`;
  const outcome = await h.eventually(async () => {
    try {
      return await h.outcome(runId);
    } catch {
      return undefined; // the child is not started yet
    }
  });
  expect(outcome).toMatchObject({
    ok: true,
    result: { status: 'Completed', vars: { username: 'alovelace' } },
  });

  const person = await getPerson(h.db.db, 'p-ada');
  expect(person).toMatchObject({
    status: 'active',
    givenName: 'Ada',
    displayName: 'Ada Lovelace',
    employeeId: 'E1001',
  });
  expect(person?.attributes).toEqual({ username: 'alovelace', costCenter: 'CC-1' });

  const audit = await listAudit(h.db.db, { runId });
  expect(audit.map((a) => a.action)).toEqual([
    'person.created',
    'person.status-changed',
    'person.attributes-set',
    'access.plan',
    'ldap.createAccount',
    'ldap.addToGroup',
    'ldap.addToGroup',
    'run.completed',
  ]);
  // provisioned in the directory as her roles grant (staff, employee); no CRM user outside Sales
  expect(await groupsOf('alovelace')).toEqual(['all-staff', 'vpn-users']);
  expect([...targets.scim.users.values()].filter((u) => u.externalId === 'p-ada')).toEqual([]);
  const received = await listAudit(h.db.db, { action: 'event.received' });
  expect(received.some((a) => (a.detail as { eventId?: string }).eventId === event.id)).toBe(true);

  const found = await h.eventually(async () => {
    const runs = await runsFor('p-ada');
    return runs.find((r) => r.status === 'Completed');
  });
  expect(found.workflowId).toBe(runId);
  const description = await h.client.workflow.getHandle(runId).describe();
  // ids in the static summary the Web UI shows unencrypted; the full line in the memo
  expect(await description.staticSummary()).toBe('Joiner: p-ada (E1001) — joiner-standard');
  expect(description.memo).toEqual({ summary: 'Joiner: Ada Lovelace (E1001) — joiner-standard' });

  const view = await h.request('GET', `/v1/events/test-hr/${event.id as string}`);
  expect(view.status).toBe(200);
  expect(view.body).toMatchObject({
    eventId: event.id,
    runs: [
      {
        flow: 'joiner-standard',
        workflowId: runId,
        status: 'COMPLETED',
        idflowStatus: 'Completed',
      },
    ],
  });

  // the dispatch recorded its decision before handing it to the timeline: no run can start, let
  // alone end, before the event's record names it
  expect(await localActivities(`event/test-hr/${event.id as string}`)).toEqual([
    'recordEvent',
    'recordDecision',
    'handToTimeline',
  ]);
});

/** The local activities a workflow ran, in the order their results were recorded. */
async function localActivities(workflowId: string): Promise<string[]> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const payload = marker?.details?.data?.payloads?.[0];
    if (marker?.markerName !== 'core_local_activity' || !payload) return [];
    return [defaultPayloadConverter.fromPayload<{ activity_type: string }>(payload).activity_type];
  });
}

test('the same event again answers 200 with the same ids and starts nothing', async () => {
  const event = makeEvent('test.leaver', { id: 'p-dup', employmentType: 'employee' });
  const first = await h.postEvent(event);
  expect(first.status).toBe(202);
  const runId = `flow/it-employee-leaver/p-dup/${event.id as string}`;
  await h.eventually(async () =>
    (await findEvent(h.db.db, 'test-hr', event.id as string))?.runs ? true : undefined,
  );
  await h.outcome(runId);

  const again = await h.postEvent(event);
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({
    eventId: event.id,
    dispatchWorkflowId: first.body.dispatchWorkflowId,
    duplicate: true,
    runs: [{ flow: 'it-employee-leaver', workflowId: runId }],
  });
  const runs = await h.eventually(async () => {
    const found = await runsFor('p-dup');
    return found.length > 0 ? found : undefined;
  });
  expect(runs.map((r) => r.workflowId)).toEqual([runId]);
  const stored = await h.db.db
    .select()
    .from(events)
    .where(and(eq(events.source, 'test-hr'), eq(events.subjectId, 'p-dup')));
  expect(stored).toHaveLength(1);
});

test('the same id with other content is a conflict, not a silent duplicate', async () => {
  const event = makeEvent('test.leaver', { id: 'p-conflict' });
  expect((await h.postEvent(event)).status).toBe(202);
  // at once (the dispatch has not recorded the event yet) and after it has
  const early = await h.postEvent({ ...event, type: 'test.unmatched' });
  expect(early.status).toBe(409);
  expect(early.headers.get('content-type')).toMatch(/application\/problem\+json/);
  await h.eventually(async () =>
    (await findEvent(h.db.db, 'test-hr', event.id as string))?.decidedAt ? true : undefined,
  );
  const late = await h.postEvent({ ...event, subject: { id: 'p-conflict', givenName: 'Other' } });
  expect(late.status).toBe(409);
  expect(late.body.detail).toContain('already received with other content');
  expect((await h.postEvent(event)).status).toBe(200);
});

test('a malformed event gets 400 naming every bad field, and nothing is started', async () => {
  const bad = {
    source: 'Test HR',
    id: 'evt-bad',
    type: 'joiner',
    subject: { givenName: 'Nobody', email: 'not-an-address', shoeSize: 44 },
    occurredAt: 'yesterday',
  };
  const res = await h.postEvent(bad);
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
  const paths = (res.body.errors as Array<{ path: string }>).map((e) => e.path).sort();
  expect(paths).toEqual([
    '/occurredAt',
    '/source',
    '/subject/email',
    '/subject/id',
    '/subject/shoeSize',
    '/type',
  ]);
  await expect(h.client.workflow.getHandle('event/Test HR/evt-bad').describe()).rejects.toThrow(
    /not found/i,
  );
  expect(await findEvent(h.db.db, 'Test HR', 'evt-bad')).toBeUndefined();
});

test('an event no policy matches is recorded with its decision trace and starts no run', async () => {
  const event = makeEvent('test.unmatched', { id: 'p-nobody' });
  expect((await h.postEvent(event)).status).toBe(202);
  const row = await h.eventually(async () => {
    const stored = await findEvent(h.db.db, 'test-hr', event.id as string);
    return stored?.decidedAt ? stored : undefined;
  });
  expect(row.runs).toEqual([]);
  const trace = row.decision as Array<{
    policy: string;
    rule: string;
    matched: boolean;
    reason: string;
  }>;
  expect(trace.length).toBeGreaterThan(3);
  expect(trace.every((t) => !t.matched)).toBe(true);
  expect(trace.find((t) => t.policy === 'it-leavers' && t.rule === 'contractors')?.reason).toBe(
    'listens to test.leaver, not test.unmatched',
  );
  const audit = await listAudit(h.db.db, { target: `event:test-hr/${event.id as string}` });
  expect(audit).toMatchObject([{ action: 'event.dispatched', outcome: 'unchanged' }]);
});

test('a fallback rule runs only when no other rule of its policy matched', async () => {
  const contractor = makeEvent('test.leaver', { id: 'p-contractor', employmentType: 'contractor' });
  const employee = makeEvent('test.leaver', { id: 'p-employee', employmentType: 'employee' });
  expect((await h.postEvent(contractor)).status).toBe(202);
  expect((await h.postEvent(employee)).status).toBe(202);
  const decided = async (id: string) =>
    h.eventually(async () => {
      const row = await findEvent(h.db.db, 'test-hr', id);
      return row?.decidedAt ? row : undefined;
    });
  const c = await decided(contractor.id as string);
  const e = await decided(employee.id as string);
  expect((c.runs as Array<{ flow: string }>).map((r) => r.flow)).toEqual(['it-contractor-leaver']);
  expect((e.runs as Array<{ flow: string }>).map((r) => r.flow)).toEqual(['it-employee-leaver']);
  const cTrace = c.decision as Array<{
    policy: string;
    rule: string;
    matched: boolean;
    reason: string;
  }>;
  expect(cTrace.find((t) => t.rule === 'everyone-else')).toMatchObject({
    matched: false,
    reason: "fallback not needed: rule 'contractors' matched",
  });
  const eTrace = e.decision as typeof cTrace;
  expect(eTrace.find((t) => t.rule === 'contractors')).toMatchObject({ matched: false });
  expect(eTrace.find((t) => t.rule === 'everyone-else')).toMatchObject({ matched: true });
  expect(
    await h.outcome(`flow/it-contractor-leaver/p-contractor/${contractor.id as string}`),
  ).toMatchObject({ ok: true });
  expect((await getPerson(h.db.db, 'p-contractor'))?.status).toBe('disabled');
});

test('an action that fails permanently fails the run at once, naming the step', async () => {
  const event = makeEvent('test.fail', { id: 'p-ghost' });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/it-fail-unknown-person/p-ghost/${event.id as string}`;
  const outcome = await h.eventually(async () => h.outcome(runId).catch(() => undefined));
  expect(outcome).toMatchObject({ ok: false, type: 'TargetNotFound' });
  expect((outcome as { message: string }).message).toMatch(
    /^step 'disable-ghost' failed: TargetNotFound: no person with id 'p-ghost'/,
  );
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  // the op runs as a local activity: its marker says which attempt it ended on
  const calls = (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes?.details?.data?.payloads?.[0])
    .filter((p) => p !== undefined)
    .map((p) => defaultPayloadConverter.fromPayload<{ activity_type: string; attempt: number }>(p))
    .filter((m) => m.activity_type === 'runConnectorOp');
  expect(calls.map((c) => c.attempt)).toEqual([1]);
  const audit = await listAudit(h.db.db, { runId });
  expect(audit).toMatchObject([
    {
      action: 'run.failed',
      outcome: 'failed',
      detail: { error: { step: 'disable-ghost', type: 'TargetNotFound' } },
    },
  ]);
  const state = await h.client.workflow.getHandle(runId).query('state');
  expect(state).toMatchObject({
    status: 'Failed',
    steps: [{ id: 'disable-ghost', status: 'failed', error: { type: 'TargetNotFound' } }],
  });
});

test('a run whose event lacks a required input fails at its start, naming the input', async () => {
  const missing = makeEvent(
    'test.input',
    { id: 'p-input' },
    { attributes: { level: 'principal' } },
  );
  expect((await h.postEvent(missing)).status).toBe(202);
  const outcome = await h.eventually(async () =>
    h.outcome(`flow/it-needs-input/p-input/${missing.id as string}`).catch(() => undefined),
  );
  expect(outcome).toMatchObject({ ok: false, type: 'InvalidEventInput' });
  expect((outcome as { message: string }).message).toContain('attributes.startDate is required');
  expect((outcome as { message: string }).message).toContain(
    'attributes.level must be one of junior, senior',
  );
});

test('a run that executes more steps than its step budget fails with a clear error', async () => {
  const event = makeEvent('test.budget', { id: 'p-budget' });
  expect((await h.postEvent(event)).status).toBe(202);
  const outcome = await h.runOutcome(`flow/it-over-budget/p-budget/${event.id as string}`);
  expect(outcome).toMatchObject({ ok: false, type: 'StepBudgetExceeded' });
  expect((outcome as { message: string }).message).toBe(
    "the run executed more than 2 steps (its step budget) at step 'three'",
  );
});

describe('the gateway refuses bad requests', () => {
  test('no token or an unknown token → 401; a token without the scope → 403', async () => {
    const event = makeEvent('person.leaver', { id: 'p-auth' });
    expect((await h.postEvent(event, null)).status).toBe(401);
    expect((await h.postEvent(event, 'idf_not-a-real-token')).status).toBe(401);
    const { TokenService } = await import('../../src/gateway/services/tokens');
    const { token } = await new TokenService(h.db.db).create({
      name: 'reader',
      scopes: ['events:read'],
      actor: 'test',
    });
    const forbidden = await h.postEvent(event, token);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.detail).toContain("needs the 'events:write' scope");
    expect(await findEvent(h.db.db, 'test-hr', event.id as string)).toBeUndefined();
  });

  test('a body over 256 KiB → 413; not JSON → 415; broken JSON → 400', async () => {
    const huge = makeEvent(
      'person.leaver',
      { id: 'p-huge' },
      { attributes: { blob: 'x'.repeat(300 * 1024) } },
    );
    expect((await h.postEvent(huge)).status).toBe(413);
    expect(
      (await h.request('POST', '/v1/events', { raw: 'source=hr', contentType: 'text/plain' }))
        .status,
    ).toBe(415);
    const broken = await h.request('POST', '/v1/events', { raw: '{"source": "hr",' });
    expect(broken.status).toBe(400);
    expect(broken.body.type).toBe('urn:idflow:problem:invalid-json');
  });

  test('an unknown event is 404', async () => {
    expect((await h.request('GET', '/v1/events/test-hr/no-such-event')).status).toBe(404);
  });
});
