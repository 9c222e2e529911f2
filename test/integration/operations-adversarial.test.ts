/**
 * The operations API as an attacker and a careless client use it, against a real gateway,
 * worker, Temporal and PostgreSQL:
 * - every route wants a token (401) and its scope (403);
 * - a token bound to a person lists, reads and draws that person's runs only (another person's
 *   run is a 404, as an unknown one; `?person=` of another a 403), and never decides on a run
 *   about its own person, admin or not (403): an operator does;
 * - `POST /v1/plan` shows persons' data, so it takes `persons:read` from a token bound to no
 *   person, and redacts secrets as a run's view does;
 * - times Temporal cannot read, unknown graph options and operator reasons carrying terminal
 *   escape sequences are 400s naming the field, never a 5xx or a row in the audit log;
 * - no name or address of a person reaches an error, the audit log or the processes' logs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import * as fc from 'fast-check';
import { listAudit } from '../../src/db/repos/audit';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import { definitionVersions } from '../../src/db/schema';
import { SCOPES, TokenService, type Scope } from '../../src/gateway/services/tokens';
import type { RunPage } from '../../src/runs/list';
import { Harness, makeEvent, ROOT } from '../support/harness';

const SELF = 'adv-ops-self';
const OTHER = 'adv-ops-other';
const MANAGER = 'adv-ops-manager';
const PERSONAL = [
  'Ada Selfsame',
  'ada.selfsame@corp.example',
  'Otto Otherwise',
  'otto.otherwise@corp.example',
  'Mara Manager',
  'mara.manager@corp.example',
];
const EVENT_SECRET = 'adv-api-token-4e1f9c-never-shown';

let h: Harness;
const tokens: Record<
  'bound' | 'boundOther' | 'adminSelf' | 'adminOther' | 'planOnly' | 'planner',
  string
> = {
  bound: '',
  boundOther: '',
  adminSelf: '',
  adminOther: '',
  planOnly: '',
  planner: '',
};
const runs = { okSelf: '', okOther: '', parkOther: '' };

const runPath = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

async function send(type: string, person: string): Promise<string> {
  const event = makeEvent(type, { id: person });
  expect((await h.postEvent(event)).status).toBe(202);
  return `flow/${type.replace('test.', '')}/${person}/${event.id as string}`;
}

/** GET /v1/runs once visibility shows `count` runs of `person` (admin token). */
async function listed(person: string, count: number): Promise<void> {
  await h.eventually(async () => {
    const res = await h.request<RunPage>('GET', `/v1/runs?person=${person}`);
    return res.body.runs?.length === count ? true : undefined;
  }, 30_000);
}

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/operations-adversarial'] });
  await h.start();
  // adv-park's connector is gone: its runs park on their first step
  await h.db.db
    .update(definitionVersions)
    .set({ active: false })
    .where(and(eq(definitionVersions.kind, 'Connector'), eq(definitionVersions.name, 'adv-store')));
  await insertPersonIfAbsent(h.db.db, {
    id: MANAGER,
    displayName: 'Mara Manager',
    email: 'mara.manager@corp.example',
    status: 'active',
  });
  await insertPersonIfAbsent(h.db.db, {
    id: SELF,
    displayName: 'Ada Selfsame',
    email: 'ada.selfsame@corp.example',
    managerId: MANAGER,
    status: 'active',
  });
  await insertPersonIfAbsent(h.db.db, {
    id: OTHER,
    displayName: 'Otto Otherwise',
    email: 'otto.otherwise@corp.example',
    managerId: MANAGER,
    status: 'active',
  });
  const service = new TokenService(h.db.db);
  const create = async (name: string, scopes: Scope[], personId?: string) =>
    (
      await service.create({
        name,
        scopes,
        actor: 'test',
        ...(personId ? { personId } : {}),
      })
    ).token;
  const everyoneButAdmin: Scope[] = [
    'runs:read',
    'runs:operate',
    'persons:read',
    'plan',
    'audit:read',
  ];
  tokens.bound = await create('adv-self', everyoneButAdmin, SELF);
  tokens.boundOther = await create('adv-other', everyoneButAdmin, OTHER);
  tokens.adminSelf = await create('adv-self-admin', ['admin'], SELF);
  tokens.adminOther = await create('adv-other-admin', ['admin'], OTHER);
  tokens.planOnly = await create('adv-plan-only', ['plan']);
  tokens.planner = await create('adv-planner', ['plan', 'persons:read']);

  runs.okSelf = await send('test.adv-ok', SELF);
  runs.okOther = await send('test.adv-ok', OTHER);
  for (const id of [runs.okSelf, runs.okOther])
    expect(await h.runOutcome(id)).toMatchObject({ ok: true });
  runs.parkOther = await send('test.adv-park', OTHER);
  await h.eventually(
    async () => ((await h.runState(runs.parkOther))?.status === 'Parked' ? true : undefined),
    30_000,
  );
  await listed(SELF, 1);
  await listed(OTHER, 2);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('every operations route wants a token, and its scope', () => {
  test.each([
    ['GET', '/v1/runs', 'runs:read'],
    ['GET', 'RUN', 'runs:read'],
    ['GET', 'RUN/graph', 'runs:read'],
    ['POST', 'RUN/retry', 'runs:operate'],
    ['POST', 'RUN/skip', 'runs:operate'],
    ['POST', 'RUN/abort', 'runs:operate'],
    ['POST', 'RUN/approve', 'runs:operate'],
    ['GET', `/v1/persons/${SELF}/history`, 'persons:read'],
    ['POST', '/v1/plan', 'plan'],
    ['GET', '/metrics', 'metrics:read'],
    ['GET', '/v1/audit', 'audit:read'],
  ] as const)('%s %s: 401 without a token, 403 without %s', async (method, template, scope) => {
    const path = template.replace('RUN', runPath(runs.okSelf));
    const body = method === 'POST' ? { body: {} } : {};
    const anonymous = await h.request(method, path, { token: null, ...body });
    expect([anonymous.status, anonymous.body.type]).toEqual([
      401,
      'urn:idflow:problem:unauthorized',
    ]);
    // every other scope, admin aside, is not enough
    const { token } = await new TokenService(h.db.db).create({
      name: `adv-without-${scope}-${method}-${template.replace(/[^a-z]+/gi, '-')}`,
      scopes: SCOPES.filter((s) => s !== scope && s !== 'admin'),
      actor: 'test',
    });
    const refused = await h.request(method, path, { token, ...body });
    expect([refused.status, refused.body.type]).toEqual([403, 'urn:idflow:problem:forbidden']);
    expect(refused.body.detail).toContain(`'${scope}'`);
  });
});

