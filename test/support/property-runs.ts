/**
 * How many runs a property gets: `wanted`, unless fast-check's global configuration caps it
 * (the mutation run configures a lower number, so each mutant is tried quickly).
 */
import * as fc from 'fast-check';

export function propertyRuns(wanted: number): number {
  const cap = fc.readConfigureGlobal().numRuns;
  return cap === undefined ? wanted : Math.min(wanted, cap);
}
