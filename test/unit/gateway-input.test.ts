/**
 * The gateway's input limits and its dependency monitor, without servers: what a JSON body may
 * hold, and how fast a request learns that Temporal or PostgreSQL is down.
 */
import * as fc from 'fast-check';
import { parseJsonBody } from '../../src/gateway/middleware/json';
import { MAX_JSON_DEPTH, jsonValueProblems, nestsDeeperThan } from '../../src/gateway/json-limits';
import { HttpProblem } from '../../src/gateway/problems';
import { DependencyMonitor } from '../../src/gateway/services/dependencies';

function refusal(raw: string | Buffer): { status: number; slug: string; detail?: string } {
  try {
    parseJsonBody(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
  } catch (err) {
    if (err instanceof HttpProblem)
      return { status: err.status, slug: err.slug, detail: err.detail };
    throw err;
  }
  throw new Error('accepted');
}

describe('JSON bodies', () => {
  test('depth is counted without parsing; brackets inside strings do not count', () => {
    expect(nestsDeeperThan('[[1]]', 2)).toBe(false);
    expect(nestsDeeperThan('[[[1]]]', 2)).toBe(true);
    expect(nestsDeeperThan('{"a":"[[[[\\"[[["}', 1)).toBe(false);
  });

  test('the nesting limit agrees with JSON.parse for any document', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 6 }), (value, max) => {
        const depth = (v: unknown): number =>
          v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0;
        expect(nestsDeeperThan(JSON.stringify(value), max)).toBe(depth(value) > max);
      }),
      { numRuns: 300 },
    );
  });

  test('a byte order mark is ignored; invalid UTF-8, empty and deep bodies are invalid-json', () => {
    expect(parseJsonBody(Buffer.from('\ufeff{"a":1}'))).toEqual({ a: 1 });
    expect(refusal(Buffer.from([0x22, 0xc3, 0x28, 0x22]))).toMatchObject({
      status: 400,
      slug: 'invalid-json',
      detail: 'the body is not valid UTF-8',
    });
    expect(refusal('  ')).toMatchObject({ status: 400, slug: 'invalid-json' });
    expect(refusal('['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1))).toMatchObject({
      status: 400,
      slug: 'invalid-json',
    });
    expect(
      parseJsonBody(Buffer.from('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))),
    ).toBeDefined();
  });

  test('a syntax error names the position, never the body', () => {
    const { detail } = refusal('{"secret": "ada.lovelace@example.com" x}');
    expect(detail).toMatch(/^the body is not valid JSON/);
    expect(detail).not.toContain('ada');
  });

  test('NUL, unpaired surrogates, __proto__ keys and unrepresentable numbers are named by pointer', () => {
    expect(
      jsonValueProblems(
        JSON.parse('{"a":["x\\u0000"],"b":{"__proto__":1},"c~/":"\\ud800","d":1e400}'),
      ),
    ).toEqual([
      { path: '/a/0', message: 'must not contain the NUL character (\\u0000)' },
      { path: '/b/__proto__', message: 'key is a reserved name' },
      { path: '/c~0~1', message: 'must be valid Unicode (it has an unpaired surrogate)' },
      { path: '/d', message: 'is a number too large to represent' },
    ]);
    expect(jsonValueProblems({ ok: ['😀', 'ü', 1.5, null, true] })).toEqual([]);
  });
});

describe('DependencyMonitor', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  function monitor(state: { temporal: boolean; database: boolean; probes: number }) {
    return new DependencyMonitor(
      {
        temporal: async () => {
          state.probes++;
          if (!state.temporal) await sleep(300); // a server that does not answer in time
        },
        database: () =>
          state.database ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED')),
      },
      { ttlMs: 100, timeoutMs: 100, watchMs: 20 },
    );
  }

  test('a probe that does not answer in time is down; the answer is kept, then probed again', async () => {
    const state = { temporal: false, database: true, probes: 0 };
    const m = monitor(state);
    const started = Date.now();
    expect(await m.report()).toEqual({ temporal: 'down', database: 'ok' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await m.health('temporal')).toBe('down');
    expect(state.probes).toBe(1);
    state.temporal = true;
    await sleep(120);
    // stale and down: answered down at once while a probe runs
    expect(await m.health('temporal')).toBe('down');
    await sleep(10);
    expect(await m.health('temporal')).toBe('ok');
  });

  test('a request for a dependency known down is refused at once with 503', async () => {
    const m = monitor({ temporal: true, database: false, probes: 0 });
    await expect(m.require('database')).rejects.toMatchObject({
      status: 503,
      extra: { dependency: 'PostgreSQL' },
    });
    const started = Date.now();
    await expect(m.guard('database', () => Promise.resolve('never'))).rejects.toMatchObject({
      status: 503,
    });
    expect(Date.now() - started).toBeLessThan(50);
  });

  test('a call in flight is abandoned, its signal aborted, when its dependency goes down', async () => {
    const state = { temporal: true, database: true, probes: 0 };
    const m = monitor(state);
    let aborted = false;
    const call = m.guard('temporal', (signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return sleep(600);
    });
    state.temporal = false;
    const started = Date.now();
    await expect(call).rejects.toMatchObject({ status: 503, extra: { dependency: 'Temporal' } });
    expect(aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
