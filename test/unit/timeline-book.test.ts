/**
 * The rules of a person's timeline (TimelineBook), without Temporal: events start in
 * acceptance order, one after another unless a later event's policy runs alongside; a later
 * event cancels or supersedes what it names; duplicates take no second place; an event that
 * is never decided is abandoned and a late decision takes its place at the end. A property
 * test drives random timelines and checks the ordering guarantee on every one.
 */
import fc from 'fast-check';
import type { PendingAction } from '../../src/dsl/ir';
import type { TimelineDecision, TimelineEntry } from '../../src/temporal/contracts';
import { keyOf, RECENT_KEYS, type TimelineCarry, TimelineBook } from '../../src/timeline/book';

const AT = '2026-12-06T00:00:00.000Z';

function decision(
  id: string,
  type: string,
  pending: Record<string, PendingAction> = {},
  runs = 1,
): TimelineDecision {
  return {
    source: 'hr',
    id,
    type,
    pending,
    runs: Array.from({ length: runs }, (_, i) => ({
      flow: `f${i}`,
      workflowId: `flow/f${i}/p/${id}`,
      hash: 'h',
      summary: 's',
      input: {} as never,
    })),
  };
}

/** Starts whatever may start, as the workflow does; returns the ids started. */
function step(book: TimelineBook): string[] {
  book.sweep();
  const ready = book.ready();
  ready.forEach((e) => book.start(e, AT));
  return ready.map((e) => e.id);
}

const entry = (book: TimelineBook, id: string) =>
  book.snapshot('p').entries.find((e) => e.id === id);

test('events start one after another in acceptance order, whatever order their decisions come in', () => {
  const book = new TimelineBook();
  for (const id of ['a', 'b', 'c']) book.accept({ source: 'hr', id, type: 'person.mover' }, AT);
  book.decide(decision('c', 'person.mover'), AT);
  book.decide(decision('b', 'person.mover'), AT);
  expect(step(book)).toEqual([]); // a is not decided: nothing after it starts
  book.decide(decision('a', 'person.mover'), AT);
  expect(step(book)).toEqual(['a']);
  expect(step(book)).toEqual([]);
  const running = (id: string) =>
    (book as unknown as { entries: TimelineEntry[] }).entries.find(
      (e) => e.id === id,
    ) as TimelineEntry;
  book.finish(running('a'), [], AT);
  expect(step(book)).toEqual(['b']);
  book.finish(running('b'), [], AT);
  expect(step(book)).toEqual(['c']);
  expect(book.notes.map((n) => `${n.what}:${n.entry.id}`)).toEqual([
    'accepted:a',
    'accepted:b',
    'accepted:c',
    'started:a',
    'finished:a',
    'started:b',
    'finished:b',
    'started:c',
  ]);
  expect(book.snapshot('p').entries.map((e) => e.seq)).toEqual([3]);
});

test('a decision without an accept takes its place when it comes; the accept after it is no second place', () => {
  const book = new TimelineBook();
  book.decide(decision('a', 'person.mover'), AT);
  expect(book.accept({ source: 'hr', id: 'a', type: 'person.mover' }, AT)?.seq).toBe(1);
  expect(book.snapshot('p').entries).toHaveLength(1);
  expect(step(book)).toEqual(['a']);
});

test('a duplicate accept or decision changes nothing, also once the event has finished', () => {
  const book = new TimelineBook();
  book.accept({ source: 'hr', id: 'a', type: 't' }, AT);
  book.decide(decision('a', 't'), AT);
  book.decide(decision('a', 't', { '*': 'cancel' }), AT);
  expect(step(book)).toEqual(['a']);
  const [a] = (book as unknown as { entries: TimelineEntry[] }).entries;
  book.finish(a as TimelineEntry, [{ workflowId: 'w', status: 'Completed' }], AT);
  book.sweep();
  expect(book.accept({ source: 'hr', id: 'a', type: 't' }, AT)).toBeUndefined();
  expect(book.decide(decision('a', 't'), AT)).toEqual([]);
  expect(book.snapshot('p')).toMatchObject({ entries: [], recent: ['hr/a'], finishedInThisRun: 1 });
});

