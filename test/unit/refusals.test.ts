/**
 * The refusal audit: counts add up whatever arrives, at most maxKeys keys are held, a failed
 * write loses no count, rows carry ids and route patterns only; a request's path maps to its
 * declared route's pattern, never to what the client wrote.
 */
import fc from 'fast-check';
import type { AuditEntry } from '../../src/db/repos/audit';
import { methodOf, routePatternOf } from '../../src/gateway/middleware/refusals';
import { declareRoute } from '../../src/gateway/openapi';
import { createGatewayApp } from '../../src/gateway/server';
import { RefusalRecorder, type Refusal } from '../../src/gateway/services/refusals';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logging';

const refusal = fc.record(
  {
    reason: fc.constantFrom('unknown-token', 'missing-scope', 'token-rate-limited'),
    status: fc.constantFrom(401, 403, 429),
    method: fc.constantFrom('GET', 'POST'),
    route: fc.constantFrom('/v1/events', '/v1/runs/{workflowId}', '(no route)'),
    tokenId: fc.constantFrom('t-1', 't-2', 't-3', 't-4'),
    source: fc.constantFrom('hr', 'idp'),
  },
  { requiredKeys: ['reason', 'status', 'method', 'route'] },
);

function recorder(options: Partial<ConstructorParameters<typeof RefusalRecorder>[0]> = {}) {
  const written: AuditEntry[][] = [];
  const r = new RefusalRecorder({
    write: (entries) => {
      written.push(entries);
      return Promise.resolve();
    },
    intervalMs: 3_600_000,
    ...options,
  });
  return { r, written };
}

const countOf = (e: AuditEntry) => (e.detail as { count: number }).count;

