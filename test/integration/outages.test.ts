/**
 * Nothing lost when a dependency is down: with Temporal stopped the gateway answers 503 with
 * Retry-After and accepts nothing; once Temporal is back the retried event is accepted once.
 * The same for PostgreSQL, cut off behind a proxy while the gateway runs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEvent } from '../../src/db/repos/events';
import { findTemporalCli } from '../../src/temporal/cli';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { freePort } from '../support/ports';
import { POSTGRES_ADMIN_URL } from '../support/postgres';
import { TcpProxy } from '../support/tcp-proxy';

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
