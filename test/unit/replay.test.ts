/**
 * Determinism: every recorded history in test/replays/ (reference joiner, mover, leavers,
 * failures, dispatches) replays against the current workflow code. An interpreter change that
 * would break runs already in flight must go behind `patched()`; this test catches the ones
 * that do not. Re-record with: node --import tsx scripts/record-replays.ts
 *
 * Histories replay through idflow's data converter with the test payload keys: the plain ones
 * (recorded before payload encryption) pass through the codec unchanged, the encrypted ones
 * (`*-encrypted.json`) are decrypted, as a worker does for runs in flight.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type ReplayResult } from '@temporalio/worker';
import { workflowBundle } from '../../src/temporal/bundle';
import { idflowDataConverter } from '../../src/temporal/data-converter';
import { testKeys } from '../support/payload-keys';
import { ROOT } from '../support/definitions';

const dir = join(ROOT, 'test', 'replays');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

/** idflow's data converter with the test keys: encrypted histories decrypt, plain ones pass. */
const dataConverter = idflowDataConverter(testKeys());

test('there are recorded histories of flow runs and dispatches', () => {
  expect(files.filter((f) => f.endsWith('-dispatch.json')).length).toBeGreaterThanOrEqual(5);
  expect(files.filter((f) => !f.endsWith('-dispatch.json')).length).toBeGreaterThanOrEqual(5);
});

interface Recorded {
  file: string;
  workflowId: string;
  history: unknown;
}

/**
 * Each file's recorded workflow id and replay, by one replay worker for all of them (a worker
 * per history is slow).
 */
const replayed = new Map<string, { workflowId: string; result: ReplayResult }>();

beforeAll(async () => {
  const recorded: Recorded[] = files.map((file) => ({
    file,
    ...(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Omit<Recorded, 'file'>),
  }));
  const bundle = await workflowBundle(join(ROOT, '.idflow', 'bundle'));
  const results = Worker.runReplayHistories(
    { workflowBundle: bundle, replayName: 'test/replays', dataConverter },
    recorded.map(({ workflowId, history }) => ({ workflowId, history })),
  );
  let i = 0;
  for await (const result of results) {
    const { file, workflowId } = recorded[i++] as Recorded;
    replayed.set(file, { workflowId, result });
  }
}, 600_000);

test.each(files)('%s replays without nondeterminism', (file) => {
  const entry = replayed.get(file);
  expect(entry?.result.workflowId).toBe(entry?.workflowId ?? 'a replay of this file');
  expect(entry?.result.error?.message).toBeUndefined();
});
