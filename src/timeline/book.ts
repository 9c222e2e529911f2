/**
 * The book of one person's timeline: which of the person's events may start now, which a later
 * event stops, and what the timeline must record, in acceptance order. Pure and sandbox-safe:
 * the `personTimeline` workflow keeps one and turns its answers into Temporal commands (child
 * runs started, runs cancelled, audit rows written); the rules live here, tested on their own.
 *
 * The rules: an event takes its place when it is first accepted (or, failing that, decided);
 * a decided event starts once every earlier event not yet finished is one its policy runs
 * `alongside`; its decision stops earlier unfinished events its policy `cancel`s or
 * `supersede`s (never started: they never start; running: their runs are cancelled, and they
 * still hold the timeline until those have stopped); an event accepted but never decided is
 * abandoned after a while, and a decision that comes after all takes a place at the end.
 */
import type { PendingAction } from '../dsl/ir';
import { pendingAction } from '../policy/pending';
import type {
  TimelineAccept,
  TimelineDecision,
  TimelineEntry,
  TimelineState,
} from '../temporal/contracts';

/** Keys of finished events kept to recognise duplicates. */
export const RECENT_KEYS = 200;

/** A transition of an event on the timeline, for the audit log. */
export interface TimelineNote {
  what: 'accepted' | 'started' | 'finished' | 'cancelled' | 'abandoned';
  entry: TimelineEntry;
}

/** A running event a later event stops: the workflow cancels its runs, giving the reason. */
export interface StopOrder {
  entry: TimelineEntry;
  action: Extract<PendingAction, 'cancel' | 'supersede'>;
  by: TimelineEntry;
  reason: string;
}

/** What a timeline carries into its next run (continue-as-new). */
export interface TimelineCarry {
  nextSeq: number;
  entries: TimelineEntry[];
  recent: string[];
  abandoned: string[];
}

export const keyOf = (e: { source: string; id: string }): string => `${e.source}/${e.id}`;

/** Whether an event still holds (or may yet hold) the person's timeline. */
export const unfinished = (e: TimelineEntry): boolean =>
  e.state !== 'done' && e.state !== 'cancelled';

export class TimelineBook {
  private nextSeq: number;
  private readonly entries: TimelineEntry[];
  private readonly recent: string[];
  private readonly abandoned: Set<string>;
  /** Transitions not written yet, in the order they happened. */
  readonly notes: TimelineNote[] = [];
  /** Events finished (or stopped) since this book was opened. */
  finished = 0;

  constructor(carry: Partial<TimelineCarry> = {}) {
    this.nextSeq = carry.nextSeq ?? 1;
    this.entries = [...(carry.entries ?? [])];
    this.recent = [...(carry.recent ?? [])];
    this.abandoned = new Set(carry.abandoned ?? []);
  }

  private find(key: string): TimelineEntry | undefined {
    return this.entries.find((e) => keyOf(e) === key);
  }

  private note(what: TimelineNote['what'], entry: TimelineEntry): void {
    this.notes.push({ what, entry });
  }

  /**
   * Gives an event its place, once: the same event again (held, or finished recently) is the
   * entry it already has, or undefined when it has finished.
   */
  accept(event: TimelineAccept, at: string): TimelineEntry | undefined {
    const key = keyOf(event);
    const held = this.find(key);
    if (held || this.recent.includes(key)) return held;
    const entry: TimelineEntry = {
      source: event.source,
      id: event.id,
      type: event.type,
      seq: this.nextSeq++,
      state: 'accepted',
      acceptedAt: at,
    };
    this.entries.push(entry);
    this.note('accepted', entry);
    return entry;
  }

