/** Timing for the benchmarks' tables: percentiles of durations. */

/** Median and 95th percentile of a call's durations, in ms. */
export interface Timing {
  p50: number;
  p95: number;
}

/** The median and p95 of `times` (in ms; sorted in place). */
export function quantiles(times: number[]): Timing {
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95) };
}

/** The `p`th percentile (nearest rank) of `sorted`, ascending; NaN when it is empty. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Median and p95 of `fn`'s duration over `tries` runs after `warmups` unmeasured ones, in ms. */
export async function timed(
  fn: () => Promise<unknown>,
  tries: number,
  warmups: number,
): Promise<Timing> {
  for (let i = 0; i < warmups; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < tries; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return quantiles(times);
}
