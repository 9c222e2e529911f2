/**
 * The blast-radius guard: how many persons or accounts one run may disable or delete before it
 * parks for an operator. Pure and Node-free: the interpreter decides with it, before the first
 * item is touched.
 */
import type { BlastRadiusIR } from '../dsl/ir';

/** What a guarded step would act on: items that match, out of the population it read. */
export interface GuardCount {
  /** Items the step would run its steps for. */
  matched: number;
  /** The population they were chosen from (persons or accounts read); absent for a list. */
  population?: number;
}

const number = (n: number): string => n.toLocaleString('en-US');

/**
 * Why `count` is over `limit` (a message an operator acts on, with counts only), or undefined
 * when it is within. A percentage needs a population: a list value is held to `max` only.
 */
export function overBlastRadius(
  limit: BlastRadiusIR,
  count: GuardCount,
  noun: string,
): string | undefined {
  const overMax = limit.max !== undefined && count.matched > limit.max;
  const percent =
    count.population !== undefined && count.population > 0
      ? (count.matched * 100) / count.population
      : undefined;
  const overPercent =
    limit.maxPercent !== undefined && percent !== undefined && percent > limit.maxPercent;
  if (!overMax && !overPercent) return undefined;
  const of =
    count.population !== undefined
      ? ` of ${number(count.population)} ${noun} (${percent === undefined ? 0 : Math.round(percent * 10) / 10} %)`
      : ` ${noun}`;
  const limits = [
    ...(limit.max !== undefined ? [`${number(limit.max)} ${noun}`] : []),
    ...(limit.maxPercent !== undefined ? [`${limit.maxPercent} %`] : []),
  ].join(' or ');
  return `would act on ${number(count.matched)}${of}, over the blast radius of ${limits}`;
}
