/** Per-connector limits on one worker: calls in flight at once, and calls a second. */
import { withinLimits } from '../../activities/connectors/support';

test('at most maxConcurrency calls run at once; the others wait their turn', async () => {
  let inFlight = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      withinLimits('limited-directory', { maxConcurrency: 2 }, async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        order.push(i);
      }),
    ),
  );
  expect(most).toBe(2);
  expect(order).toHaveLength(6);
});

test('ratePerSecond spaces calls out', async () => {
  const started: number[] = [];
  await Promise.all(
    Array.from({ length: 5 }, () =>
      withinLimits('rated-app', { ratePerSecond: 20 }, () => {
        started.push(Date.now());
        return Promise.resolve();
      }),
    ),
  );
  // five calls at 20/s: the last starts at least 4 × 50 ms after the first
  expect(Math.max(...started) - Math.min(...started)).toBeGreaterThanOrEqual(195);
});

test('a failing call frees its slot', async () => {
  await expect(
    withinLimits('flaky', { maxConcurrency: 1 }, () => Promise.reject(new Error('boom'))),
  ).rejects.toThrow('boom');
  await expect(
    withinLimits('flaky', { maxConcurrency: 1 }, () => Promise.resolve(7)),
  ).resolves.toBe(7);
});

test('a call whose activity is cancelled while it waits leaves the queue and never runs', async () => {
  let release!: () => void;
  const first = withinLimits(
    'cancelled-queue',
    { maxConcurrency: 1 },
    () => new Promise<void>((r) => (release = r)),
  );
  const controller = new AbortController();
  let ran = false;
  const waiting = withinLimits(
    'cancelled-queue',
    { maxConcurrency: 1 },
    () => {
      ran = true;
      return Promise.resolve();
    },
    controller.signal,
  );
  controller.abort(new Error('activity cancelled'));
  await expect(waiting).rejects.toThrow('activity cancelled');
  release();
  await first;
  expect(ran).toBe(false);
  // the place is free again
  await expect(
    withinLimits('cancelled-queue', { maxConcurrency: 1 }, () => Promise.resolve('next')),
  ).resolves.toBe('next');
});