  /**
   * Records an event's decision and stops the earlier events its policy cancels or supersedes.
   * Returns the running ones among them: their runs must be cancelled.
   */
  decide(decision: TimelineDecision, at: string): StopOrder[] {
    const key = keyOf(decision);
    if (this.abandoned.delete(key)) {
      // decided after all: it takes a place at the end
      const i = this.recent.indexOf(key);
      if (i >= 0) this.recent.splice(i, 1);
      const held = this.find(key);
      if (held) this.entries.splice(this.entries.indexOf(held), 1);
    }
    const entry = this.accept(decision, at);
    if (!entry || entry.decision || !unfinished(entry)) return []; // a duplicate, or stopped
    entry.decision = decision;
    entry.type = decision.type; // the dispatch's event is the event; an accept only held its place
    entry.state = entry.state === 'accepted' ? 'decided' : entry.state;
    const orders: StopOrder[] = [];
    for (const earlier of this.entries) {
      if (earlier === entry) break;
      if (!unfinished(earlier) || earlier.cancel) continue;
      const action = pendingAction(decision.pending, earlier.type);
      if (action !== 'cancel' && action !== 'supersede') continue;
      earlier.cancel = { action, by: key };
      this.note('cancelled', earlier);
      if (earlier.state === 'running') {
        const verb = action === 'cancel' ? 'cancelled' : 'superseded';
        orders.push({
          entry: earlier,
          action,
          by: entry,
          reason: `${verb} by ${entry.type} ${key}`,
        });
      } else {
        earlier.state = 'cancelled';
        earlier.finishedAt = at;
      }
    }
    return orders;
  }

  /** Whether the event may start now: decided, and every earlier unfinished event alongside. */
  startable(entry: TimelineEntry): boolean {
    if (entry.state !== 'decided' || !entry.decision) return false;
    for (const earlier of this.entries) {
      if (earlier === entry) return true;
      if (
        unfinished(earlier) &&
        pendingAction(entry.decision.pending, earlier.type) !== 'alongside'
      )
        return false;
    }
    return false;
  }

  /** The events that may start now, in acceptance order. */
  ready(): TimelineEntry[] {
    return this.entries.filter((e) => this.startable(e));
  }

  start(entry: TimelineEntry, at: string): void {
    entry.state = 'running';
    entry.startedAt = at;
    this.note('started', entry);
  }

  finish(entry: TimelineEntry, outcomes: TimelineEntry['outcomes'], at: string): void {
    entry.outcomes = outcomes;
    entry.state = 'done';
    entry.finishedAt = at;
    this.note('finished', entry);
  }

  /** The oldest event still waiting for its decision. */
  undecided(): TimelineEntry | undefined {
    return this.entries.find((e) => e.state === 'accepted');
  }

  /** An event whose decision did not come in time stops holding the timeline. */
  abandon(entry: TimelineEntry, at: string): void {
    if (entry.state !== 'accepted') return;
    this.abandoned.add(keyOf(entry));
    if (this.abandoned.size > RECENT_KEYS) {
      const [oldest] = this.abandoned;
      if (oldest !== undefined) this.abandoned.delete(oldest);
    }
    entry.state = 'cancelled';
    entry.finishedAt = at;
    this.note('abandoned', entry);
  }

  /** Whether any event's runs are running. */
  running(): boolean {
    return this.entries.some((e) => e.state === 'running');
  }

  /** Whether there is anything to do: an event to start, or finished ones to clear away. */
  due(): boolean {
    return this.entries.some((e) => !unfinished(e) || this.startable(e));
  }

  /** Clears finished and stopped events away; their keys stay for a while. */
  sweep(): void {
    for (let i = 0; i < this.entries.length;) {
      const entry = this.entries[i] as TimelineEntry;
      if (unfinished(entry)) {
        i++;
        continue;
      }
      this.entries.splice(i, 1);
      this.recent.push(keyOf(entry));
      this.finished++;
    }
    if (this.recent.length > RECENT_KEYS) this.recent.splice(0, this.recent.length - RECENT_KEYS);
  }

  /** Whether events are held (for the timeline's status). */
  busy(): boolean {
    return this.entries.length > 0;
  }

  snapshot(personId: string): TimelineState {
    return {
      personId,
      entries: this.entries.map(({ decision, ...rest }) => ({
        ...rest,
        runs: decision?.runs.map((r) => r.workflowId) ?? [],
      })),
      recent: [...this.recent],
      finishedInThisRun: this.finished,
    };
  }

  carry(): TimelineCarry {
    return {
      nextSeq: this.nextSeq,
      entries: this.entries,
      recent: this.recent,
      abandoned: [...this.abandoned],
    };
  }
}
