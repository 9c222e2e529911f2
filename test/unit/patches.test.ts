/**
 * How a workflow decides its patches (workflows/patches.ts): once, at start, by the newest
 * generation its history holds; the patches from before generation 1 asked where their code
 * runs only by runs of generation 0. `patched` is Temporal's: here it answers from a set of
 * markers, as a replay does, and records what was asked.
 */
import type * as PatchesModule from '../../workflows/patches';

const markers = new Set<string>();
const asked: string[] = [];

jest.mock('@temporalio/workflow', () => ({
  patched: (id: string) => {
    asked.push(id);
    return markers.has(id);
  },
}));

type Patches = typeof PatchesModule;

/** A fresh copy of the module, as each workflow execution has its own. */
function load(...recorded: string[]): Patches {
  markers.clear();
  recorded.forEach((m) => markers.add(m));
  asked.length = 0;
  let mod!: Patches;
  jest.isolateModules(() => {
    mod = jest.requireActual<Patches>('../../workflows/patches');
  });
  return mod;
}

test('a patch asked before the workflow decided its patches is a programming error', () => {
  const { hasPatch } = load();
  expect(() => hasPatch('approval-task-table')).toThrow(
    "patch 'approval-task-table' asked before the workflow decided its patches",
  );
});

const NEWEST = 'decision-before-hand-over';

test('a new run asks the newest generation first and stops there', () => {
  const p = load('patches-at-start', 'timeline-signal-with-start', NEWEST);
  p.decidePatchesAtStart();
  expect(asked).toEqual([NEWEST]);
  expect(p.GENERATIONS.at(-1)).toBe(NEWEST);
  for (const g of p.GENERATIONS) expect(p.hasPatch(g)).toBe(true);
  for (const legacy of p.LEGACY) expect(p.hasPatch(legacy)).toBe(true);
  // nothing asked after the start: no decision can straddle two workflow tasks
  expect(asked).toEqual([NEWEST]);
});

test('a run of generation 2 has generations 1 and 2 and the legacy patches, not generation 3', () => {
  const p = load('timeline-signal-with-start');
  p.decidePatchesAtStart();
  expect(asked).toEqual([NEWEST, 'timeline-signal-with-start']);
  expect(p.hasPatch('patches-at-start')).toBe(true);
  expect(p.hasPatch('timeline-signal-with-start')).toBe(true);
  expect(p.hasPatch(NEWEST)).toBe(false);
  for (const legacy of p.LEGACY) expect(p.hasPatch(legacy)).toBe(true);
  expect(asked).toHaveLength(2);
});

test('a run of generation 1 has every legacy patch but no later generation', () => {
  const p = load('patches-at-start');
  p.decidePatchesAtStart();
  expect(asked).toEqual([NEWEST, 'timeline-signal-with-start', 'patches-at-start']);
  expect(p.hasPatch('patches-at-start')).toBe(true);
  expect(p.hasPatch('timeline-signal-with-start')).toBe(false);
  expect(p.hasPatch(NEWEST)).toBe(false);
  for (const legacy of p.LEGACY) expect(p.hasPatch(legacy)).toBe(true);
  expect(asked).toHaveLength(3);
});

test('a run of generation 0 asks each legacy patch where its code runs, as it ran', () => {
  const p = load('approval-task-table', 'person-timeline');
  p.decidePatchesAtStart();
  expect(asked).toEqual([...p.GENERATIONS].reverse());
  expect(p.hasPatch(NEWEST)).toBe(false);
  expect(p.hasPatch('timeline-signal-with-start')).toBe(false);
  expect(p.hasPatch('patches-at-start')).toBe(false);
  expect(p.hasPatch('approval-task-table')).toBe(true);
  expect(p.hasPatch('person-timeline')).toBe(true);
  expect(p.hasPatch('cel-code-point-strings')).toBe(false);
  expect(p.hasPatch('visible-summary')).toBe(false);
  expect(asked.slice(p.GENERATIONS.length)).toEqual([
    'approval-task-table',
    'person-timeline',
    'cel-code-point-strings',
    'visible-summary',
  ]);
});

test('generations are listed oldest first, each once, apart from the legacy patches', () => {
  const p = load();
  expect(p.GENERATIONS[0]).toBe('patches-at-start');
  expect(new Set(p.GENERATIONS).size).toBe(p.GENERATIONS.length);
  for (const g of p.GENERATIONS) expect(p.LEGACY as readonly string[]).not.toContain(g);
});
