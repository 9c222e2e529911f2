/**
 * `readPopulation`: a page of a `forEach` step's persons or accounts, filtered where the data is.
 * It reads the identity store in key order and evaluates the step's CEL filter on each row in
 * the worker, so a scan of 100,000 accounts costs a few dozen activity calls, not one per row.
 * With `countOnly` it reads everything and counts (the blast-radius guard's count).
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Database } from '../src/db/client';
import { accountPage, personPage, type PopulationRow } from '../src/db/repos/population';
import { evaluateExpression, ExpressionError, toCel } from '../src/dsl/cel-runtime';
import type { JsonValue } from '../src/dsl/ir';
import { ACCOUNT_ITEM_SHAPE, PERSON_ITEM_SHAPE, PERSON_SHAPE } from '../src/dsl/shapes';
import type { PopulationPage, PopulationResult } from '../src/temporal/contracts';
import { databaseFailure } from './errors';

/** Rows read from the database per query. */
const PAGE_ROWS = 2_000;
/** Most rows one call reads looking for matches before it hands back what it has. */
const SCAN_PER_CALL = 50_000;

/** A filter that is not a bool, or fails, on a row: the step cannot tell what to act on. */
function filterFailure(where: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `the forEach filter '${where}' ${message}`,
    'ExpressionFailed',
  );
}

export function createPopulationActivities(deps: { db: Database }) {
  return {
    async readPopulation(page: PopulationPage): Promise<PopulationResult> {
      const { over, scope } = page;
      const shape = over.kind === 'persons' ? PERSON_ITEM_SHAPE : ACCOUNT_ITEM_SHAPE;
      const base = {
        event: toCel(scope.event, scope.eventShape),
        subject: toCel(scope.subject, PERSON_SHAPE),
        vars: Object.fromEntries(
          Object.entries(scope.vars).map(([name, value]) => [
            name,
            toCel(value, scope.varShapes[name] ?? 'dyn'),
          ]),
        ),
        now: new Date(scope.now),
      };
      const matches = (row: PopulationRow): boolean => {
        if (over.where === undefined) return true;
        let value: JsonValue;
        try {
          value = evaluateExpression(over.where, { ...base, [page.as]: toCel(row.item, shape) });
        } catch (err) {
          if (err instanceof ExpressionError) {
            throw filterFailure(
              over.where,
              'failed on a row (does it read a field some rows lack? test it with has(...) first)',
            );
          }
          throw err;
        }
        if (typeof value !== 'boolean')
          throw filterFailure(over.where, 'gave a value that is not true or false');
        return value;
      };
      const result: PopulationResult = { items: [], scanned: 0, matched: 0 };
      let after = page.after;
      for (;;) {
        let rows: PopulationRow[];
        try {
          rows =
            over.kind === 'persons'
              ? await personPage(deps.db, after, PAGE_ROWS)
              : await accountPage(deps.db, over.connector, after, PAGE_ROWS);
        } catch (err) {
          throw databaseFailure('read the population of a forEach step', err) ?? err;
        }
        let full = false;
        for (const row of rows) {
          result.scanned++;
          after = row.key;
          if (!matches(row)) continue;
          result.matched++;
          if (page.countOnly) continue;
          result.items.push({ key: row.key, value: row.item as JsonValue });
          if (result.items.length >= page.limit) {
            full = true;
            break;
          }
        }
        heartbeat(result.scanned);
        // a short page that was read to its end is the end of the population: no cursor
        if (rows.length < PAGE_ROWS && !full) return result;
        if (full || (!page.countOnly && result.scanned >= SCAN_PER_CALL)) {
          if (after !== undefined) result.cursor = after;
          return result;
        }
      }
    },
  };
}
