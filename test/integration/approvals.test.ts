/**
 * Human approvals on real Temporal and PostgreSQL, with Slack's Web API faked locally: deciding
 * through the API and Slack, reminders, escalation through two levels, every timeout outcome,
 * delegation, `mode: all`, and every refusal audited while the run keeps waiting.
 */
import { listAudit } from '../../src/db/repos/audit';
import { getPerson, insertPersonIfAbsent } from '../../src/db/repos/persons';
import { TokenService } from '../../src/gateway/services/tokens';
import type { ApprovalTask, RunState } from '../../src/temporal/contracts';
import { startSmtpTarget, type SmtpTarget } from '../../src/targets/smtp';
import { equals, visibilityQuery } from '../../src/temporal/visibility';
import { FakeSlack, signedInteraction } from '../support/fake-slack';
import { Harness, makeEvent, type HttpResult } from '../support/harness';

const SLACK_TOKEN = 'xoxb-test-token';
const SIGNING_SECRET = 'a-signing-secret-for-the-tests';
let smtp: SmtpTarget;
const slack = new FakeSlack(SLACK_TOKEN, {
  'mgr@example.com': 'U0MGR',
  'head@example.com': 'U0HEAD',
  'sec@example.com': 'U0SEC',
});
let h: Harness;
const tokens: Record<string, string> = {};

interface View {
  taskId: string;
  status: string;
  approvers: Array<{ id: string }>;
  decisions: Array<{
    by: string;
    onBehalfOf: string;
    decision: string;
    channel: string;
    comment?: string;
  }>;
  history: Array<{ kind: string; approvers: string[] }>;
}

beforeAll(async () => {
  await slack.start();
  smtp = await startSmtpTarget({ port: 2587 });
  h = new Harness({
    definitions: ['test/fixtures/approvals'],
    env: {
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
    },
  });
  await h.start();
  const people: Array<[string, string, string, string?]> = [
    ['p-mgr', 'Mina Manager', 'mgr@example.com', 'p-head'],
    ['p-head', 'Hugo Head', 'head@example.com'],
    ['p-ciso', 'Carla Ciso', 'ciso@example.com'],
    ['p-sec', 'Sam Security', 'sec@example.com'],
    ['p-delegate', 'Dora Delegate', 'dora@example.com'],
    ['p-outsider', 'Otto Outsider', 'otto@example.com'],
  ];
  const service = new TokenService(h.db.db);
  for (const [id, displayName, email, managerId] of people) {
    await insertPersonIfAbsent(h.db.db, {
      id,
      displayName,
      email,
      status: 'active',
      ...(managerId ? { managerId } : {}),
    });
    tokens[id] = (
      await service.create({ name: id, scopes: ['approvals'], personId: id, actor: 'test' })
    ).token;
  }
  for (const subject of ['s-self', 's-double']) {
    tokens[subject] = (
      await service.create({
        name: subject,
        scopes: ['approvals'],
        personId: subject,
        actor: 'test',
      })
    ).token;
  }
});

afterAll(async () => {
  await h?.close();
  await slack.stop();
  await smtp?.stop();
});

