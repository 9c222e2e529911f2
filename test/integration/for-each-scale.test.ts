/**
 * forEach at scale against a real Temporal server and PostgreSQL: a step over 100,000 persons
 * completes, counts every item, and no workflow it runs (the run, its coordinator through each
 * continue-as-new, every batch) holds a history of 10,000 events or more.
 */
import { sql } from 'drizzle-orm';
import type { RunState } from '../../src/temporal/contracts';
import { Harness, makeEvent } from '../support/harness';

const PERSONS = 100_000;
const LIMIT = 10_000;

let h: Harness;

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/runtime', 'test/fixtures/foreach'] });
  await h.start();
  await h.db.db.execute(sql`
    insert into persons (id, status, department)
    select 'p-scale-' || lpad(g::text, 6, '0'), 'active',
           case when g % 1000 = 0 then 'Flagged' else 'Scale' end
    from generate_series(1, ${PERSONS}) as g`);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

test('a forEach over 100,000 persons completes with every history under 10,000 events', async () => {
  const event = makeEvent('test.foreach-scale', { id: 'p-scale-run' });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/it-foreach-scale/p-scale-run/${event.id as string}`;
  const outcome = await h.runOutcome(runId, 600_000);
  expect(outcome.ok).toBe(true);
  const state = await h.client.workflow.getHandle(runId).query<RunState>('state');
  const step = state.steps.find((s) => s.id === 'everyone');
  expect(step?.output).toMatchObject({
    scanned: PERSONS,
    total: PERSONS,
    completed: PERSONS - PERSONS / 1000,
    failed: PERSONS / 1000,
    batches: PERSONS / 1000,
  });
  // every execution the step ran: the coordinator's runs (continue-as-new) and every batch
  const lengths: Array<[string, number]> = [];
  const query = `WorkflowId STARTS_WITH "foreach/${runId}/"`;
  for await (const info of h.client.workflow.list({ query })) {
    lengths.push([info.workflowId, info.historyLength]);
  }
  const run = await h.client.workflow.getHandle(runId).describe();
  lengths.push([runId, run.historyLength]);
  const coordinatorRuns = lengths.filter(([id]) => id === `foreach/${runId}/everyone`);
  expect(lengths.length).toBeGreaterThanOrEqual(PERSONS / 1000 + 2);
  expect(coordinatorRuns.length).toBeGreaterThanOrEqual(2); // it continued as new
  const longest = Math.max(...lengths.map(([, n]) => n));
  console.log(
    `forEach over ${PERSONS} persons: ${lengths.length} executions, longest history ${longest} events, coordinator runs ${coordinatorRuns.length}`,
  );
  expect(longest).toBeLessThan(LIMIT);
}, 900_000);
