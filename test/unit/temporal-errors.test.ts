import * as fc from 'fast-check';
import { UnavailableProblem } from '../../src/gateway/problems';
import { isTemporalUnavailable, temporalOutage } from '../../src/gateway/services/temporal-errors';

const grpc = (code: number, message = 'x') => Object.assign(new Error(message), { code });

describe('temporalOutage', () => {
  test.each([
    [1, 'unreachable'],
    [8, 'unreachable'],
    [14, 'unreachable'],
    [4, 'timeout'],
  ])('gRPC status %i is %s', (code, kind) => {
    expect(temporalOutage(grpc(code))).toBe(kind);
    // as the client wraps it: the status is the cause's
    expect(temporalOutage(new Error('call failed', { cause: grpc(code) }))).toBe(kind);
  });

  test('other gRPC statuses are no outage', () => {
    for (const code of [0, 2, 3, 5, 6, 7, 9, 10, 11, 12, 13, 15, 16]) {
      expect(temporalOutage(grpc(code))).toBeUndefined();
      expect(isTemporalUnavailable(grpc(code))).toBe(false);
    }
  });

  test.each([
    ['connect ECONNREFUSED 127.0.0.1:7233', 'unreachable'],
    ['failed to connect to all addresses', 'unreachable'],
    ['14 UNAVAILABLE: No connection established', 'unreachable'],
    ['Deadline exceeded after 1.5s', 'timeout'],
  ])('a message %j is %s', (message, kind) => {
    expect(temporalOutage(new Error(message))).toBe(kind);
    expect(isTemporalUnavailable(new Error(message))).toBe(true);
  });

  test('a transport error is unreachable; a deadline deeper in the chain is a timeout', () => {
    expect(temporalOutage(Object.assign(new Error('x'), { name: 'TransportError' }))).toBe(
      'unreachable',
    );
    expect(temporalOutage(new Error('a', { cause: new Error('b', { cause: grpc(4, 'c') }) }))).toBe(
      'timeout',
    );
  });

  test('errors that say nothing of Temporal are no outage, whatever their message', () => {
    fc.assert(
      fc.property(
        fc.string().filter((m) => !/deadline|ECONNREFUSED|failed to connect|UNAVAILABLE/i.test(m)),
        (message) => temporalOutage(new Error(message)) === undefined,
      ),
      { numRuns: 200 },
    );
    expect(temporalOutage(undefined)).toBeUndefined();
    const loop = new Error('loop') as Error & { cause?: unknown };
    loop.cause = loop;
    expect(temporalOutage(loop)).toBeUndefined();
  });
});

describe('UnavailableProblem', () => {
  test('unreachable: nothing was accepted', () => {
    const p = new UnavailableProblem('Temporal');
    expect([p.status, p.detail, p.extra, p.headers]).toEqual([
      503,
      'Temporal cannot be reached; nothing was accepted. Retry after 5 seconds.',
      { dependency: 'Temporal' },
      { 'Retry-After': '5' },
    ]);
  });

  test('timed out: the request may have taken effect; the same request again takes effect once', () => {
    const p = new UnavailableProblem('Temporal', 7, true);
    expect([p.status, p.detail, p.extra, p.headers]).toEqual([
      503,
      'Temporal did not answer in time; the request may have taken effect. Send the same request again after 7 seconds: a repeated event or decision takes effect once.',
      { dependency: 'Temporal', timedOut: true },
      { 'Retry-After': '7' },
    ]);
  });
});
