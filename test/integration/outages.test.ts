/**
 * Nothing lost when a dependency is down: with Temporal stopped the gateway answers 503 with
 * Retry-After and accepts nothing; once Temporal is back the retried event is accepted once.
 * The same for PostgreSQL, cut off behind a proxy while the gateway runs. Every endpoint that
 * needs the missing dependency answers 503 within 2 s; /readyz names it; /healthz stays 200.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEvent } from '../../src/db/repos/events';
import { TokenService } from '../../src/gateway/services/tokens';
import { taskIdOf } from '../../src/model/approval';
import { findTemporalCli } from '../../src/temporal/cli';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { Harness, makeEvent, ROOT, type HttpResult } from '../support/harness';
import { freePort } from '../support/ports';
import { POSTGRES_ADMIN_URL } from '../support/postgres';
import { TcpProxy } from '../support/tcp-proxy';

/** The answer and how long it took. */
async function timed(call: () => Promise<HttpResult>): Promise<HttpResult & { ms: number }> {
  const started = Date.now();
  const res = await call();
  return { ...res, ms: Date.now() - started };
}

/** 503 problem naming the dependency, with Retry-After, within 2 s. */
function expectRefusedFast(res: HttpResult & { ms: number }, dependency: string): void {
  expect({ status: res.status, dependency: res.body.dependency }).toEqual({
    status: 503,
    dependency,
  });
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.ms).toBeLessThan(2_000);
}

/** /readyz answers 503 within 2 s naming `down`, while /healthz (liveness) stays 200. */
async function expectNotReady(h: Harness, down: 'temporal' | 'database'): Promise<void> {
  const ready = await timed(() => h.request('GET', '/readyz', { token: null }));
  expect(ready.status).toBe(503);
  expect(ready.body).toEqual({
    status: 'unavailable',
    checks: { temporal: 'ok', database: 'ok', [down]: 'down' },
  });
  expect(ready.ms).toBeLessThan(2_000);
  expect((await h.request('GET', '/healthz', { token: null })).status).toBe(200);
}

/** The approver hands their approvals to a stand-in from now for a day. */
function delegateForADay(h: Harness, token: string): Promise<HttpResult> {
  return h.request('POST', '/v1/delegations', {
    token,
    body: {
      from: 'p-outage-approver',
      to: 'p-stand-in',
      startsAt: new Date().toISOString(),
      endsAt: new Date(Date.now() + 86_400_000).toISOString(),
    },
  });
}

/** A token of an approver (decisions are made by people). */
async function approverToken(h: Harness): Promise<string> {
  const { token } = await new TokenService(h.db.db).create({
    name: 'outage-approver',
    scopes: ['approvals', 'events:write'],
    personId: 'p-outage-approver',
    actor: 'test',
  });
  return token;
}

const DECISION_PATH = `/v1/approvals/${taskIdOf('flow/it-approval/p-1/evt-1', 'ask')}/decision`;

