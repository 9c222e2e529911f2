/**
 * Signed webhooks (Standard Webhooks) against the real gateway, worker, Temporal and
 * PostgreSQL, signed by the standard's own library: the current and the previous secret are
 * accepted during a rotation; stale, forged, unsigned and malformed deliveries and deliveries
 * to unknown sources are 401 and audited; a replayed webhook-id starts nothing; a source that
 * takes only signed deliveries refuses tokens; neither the log nor the audit trail holds a
 * secret or a signature.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { listAudit, rowsOf } from '../../src/db/repos/audit';
import { ROOT, Harness, makeEvent } from '../support/harness';
import { signDelivery, testSecret, testWebhookId } from '../support/webhooks';

const SECRET = testSecret();
const PREVIOUS = testSecret(24);
const STRANGER = testSecret();
const SOURCE = 'hr-webhooks';

let h: Harness;
/** Every signature sent, to look for in the log and the audit trail afterwards. */
const signatures: string[] = [];

beforeAll(async () => {
  h = new Harness({
    definitions: ['definitions/sources', 'test/fixtures/runtime', 'test/fixtures/webhooks'],
    env: {
      HR_WEBHOOK_SECRET: SECRET,
      HR_WEBHOOK_SECRET_PREVIOUS: PREVIOUS,
      IDFLOW_REFUSAL_AUDIT_INTERVAL: '200ms',
      // every request line is logged, headers included: the signature must be redacted there
      IDFLOW_LOG_LEVEL: 'info',
    },
  });
  await h.start();
  // one delivery from two days ago and one from an hour ago, before any delivery is recorded
  await h.db.db.execute(
    sql`insert into webhook_deliveries (source, webhook_id, event_id, received_at) values
        (${SOURCE}, 'msg_ancient_old', 'e-1', now() - interval '2 days'),
        (${SOURCE}, 'msg_recent_old', 'e-2', now() - interval '1 hour')`,
  );
});

