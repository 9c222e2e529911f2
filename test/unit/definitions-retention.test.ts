/**
 * Which old versions retention may drop: beyond the newest N of each definition, never the
 * active one, never a draft newer than it (or any draft when nothing is active).
 */
import * as fc from 'fast-check';
import { selectPrunable } from '../../src/db/repos/definition-retention';

type Row = Parameters<typeof selectPrunable>[0][number];

const row = (version: number, status: 'active' | 'draft' | 'superseded', name = 'f'): Row => ({
  kind: 'Flow',
  name,
  version,
  hash: `h-${name}-${version}`,
  active: status === 'active',
  activatedAt: status === 'draft' ? null : new Date(version * 1000),
});

test('keeps the newest N, the active version and drafts newer than it', () => {
  const rows = [
    row(1, 'superseded'),
    row(2, 'draft'),
    row(3, 'active'),
    row(4, 'superseded'),
    row(5, 'draft'),
    row(6, 'draft'),
  ];
  expect(selectPrunable(rows, 1).map((c) => c.version)).toEqual([4, 2, 1]);
  expect(selectPrunable(rows, 5).map((c) => c.version)).toEqual([1]);
  expect(selectPrunable(rows, 10)).toEqual([]);
});

test('definitions are counted apart; with none active, drafts all stay', () => {
  const rows = [
    row(1, 'draft', 'a'),
    row(2, 'draft', 'a'),
    row(1, 'superseded', 'b'),
    row(2, 'active', 'b'),
  ];
  expect(selectPrunable(rows, 1)).toEqual([{ kind: 'Flow', name: 'b', version: 1, hash: 'h-b-1' }]);
});

test('for any history: the newest N, the active version and newer drafts are never chosen', () => {
  const history = fc
    .array(fc.constantFrom<'draft' | 'superseded'>('draft', 'superseded'), { maxLength: 30 })
    .chain((statuses) =>
      fc.record({
        statuses: fc.constant(statuses),
        active: fc.option(fc.nat({ max: Math.max(0, statuses.length - 1) }), { nil: undefined }),
        keep: fc.integer({ min: 1, max: 12 }),
      }),
    );
  fc.assert(
    fc.property(history, ({ statuses, active, keep }) => {
      const rows = statuses.map((s, i) => row(i + 1, active === i ? 'active' : s));
      const chosen = new Set(selectPrunable(rows, keep).map((c) => c.version));
      const newest = rows.length;
      for (const r of rows) {
        if (r.version > newest - keep) expect(chosen.has(r.version)).toBe(false);
        if (r.active) expect(chosen.has(r.version)).toBe(false);
        const activeVersion = active === undefined ? undefined : active + 1;
        if (!r.activatedAt && (activeVersion === undefined || r.version > activeVersion))
          expect(chosen.has(r.version)).toBe(false);
        // everything else beyond the newest N goes
        if (
          r.version <= newest - keep &&
          !r.active &&
          (r.activatedAt || (activeVersion !== undefined && r.version < activeVersion))
        )
          expect(chosen.has(r.version)).toBe(true);
      }
    }),
    { numRuns: 300 },
  );
});
