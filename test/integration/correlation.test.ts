/**
 * Correlation through the real gateway, worker, Temporal and PostgreSQL, on the reference
 * definitions: an HR record without idflow's person id joins the person it is about (no
 * duplicate), an ambiguous one waits for a review (state query, GET /v1/review) that
 * `idflow persons link` resolves, and the same record again matches by the link; an account
 * nobody owns is recorded as an orphan and reported by email; the catalogue's examples run
 * green. The rule lookup matches quotes, %, _ and backslashes only literally.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { count, eq } from 'drizzle-orm';
import { listAudit } from '../../src/db/repos/audit';
import { matchingPersons } from '../../src/db/repos/correlation';
import { getPerson, insertPersonIfAbsent } from '../../src/db/repos/persons';
import { accounts, orphanAccounts, persons } from '../../src/db/schema';
import type { Targets } from '../../src/targets';
import type { RunState } from '../../src/temporal/contracts';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

let h: Harness;
let targets: Targets;

const PEOPLE = [
  {
    id: 'p-c-ada',
    employeeId: 'E7001',
    givenName: 'Ada',
    familyName: 'Lovelace',
    email: 'ada.lovelace@example.com',
    department: 'Engineering',
    employmentType: 'employee',
    status: 'active',
    attributes: { username: 'clovelace' },
  },
  {
    id: 'p-c-twin1',
    givenName: 'Alex',
    familyName: 'Twin',
    email: 'twin@example.com',
    status: 'active',
    attributes: { username: 'ctwin1' },
  },
  {
    id: 'p-c-twin2',
    givenName: 'Sam',
    familyName: 'Twin',
    email: 'Twin@Example.com',
    status: 'active',
    attributes: { username: 'ctwin2' },
  },
];

beforeAll(async () => {
  const world = await referenceWorld('correlation');
  targets = world.targets;
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
  for (const p of PEOPLE) await insertPersonIfAbsent(h.db.db, p);
}, 120_000);

afterAll(async () => {
  await h?.close();
  await targets?.stop();
});

const runId = (flow: string, event: Record<string, unknown>) =>
  `flow/${flow}/${(event.subject as { id: string }).id}/${event.id as string}`;

async function send(event: Record<string, unknown>): Promise<void> {
  const res = await h.postEvent(event);
  expect(res.status).toBe(202);
}

async function state(workflowId: string): Promise<RunState> {
  return h.client.workflow.getHandle(workflowId).query<RunState>('state');
}

function output(s: RunState, step: string): Record<string, unknown> | undefined {
  return s.steps.find((r) => r.id === step)?.output as Record<string, unknown> | undefined;
}

async function personCount(): Promise<number> {
  const [row] = await h.db.db.select({ n: count() }).from(persons);
  return row?.n ?? 0;
}

async function idflow(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'idflow.js'), ...args], {
    env: h.env(),
  });
}

describe('an HR record without a person id', () => {
  test('joins the existing person with its employee id: no duplicate person', async () => {
    const before = await personCount();
    const event = makeEvent('person.inbox-joiner', {
      id: 'wd-R1',
      employeeId: 'E7001',
      givenName: 'Ada',
      familyName: 'Lovelace',
      title: 'Analyst',
    });
    await send(event);
    const id = runId('person-inbox-joiner', event);
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    const s = await state(id);
    expect(output(s, 'match')).toEqual({
      outcome: 'matched',
      personId: 'p-c-ada',
      rule: 'employee-id',
    });
    expect(s.steps.map((r) => r.id)).toEqual(
      expect.arrayContaining(['update-person', 'reconcile-known']),
    );
    expect(await personCount()).toBe(before);
    expect((await getPerson(h.db.db, 'p-c-ada'))?.title).toBe('Analyst');
    const audit = await listAudit(h.db.db, { runId: id, action: 'person.correlated' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ target: 'person:p-c-ada', detail: { rule: 'employee-id' } });
  }, 90_000);

  let reviewId = '';
  const ambiguous = () =>
    makeEvent('person.inbox-joiner', {
      id: 'wd-R2',
      givenName: 'Alex',
      familyName: 'Twin',
      email: 'twin@example.com',
    });

  test('matching two persons waits for a review that idflow persons link resolves', async () => {
    const event = ambiguous();
    await send(event);
    const id = runId('person-inbox-joiner', event);
    const waiting = await h.eventually(async () => {
      const s = await state(id).catch(() => undefined);
      return s?.waitingOn?.kind === 'review' ? s : undefined;
    });
    expect(waiting.status).toBe('Waiting');
    expect(waiting.waitingOn).toMatchObject({
      kind: 'review',
      step: 'match',
      candidates: ['p-c-twin1', 'p-c-twin2'],
    });
    reviewId = (waiting.waitingOn as { reviewId: string }).reviewId;

    const list = await h.request<{ reviews: Array<Record<string, unknown>> }>('GET', '/v1/review');
    expect(list.status).toBe(200);
    const listed = list.body.reviews.find((r) => r.id === reviewId);
    expect(listed).toMatchObject({
      status: 'open',
      workflowId: id,
      step: 'match',
      correlation: 'hr-records',
      rule: 'email',
      record: { kind: 'person', source: 'test-hr', id: 'wd-R2' },
      candidates: [{ personId: 'p-c-twin1' }, { personId: 'p-c-twin2' }],
    });

    // bad requests: 400 with field paths, 404 unknown, not a candidate
    const bad = await h.request('POST', `/v1/review/${reviewId}`, {
      body: { personId: 'p c', extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        { path: '/extra', message: 'unknown field' },
        expect.objectContaining({ path: '/personId' }),
      ]),
    );
    expect(
      (await h.request('POST', `/v1/review/${reviewId}`, { body: { personId: 'p-c-ada' } })).status,
    ).toBe(400);
    expect((await h.request('GET', '/v1/review/rv-000000000000000000000000')).status).toBe(404);
    expect((await h.request('POST', '/v1/review/nope', { body: { create: true } })).status).toBe(
      404,
    );

    const { stderr } = await idflow('persons', 'link', reviewId, 'p-c-twin2');
    expect(stderr).toContain(`${reviewId}: resolved, person p-c-twin2`);
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    expect(output(await state(id), 'match')).toEqual({
      outcome: 'matched',
      personId: 'p-c-twin2',
      rule: 'review',
      reviewId,
    });
    const resolved = await h.request('GET', `/v1/review/${reviewId}`);
    expect(resolved.body).toMatchObject({
      status: 'resolved',
      resolution: {
        personId: 'p-c-twin2',
        created: false,
        by: expect.stringMatching(/^cli:/) as string,
      },
    });
    const again = await h.request('POST', `/v1/review/${reviewId}`, {
      body: { personId: 'p-c-twin1' },
    });
    expect(again.status).toBe(409);
    const rows = await listAudit(h.db.db, { action: 'correlation.review-resolved' });
    expect(rows.filter((r) => r.target === `review:${reviewId}`)).toHaveLength(1);
    expect((await idflow('review', 'list')).stdout).not.toContain(reviewId);
  }, 120_000);

  test('the same record again matches through the link, without a review', async () => {
    expect(reviewId).not.toBe('');
    const event = ambiguous();
    await send(event);
    const id = runId('person-inbox-joiner', event);
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    expect(output(await state(id), 'match')).toEqual({
      outcome: 'matched',
      personId: 'p-c-twin2',
      rule: 'link',
    });
  }, 90_000);
});

describe('a review resolved through the API', () => {
  test('{"create": true} creates a new person, and the run goes on down the joiner path', async () => {
    const event = makeEvent('person.inbox-joiner', {
      id: 'wd-R3',
      givenName: 'Jo',
      familyName: 'Twin',
      email: 'twin@example.com',
      department: 'Engineering',
    });
    await send(event);
    const id = runId('person-inbox-joiner', event);
    const reviewId = await h.eventually(async () => {
      const s = await state(id).catch(() => undefined);
      return s?.waitingOn?.kind === 'review' ? s.waitingOn.reviewId : undefined;
    });
    const res = await h.request('POST', `/v1/review/${reviewId}`, { body: { create: true } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'resolved',
      resolution: { created: true, by: 'token:test-admin' },
    });
    const personId = (res.body.resolution as { personId: string }).personId;
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    const s = await state(id);
    expect(output(s, 'match')).toEqual({ outcome: 'created', personId, rule: 'review', reviewId });
    expect(s.steps.find((r) => r.id === 'reconcile-new')?.status).toBe('completed');
    expect(await getPerson(h.db.db, personId)).toMatchObject({
      givenName: 'Jo',
      status: 'active',
    });
  }, 120_000);
});

describe('accounts', () => {
  test('an account matching nobody is recorded as an orphan and reported', async () => {
    const before = targets.smtp.messages.length;
    const event = makeEvent(
      'account.inbox-provision',
      { id: 'corp-directory:svc-nobody' },
      {
        attributes: { connector: 'corp-directory', accountId: 'svc-nobody', mail: 'x@example.com' },
      },
    );
    await send(event);
    const id = runId('account-inbox-provision', event);
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    expect(output(await state(id), 'match')).toEqual({ outcome: 'orphan' });
    const orphans = await h.db.db
      .select()
      .from(orphanAccounts)
      .where(eq(orphanAccounts.accountId, 'svc-nobody'));
    expect(orphans).toMatchObject([{ connector: 'corp-directory', runId: id }]);
    const audit = await listAudit(h.db.db, { runId: id, action: 'account.orphan' });
    expect(audit).toMatchObject([{ target: 'account:corp-directory/svc-nobody' }]);
    const mails = await targets.smtp.waitFor(before + 1);
    expect(mails[before]).toMatchObject({ to: ['iam-security@example.com'] });
    const listed = await h.request<{ accounts: unknown[] }>('GET', '/v1/orphan-accounts');
    expect(listed.body.accounts).toEqual(
      expect.arrayContaining([expect.objectContaining({ accountId: 'svc-nobody' })]),
    );
  }, 90_000);
});

describe('accounts with an owner', () => {
  const discovered = (accountId: string, owner: string) =>
    makeEvent(
      'account.inbox-provision',
      { id: `corp-directory:${accountId}` },
      { attributes: { connector: 'corp-directory', accountId, owner } },
    );

  test("an account matched by its owner attribute is the owner's, and the owner is reconciled", async () => {
    const event = discovered('clovelace', 'p-c-ada');
    await send(event);
    const id = runId('account-inbox-provision', event);
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    const s = await state(id);
    expect(output(s, 'match')).toEqual({ outcome: 'matched', personId: 'p-c-ada', rule: 'owner' });
    expect(s.steps.find((r) => r.id === 'reconcile-owner')?.status).toBe('completed');
    const rows = await h.db.db.select().from(accounts).where(eq(accounts.accountName, 'clovelace'));
    expect(rows).toMatchObject([{ personId: 'p-c-ada', connector: 'corp-directory' }]);
    expect(await listAudit(h.db.db, { runId: id, action: 'account.owner-conflict' })).toEqual([]);
  }, 90_000);

  test("an account idflow records as someone else's is never reassigned: the conflict is audited", async () => {
    const event = discovered('clovelace', 'p-c-twin1');
    await send(event);
    const id = runId('account-inbox-provision', event);
    await h.runOutcome(id, 60_000);
    expect(output(await state(id), 'match')).toMatchObject({
      personId: 'p-c-twin1',
      rule: 'owner',
    });
    const conflict = await listAudit(h.db.db, { runId: id, action: 'account.owner-conflict' });
    expect(conflict).toMatchObject([
      {
        target: 'account:corp-directory/clovelace',
        detail: { personId: 'p-c-twin1', recordedOwner: 'p-c-ada' },
      },
    ]);
    const rows = await h.db.db.select().from(accounts).where(eq(accounts.accountName, 'clovelace'));
    expect(rows).toMatchObject([{ personId: 'p-c-ada' }]);
  }, 90_000);
});

describe('the catalogue examples run green', () => {
  const example = (file: string) => {
    const event = JSON.parse(
      readFileSync(join(ROOT, 'examples', 'events', file), 'utf8'),
    ) as Record<string, unknown>;
    return { ...event, id: `${event.id as string}-${randomBytes(3).toString('hex')}` };
  };

  test('person.inbox-joiner: a new person is created and joins', async () => {
    const event = example('inbox-joiner.json');
    await send(event);
    const id = runId('person-inbox-joiner', event);
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    const match = output(await state(id), 'match');
    expect(match).toMatchObject({ outcome: 'created', rule: 'none' });
    const person = await getPerson(h.db.db, match?.personId as string);
    expect(person).toMatchObject({ employeeId: 'E2001', status: 'active' });
  }, 90_000);

  test('account.inbox-provision: an orphan directory account is reported', async () => {
    const event = example('account-discovered.json');
    await send(event);
    const id = runId('account-inbox-provision', event);
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    expect(output(await state(id), 'match')).toEqual({ outcome: 'orphan' });
  }, 90_000);

  test("mailbox.discovered: the mailbox is recorded as its owner's", async () => {
    const event = example('mailbox-discovered.json');
    await send(event);
    const id = runId('mailbox-discovered', event);
    expect(await h.runOutcome(id, 60_000)).toMatchObject({ ok: true });
    expect(output(await state(id), 'match')).toEqual({
      outcome: 'matched',
      personId: 'p-c-ada',
      rule: 'email',
    });
    expect((await getPerson(h.db.db, 'p-c-ada'))?.attributes).toMatchObject({
      mailbox: 'mbx-1001',
    });
    const rows = await h.db.db.select().from(accounts).where(eq(accounts.personId, 'p-c-ada'));
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ connector: 'mail', accountName: 'mbx-1001' }),
      ]),
    );
  }, 90_000);
});

describe('the rule lookup', () => {
  const tricky = ["o'brien", '100%', 'a_b', 'back\\slash', '%', '_', "'; drop table persons; --"];

  beforeAll(async () => {
    for (const [i, value] of tricky.entries())
      await insertPersonIfAbsent(h.db.db, {
        id: `p-lit-${i}`,
        familyName: value,
        attributes: { code: value },
      });
    await insertPersonIfAbsent(h.db.db, {
      id: 'p-lit-x',
      familyName: 'axb',
      attributes: { code: 'axb' },
    });
  });

  test.each(tricky.map((v, i) => [v, i] as const))(
    'matches %j literally, as a column and as an attribute',
    async (value, i) => {
      expect(await matchingPersons(h.db.db, [{ field: 'familyName', value }], 5)).toEqual([
        `p-lit-${i}`,
      ]);
      expect(await matchingPersons(h.db.db, [{ field: 'attributes.code', value }], 5)).toEqual([
        `p-lit-${i}`,
      ]);
    },
  );

  test('email is compared without case; every field of a rule must match', async () => {
    expect(
      await matchingPersons(h.db.db, [{ field: 'email', value: 'TWIN@example.COM' }], 5),
    ).toEqual(expect.arrayContaining(['p-c-twin1', 'p-c-twin2']));
    expect(
      await matchingPersons(
        h.db.db,
        [
          { field: 'email', value: 'twin@example.com' },
          { field: 'attributes.username', value: 'ctwin2' },
        ],
        5,
      ),
    ).toEqual(['p-c-twin2']);
  });
});