afterAll(async () => {
  await h?.close();
});

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POSTs `body` (its bytes exactly) to the source's webhook URL with `headers`. */
async function deliver(
  source: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  if (headers['webhook-signature']) signatures.push(...headers['webhook-signature'].split(' '));
  const res = await fetch(`${h.gatewayUrl}/v1/webhooks/${source}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

/** A leaver event of the source for a new person: its run is it-employee-leaver. */
function leaver(source = SOURCE): { event: Record<string, unknown>; text: string } {
  const event = makeEvent('test.leaver', { id: `p-wh-${Math.random().toString(36).slice(2, 10)}` });
  event.source = source;
  return { event, text: JSON.stringify(event) };
}

/** The audit rows of `action`, once at least one with `reason` (if given) is written. */
async function auditRows(action: string, reason?: string) {
  return h.eventually(async () => {
    const rows = await listAudit(h.db.db, { action });
    const fitting = reason
      ? rows.filter((r) => (r.detail as { reason?: string } | null)?.reason === reason)
      : rows;
    return fitting.length ? fitting : undefined;
  }, 10_000);
}

interface Tallied {
  count: number;
  webhookIds: string[];
  rows: number;
}

/**
 * What the aggregated rows of `action` for `source` (and `reason`) add up to, once they count at
 * least `atLeast` (a burst may straddle two intervals: two rows).
 */
async function tallied(
  action: string,
  source: string,
  reason: string | undefined,
  atLeast: number,
): Promise<Tallied> {
  return h.eventually(async () => {
    const rows = (await listAudit(h.db.db, { action }))
      .map(
        (r) =>
          r.detail as { reason?: string; source?: string; count: number; webhookIds?: string[] },
      )
      .filter((d) => d.source === source && (reason === undefined || d.reason === reason));
    const count = rows.reduce((n, d) => n + d.count, 0);
    if (count < atLeast) return undefined;
    return { count, webhookIds: rows.flatMap((d) => d.webhookIds ?? []), rows: rows.length };
  }, 10_000);
}

describe('accepted deliveries', () => {
  test('signed with the current secret: 202, and the event runs like one from POST /v1/events', async () => {
    const { event, text } = leaver();
    const id = testWebhookId();
    const res = await deliver(SOURCE, text, signDelivery(SECRET, id, text));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      source: SOURCE,
      eventId: event.id,
      dispatchWorkflowId: `event/${SOURCE}/${String(event.id)}`,
      duplicate: false,
      webhookId: id,
    });
    expect(res.headers.get('location')).toBe(`/v1/events/${SOURCE}/${String(event.id)}`);
    const subject = (event.subject as { id: string }).id;
    const run = await h.runOutcome(`flow/it-employee-leaver/${subject}/${String(event.id)}`);
    expect(run.ok).toBe(true);
  });

  test('signed with the previous secret during a rotation: 202; signed with both: 202', async () => {
    const old = leaver();
    const byOld = await deliver(
      SOURCE,
      old.text,
      signDelivery(PREVIOUS, testWebhookId(), old.text),
    );
    expect(byOld.status).toBe(202);
    const both = leaver();
    const byBoth = await deliver(
      SOURCE,
      both.text,
      signDelivery([SECRET, PREVIOUS], testWebhookId(), both.text),
    );
    expect(byBoth.status).toBe(202);
  });

  test('`idflow webhooks sign` signs a file as the gateway verifies it (here with the previous secret)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'idflow-webhooks-'));
    for (const variable of ['HR_WEBHOOK_SECRET_PREVIOUS']) {
      const { text } = leaver();
      const file = join(dir, `${variable}.json`);
      writeFileSync(file, text);
      const signed = await h.idflow('webhooks', 'sign', file, '--secret-env', variable);
      expect(signed.code).toBe(0);
      const headers = Object.fromEntries(
        signed.stdout
          .trim()
          .split('\n')
          .map((line) => line.split(': ') as [string, string]),
      );
      expect(Object.keys(headers)).toEqual([
        'webhook-id',
        'webhook-timestamp',
        'webhook-signature',
      ]);
      expect((await deliver(SOURCE, text, headers)).status).toBe(202);
    }
    const unset = await h.idflow(
      'webhooks',
      'sign',
      join(dir, 'HR_WEBHOOK_SECRET_PREVIOUS.json'),
      '--secret-env',
      'HR_NO_SUCH_SECRET',
    );
    expect(unset).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('HR_NO_SUCH_SECRET') as unknown,
    });
  });

  test('a replayed webhook-id is 200 duplicate with the first ids, starts nothing and is audited', async () => {
    const { event, text } = leaver();
    const id = testWebhookId();
    const first = signDelivery(SECRET, id, text);
    expect((await deliver(SOURCE, text, first)).status).toBe(202);
    const subject = (event.subject as { id: string }).id;
    await h.runOutcome(`flow/it-employee-leaver/${subject}/${String(event.id)}`);
    // the very same request, and the same delivery signed again later (a sender's retry)
    const again = await deliver(SOURCE, text, first);
    const resigned = await deliver(SOURCE, text, signDelivery(PREVIOUS, id, text));
    for (const res of [again, resigned]) {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        eventId: event.id,
        dispatchWorkflowId: `event/${SOURCE}/${String(event.id)}`,
        duplicate: true,
        webhookId: id,
        runs: [expect.objectContaining({ flow: 'it-employee-leaver' })],
      });
    }
    // one dispatch, one run
    const workflows: string[] = [];
    for await (const w of h.client.workflow.list({ query: `IdflowSubject = '${subject}'` }))
      if (!w.workflowId.startsWith('person/')) workflows.push(w.workflowId);
    expect(workflows.sort()).toEqual([
      `event/${SOURCE}/${String(event.id)}`,
      `flow/it-employee-leaver/${subject}/${String(event.id)}`,
    ]);
    const replays = await tallied('webhook.replayed', SOURCE, undefined, 2);
    expect(replays.count).toBe(2);
    expect(replays.webhookIds).toEqual([id]);
    expect((await auditRows('webhook.replayed'))[0]).toMatchObject({
      actor: `webhook:${SOURCE}`,
      target: `source:${SOURCE}`,
      outcome: 'unchanged',
    });
  });

  test('the same webhook-id with another event is 409, and nothing of it is started', async () => {
    const first = leaver();
    const id = testWebhookId();
    expect((await deliver(SOURCE, first.text, signDelivery(SECRET, id, first.text))).status).toBe(
      202,
    );
    const other = leaver();
    const res = await deliver(SOURCE, other.text, signDelivery(SECRET, id, other.text));
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain(id);
    const stored = await h.request('GET', `/v1/events/${SOURCE}/${String(other.event.id)}`);
    expect(stored.status).toBe(404);
  });

  test('a delivery refused for its body leaves nothing behind: its retry with the same id is accepted', async () => {
    const { event, text } = leaver();
    const id = testWebhookId();
    const broken = JSON.stringify({ ...event, subject: {} });
    const refused = await deliver(SOURCE, broken, signDelivery(SECRET, id, broken));
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: '/subject/id' })]);
    expect((await deliver(SOURCE, text, signDelivery(SECRET, id, text))).status).toBe(202);
  });

  test("an event of another source is 400 naming both: a source's secret signs only its events", async () => {
    const { text } = leaver('workday');
    const res = await deliver(SOURCE, text, signDelivery(SECRET, testWebhookId(), text));
    expect(res.status).toBe(400);
    const errors = res.body.errors as Array<{ path: string; message: string }>;
    expect(errors.map((e) => e.path)).toEqual(['/source']);
    expect(errors[0]?.message).toMatch(/'workday'.*'hr-webhooks'/);
  });

  test('verified deliveries count in the event metrics: received, deduplicated, rejected', async () => {
    const res = await fetch(`${h.gatewayUrl}/metrics`, {
      headers: { authorization: `Bearer ${h.token}` },
    });
    const text = await res.text();
    const value = (name: string, labels: string) =>
      Number(new RegExp(`^${name}\\{${labels}\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    expect(
      value('idflow_events_received_total', 'source="hr-webhooks",type="test.leaver"'),
    ).toBeGreaterThanOrEqual(5);
    expect(
      value('idflow_events_deduplicated_total', 'source="hr-webhooks",type="test.leaver"'),
    ).toBeGreaterThanOrEqual(2);
    expect(
      value(
        'idflow_events_rejected_total',
        'source="hr-webhooks",type="test.leaver",reason="conflict"',
      ),
    ).toBeGreaterThanOrEqual(1);
  });

  test("beyond the source's rate limit a verified delivery is 429 with Retry-After", async () => {
    const statuses: number[] = [];
    let last: Answer | undefined;
    for (let i = 0; i < 3; i++) {
      const { text } = leaver('hr-limited');
      last = await deliver('hr-limited', text, signDelivery(SECRET, testWebhookId(), text));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    // refused deliveries do not spend the quota of the source they name
    const forged = leaver('hr-limited');
    const res = await deliver('hr-limited', forged.text, {
      ...signDelivery(STRANGER, testWebhookId(), forged.text),
    });
    expect(res.status).toBe(401);
  });
});