describe('a token bound to a person sees and decides on that person’s runs only', () => {
  test('GET /v1/runs lists its person’s runs; another person is a 403', async () => {
    const mine = await h.request<RunPage>('GET', '/v1/runs', { token: tokens.bound });
    expect(mine.status).toBe(200);
    expect(mine.body.runs.map((r) => r.workflowId)).toEqual([runs.okSelf]);
    // the filter is narrowed, never widened: every other field still applies
    const filtered = await h.request<RunPage>('GET', '/v1/runs?flow=adv-park', {
      token: tokens.bound,
    });
    expect(filtered.body.runs).toEqual([]);
    const self = await h.request<RunPage>('GET', `/v1/runs?person=${SELF}`, {
      token: tokens.bound,
    });
    expect(self.body.runs.map((r) => r.workflowId)).toEqual([runs.okSelf]);

    const other = await h.request('GET', `/v1/runs?person=${OTHER}`, { token: tokens.bound });
    expect([other.status, other.body.type]).toEqual([403, 'urn:idflow:problem:forbidden']);
    expect(other.body.detail).toContain('bound to a person');
    // an unbound token with the scope, or admin, lists anyone
    const admin = await h.request<RunPage>('GET', `/v1/runs?person=${OTHER}`);
    expect(admin.body.runs).toHaveLength(2);
  });

  test('another person’s run is a 404 to read, draw or decide on, as an unknown run is', async () => {
    const unknown = await h.request('GET', runPath(`flow/adv-ok/${OTHER}/evt-none`), {
      token: tokens.bound,
    });
    expect(unknown.status).toBe(404);
    for (const [method, path] of [
      ['GET', runPath(runs.okOther)],
      ['GET', `${runPath(runs.okOther)}/graph`],
      ['GET', `${runPath(runs.parkOther)}/graph?format=mermaid`],
      ['POST', `${runPath(runs.parkOther)}/skip`],
      ['POST', `${runPath(runs.parkOther)}/abort`],
    ] as const) {
      const res = await h.request(method, path, {
        token: tokens.bound,
        ...(method === 'POST' ? { body: { reason: 'not mine' } } : {}),
      });
      expect([method, path, res.status, res.body.type, res.body.title]).toEqual([
        method,
        path,
        404,
        unknown.body.type,
        unknown.body.title,
      ]);
      expect(res.body.detail).toMatch(/^no idflow run has the workflow id /);
    }
    // nothing was decided, nor audited, on the other person's run
    expect((await h.runState(runs.parkOther))?.status).toBe('Parked');
    const decisions = (await listAudit(h.db.db, { runId: runs.parkOther })).filter((a) =>
      a.action.startsWith('run.step-'),
    );
    expect(decisions).toEqual([]);

    // its own runs it reads and draws; the admin token reads the other's
    expect((await h.request('GET', runPath(runs.okSelf), { token: tokens.bound })).status).toBe(
      200,
    );
    const graph = await fetch(`${h.gatewayUrl}${runPath(runs.okSelf)}/graph?format=mermaid`, {
      headers: { authorization: `Bearer ${tokens.bound}` },
    });
    expect(graph.status).toBe(200);
    expect(await graph.text()).toContain('flowchart TD');
    expect((await h.request('GET', runPath(runs.okOther))).status).toBe(200);
  });

  test('nobody decides on a run about themselves; an operator does', async () => {
    // the subject's own token, even with admin, does not retry, skip, abort or approve it
    for (const token of [tokens.boundOther, tokens.adminOther])
      for (const action of ['skip', 'approve'] as const) {
        const res = await h.request('POST', `${runPath(runs.parkOther)}/${action}`, {
          token,
          body: { reason: 'my own leaver' },
        });
        expect([res.status, res.body.type]).toEqual([403, 'urn:idflow:problem:forbidden']);
        expect(res.body.detail).toContain('does not decide on their own run');
      }
    expect((await h.runState(runs.parkOther))?.status).toBe('Parked');
    expect(
      (await listAudit(h.db.db, { runId: runs.parkOther })).filter((a) =>
        a.action.startsWith('run.step-'),
      ),
    ).toEqual([]);
    // an admin bound to another person decides, as an unbound operator token does
    const res = await h.request('POST', `${runPath(runs.parkOther)}/skip`, {
      token: tokens.adminSelf,
      body: { reason: 'created by hand' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ workflowId: runs.parkOther, action: 'skip' });
    expect(await h.outcome(runs.parkOther)).toMatchObject({ ok: true });
  });
});

test('the audit trail needs a token bound to no person: it names everyone', async () => {
  const bound = await h.request('GET', '/v1/audit?limit=1', { token: tokens.bound });
  expect([bound.status, bound.body.type]).toEqual([403, 'urn:idflow:problem:forbidden']);
  expect(bound.body.detail).toContain('bound to a person');
  const csv = await h.request('GET', '/v1/audit?format=csv&limit=1', { token: tokens.bound });
  expect(csv.status).toBe(403);
  // an admin token reads it whoever it is bound to
  expect((await h.request('GET', '/v1/audit?limit=1', { token: tokens.adminSelf })).status).toBe(
    200,
  );
});

describe('inputs Temporal or a terminal cannot take are 400s naming the field', () => {
  test('GET /v1/runs: since and until outside the years 0001 to 9999 (UTC)', async () => {
    for (const [query, field] of [
      ['since=9999-12-31T23:59:59-14:00', '/since'],
      ['until=0000-01-01T00:00:00%2B01:00', '/until'],
      ['since=0000-06-01T00:00:00Z', '/since'],
    ]) {
      const res = await h.request('GET', `/v1/runs?${query}`);
      expect([query, res.status, res.body.errors]).toEqual([
        query,
        400,
        [{ path: field, message: 'must fall in the years 0001 to 9999 (UTC)' }],
      ]);
    }
    // any time with any offset: inside the years a page, outside them a 400 naming the field
    const time = fc
      .record({
        year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 9999)),
        month: fc.integer({ min: 1, max: 12 }),
        day: fc.integer({ min: 1, max: 28 }),
        hour: fc.integer({ min: 0, max: 23 }),
        offset: fc.integer({ min: -14 * 60, max: 14 * 60 }),
        field: fc.constantFrom('since', 'until'),
      })
      .map((t) => {
        const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
        const zone = `${t.offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(t.offset) / 60))}:${pad(Math.abs(t.offset) % 60)}`;
        return {
          field: t.field,
          text: `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:00:00${zone}`,
        };
      });
    await fc.assert(
      fc.asyncProperty(time, async ({ field, text }) => {
        const res = await h.request('GET', `/v1/runs?${field}=${encodeURIComponent(text)}`);
        const utc = Date.parse(text);
        const inside =
          utc >= Date.parse('0001-01-01T00:00:00Z') && utc <= Date.parse('9999-12-31T23:59:59Z');
        expect([text, res.status]).toEqual([text, inside ? 200 : 400]);
        if (!inside)
          expect(res.body.errors).toEqual([expect.objectContaining({ path: `/${field}` })]);
      }),
      { numRuns: 40 },
    );
  });

  test('GET /v1/runs/{id}/graph: an unknown or repeated option is a 400 naming it', async () => {
    const colour = await h.request('GET', `${runPath(runs.okSelf)}/graph?colour=red`);
    expect([colour.status, colour.body.errors]).toEqual([
      400,
      [{ path: '/colour', message: 'unknown field' }],
    ]);
    const twice = await h.request('GET', `${runPath(runs.okSelf)}/graph?format=svg&format=mermaid`);
    expect([twice.status, (twice.body.errors as Array<{ path: string }>)[0]?.path]).toEqual([
      400,
      '/format',
    ]);
  });

  test('an operator’s reason with control characters (terminal escapes) is a 400 naming it', async () => {
    const parked = await send('test.adv-park', SELF);
    await h.eventually(
      async () => ((await h.runState(parked))?.status === 'Parked' ? true : undefined),
      30_000,
    );
    const control = fc.constantFrom('\u001b', '\u009b', '\u0007', '\n', '\r', '\u0000', '\u007f');
    const reason = fc
      .tuple(fc.string({ maxLength: 20 }), control, fc.string({ maxLength: 20 }))
      .map(([a, c, b]) => `${a}${c}${b}`);
    await fc.assert(
      fc.asyncProperty(reason, fc.constantFrom('retry', 'skip', 'abort'), async (text, action) => {
        const res = await h.request('POST', `${runPath(parked)}/${action}`, {
          body: { reason: text },
        });
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([expect.objectContaining({ path: '/reason' })]);
      }),
      { numRuns: 30 },
    );
    expect((await h.runState(parked))?.status).toBe('Parked');
    expect(
      (await listAudit(h.db.db, { runId: parked })).filter((a) => a.action.startsWith('run.step-')),
    ).toEqual([]);
    // a reason in any script is fine
    const ok = await h.request('POST', `${runPath(parked)}/abort`, {
      body: { reason: 'Zugang entzogen – 承認済み 👍' },
    });
    expect(ok.status).toBe(200);
  });
});