describe('RefusalRecorder', () => {
  test('one row per key with its count; the counts add up to the refusals; at most maxKeys keys', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }),
        fc.array(refusal, { maxLength: 300 }),
        async (maxKeys, refusals) => {
          const { r, written } = recorder({ maxKeys });
          for (const x of refusals) r.record(x);
          // own keys at most maxKeys, plus one overflow key per reason and status
          expect(r.size).toBeLessThanOrEqual(maxKeys + 9);
          expect(await r.flush()).toBe(written[0]?.length ?? 0);
          const rows = written.flat();
          expect(rows.reduce((n, e) => n + countOf(e), 0)).toBe(refusals.length);
          for (const row of rows) {
            expect(row).toMatchObject({ action: 'request.refused', outcome: 'refused' });
            expect(countOf(row)).toBeGreaterThan(0);
          }
          const own = rows.filter((e) => !(e.detail as { overflow?: boolean }).overflow);
          expect(own.length).toBeLessThanOrEqual(maxKeys);
          const keys = own.map((e) =>
            JSON.stringify([
              e.target,
              e.detail?.reason,
              e.detail?.tokenId,
              e.detail?.source,
              e.detail?.status,
            ]),
          );
          expect(new Set(keys).size).toBe(keys.length);
          // nothing left after a flush
          expect(r.size).toBe(0);
          expect(await r.flush()).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('a row names the token, route, reason and source, and when the first and last came', async () => {
    let now = Date.parse('2026-12-06T10:00:00Z');
    const { r, written } = recorder({ now: () => now });
    const x: Refusal = {
      reason: 'wrong-source',
      status: 403,
      method: 'POST',
      route: '/v1/events',
      tokenId: 'tok-1',
      tokenName: 'workday',
      source: 'sap',
      tokenSource: 'workday',
    };
    r.record(x);
    now += 5_000;
    r.record(x);
    r.record({ reason: 'unknown-token', status: 401, method: 'GET', route: '(no route)' });
    await r.close();
    expect(written).toEqual([
      [
        {
          actor: 'token:workday',
          action: 'request.refused',
          target: 'route:POST /v1/events',
          outcome: 'refused',
          detail: {
            reason: 'wrong-source',
            status: 403,
            method: 'POST',
            route: '/v1/events',
            tokenId: 'tok-1',
            source: 'sap',
            tokenSource: 'workday',
            count: 2,
            firstAt: '2026-12-06T10:00:00.000Z',
            lastAt: '2026-12-06T10:00:05.000Z',
          },
        },
        {
          actor: 'anonymous',
          action: 'request.refused',
          target: 'route:GET (no route)',
          outcome: 'refused',
          detail: {
            reason: 'unknown-token',
            status: 401,
            method: 'GET',
            route: '(no route)',
            tokenId: 'unknown',
            count: 1,
            firstAt: '2026-12-06T10:00:05.000Z',
            lastAt: '2026-12-06T10:00:05.000Z',
          },
        },
      ],
    ]);
  });

  test('refusals of other tokens or sources are rows of their own', async () => {
    const { r, written } = recorder();
    const base: Refusal = {
      reason: 'missing-scope',
      status: 403,
      method: 'GET',
      route: '/v1/runs',
    };
    for (const x of [
      base,
      { ...base, tokenId: 't-1' },
      { ...base, tokenId: 't-2' },
      { ...base, tokenId: 't-2' },
      { ...base, source: 'hr' },
      { ...base, source: 'idp' },
    ])
      r.record(x);
    await r.flush();
    expect(written.flat().map((e) => [e.detail?.tokenId, e.detail?.source, countOf(e)])).toEqual([
      ['unknown', undefined, 1],
      ['t-1', undefined, 1],
      ['t-2', undefined, 2],
      ['unknown', 'hr', 1],
      ['unknown', 'idp', 1],
    ]);
  });

  test('beyond maxKeys, refusals are counted in one overflow row per reason and status', async () => {
    const { r, written } = recorder({ maxKeys: 2 });
    for (let i = 0; i < 10; i++)
      r.record({ reason: 'unknown-token', status: 401, method: 'GET', route: `/r${i}` });
    await r.flush();
    const rows = written.flat();
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatchObject({
      actor: 'anonymous',
      target: 'route:*',
      detail: { reason: 'unknown-token', status: 401, overflow: true, count: 8 },
    });
    expect(rows[2]?.detail).not.toHaveProperty('route');
  });

  test('a failed write keeps every count for the next one', async () => {
    let fail = true;
    const errors: unknown[] = [];
    const written: AuditEntry[][] = [];
    const r = new RefusalRecorder({
      write: (entries) => {
        if (fail) return Promise.reject(new Error('database down'));
        written.push(entries);
        return Promise.resolve();
      },
      onError: (err) => errors.push(err),
      maxKeys: 1,
      intervalMs: 3_600_000,
    });
    for (const route of ['/a', '/a', '/b', '/c'])
      r.record({ reason: 'no-token', status: 401, method: 'GET', route });
    expect(await r.flush()).toBe(0);
    expect(errors).toHaveLength(1);
    r.record({ reason: 'no-token', status: 401, method: 'GET', route: '/a' });
    fail = false;
    expect(await r.flush()).toBe(2);
    expect(written[0]?.map((e) => [e.target, countOf(e)])).toEqual([
      ['route:GET /a', 3],
      ['route:*', 2],
    ]);
  });

  test('the rows are written once the interval has passed, without a flush', async () => {
    const { r, written } = recorder({ intervalMs: 50 });
    r.record({ reason: 'no-token', status: 401, method: 'GET', route: '/v1/runs' });
    r.record({ reason: 'no-token', status: 401, method: 'GET', route: '/v1/runs' });
    expect(written).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(written.flat().map(countOf)).toEqual([2]);
    // the next refusal starts the next interval
    r.record({ reason: 'no-token', status: 401, method: 'GET', route: '/v1/runs' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(written.map((w) => w.map(countOf))).toEqual([[2], [1]]);
  });
});

describe('routePatternOf', () => {
  beforeAll(() => {
    // declares every route of the gateway
    createGatewayApp(loadConfig({}), {} as never, {} as never, createLogger('silent'));
  });

  test.each([
    ['POST', '/v1/events', '/v1/events'],
    ['GET', '/v1/events/workday/evt-1', '/v1/events/{source}/{id}'],
    ['HEAD', '/v1/events/workday/evt-1', '/v1/events/{source}/{id}'],
    ['get', '/V1/Events/workday/evt-1/', '/v1/events/{source}/{id}'],
    ['GET', '/v1/persons/p-123', '/v1/persons/{id}'],
    ['DELETE', '/v1/events', '(no route)'],
    ['GET', '/v1/persons/jane.doe@example.com/secret/path', '(no route)'],
    ['GET', '/', '(no route)'],
  ])('%s %s is %s', (method, path, pattern) => {
    expect(routePatternOf(method, path)).toBe(pattern);
  });

  test('whatever the path, the answer is a declared pattern or (no route), never the path', () => {
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'PUT'), fc.webPath(), (method, path) => {
        const pattern = routePatternOf(method, path);
        if (pattern !== '(no route)')
          expect(pattern.split('/').length).toBe(path.split('/').filter(Boolean).length + 1);
        expect(pattern === '(no route)' || /^\/[a-z0-9/{}._-]*$/i.test(pattern)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('a literal segment wins over a parameter, whichever was declared first', () => {
    const route = (path: string) =>
      declareRoute({ method: 'get', path, tag: 't', summary: 's', auth: 'public', responses: {} });
    route('/test/{id}/x');
    route('/test/special/x');
    route('/test/{a}/{b}');
    route('/test2/literal');
    route('/test2/{p}');
    expect(routePatternOf('GET', '/test/special/x')).toBe('/test/special/x');
    expect(routePatternOf('GET', '/test/other/x')).toBe('/test/{id}/x');
    expect(routePatternOf('GET', '/test/other/y')).toBe('/test/{a}/{b}');
    expect(routePatternOf('GET', '/test2/literal')).toBe('/test2/literal');
    expect(routePatternOf('GET', '/test2/other')).toBe('/test2/{p}');
  });
});

describe('methodOf', () => {
  test('standard methods as they are, anything else OTHER', () => {
    expect(methodOf('post')).toBe('POST');
    expect(methodOf('PROPFIND')).toBe('OTHER');
    fc.assert(
      fc.property(fc.string(), (m) => {
        expect(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER']).toContain(
          methodOf(m),
        );
      }),
    );
  });
});