test('cancel and supersede stop what they name: a running event gets a stop order with the reason, a waiting one never starts', () => {
  const book = new TimelineBook();
  book.decide(decision('leave', 'person.leaver'), AT);
  step(book);
  book.accept({ source: 'hr', id: 'mover', type: 'person.mover' }, AT);
  book.decide(decision('mover', 'person.mover'), AT);
  const orders = book.decide(
    decision('back', 'person.reactivation', {
      'person.leaver': 'cancel',
      'person.mover': 'supersede',
    }),
    AT,
  );
  expect(orders.map((o) => [o.entry.id, o.action, o.reason])).toEqual([
    ['leave', 'cancel', 'cancelled by person.reactivation hr/back'],
  ]);
  expect(entry(book, 'mover')).toMatchObject({
    state: 'cancelled',
    cancel: { action: 'supersede', by: 'hr/back' },
  });
  // the cancelled leaver still holds the timeline until its runs have stopped
  expect(step(book)).toEqual([]);
  const leave = (book as unknown as { entries: TimelineEntry[] }).entries[0] as TimelineEntry;
  book.finish(leave, [{ workflowId: 'w', status: 'Cancelled' }], AT);
  expect(step(book)).toEqual(['back']);
  // a second cancel of the same event is no second order
  expect(book.decide(decision('again', 't', { '*': 'cancel' }), AT).map((o) => o.entry.id)).toEqual(
    ['back'],
  );
});

test('alongside starts next to what it names and still waits for everything else', () => {
  const book = new TimelineBook();
  book.decide(decision('leave', 'person.leaver'), AT);
  book.decide(decision('note', 'test.note'), AT);
  book.decide(decision('move', 'person.mover', { 'person.leaver': 'alongside' }), AT);
  book.decide(decision('alert', 'security.alert', { '*': 'alongside' }), AT);
  expect(step(book)).toEqual(['leave', 'alert']);
  const byId = (id: string) =>
    (book as unknown as { entries: TimelineEntry[] }).entries.find(
      (e) => e.id === id,
    ) as TimelineEntry;
  book.finish(byId('leave'), [], AT);
  expect(step(book)).toEqual(['note']);
  book.finish(byId('note'), [], AT);
  expect(step(book)).toEqual(['move']);
});

test('an event never decided is abandoned; its late decision takes a place at the end', () => {
  const book = new TimelineBook();
  book.accept({ source: 'hr', id: 'ghost', type: 't' }, AT);
  book.decide(decision('next', 't'), AT);
  expect(step(book)).toEqual([]);
  const ghost = book.undecided() as TimelineEntry;
  expect(ghost.id).toBe('ghost');
  book.abandon(ghost, AT);
  book.abandon(ghost, AT); // once
  expect(step(book)).toEqual(['next']);
  expect(book.undecided()).toBeUndefined();
  book.decide(decision('ghost', 't'), AT);
  expect(book.snapshot('p').entries.map((e) => [e.id, e.seq, e.state])).toEqual([
    ['next', 2, 'running'],
    ['ghost', 3, 'decided'],
  ]);
  expect(book.notes.filter((n) => n.what === 'abandoned')).toHaveLength(1);
});

test('a book carried over keeps its numbering, its events and what it has seen', () => {
  const book = new TimelineBook();
  book.decide(decision('a', 't'), AT);
  book.accept({ source: 'hr', id: 'b', type: 't' }, AT);
  step(book);
  const next = new TimelineBook(JSON.parse(JSON.stringify(book.carry())) as never);
  expect(next.accept({ source: 'hr', id: 'c', type: 't' }, AT)?.seq).toBe(3);
  expect(next.accept({ source: 'hr', id: 'b', type: 't' }, AT)?.seq).toBe(2);
  expect(next.running()).toBe(true);
});