describe('POST /v1/plan shows persons’ data only to whom may read them', () => {
  const greet = () =>
    makeEvent(
      'test.adv-greet',
      { id: OTHER, managerId: MANAGER },
      { attributes: { apiToken: EVENT_SECRET } },
    );

  test('plan alone, or a token bound to a person, is a 403 that names no one', async () => {
    const alone = await h.request('POST', '/v1/plan', { token: tokens.planOnly, body: greet() });
    expect([alone.status, alone.body.type]).toEqual([403, 'urn:idflow:problem:forbidden']);
    expect(alone.body.detail).toContain("'persons:read'");
    // bound to a person: even an event about that person names others (the manager)
    for (const subject of [OTHER, SELF]) {
      const event = { ...greet(), subject: { id: subject, managerId: MANAGER } };
      const bound = await h.request('POST', '/v1/plan', { token: tokens.bound, body: event });
      expect([bound.status, bound.body.type]).toEqual([403, 'urn:idflow:problem:forbidden']);
      expect(bound.body.detail).toContain('bound to a person');
    }
    const refused = JSON.stringify([alone.body]);
    for (const text of PERSONAL) expect(refused).not.toContain(text);
    const audited = await listAudit(h.db.db, { action: 'plan.event' });
    expect(audited.filter((a) => a.actor !== 'token:test-admin')).toEqual([]);
  });

  test('plan with persons:read gets the plan, secrets redacted as in a run’s view', async () => {
    const res = await h.request<{
      flows: Array<{ steps: Array<{ values?: Record<string, unknown> }> }>;
    }>('POST', '/v1/plan', { token: tokens.planner, body: greet() });
    expect(res.status).toBe(200);
    const values = res.body.flows[0]?.steps[0]?.values;
    expect(values).toEqual({
      greeting: 'Welcome Otto Otherwise',
      managerEmail: 'mara.manager@corp.example',
      apiToken: '[redacted]',
    });
    expect(JSON.stringify(res.body)).not.toContain(EVENT_SECRET);
    // the audit row names the asker, the type and the subject's id; nothing personal
    const [row] = (await listAudit(h.db.db, { action: 'plan.event' })).filter(
      (a) => a.actor === 'token:adv-planner',
    );
    expect(row).toMatchObject({ target: `person:${OTHER}`, outcome: 'ok' });
    const detail = JSON.stringify(row?.detail);
    for (const text of [...PERSONAL, EVENT_SECRET]) expect(detail).not.toContain(text);
  });
});

test('no name, address or secret of the tests reached the worker’s or the gateway’s log', () => {
  const log = readFileSync(join(ROOT, '.idflow', 'test', `${h.taskQueue}.log`), 'utf8');
  for (const text of [...PERSONAL, EVENT_SECRET]) expect(log).not.toContain(text);
});