describe('refused deliveries: 401, audited, without the signature', () => {
  test('stale, forged, unsigned, malformed and unknown-source deliveries', async () => {
    const { text } = leaver();
    const staleId = testWebhookId();
    const forgedId = testWebhookId();
    const unknownId = testWebhookId();
    const stale = await deliver(
      SOURCE,
      text,
      signDelivery(SECRET, staleId, text, new Date(Date.now() - 6 * 60_000)),
    );
    const future = await deliver(
      SOURCE,
      text,
      signDelivery(SECRET, testWebhookId(), text, new Date(Date.now() + 6 * 60_000)),
    );
    const forged = await deliver(SOURCE, text, signDelivery(STRANGER, forgedId, text));
    const tampered = await deliver(SOURCE, text.replace('test.leaver', 'test.joiner'), {
      ...signDelivery(SECRET, testWebhookId(), text),
    });
    const unsigned = await deliver(SOURCE, text);
    const malformed = await deliver(SOURCE, text, {
      'webhook-id': 'msg 1',
      'webhook-timestamp': 'now',
      'webhook-signature': 'v1,abc',
    });
    const unknown = await deliver('no-such-source', text, signDelivery(SECRET, unknownId, text));
    const tokensOnly = await deliver('hr-tokens', text, signDelivery(SECRET, unknownId, text));
    for (const res of [stale, future, forged, tampered, unsigned, malformed, unknown, tokensOnly]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(stale.body.detail).toMatch(/300 s away/);
    // an unknown source is answered exactly as a forgery: a caller learns no source names
    expect({ ...unknown.body, instance: '' }).toEqual({ ...forged.body, instance: '' });
    expect(unsigned.body.detail).toMatch(/webhook-id, webhook-timestamp and webhook-signature/);

    const staleRows = await tallied('webhook.refused', SOURCE, 'stale', 2);
    expect(staleRows.count).toBe(2);
    expect(staleRows.webhookIds).toContain(staleId);
    const forgedRows = await tallied('webhook.refused', SOURCE, 'forged', 2);
    expect(forgedRows.count).toBe(2);
    expect(forgedRows.webhookIds).toContain(forgedId);
    expect(await tallied('webhook.refused', SOURCE, 'unsigned', 1)).toMatchObject({
      count: 1,
      webhookIds: [],
    });
    expect(await tallied('webhook.refused', SOURCE, 'malformed', 1)).toMatchObject({
      count: 1,
      webhookIds: [],
    });
    for (const source of ['no-such-source', 'hr-tokens'])
      expect(await tallied('webhook.refused', source, 'unknown-source', 1)).toMatchObject({
        count: 1,
        webhookIds: [unknownId],
      });
    const [row] = await auditRows('webhook.refused', 'stale');
    expect(row).toMatchObject({
      actor: 'anonymous',
      target: `source:${SOURCE}`,
      outcome: 'refused',
    });
    // each refusal is also one of the gateway's refused requests
    const requests = await auditRows('request.refused');
    expect(requests.some((r) => r.target === 'route:POST /v1/webhooks/{source}')).toBe(true);
  });

  test("a source whose secret the gateway lacks: 503 with Retry-After, the variable's name audited", async () => {
    const { text } = leaver('hr-unset');
    const res = await deliver('hr-unset', text, signDelivery(SECRET, testWebhookId(), text));
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const unsigned = await deliver('hr-unset', text);
    expect(unsigned.status).toBe(401);
    const [row] = await auditRows('webhook.refused', 'secret-unset');
    expect(row?.detail).toMatchObject({
      source: 'hr-unset',
      variables: ['HR_UNSET_WEBHOOK_SECRET'],
    });
  });

  test('a token cannot send the events of a source that takes only signed deliveries: 403, audited', async () => {
    const { event } = leaver();
    const res = await h.postEvent(event);
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('/v1/webhooks/hr-webhooks');
    const rows = await auditRows('request.refused', 'signed-only-source');
    expect(rows[0]?.detail).toMatchObject({ source: SOURCE, route: '/v1/events' });
  });

  test('neither the log nor the audit trail holds a secret or a signature', async () => {
    // the gateway writes its log line after the answer, and the audit rows every 200 ms
    await new Promise((r) => setTimeout(r, 1000));
    const log = readFileSync(join(ROOT, '.idflow', 'test', `${h.taskQueue}.log`), 'utf8');
    const audit = JSON.stringify(
      (await h.db.db.execute(sql`select actor, action, target, detail from audit_log`)) ?? '',
    );
    expect(log).toContain('/v1/webhooks/'); // the requests were logged, with their headers
    const digests = signatures.map((s) => s.replace(/^v1,/, '')).filter((d) => d.length > 10);
    expect(digests.length).toBeGreaterThan(10);
    for (const text of [log, audit]) {
      for (const secret of [SECRET, PREVIOUS, STRANGER]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice('whsec_'.length));
      }
      for (const digest of digests) expect(text).not.toContain(digest);
    }
  });
});

test('deliveries older than a day are pruned as new ones are recorded', async () => {
  // inserted before the first delivery (beforeAll), which pruned in the background
  const kept = await h.eventually(async () => {
    const ids = rowsOf<{ webhook_id: string }>(
      await h.db.db.execute(
        sql`select webhook_id from webhook_deliveries where webhook_id like 'msg_%_old'`,
      ),
    ).map((r) => r.webhook_id);
    return ids.includes('msg_ancient_old') ? undefined : ids;
  });
  expect(kept).toEqual(['msg_recent_old']);
});