test('recently finished keys are bounded', () => {
  const book = new TimelineBook();
  for (let i = 0; i < RECENT_KEYS + 10; i++) {
    book.decide(decision(`e${i}`, 't', {}, 0), AT);
    step(book);
    const [e] = (book as unknown as { entries: TimelineEntry[] }).entries;
    book.finish(e as TimelineEntry, [], AT);
  }
  book.sweep();
  const { recent } = book.snapshot('p');
  expect(recent).toHaveLength(RECENT_KEYS);
  expect(recent[0]).toBe('hr/e10');
});

/** One thing that happens to a timeline, as a property test draws them. */
type Op =
  | {
      op: 'event';
      type: number;
      pending: Array<[number | '*', PendingAction]>;
      acceptFirst: boolean;
    }
  | { op: 'finish'; pick: number }
  | { op: 'abandon' };

const TYPES = ['person.joiner', 'person.mover', 'person.leaver', 'person.reactivation'];

test('property: an event starts only after every earlier event it does not run alongside has finished or been stopped', () => {
  const action = fc.constantFrom<PendingAction>('queue', 'supersede', 'cancel', 'alongside');
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      op: fc.constant('event' as const),
      type: fc.nat(TYPES.length - 1),
      pending: fc.array(
        fc.tuple(fc.oneof(fc.nat(TYPES.length - 1), fc.constant('*' as const)), action),
        {
          maxLength: 3,
        },
      ),
      acceptFirst: fc.boolean(),
    }),
    fc.record({ op: fc.constant('finish' as const), pick: fc.nat(5) }),
    fc.record({ op: fc.constant('abandon' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const book = new TimelineBook();
      const all: TimelineEntry[] = [];
      const order: string[] = [];
      let n = 0;
      for (const o of ops) {
        if (o.op === 'event') {
          const id = `e${n++}`;
          const type = TYPES[o.type] as string;
          const pending = Object.fromEntries(
            o.pending.map(([k, a]) => [k === '*' ? '*' : (TYPES[k] as string), a]),
          );
          if (o.acceptFirst) book.accept({ source: 'hr', id, type }, AT);
          book.decide(decision(id, type, pending), AT);
        } else if (o.op === 'finish') {
          const running = all.filter((e) => e.state === 'running');
          const e = running[o.pick % Math.max(1, running.length)];
          if (e) book.finish(e, [], AT);
        } else {
          const u = book.undecided();
          if (u) book.abandon(u, AT);
        }
        book.sweep();
        for (const e of book.ready()) {
          // every earlier event still unfinished must be one this event runs alongside
          for (const earlier of all) {
            if (earlier.seq >= e.seq) continue;
            if (earlier.state === 'done' || earlier.state === 'cancelled') continue;
            const pending = e.decision?.pending ?? {};
            const act = pending[earlier.type] ?? pending['*'] ?? 'queue';
            if (act !== 'alongside') return false;
          }
          book.start(e, AT);
          order.push(e.id);
        }
        for (const note of book.notes.splice(0)) if (note.what === 'accepted') all.push(note.entry);
      }
      // nothing starts twice; accepted numbering has no gaps
      return (
        new Set(order).size === order.length &&
        all.every((e, i) => e.seq === i + 1) &&
        all.every((e) => keyOf(e) === `hr/${e.id}`)
      );
    }),
    { numRuns: 300 },
  );
});

/** The entry a book holds for an id (the object its methods take). */
const held = (book: TimelineBook, id: string): TimelineEntry =>
  (book as unknown as { entries: TimelineEntry[] }).entries.find(
    (e) => e.id === id,
  ) as TimelineEntry;

test('a decision stops only events accepted before it, never itself nor what came after', () => {
  const book = new TimelineBook();
  book.accept({ source: 'hr', id: 'a', type: 't' }, AT);
  book.accept({ source: 'hr', id: 'b', type: 't' }, AT);
  expect(book.decide(decision('a', 't', { '*': 'cancel' }), AT)).toEqual([]);
  expect(book.decide(decision('c', 't', { '*': 'cancel' }), AT)).toEqual([]);
  expect(book.snapshot('p').entries.map((e) => [e.id, e.state, e.cancel?.by])).toEqual([
    ['a', 'cancelled', 'hr/c'],
    ['b', 'cancelled', 'hr/c'],
    ['c', 'decided', undefined],
  ]);
  expect(book.notes.filter((n) => n.what === 'cancelled').map((n) => n.entry.id)).toEqual([
    'a',
    'b',
  ]);
});

