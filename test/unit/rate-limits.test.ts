/**
 * Rate limits: the per-source limiter admits exactly its limit per window whatever the order
 * and timing of requests, says when the window frees, takes a source's own limit from the
 * lookup (and the default when the lookup fails), and bounds what it holds; the per-token
 * limiter answers 429 problem+json with the real seconds to wait.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import fc from 'fast-check';
import { errorHandler } from '../../src/gateway/middleware/errors';
import {
  RateLimitedProblem,
  retryAfterSeconds,
  SourceRateLimiter,
  sourceRateLimit,
  tokenRateLimit,
} from '../../src/gateway/middleware/rate-limits';
import { createLogger } from '../../src/logging';

/** A clock tests move by hand. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('retryAfterSeconds', () => {
  test('whole seconds up to the reset, at least 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: -1e6, max: 1e6 }),
        (now, d) => {
          const s = retryAfterSeconds(now + d, now);
          expect(Number.isInteger(s)).toBe(true);
          expect(s).toBeGreaterThanOrEqual(1);
          // waiting s seconds reaches the reset; waiting one second less does not (unless s is 1)
          expect(now + s * 1000).toBeGreaterThanOrEqual(now + d);
          if (s > 1) expect(now + (s - 1) * 1000).toBeLessThan(now + d);
        },
      ),
    );
  });
});

describe('SourceRateLimiter', () => {
  test('admits exactly the limit per window per source, whatever the timing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ a: fc.integer({ min: 1, max: 8 }), b: fc.integer({ min: 1, max: 8 }) }),
        fc.array(
          fc.record({
            source: fc.constantFrom('a', 'b', 'c'),
            gap: fc.integer({ min: 0, max: 25_000 }),
          }),
          { maxLength: 80 },
        ),
        async (own, hits) => {
          const t = clock();
          const limiter = new SourceRateLimiter({
            defaultPerMinute: 3,
            perMinuteOf: (s) => Promise.resolve(s === 'a' ? own.a : s === 'b' ? own.b : undefined),
            now: t.now,
          });
          // a model of fixed windows: a source's window opens with its first request after the last ended
          const model = new Map<string, { start: number; count: number }>();
          for (const hit of hits) {
            t.advance(hit.gap);
            const limit = hit.source === 'a' ? own.a : hit.source === 'b' ? own.b : 3;
            let w = model.get(hit.source);
            if (!w || t.now() >= w.start + 60_000)
              model.set(hit.source, (w = { start: t.now(), count: 0 }));
            w.count++;
            const d = await limiter.take(hit.source);
            expect(d.limit).toBe(limit);
            expect(d.allowed).toBe(w.count <= limit);
            expect(d.remaining).toBe(Math.max(0, limit - w.count));
            expect(d.resetAt).toBe(w.start + 60_000);
            expect(d.retryAfterSeconds).toBe(
              Math.max(1, Math.ceil((w.start + 60_000 - t.now()) / 1000)),
            );
            expect(d.retryAfterSeconds).toBeLessThanOrEqual(60);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('checkSourceRate throws a 429 naming the source, with Retry-After and its refusal', async () => {
    const t = clock();
    const limiter = new SourceRateLimiter({ defaultPerMinute: 2, now: t.now });
    await limiter.checkSourceRate('workday');
    t.advance(15_500);
    await limiter.checkSourceRate('workday');
    const thrown = await limiter.checkSourceRate('workday').catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(RateLimitedProblem);
    const problem = thrown as RateLimitedProblem;
    expect(problem.status).toBe(429);
    expect(problem.headers['Retry-After']).toBe('45');
    expect(problem.detail).toBe("source 'workday' sends at most 2 requests a minute");
    expect(problem.refusal).toEqual({ reason: 'source-rate-limited', source: 'workday' });
    expect(problem.body('/v1/events')).toMatchObject({
      type: 'urn:idflow:problem:rate-limited',
      source: 'workday',
      limit: 2,
      retryAfterSeconds: 45,
    });
    // another source has its own window; the first source's frees after the minute
    await expect(limiter.checkSourceRate('sap')).resolves.toBeUndefined();
    t.advance(44_500);
    await expect(limiter.checkSourceRate('workday')).resolves.toBeUndefined();
  });

  test("a source's own limit is looked up once per cache period; a failed lookup means the default", async () => {
    const t = clock();
    const asked: string[] = [];
    let fail = false;
    const errors: unknown[] = [];
    const limiter = new SourceRateLimiter({
      defaultPerMinute: 5,
      perMinuteOf: (s) => {
        asked.push(s);
        if (fail) return Promise.reject(new Error('definitions unavailable'));
        return Promise.resolve(1);
      },
      lookupCacheMs: 10_000,
      onLookupError: (err) => errors.push(err),
      now: t.now,
    });
    expect(await limiter.limitOf('x')).toBe(1);
    t.advance(9_999);
    expect(await limiter.limitOf('x')).toBe(1);
    expect(asked).toEqual(['x']);
    t.advance(1);
    fail = true;
    expect(await limiter.limitOf('x')).toBe(5);
    expect(errors).toHaveLength(1);
    expect(asked).toEqual(['x', 'x']);
  });

  test('a lookup answering a fraction, less than 1 or no number is floored or ignored', async () => {
    const answers: Record<string, number | undefined> = {
      f: 2.9,
      n: -3,
      z: 0.5,
      o: 1,
      u: undefined,
      i: Infinity,
    };
    const limiter = new SourceRateLimiter({
      defaultPerMinute: 7,
      perMinuteOf: (s) => Promise.resolve(answers[s]),
    });
    expect(await limiter.limitOf('f')).toBe(2);
    expect(await limiter.limitOf('n')).toBe(7);
    expect(await limiter.limitOf('z')).toBe(7);
    expect(await limiter.limitOf('o')).toBe(1);
    expect(await limiter.limitOf('u')).toBe(7);
    expect(await limiter.limitOf('i')).toBe(7);
  });

  test('beyond maxSources counted at once, new sources share one count; ended windows make room', async () => {
    const t = clock();
    const limiter = new SourceRateLimiter({ defaultPerMinute: 2, maxSources: 3, now: t.now });
    for (const s of ['a', 'b', 'c']) expect((await limiter.take(s)).allowed).toBe(true);
    // d and e share the overflow count: two admitted between them, not two each
    expect((await limiter.take('d')).allowed).toBe(true);
    expect((await limiter.take('e')).allowed).toBe(true);
    expect((await limiter.take('d')).allowed).toBe(false);
    // sources already counted keep their own window
    expect((await limiter.take('a')).allowed).toBe(true);
    // exactly a minute on, every window has ended: d and e are counted on their own again
    t.advance(60_000);
    expect((await limiter.take('d')).remaining).toBe(1);
    expect((await limiter.take('e')).remaining).toBe(1);
    expect((await limiter.take('d')).allowed).toBe(true);
    expect((await limiter.take('e')).allowed).toBe(true);
  });

  test('looked-up limits are held for at most maxSources sources, then looked up again', async () => {
    const asked: string[] = [];
    const limiter = new SourceRateLimiter({
      defaultPerMinute: 2,
      maxSources: 2,
      perMinuteOf: (s) => {
        asked.push(s);
        return Promise.resolve(undefined);
      },
    });
    for (const s of ['a', 'b', 'a', 'b']) await limiter.limitOf(s);
    expect(asked).toEqual(['a', 'b']);
    // a third source makes room by forgetting what was held
    for (const s of ['c', 'a', 'c']) await limiter.limitOf(s);
    expect(asked).toEqual(['a', 'b', 'c', 'a']);
    await limiter.limitOf('d');
    await limiter.limitOf('c');
    expect(asked).toEqual(['a', 'b', 'c', 'a', 'd', 'c']);
  });

  test('without a lookup every source has the default, and no lookup error is told', async () => {
    const errors: unknown[] = [];
    const limiter = new SourceRateLimiter({
      defaultPerMinute: 9,
      onLookupError: (e) => errors.push(e),
    });
    expect(await limiter.limitOf('any')).toBe(9);
    expect(errors).toEqual([]);
    // a failing lookup with no one to tell still means the default
    const quiet = new SourceRateLimiter({
      defaultPerMinute: 4,
      perMinuteOf: () => Promise.reject(new Error('down')),
    });
    expect(await quiet.limitOf('any')).toBe(4);
  });

  test('the middleware limits by the source it reads and lets a request without one through', async () => {
    const limiter = new SourceRateLimiter({ defaultPerMinute: 1 });
    const app = express();
    app.post(
      '/hooks/:source',
      sourceRateLimit(limiter, (req) => {
        const source = String(req.params.source);
        return source === 'none' ? undefined : source;
      }),
      (_req, res) => {
        res.status(204).end();
      },
    );
    app.use(errorHandler(createLogger('silent')));
    await withServer(app, async (url) => {
      expect((await fetch(`${url}/hooks/a`, { method: 'POST' })).status).toBe(204);
      const refused = await fetch(`${url}/hooks/a`, { method: 'POST' });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect((await fetch(`${url}/hooks/none`, { method: 'POST' })).status).toBe(204);
      expect((await fetch(`${url}/hooks/none`, { method: 'POST' })).status).toBe(204);
    });
  });
});

describe('tokenRateLimit', () => {
  test('the window is the one given', async () => {
    const app = express();
    app.use(tokenRateLimit({ perMinute: 1, tokenOf: () => 't', windowMs: 3_000 }));
    app.get('/x', (_req, res) => {
      res.json({ ok: true });
    });
    app.use(errorHandler(createLogger('silent')));
    await withServer(app, async (url) => {
      expect((await fetch(`${url}/x`)).headers.get('ratelimit-policy')).toMatch(/q=1; w=3/);
      const refused = await fetch(`${url}/x`);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3);
    });
  });

  test('429 problem+json with the seconds left in the window, draft-8 headers and the refusal', async () => {
    const app = express();
    let refusal: unknown;
    app.use(tokenRateLimit({ perMinute: 2, tokenOf: (req) => String(req.headers['x-token']) }));
    app.get('/x', (_req, res) => {
      res.json({ ok: true });
    });
    app.use(
      (err: unknown, _req: express.Request, _res: express.Response, next: express.NextFunction) => {
        refusal = (err as { refusal?: unknown }).refusal;
        next(err);
      },
    );
    app.use(errorHandler(createLogger('silent')));
    await withServer(app, async (url) => {
      const get = (token: string) => fetch(`${url}/x`, { headers: { 'x-token': token } });
      const first = await get('t1');
      expect(first.status).toBe(200);
      expect(first.headers.get('ratelimit-policy')).toMatch(/q=2; w=60/);
      expect(first.headers.get('ratelimit')).toMatch(/r=1/);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await get('t1')).status).toBe(200);
      const refused = await get('t1');
      expect(refused.status).toBe(429);
      // a second has passed since the window opened: 59, not the constant 60
      const wait = Number(refused.headers.get('retry-after'));
      expect(wait).toBeGreaterThanOrEqual(57);
      expect(wait).toBeLessThanOrEqual(59);
      const body = (await refused.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        type: 'urn:idflow:problem:rate-limited',
        title: 'Too many requests',
        status: 429,
        limit: 2,
        retryAfterSeconds: wait,
      });
      // draft-8 headers only, not the legacy X-RateLimit-* ones
      expect(refused.headers.get('x-ratelimit-limit')).toBeNull();
      expect(body.detail).toBe('at most 2 requests a minute per token');
      expect(refusal).toEqual({ reason: 'token-rate-limited' });
      // another token has its own window
      expect((await get('t2')).status).toBe(200);
    });
  });
});

async function withServer(app: express.Express, fn: (url: string) => Promise<void>): Promise<void> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
