/**
 * The runs API and CLI against a real gateway, worker, Temporal and PostgreSQL: runs found by
 * person, flow, status and event type a page at a time, each summary read from the run's memo
 * (a describe call only for a run without one); a parked run's view names the step, the
 * error and the attempts and shows no secret; retry, skip, abort and approve over HTTP with the
 * CLI's rules (409 on a run that is not parked, 403 without runs:operate), audited; a person's
 * history lists their events and runs in order; and no query string gives a 5xx or widens the
 * query.
 */
import { Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import * as fc from 'fast-check';
import { listAudit } from '../../src/db/repos/audit';
import { definitionVersions } from '../../src/db/schema';
import { TokenService } from '../../src/gateway/services/tokens';
import type { PersonHistory } from '../../src/runs/history';
import { listRuns, type RunPage } from '../../src/runs/list';
import { IdflowFlow, IdflowStatus, IdflowSubject } from '../../src/temporal/search-attributes';
import type { RunView } from '../../src/runs/view';
import { Harness, makeEvent } from '../support/harness';

/** The configured secret of the runs-crm connector; one run copies it into its output. */
const SECRET = 'scim-Bearer-9f3c1d7e-never-shown';
const EVENT_TOKEN = 'evt-token-5b2a-also-never-shown';
const ALICE = 'r-alice-runs';
const BOB = 'r-bob-runs';
/** A person whose one run was started without the summary memo. */
const DAVE = 'r-dave-runs-no-memo';

let h: Harness;
let readOnly: string;
let boundToBob: string;

const idflow = (...args: string[]) => h.idflow(...args);

const runPath = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

async function send(type: string, person: string, attributes?: Record<string, string>) {
  const event = makeEvent(type, { id: person }, attributes ? { attributes } : {});
  expect((await h.postEvent(event)).status).toBe(202);
  const flow = type === 'test.runs-park' ? 'it-runs-park' : 'it-runs-ok';
  return `flow/${flow}/${person}/${event.id as string}`;
}

async function parked(runId: string): Promise<void> {
  await h.eventually(
    async () => ((await h.runState(runId))?.status === 'Parked' ? true : undefined),
    30_000,
  );
}

/** A page of GET /v1/runs once visibility shows `count` runs for the query. */
async function runsOnce(query: string, count: number): Promise<RunPage> {
  return h.eventually(async () => {
    const res = await h.request<RunPage>('GET', `/v1/runs?${query}`);
    expect(res.status).toBe(200);
    return res.body.runs.length === count ? res.body : undefined;
  }, 30_000);
}

const ids: { aliceOk: string[]; alicePark: string; bobOk: string } = {
  aliceOk: [],
  alicePark: '',
  bobOk: '',
};

beforeAll(async () => {
  h = new Harness({
    definitions: ['test/fixtures/runs'],
    env: { IT_RUNS_SCIM_TOKEN: SECRET },
  });
  await h.start();
  await h.db.db
    .update(definitionVersions)
    .set({ active: false })
    .where(
      and(eq(definitionVersions.kind, 'Connector'), eq(definitionVersions.name, 'runs-store')),
    );
  const tokens = new TokenService(h.db.db);
  readOnly = (await tokens.create({ name: 'runs-reader', scopes: ['runs:read'], actor: 'test' }))
    .token;
  boundToBob = (
    await tokens.create({
      name: 'bob-self',
      scopes: ['persons:read'],
      personId: BOB,
      actor: 'test',
    })
  ).token;

  // a person's events run one after another: the run that parks comes last, or it would hold
  // the others back
  ids.aliceOk.push(await send('test.runs-ok', ALICE));
  ids.aliceOk.push(await send('test.runs-ok', ALICE));
  ids.alicePark = await send('test.runs-park', ALICE, { apiToken: EVENT_TOKEN, note: SECRET });
  ids.bobOk = await send('test.runs-ok', BOB);
  for (const id of [...ids.aliceOk, ids.bobOk])
    expect(await h.runOutcome(id)).toMatchObject({ ok: true });
  await parked(ids.alicePark);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('GET /v1/runs', () => {
  test('filters by person, flow, status and event type', async () => {
    const alice = await runsOnce(`person=${ALICE}&status=Completed`, 2);
    expect(alice.runs.map((r) => r.workflowId).sort()).toEqual([...ids.aliceOk].sort());
    expect(alice.runs.every((r) => r.person === ALICE && r.flow === 'it-runs-ok')).toBe(true);

    const all = await runsOnce(`person=${ALICE}`, 3);
    expect(all.runs.map((r) => r.workflowId).sort()).toEqual(
      [...ids.aliceOk, ids.alicePark].sort(),
    );
    const park = all.runs.find((r) => r.workflowId === ids.alicePark);
    expect(park).toMatchObject({
      status: 'Parked',
      eventType: 'test.runs-park',
      executionStatus: 'RUNNING',
    });
    expect(park?.definitionHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(park?.summary).toBeTruthy();

    const parkedOnly = await runsOnce(`status=Parked&flow=it-runs-park&person=${ALICE}`, 1);
    expect(parkedOnly.runs[0]?.workflowId).toBe(ids.alicePark);

    const byFlow = await runsOnce('flow=it-runs-ok&status=Completed', 3);
    expect(byFlow.runs.map((r) => r.person).sort()).toEqual([ALICE, ALICE, BOB]);
    const byType = await runsOnce(`eventType=test.runs-park&person=${ALICE}`, 1);
    expect(byType.runs[0]?.workflowId).toBe(ids.alicePark);
    await runsOnce(`person=${BOB}&flow=it-runs-park`, 0);
  });

  test('summaries come from the memo without a describe call; a run without one still has its summary', async () => {
    let describes = 0;
    const counting = new Client({
      connection: h.client.connection,
      dataConverter: h.client.options.dataConverter,
      interceptors: {
        workflow: [
          {
            describe: (input, next) => {
              describes++;
              return next(input);
            },
          },
        ],
      },
    });
    await runsOnce(`person=${ALICE}`, 3);
    const alice = await listRuns(counting, { person: ALICE });
    expect(describes).toBe(0);
    for (const run of alice.runs) {
      const described = await h.client.workflow.getHandle(run.workflowId).describe();
      expect(run.summary).toBeTruthy();
      expect(run.summary).toBe(await described.staticSummary());
      expect(described.memo).toEqual({ summary: run.summary });
    }

    // a run started before idflow gave runs the memo: its static summary only
    const workflowId = `flow/it-runs-ok/${DAVE}/evt-no-memo`;
    await h.client.workflow.start('runFlow', {
      taskQueue: `${h.taskQueue}-idle`, // no worker polls it
      workflowId,
      args: [],
      staticSummary: 'Started without the memo',
      typedSearchAttributes: [
        { key: IdflowFlow, value: 'it-runs-ok' },
        { key: IdflowSubject, value: DAVE },
        { key: IdflowStatus, value: 'Running' },
      ],
    });
    try {
      const page = await runsOnce(`person=${DAVE}`, 1);
      expect(page.runs[0]).toMatchObject({ workflowId, summary: 'Started without the memo' });
      describes = 0;
      const listed = await listRuns(counting, { person: DAVE });
      expect(listed.runs[0]?.summary).toBe('Started without the memo');
      expect(describes).toBe(1);
    } finally {
      await h.client.workflow.getHandle(workflowId).terminate('test: done');
    }
  });

  test('since and until bound the start time; overBudget filters on the flag', async () => {
    await runsOnce(`person=${ALICE}&since=2000-01-01T00:00:00Z`, 3);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await runsOnce(`person=${ALICE}&since=${future}`, 0);
    await runsOnce(`person=${ALICE}&until=2000-01-01T00:00:00Z`, 0);
    await runsOnce(`person=${ALICE}&overBudget=true`, 0);
    await runsOnce(`person=${ALICE}&overBudget=false`, 3);
  });

  test('pages follow the cursor; a changed or foreign cursor is a 400 naming it', async () => {
    await runsOnce(`person=${ALICE}`, 3);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await h.request<RunPage>(
        'GET',
        `/v1/runs?person=${ALICE}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.runs.length).toBeLessThanOrEqual(1);
      seen.push(...res.body.runs.map((r) => r.workflowId));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids.aliceOk, ids.alicePark].sort());

    const first = await h.request<RunPage>('GET', `/v1/runs?person=${ALICE}&limit=1`);
    const good = first.body.nextCursor as string;
    for (const bad of [
      `${good.slice(0, -2)}AA`,
      'AAAAAAAAAAAAAAAAAAAA',
      `${good}x`,
      'not a cursor',
    ]) {
      const res = await h.request(
        'GET',
        `/v1/runs?person=${ALICE}&limit=1&cursor=${encodeURIComponent(bad)}`,
      );
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors).toEqual([expect.objectContaining({ path: '/cursor' })]);
    }
    const foreign = await h.request('GET', `/v1/runs?person=${BOB}&limit=1&cursor=${good}`);
    expect(foreign.status).toBe(400);
  });

  test('every bad field is a 400 naming it', async () => {
    const res = await h.request(
      'GET',
      `/v1/runs?person=${encodeURIComponent("x' OR 'a'='a")}&status=Lost&limit=0&since=yesterday&colour=red`,
    );
    expect(res.status).toBe(400);
    const paths = (res.body.errors as Array<{ path: string }>).map((e) => e.path).sort();
    expect(paths).toEqual(['/colour', '/limit', '/person', '/since', '/status']);
  });

  test('no query string gives a 5xx or runs outside what it asked for', async () => {
    await runsOnce(`person=${ALICE}`, 3);
    const nasty = fc.oneof(
      fc.constantFrom(ALICE, BOB, 'it-runs-ok', 'Parked', "' OR ''='", '\\', '"', 'OR', 'ü', '😀'),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
    );
    const field = fc.constantFrom(
      'person',
      'flow',
      'status',
      'eventType',
      'since',
      'until',
      'overBudget',
      'limit',
      'cursor',
      'other',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(field, nasty), { maxLength: 4 }), async (pairs) => {
        const params = new URLSearchParams(pairs);
        const res = await h.request<RunPage & { errors?: unknown[] }>(
          'GET',
          `/v1/runs?${params.toString()}`,
        );
        expect(res.status === 200 || res.status === 400).toBe(true);
        if (res.status !== 200) {
          expect(res.body.errors?.length).toBeGreaterThan(0);
          return;
        }
        const asked = Object.fromEntries(pairs);
        for (const run of res.body.runs) {
          if (asked.person !== undefined) expect(run.person).toBe(asked.person);
          if (asked.flow !== undefined) expect(run.flow).toBe(asked.flow);
          if (asked.status !== undefined) expect(run.status).toBe(asked.status);
        }
      }),
      { numRuns: 80 },
    );
  }, 120_000);
});

describe('GET /v1/runs/{workflowId}', () => {
  test('a parked run names its step, error and attempts, and shows no secret', async () => {
    const res = await h.request<RunView>('GET', runPath(ids.alicePark));
    expect(res.status).toBe(200);
    const view = res.body;
    expect(view).toMatchObject({
      workflowId: ids.alicePark,
      flow: 'it-runs-park',
      person: ALICE,
      status: 'Parked',
      source: 'live',
      waitingOn: {
        kind: 'operator',
        step: 'create',
        error: { type: 'ConnectorNotConfigured', attempts: 2 },
      },
      links: { graph: `${runPath(ids.alicePark)}/graph` },
    });
    expect(view.definitionHash).toBeTruthy();
    const remember = view.steps.find((s) => s.id === 'remember');
    expect(remember).toMatchObject({
      status: 'completed',
      output: { apiToken: '[redacted]', note: '[redacted]' },
    });
    expect(remember?.durationMs).toBeGreaterThanOrEqual(0);
    const text = JSON.stringify(view);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(EVENT_TOKEN);

    const shown = await idflow('runs', 'show', ids.alicePark);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(
      "waiting on an operator to retry, skip or abort (ConnectorNotConfigured) at step 'create'",
    );
    expect(shown.stdout).toContain('(2 attempts)');
    expect(shown.stdout).not.toContain(SECRET);
    const json = await idflow('runs', 'show', ids.alicePark, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ workflowId: ids.alicePark, status: 'Parked' });
    expect(json.stdout).not.toContain(EVENT_TOKEN);
  });

  test('a completed run shows its steps; a workflow that is not a run is a 404', async () => {
    const done = await h.request<RunView>('GET', runPath(ids.bobOk));
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'Completed', executionStatus: 'COMPLETED' });
    expect(done.body.closedAt).toBeTruthy();
    expect(done.body.steps.map((s) => [s.id, s.status])).toEqual([['note', 'completed']]);

    const timeline = `person/${h.taskQueue}/${BOB}`;
    for (const id of [timeline, 'flow/no-such/run', 'x'.repeat(300)]) {
      const res = await h.request('GET', runPath(id));
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await h.request('GET', runPath(ids.bobOk), { token: null })).status).toBe(401);
  });
});

describe('POST /v1/runs/{workflowId}/retry|skip|abort|approve', () => {
  test('the CLI’s rules over HTTP: 403 without runs:operate, 409 when not parked, audited', async () => {
    const denied = await h.request('POST', `${runPath(ids.alicePark)}/skip`, {
      body: {},
      token: readOnly,
    });
    expect(denied.status).toBe(403);

    const notParked = await h.request('POST', `${runPath(ids.bobOk)}/retry`, { body: {} });
    expect(notParked.status).toBe(409);
    expect(notParked.body.detail).toContain('is not parked (status Completed)');

    const approve = await h.request('POST', `${runPath(ids.alicePark)}/approve`, { body: {} });
    expect(approve.status).toBe(409);
    expect(approve.body.detail).toContain('not on the blast-radius guard');

    const badBody = await h.request('POST', `${runPath(ids.alicePark)}/skip`, {
      body: { reason: 5, colour: 'red' },
    });
    expect(badBody.status).toBe(400);
    expect((badBody.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual([
      '/colour',
      '/reason',
    ]);
    expect(
      (await h.request('POST', `${runPath('flow/no-such/run')}/skip`, { body: {} })).status,
    ).toBe(404);

    const skipped = await h.request('POST', `${runPath(ids.alicePark)}/skip`, {
      body: { reason: 'created by hand' },
    });
    expect(skipped.status).toBe(200);
    expect(skipped.body).toMatchObject({
      workflowId: ids.alicePark,
      action: 'skip',
      step: 'create',
    });
    expect(await h.outcome(ids.alicePark)).toMatchObject({ ok: true });
    const again = await h.request('POST', `${runPath(ids.alicePark)}/abort`, { body: {} });
    expect(again.status).toBe(409);

    const audit = await listAudit(h.db.db, { runId: ids.alicePark });
    const rows = audit.filter((a) => a.action.startsWith('run.step-'));
    expect(rows.map((a) => [a.action, a.outcome, a.actor])).toEqual([
      ['run.step-approve', 'refused', 'token:test-admin'],
      ['run.step-skip', 'ok', 'token:test-admin'],
      ['run.step-abort', 'refused', 'token:test-admin'],
    ]);
    expect(rows[1]?.detail).toEqual({ step: 'create', reason: 'created by hand' });
  });

  test('retry and abort over HTTP', async () => {
    const retried = await send('test.runs-park', BOB, { apiToken: 'x-token', note: 'n' });
    await parked(retried);
    const waitingSince = async () => {
      const w = (await h.runState(retried))?.waitingOn;
      return w?.kind === 'operator' ? w.since : undefined;
    };
    const since = await waitingSince();
    const res = await h.request('POST', `${runPath(retried)}/retry`, { body: {} });
    expect(res.status).toBe(200);
    // the connector is still inactive: the retry parks again
    await h.eventually(async () => {
      const now = await waitingSince();
      return now !== undefined && now !== since ? true : undefined;
    });
    expect(
      (await h.request('POST', `${runPath(retried)}/abort`, { body: { reason: 'gone' } })).status,
    ).toBe(200);
    expect(await h.outcome(retried)).toMatchObject({ ok: false, type: 'AbortedByOperator' });
  }, 60_000);
});

describe('persons history', () => {
  test('every event and run of the person, in order, with outcomes', async () => {
    await runsOnce(`person=${ALICE}&status=Completed`, 3);
    const res = await h.request<PersonHistory>('GET', `/v1/persons/${ALICE}/history`);
    expect(res.status).toBe(200);
    const entries = res.body.entries.filter((e) => e.kind !== 'audit');
    const events = entries.filter((e) => e.kind === 'event');
    const runs = entries.filter((e) => e.kind === 'run');
    expect(events).toHaveLength(3);
    expect(runs.map((r) => (r.kind === 'run' ? r.workflowId : '')).sort()).toEqual(
      [...ids.aliceOk, ids.alicePark].sort(),
    );
    const at = res.body.entries.map((e) => e.at);
    expect([...at].sort()).toEqual(at);
    // each event comes before the run it started
    for (const e of events)
      if (e.kind === 'event')
        for (const run of e.runs ?? [])
          expect(
            entries.findIndex((x) => x.kind === 'run' && x.workflowId === run),
          ).toBeGreaterThan(entries.indexOf(e));
    expect(JSON.stringify(res.body)).not.toContain(SECRET);

    expect(
      (await h.request('GET', `/v1/persons/${ALICE}/history`, { token: boundToBob })).status,
    ).toBe(403);
    expect(
      (await h.request('GET', `/v1/persons/${BOB}/history`, { token: boundToBob })).status,
    ).toBe(200);
    expect(
      (await h.request('GET', `/v1/persons/${ALICE}/history`, { token: readOnly })).status,
    ).toBe(403);

    const cli = await idflow('persons', 'history', ALICE);
    expect(cli.code).toBe(0);
    for (const id of [...ids.aliceOk, ids.alicePark]) expect(cli.stdout).toContain(id);
    expect(cli.stdout).toContain('test.runs-park');
  });

  test('a parked run says where it stopped', async () => {
    const stuck = await send('test.runs-park', 'r-carol-runs', { apiToken: 't', note: 'n' });
    await parked(stuck);
    const history = await h.eventually(async () => {
      const res = await h.request<PersonHistory>('GET', '/v1/persons/r-carol-runs/history');
      return res.body.entries.some((e) => e.kind === 'run') ? res.body : undefined;
    });
    expect(history.entries.find((e) => e.kind === 'run')).toMatchObject({
      status: 'Parked',
      outcome: "parked at step 'create': ConnectorNotConfigured after 2 attempts",
      step: { id: 'create', error: { type: 'ConnectorNotConfigured', attempts: 2 } },
    });
    const listed = await idflow('runs', 'list', '--subject', 'r-carol-runs', '--status', 'Parked');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(stuck);
    expect(listed.stdout).toContain('WORKFLOW ID');
    const refused = await idflow('runs', 'list', '--person', "x' OR 'a'='a");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--person must be a person id');
  });
});
