/**
 * Aggregated audit rows (refused and replayed webhook deliveries): one row per key per
 * interval with its count, first and last instants and a few samples; a bounded number of
 * keys, the rest in one overflow row per action; a failed write keeps the counts.
 */
import { AuditTally } from '../../src/audit/tally';
import type { AuditEntry } from '../../src/db/repos/audit';

const entry = (target: string): AuditEntry => ({
  actor: 'anonymous',
  action: 'webhook.refused',
  target,
  outcome: 'refused',
  detail: { reason: 'forged' },
});

function tally(options: Partial<ConstructorParameters<typeof AuditTally>[0]> = {}) {
  const written: AuditEntry[][] = [];
  let now = Date.UTC(2026, 11, 6, 10, 0, 0);
  const t = new AuditTally({
    write: (rows) => {
      written.push(rows);
      return Promise.resolve();
    },
    now: () => now,
    intervalMs: 3_600_000,
    ...options,
  });
  return { t, written, tick: (ms: number) => (now += ms) };
}

describe('AuditTally', () => {
  test('counts by key, keeps the first and last instants and distinct samples, up to the cap', async () => {
    const { t, written, tick } = tally({ maxSamples: 3, samplesAs: 'webhookIds' });
    for (let i = 0; i < 10; i++) {
      t.record('a', entry('source:a'), `id-${i % 5}`);
      tick(1000);
    }
    t.record('b', entry('source:b'));
    t.record('a', entry('source:a'), 'id-0');
    expect(t.size).toBe(2);
    expect(await t.flush()).toBe(2);
    expect(written).toEqual([
      [
        {
          ...entry('source:a'),
          detail: {
            reason: 'forged',
            count: 11,
            firstAt: '2026-12-06T10:00:00.000Z',
            lastAt: '2026-12-06T10:00:10.000Z',
            webhookIds: ['id-0', 'id-1', 'id-2'],
          },
        },
        {
          ...entry('source:b'),
          detail: {
            reason: 'forged',
            count: 1,
            firstAt: '2026-12-06T10:00:10.000Z',
            lastAt: '2026-12-06T10:00:10.000Z',
          },
        },
      ],
    ]);
    expect(t.size).toBe(0);
    expect(await t.flush()).toBe(0);
    expect(written).toHaveLength(1);
  });

  test('beyond maxKeys, new keys are counted in one overflow row per action', async () => {
    const { t, written } = tally({ maxKeys: 2 });
    for (let i = 0; i < 50; i++) t.record(`k${i}`, entry(`source:s${i}`), `id-${i}`);
    t.record('k0', entry('source:s0'));
    t.record('r', { ...entry('source:x'), action: 'webhook.replayed', outcome: 'unchanged' });
    expect(t.size).toBe(4);
    await t.close();
    const rows = written[0]!;
    expect(rows.map((r) => [r.action, r.target, r.detail?.count])).toEqual([
      ['webhook.refused', 'source:s0', 2],
      ['webhook.refused', 'source:s1', 1],
      ['webhook.refused', '*', 48],
      ['webhook.replayed', '*', 1],
    ]);
    expect(rows[2]!.detail).toMatchObject({ overflow: true });
    expect(rows[2]!.detail).not.toHaveProperty('samples');
  });

  test('a failed write keeps every count for the next one, and says so', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const written: AuditEntry[][] = [];
    const t = new AuditTally({
      write: (rows) => {
        if (fail) return Promise.reject(new Error('database down'));
        written.push(rows);
        return Promise.resolve();
      },
      onError: (err) => errors.push(err),
      maxKeys: 1,
      intervalMs: 3_600_000,
    });
    t.record('a', entry('source:a'), 'x');
    t.record('b', entry('source:b'), 'y');
    expect(await t.flush()).toBe(0);
    expect(errors).toHaveLength(1);
    t.record('a', entry('source:a'), 'z');
    fail = false;
    expect(await t.flush()).toBe(2);
    expect(written[0]!.map((r) => [r.target, r.detail?.count, r.detail?.samples])).toEqual([
      ['source:a', 2, ['x', 'z']],
      ['*', 1, undefined],
    ]);
  });

  test('writes on its own once the interval has passed', async () => {
    const written: AuditEntry[][] = [];
    const t = new AuditTally({
      write: (rows) => {
        written.push(rows);
        return Promise.resolve();
      },
      intervalMs: 20,
    });
    t.record('a', entry('source:a'));
    expect(written).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(written).toHaveLength(1);
    await t.close();
  });
});