/** Sends an event and waits until its run waits on an approval; returns the run and its task. */
async function waitingRun(
  type: string,
  subject: string,
  flow: string,
): Promise<{ runId: string; task: ApprovalTask }> {
  const event = makeEvent(type, {
    id: subject,
    displayName: `Subject ${subject}`,
    managerId: 'p-mgr',
  });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/${flow}/${subject}/${event.id as string}`;
  const task = await h.eventually(async () => {
    const state = await h.client.workflow
      .getHandle(runId)
      .query<RunState>('state')
      .catch(() => undefined);
    return state?.approvals.find((t) => t.status === 'open');
  });
  return { runId, task };
}

async function pendingFor(person: string): Promise<View[]> {
  const res = await h.request<{ tasks: View[] }>('GET', `/v1/approvals?approver=${person}`, {
    token: tokens[person] as string,
  });
  expect(res.status).toBe(200);
  return res.body.tasks;
}

function decide(
  taskId: string,
  person: string,
  decision: 'approve' | 'reject',
  comment?: string,
): Promise<HttpResult<View & { detail?: string }>> {
  return h.request('POST', `/v1/approvals/${taskId}/decision`, {
    token: tokens[person] as string,
    body: { decision, ...(comment ? { comment } : {}) },
  });
}

async function state(runId: string): Promise<RunState> {
  return h.client.workflow.getHandle(runId).query<RunState>('state');
}

test('approve through the API: the run takes the approved branch, with who, when, channel and comment', async () => {
  const { runId } = await waitingRun('test.approve', 's-approve', 'ap-basic');
  const pending = await h.eventually(async () => {
    const tasks = await pendingFor('p-mgr');
    return tasks.find((t) => (t as unknown as { workflowId: string }).workflowId === runId);
  });
  expect(pending).toMatchObject({
    status: 'open',
    request: 'Give Subject s-approve access to the finance share?',
    access: ['finance-share'],
  });

  const res = await decide(pending.taskId, 'p-mgr', 'approve', 'needed for month-end close');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    status: 'approved',
    decisions: [
      {
        by: 'p-mgr',
        onBehalfOf: 'p-mgr',
        decision: 'approved',
        channel: 'api',
        comment: 'needed for month-end close',
      },
    ],
  });

  expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
  const output = (await state(runId)).steps.find((s) => s.id === 'ask-manager')?.output;
  expect(output).toMatchObject({
    decision: 'approved',
    decidedBy: 'p-mgr',
    channel: 'api',
    comment: 'needed for month-end close',
  });
  expect((await getPerson(h.db.db, 's-approve'))?.attributes).toEqual({ financeShare: true });
  const audit = (await listAudit(h.db.db, { runId })).map((a) => a.action);
  expect(audit).toEqual(
    expect.arrayContaining(['approval.assigned', 'approval.decision', 'approval.closed']),
  );
});

test('reject through the API: the run takes the rejected branch', async () => {
  const { runId, task } = await waitingRun('test.approve', 's-reject', 'ap-basic');
  const taskId = Buffer.from(`${runId}\n${task.step}`).toString('base64url');
  expect((await decide(taskId, 'p-mgr', 'reject', 'not needed')).status).toBe(200);
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
  expect((await getPerson(h.db.db, 's-reject'))?.attributes).toEqual({ financeShare: false });
});

test('the subject, a non-approver, a forged and a replayed Slack request are refused and audited; the run keeps waiting', async () => {
  const { runId, task } = await waitingRun('test.approve', 's-self', 'ap-basic');
  const taskId = Buffer.from(`${runId}\n${task.step}`).toString('base64url');

  const self = await decide(taskId, 's-self', 'approve');
  expect(self.status).toBe(403);
  expect(self.body.detail).toContain('is the subject of this request');
  const outsider = await decide(taskId, 'p-outsider', 'approve');
  expect(outsider.status).toBe(403);
  expect(outsider.body.detail).toContain('is not an approver of this task');

  const value = JSON.stringify({ workflowId: runId, step: task.step });
  const forged = signedInteraction('not-the-secret', {
    user: 'U0MGR',
    action: 'idflow.approve',
    value,
  });
  const forgedRes = await fetch(`${h.gatewayUrl}/slack/interactions`, {
    method: 'POST',
    headers: forged.headers,
    body: forged.body,
  });
  expect(forgedRes.status).toBe(401);
  const old = signedInteraction(SIGNING_SECRET, {
    user: 'U0MGR',
    action: 'idflow.approve',
    value,
    timestamp: Math.floor(Date.now() / 1000) - 600,
  });
  const replayRes = await fetch(`${h.gatewayUrl}/slack/interactions`, {
    method: 'POST',
    headers: old.headers,
    body: old.body,
  });
  expect(replayRes.status).toBe(401);

  const refusals = await listAudit(h.db.db, { target: `approval:${taskId}` });
  expect(refusals.map((r) => [r.action, (r.detail as { person?: string }).person])).toEqual([
    ['approval.decision-refused', 's-self'],
    ['approval.decision-refused', 'p-outsider'],
  ]);
  const slackRefusals = (await listAudit(h.db.db, { action: 'slack.request-refused' })).map(
    (r) => (r.detail as { reason: string }).reason,
  );
  expect(slackRefusals).toEqual(
    expect.arrayContaining([
      'the signature does not match',
      expect.stringMatching(/s old \(more than 300 s\): a replay\?$/),
    ]),
  );

  const one = await h.request<View>('GET', `/v1/approvals/${taskId}`, {
    token: tokens['p-mgr'] as string,
  });
  expect(one.status).toBe(200);
  expect(one.body).toMatchObject({
    taskId,
    status: 'open',
    approvers: [{ id: 'p-mgr', displayName: 'Mina Manager' }],
  });
  expect(
    (await h.request('GET', `/v1/approvals/${taskId}`, { token: tokens['p-outsider'] as string }))
      .status,
  ).toBe(403);
  const metadata = await h.client.workflow
    .getHandle(runId)
    .query<{ currentDetails: string }>('__temporal_workflow_metadata');
  expect(metadata.currentDetails).toMatch(
    /^\*\*Waiting for approval\*\* at step `ask-manager` .* by Mina Manager \(p-mgr\) since /,
  );
  expect(metadata.currentDetails).toMatch(/Times out .* \(reject\)\.$/);

  const waiting = await state(runId);
  expect(waiting).toMatchObject({
    status: 'Waiting',
    waitingOn: { kind: 'approval', approvers: ['p-mgr'] },
  });
  expect((await decide(taskId, 'p-mgr', 'approve')).status).toBe(200);
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
});

test('the same decision sent twice decides once; another decision afterwards is refused', async () => {
  const { runId, task } = await waitingRun('test.approve', 's-double', 'ap-basic');
  const taskId = Buffer.from(`${runId}\n${task.step}`).toString('base64url');
  const [a, b] = await Promise.all([
    decide(taskId, 'p-mgr', 'approve'),
    decide(taskId, 'p-mgr', 'approve'),
  ]);
  expect([a.status, b.status].sort()).toEqual([200, 200]);
  // a third click after the decision was taken is answered as the first, and decides nothing
  const again = await decide(taskId, 'p-mgr', 'approve');
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ status: 'approved' });
  const late = await decide(taskId, 'p-mgr', 'reject');
  expect(late.status).toBe(409);
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
  const closed = (await state(runId)).approvals[0];
  expect(closed?.decisions).toHaveLength(1);
  const rows = await listAudit(h.db.db, { runId, action: 'approval.decision' });
  expect(rows).toHaveLength(1);
});

test('mode all waits for every approver', async () => {
  const { runId, task } = await waitingRun('test.all', 's-all', 'ap-all');
  const taskId = Buffer.from(`${runId}\n${task.step}`).toString('base64url');
  expect(task.approvers.map((a) => a.id)).toEqual(['p-mgr', 'p-sec']);
  const first = await decide(taskId, 'p-mgr', 'approve');
  expect(first.body).toMatchObject({ status: 'open' });
  expect((await pendingFor('p-sec')).some((t) => t.taskId === taskId)).toBe(true);
  // the run writes who it still waits on once it has taken the decision
  await h.eventually(async () =>
    (await pendingFor('p-mgr')).some((t) => t.taskId === taskId) ? undefined : true,
  );
  expect((await pendingFor('p-sec')).some((t) => t.taskId === taskId)).toBe(true);
  const second = await decide(taskId, 'p-sec', 'approve');
  expect(second.body).toMatchObject({ status: 'approved' });
  expect(await h.runOutcome(runId)).toMatchObject({
    ok: true,
    result: { vars: { decision: 'approved' } },
  });
});

test('a delegate decides inside the delegation window, not outside it', async () => {
  const soon = new Date(Date.now() + 3_600_000);
  const later = new Date(Date.now() + 7_200_000);
  const future = await h.request('POST', '/v1/delegations', {
    token: tokens['p-mgr'] as string,
    body: {
      from: 'p-mgr',
      to: 'p-delegate',
      startsAt: soon.toISOString(),
      endsAt: later.toISOString(),
    },
  });
  expect(future.status).toBe(201);
  const { runId, task } = await waitingRun('test.approve', 's-delegated', 'ap-basic');
  const taskId = Buffer.from(`${runId}\n${task.step}`).toString('base64url');
  expect((await decide(taskId, 'p-delegate', 'approve')).status).toBe(403);

  const now = await h.request<{ id: string }>('POST', '/v1/delegations', {
    token: tokens['p-mgr'] as string,
    body: {
      from: 'p-mgr',
      to: 'p-delegate',
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: soon.toISOString(),
    },
  });
  expect(now.status).toBe(201);
  const byDelegate = await decide(taskId, 'p-delegate', 'approve', 'Mina is on leave');
  expect(byDelegate.status).toBe(200);
  expect(byDelegate.body.decisions[0]).toMatchObject({ by: 'p-delegate', onBehalfOf: 'p-mgr' });
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
  expect(
    (
      await h.request('DELETE', `/v1/delegations/${now.body.id}`, {
        token: tokens['p-delegate'] as string,
      })
    ).status,
  ).toBe(403);
  expect(
    (
      await h.request('DELETE', `/v1/delegations/${now.body.id}`, {
        token: tokens['p-mgr'] as string,
      })
    ).status,
  ).toBe(204);
  expect((await listAudit(h.db.db, { action: 'delegation.created' })).length).toBe(2);
});

test('Slack: the request arrives as a direct message with buttons; a signed click approves and the message shows the outcome', async () => {
  const { runId, task } = await waitingRun('test.approve', 's-slack', 'ap-basic');
  const dm = await h.eventually(() =>
    Promise.resolve(
      slack.of('chat.postMessage').find((m) => JSON.stringify(m.blocks).includes(runId)),
    ),
  );
  expect(dm.channel).toBe('U0MGR');
  const actions = (
    dm.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>
  ).find((b) => b.type === 'actions');
  expect(actions?.elements?.map((e) => e.action_id)).toEqual(['idflow.approve', 'idflow.reject']);
  const value = actions?.elements?.[0]?.value as string;
  expect(JSON.parse(value)).toEqual({ workflowId: runId, step: task.step });

  const click = signedInteraction(SIGNING_SECRET, {
    user: 'U0MGR',
    action: 'idflow.approve',
    value,
  });
  const res = await fetch(`${h.gatewayUrl}/slack/interactions`, {
    method: 'POST',
    headers: click.headers,
    body: click.body,
  });
  expect(res.status).toBe(200);
  expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
  const output = (await state(runId)).steps.find((s) => s.id === 'ask-manager')?.output;
  expect(output).toMatchObject({ decision: 'approved', decidedBy: 'p-mgr', channel: 'slack' });
  const update = await h.eventually(() =>
    Promise.resolve(
      slack.of('chat.update').find((u) => String(u.text).includes('Subject s-slack')),
    ),
  );
  expect(String(update.text)).toMatch(/^Approved by Mina Manager at /);
});

describe('nobody decides', () => {
  const outcomes: Record<string, { runId: string }> = {};

  beforeAll(async () => {
    for (const outcome of ['reject', 'approve', 'park']) {
      outcomes[outcome] = await waitingRun(
        `test.timeout-${outcome}`,
        `s-timeout-${outcome}`,
        `ap-timeout-${outcome}`,
      );
    }
  });

  test('reminders come at each interval and the request escalates through two levels', async () => {
    const { runId } = outcomes.reject as { runId: string };
    await h.runOutcome(runId, 30_000);
    const events = (await state(runId)).approvals[0]?.history ?? [];
    const kinds = events.map((e) => e.kind);
    expect(kinds[0]).toBe('assigned');
    expect(events.filter((e) => e.kind === 'escalated').map((e) => e.approvers)).toEqual([
      ['p-head'],
      ['p-ciso'],
    ]);
    // reminders every second go to whoever holds the request then: two to the manager (1s, 2s),
    // one to the head (4s), one to the CISO (6s). A reminder is re-armed once the last one was
    // sent, so a machine slow enough to send one late can lose one to the next escalation; it
    // never reminds a level the request has left
    const reminded = events.filter((e) => e.kind === 'reminded').map((e) => e.approvers[0]);
    const level = (id: string | undefined) => ['p-mgr', 'p-head', 'p-ciso'].indexOf(id ?? '');
    expect(reminded[0]).toBe('p-mgr');
    expect(reminded.length).toBeGreaterThanOrEqual(3);
    expect(reminded.length).toBeLessThanOrEqual(4);
    expect(reminded.map(level)).toEqual(reminded.map(level).sort((a, b) => a - b));
    expect(reminded.every((id) => level(id) >= 0)).toBe(true);
    expect(kinds[kinds.length - 1]).toBe('timed-out');
    const audit = (await listAudit(h.db.db, { runId })).map((a) => a.action);
    expect(audit.filter((a) => a === 'approval.reminded')).toHaveLength(reminded.length);
    expect(audit.filter((a) => a === 'approval.escalated')).toHaveLength(2);
    // Carla has no Slack account: her notices went by the step's channel (log)
    const escalatedToCiso = (await listAudit(h.db.db, { runId, action: 'approval.escalated' }))[1];
    expect(escalatedToCiso?.detail).toMatchObject({
      approvers: ['p-ciso'],
      via: { 'p-ciso': 'log' },
    });
  });

  test('onTimeout reject and approve decide the step', async () => {
    const rejected = await h.runOutcome((outcomes.reject as { runId: string }).runId, 30_000);
    const approved = await h.runOutcome((outcomes.approve as { runId: string }).runId, 30_000);
    expect(rejected).toMatchObject({ ok: true, result: { vars: { decision: 'rejected' } } });
    expect(approved).toMatchObject({ ok: true, result: { vars: { decision: 'approved' } } });
  });

  test('onTimeout park flags the run for an operator, who skips it (decision expired)', async () => {
    const { runId } = outcomes.park as { runId: string };
    const parked = await h.eventually(async () => {
      const s = await state(runId);
      return s.status === 'Parked' ? s : undefined;
    }, 30_000);
    expect(parked.waitingOn).toMatchObject({
      kind: 'operator',
      step: 'ask',
      error: { type: 'ApprovalTimedOut' },
    });
    await h.client.workflow
      .getHandle(runId)
      .executeUpdate('operator', { args: [{ action: 'skip', step: 'ask', by: 'test-operator' }] });
    expect(await h.runOutcome(runId)).toMatchObject({
      ok: true,
      result: { vars: { decision: 'expired' } },
    });
  });

  test('IdflowPendingApprovers lists the approvers a run waits on', async () => {
    const { runId } = await waitingRun('test.approve', 's-pending', 'ap-basic');
    const found = await h.eventually(async () => {
      for await (const w of h.client.workflow.list({
        query: visibilityQuery(
          equals('IdflowPendingApprovers', 'p-mgr'),
          equals('WorkflowId', runId),
        ),
      }))
        return w;
      return undefined;
    });
    expect(found.searchAttributes.IdflowPendingApprovers).toEqual(['p-mgr']);
  });
});

test('an approver with Slack gets a direct message, one without gets an email through the channel', async () => {
  const { runId, task } = await waitingRun('test.mail', 's-mail', 'ap-mail');
  expect(task.approvers.map((a) => a.id)).toEqual(['p-mgr', 'p-ciso']);
  const [mail] = await smtp.waitFor(1);
  expect(mail).toMatchObject({
    from: 'approvals@example.com',
    to: ['ciso@example.com'],
    subject: 'Approval needed: Subject s-mail',
  });
  expect(mail?.text).toContain('VPN access for s-mail?');
  await h.eventually(() =>
    Promise.resolve(
      slack
        .of('chat.postMessage')
        .some((m) => m.channel === 'U0MGR' && String(m.text).includes('s-mail'))
        ? true
        : undefined,
    ),
  );
  const assigned = await h.eventually(async () => {
    const rows = await listAudit(h.db.db, { runId, action: 'approval.assigned' });
    return rows.length ? rows : undefined;
  });
  expect(assigned[0]?.detail).toMatchObject({ via: { 'p-mgr': 'slack', 'p-ciso': 'email' } });
  const taskId = Buffer.from(`${runId}\n${task.step}`).toString('base64url');
  expect((await decide(taskId, 'p-ciso', 'approve')).status).toBe(200);
  expect(await h.runOutcome(runId)).toMatchObject({
    ok: true,
    result: { vars: { decision: 'approved' } },
  });
});