describe('Temporal down', () => {
  let server: DevServer;
  let port: number;
  let h: Harness;
  const dbFilename = join(mkdtempSync(join(tmpdir(), 'idflow-temporal-')), 'temporal.db');

  const start = () =>
    startDevServer({
      cli: findTemporalCli(process.env.TEMPORAL_CLI),
      port,
      dbFilename,
      logFile: join(ROOT, '.idflow', 'test', 'temporal-outage.log'),
    });

  beforeAll(async () => {
    port = await freePort();
    server = await start();
    h = new Harness({ definitions: ['test/fixtures/runtime'], temporalAddress: server.address });
    await h.start();
  });

  afterAll(async () => {
    await h?.close();
    await server?.stop();
  });

  test('every endpoint that needs Temporal answers 503 within 2 s; /readyz names Temporal; /healthz 200', async () => {
    const approver = await approverToken(h);
    // a request just before the outage: the gateway last saw Temporal answer
    expect((await h.request('GET', '/readyz', { token: null })).status).toBe(200);
    await server.stop();

    const event = await timed(() => h.postEvent(makeEvent('test.leaver', { id: 'p-fast' })));
    expectRefusedFast(event, 'Temporal');
    const decision = await timed(() =>
      h.request('POST', DECISION_PATH, { body: { decision: 'approve' }, token: approver }),
    );
    expectRefusedFast(decision, 'Temporal');
    const task = await timed(() => h.request('GET', DECISION_PATH.replace(/\/decision$/, '')));
    expectRefusedFast(task, 'Temporal');
    const eventStatus = await timed(() => h.request('GET', '/v1/events/test-hr/never-sent'));
    expectRefusedFast(eventStatus, 'Temporal');

    await expectNotReady(h, 'temporal');
    // delegations need only PostgreSQL: still served
    const delegation = await delegateForADay(h, approver);
    expect(delegation.status).toBe(201);
    console.log(
      `Temporal down: 503 after ${[event, decision, task, eventStatus].map((r) => r.ms).join(', ')} ms (event, decision, task, event status)`,
    );

    server = await start();
    await h.eventually(
      async () =>
        (await h.request('GET', '/readyz', { token: null })).status === 200 ? true : undefined,
      30_000,
    );
  });

  test('503 with Retry-After while Temporal is stopped; the retried event is accepted once when it is back', async () => {
    await server.stop();
    const event = makeEvent('test.leaver', { id: 'p-outage' });
    const refused = await h.postEvent(event);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body).toMatchObject({
      type: 'urn:idflow:problem:dependency-unavailable',
      dependency: 'Temporal',
    });

    server = await start();
    const accepted = await h.eventually(async () => {
      const res = await h.postEvent(event);
      return res.status === 503 ? undefined : res;
    });
    expect(accepted.status).toBe(202);
    const again = await h.postEvent(event);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);

    const runId = `flow/it-employee-leaver/p-outage/${event.id as string}`;
    expect(
      await h.eventually(async () => h.outcome(runId).catch(() => undefined), 60_000),
    ).toMatchObject({ ok: true });
    const dispatches = [];
    for await (const w of h.client.workflow.list({
      query: `WorkflowId = 'event/test-hr/${event.id as string}'`,
    }))
      dispatches.push(w);
    expect(dispatches).toHaveLength(1);
  });
});

describe('PostgreSQL down', () => {
  let proxy: TcpProxy;
  let h: Harness;

  beforeAll(async () => {
    const target = new URL(POSTGRES_ADMIN_URL);
    proxy = new TcpProxy(await freePort(), {
      host: target.hostname,
      port: Number(target.port || 5432),
    });
    await proxy.start();
    h = new Harness({ definitions: ['test/fixtures/runtime'], databaseProxyPort: proxy.port });
    await h.start();
  });

  afterAll(async () => {
    await proxy?.start();
    await h?.close();
    await proxy?.stop();
  });

  test('every endpoint answers 503 within 2 s while PostgreSQL is cut off; /readyz names it; /healthz 200', async () => {
    const approver = await approverToken(h);
    expect((await h.request('GET', '/readyz', { token: null })).status).toBe(200);
    await proxy.stop();

    const answers = {
      event: await timed(() => h.postEvent(makeEvent('test.leaver', { id: 'p-fast-db' }))),
      listing: await timed(() => h.request('GET', '/v1/approvals', { token: approver })),
      decision: await timed(() =>
        h.request('POST', DECISION_PATH, { body: { decision: 'reject' }, token: approver }),
      ),
      newDelegation: await timed(() => delegateForADay(h, approver)),
      delegations: await timed(() => h.request('GET', '/v1/delegations', { token: approver })),
    };
    for (const res of Object.values(answers)) expectRefusedFast(res, 'PostgreSQL');

    await expectNotReady(h, 'database');
    console.log(
      `PostgreSQL down: 503 after ${Object.entries(answers)
        .map(([k, r]) => `${k} ${r.ms}`)
        .join(', ')} ms`,
    );

    await proxy.start();
    await h.eventually(
      async () =>
        (await h.request('GET', '/readyz', { token: null })).status === 200 ? true : undefined,
      30_000,
    );
  });

  test('503 with Retry-After while the database is unreachable; accepted once it is back', async () => {
    const event = makeEvent('test.leaver', { id: 'p-dbdown' });
    await proxy.stop();
    const refused = await h.postEvent(event);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body).toMatchObject({ dependency: 'PostgreSQL' });

    await proxy.start();
    const accepted = await h.eventually(async () => {
      const res = await h.postEvent(event);
      return res.status === 503 ? undefined : res;
    });
    expect(accepted.status).toBe(202);
    await h.eventually(async () =>
      (await findEvent(h.db.db, 'test-hr', event.id as string))?.decidedAt ? true : undefined,
    );
    expect((await h.postEvent(event)).status).toBe(200);
  });
});