test('an event already finished or already stopped gets no second stop', () => {
  const book = new TimelineBook();
  book.decide(decision('done', 't'), AT);
  book.decide(decision('run', 't', { t: 'alongside' }), AT);
  step(book);
  book.finish(held(book, 'done'), [], AT); // finished, not swept yet
  const first = book.decide(decision('x', 'u', { t: 'supersede' }), AT);
  expect(first.map((o) => [o.entry.id, o.action, o.reason])).toEqual([
    ['run', 'supersede', 'superseded by u hr/x'],
  ]);
  expect(book.decide(decision('y', 'u', { '*': 'cancel' }), AT).map((o) => o.entry.id)).toEqual([]);
  expect(held(book, 'done')).toMatchObject({ state: 'done' });
  expect(held(book, 'done').cancel).toBeUndefined();
  expect(held(book, 'run')).toMatchObject({ state: 'running', cancel: { by: 'hr/x' } });
  expect(held(book, 'x')).toMatchObject({ state: 'cancelled', cancel: { by: 'hr/y' } });
});

test.each<[PendingAction, string]>([
  ['cancel', 'cancelled by person.reactivation hr/r'],
  ['supersede', 'superseded by person.reactivation hr/r'],
])('a running event stopped by %s is told why', (action, reason) => {
  const book = new TimelineBook();
  book.decide(decision('l', 'person.leaver'), AT);
  step(book);
  const [order] = book.decide(decision('r', 'person.reactivation', { '*': action }), AT);
  expect(order).toMatchObject({ action, reason, entry: { id: 'l' }, by: { id: 'r' } });
});

test('a late decision that comes before the abandoned event is cleared away still takes its place at the end', () => {
  const book = new TimelineBook();
  book.decide(decision('old', 't', {}, 0), AT);
  step(book);
  book.finish(held(book, 'old'), [], AT);
  book.sweep();
  book.accept({ source: 'hr', id: 'ghost', type: 't' }, AT);
  book.decide(decision('next', 't', { '*': 'alongside' }), AT);
  book.abandon(held(book, 'ghost'), AT);
  book.decide(decision('ghost', 't'), AT); // not swept in between
  expect(book.snapshot('p').entries.map((e) => [e.id, e.seq, e.state])).toEqual([
    ['next', 3, 'decided'],
    ['ghost', 4, 'decided'],
  ]);
  expect(book.snapshot('p').recent).toEqual(['hr/old']);
  expect(book.accept({ source: 'hr', id: 'old', type: 't' }, AT)).toBeUndefined();
});

test('a book carried over still knows what it abandoned and what it finished', () => {
  const book = new TimelineBook();
  book.decide(decision('old', 't', {}, 0), AT);
  step(book);
  book.finish(held(book, 'old'), [], AT);
  book.accept({ source: 'hr', id: 'ghost', type: 't' }, AT);
  book.abandon(held(book, 'ghost'), AT);
  book.sweep();
  const carried = JSON.parse(JSON.stringify(book.carry())) as TimelineCarry;
  expect(carried).toEqual({
    nextSeq: 3,
    entries: [],
    recent: ['hr/old', 'hr/ghost'],
    abandoned: ['hr/ghost'],
  });
  const next = new TimelineBook(carried);
  expect(next.accept({ source: 'hr', id: 'old', type: 't' }, AT)).toBeUndefined();
  next.decide(decision('ghost', 't'), AT);
  expect(next.snapshot('p').entries.map((e) => [e.id, e.seq, e.state])).toEqual([
    ['ghost', 3, 'decided'],
  ]);
  expect(next.snapshot('p').recent).toEqual(['hr/old']);
});

test('a new book carries nothing', () => {
  expect(new TimelineBook().carry()).toEqual({
    nextSeq: 1,
    entries: [],
    recent: [],
    abandoned: [],
  });
});

test('the snapshot names the runs of decided events and none for undecided ones', () => {
  const book = new TimelineBook();
  book.accept({ source: 'hr', id: 'u', type: 't' }, AT);
  book.decide(decision('d', 't', {}, 2), AT);
  expect(book.snapshot('p').entries.map((e) => [e.id, e.runs])).toEqual([
    ['u', []],
    ['d', ['flow/f0/p/d', 'flow/f1/p/d']],
  ]);
  expect(book.snapshot('p').entries[1]).not.toHaveProperty('decision');
});

test('an entry the book does not hold never starts', () => {
  const other = new TimelineBook();
  other.decide(decision('a', 't'), AT);
  const book = new TimelineBook();
  expect(book.startable(held(other, 'a'))).toBe(false);
  expect(other.startable(held(other, 'a'))).toBe(true);
});

test.each<
  [string, (book: TimelineBook) => void, { due: boolean; busy: boolean; running: boolean }]
>([
  ['empty', () => undefined, { due: false, busy: false, running: false }],
  [
    'accepted only',
    (b) => b.accept({ source: 'hr', id: 'a', type: 't' }, AT),
    { due: false, busy: true, running: false },
  ],
  ['decided', (b) => b.decide(decision('a', 't'), AT), { due: true, busy: true, running: false }],
  [
    'decided behind an undecided one',
    (b) => {
      b.accept({ source: 'hr', id: 'a', type: 't' }, AT);
      b.decide(decision('b', 't'), AT);
    },
    { due: false, busy: true, running: false },
  ],
  [
    'running',
    (b) => {
      b.decide(decision('a', 't'), AT);
      b.start(held(b, 'a'), AT);
    },
    { due: false, busy: true, running: true },
  ],
  [
    'finished, not cleared away',
    (b) => {
      b.decide(decision('a', 't'), AT);
      b.start(held(b, 'a'), AT);
      b.finish(held(b, 'a'), [], AT);
    },
    { due: true, busy: true, running: false },
  ],
  [
    'abandoned, not cleared away',
    (b) => {
      b.accept({ source: 'hr', id: 'a', type: 't' }, AT);
      b.abandon(held(b, 'a'), AT);
    },
    { due: true, busy: true, running: false },
  ],
  [
    'finished and cleared away',
    (b) => {
      b.decide(decision('a', 't'), AT);
      b.start(held(b, 'a'), AT);
      b.finish(held(b, 'a'), [], AT);
      b.sweep();
    },
    { due: false, busy: false, running: false },
  ],
])('a book %s: due, busy and running say so', (_, setup, expected) => {
  const book = new TimelineBook();
  setup(book);
  expect({ due: book.due(), busy: book.busy(), running: book.running() }).toEqual(expected);
});

test("the decision's event type is the entry's, whatever the accept said", () => {
  const book = new TimelineBook();
  book.accept({ source: 'hr', id: 'a', type: 'person.mover' }, AT);
  book.decide(decision('a', 'person.leaver'), AT);
  expect(book.snapshot('p').entries[0]?.type).toBe('person.leaver');
  // so a later reactivation's cancel of leavers reaches it
  const orders = book.decide(
    decision('b', 'person.reactivation', { 'person.leaver': 'cancel' }),
    AT,
  );
  expect(orders).toEqual([]);
  expect(book.snapshot('p').entries[0]).toMatchObject({ state: 'cancelled' });
});

test('abandoned keys are bounded like recent ones', () => {
  const book = new TimelineBook();
  for (let i = 0; i < RECENT_KEYS + 5; i++) {
    book.accept({ source: 'hr', id: `g${i}`, type: 't' }, AT);
    book.abandon(book.undecided() as TimelineEntry, AT);
    book.sweep();
  }
  const { abandoned } = book.carry();
  expect(abandoned).toHaveLength(RECENT_KEYS);
  expect(abandoned[0]).toBe('hr/g5');
});
