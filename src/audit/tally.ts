/**
 * Audit rows for things that may come in floods (refused or replayed webhook deliveries),
 * counted in memory and written once per interval: one row per key per interval with how
 * many it stands for, when the first and last came, and a few sample ids. A flood costs a
 * counter increment per request, not a row; at most `maxKeys` keys are held, and whatever
 * comes beyond them is counted in one overflow row per action.
 */
import type { AuditEntry } from '../db/repos/audit';

interface Tally {
  entry: AuditEntry;
  count: number;
  firstAt: number;
  lastAt: number;
  samples: string[];
  overflow: boolean;
}

export interface AuditTallyOptions {
  /** Writes the rows (appendAudit on the process's database). */
  write: (entries: AuditEntry[]) => Promise<void>;
  /** How long rows are gathered before they are written (default 60 s). */
  intervalMs?: number;
  /** Distinct keys held at most (default 1000). */
  maxKeys?: number;
  /** Distinct samples a row keeps (default 10). */
  maxSamples?: number;
  /** The detail field the samples are written under (default `samples`). */
  samplesAs?: string;
  /** Told when a write fails; the counts are kept for the next interval. */
  onError?: (err: unknown) => void;
  /**
   * The overflow key and row an entry beyond `maxKeys` is counted in (default: one per action,
   * target `*`, detail `{ overflow: true }`). Given an overflow row, it must answer its own key.
   */
  overflowOf?: (entry: AuditEntry) => { key: string; entry: AuditEntry };
  now?: () => number;
}

/** One overflow row per action, naming nothing beyond it. */
function overflowByAction(entry: AuditEntry): { key: string; entry: AuditEntry } {
  return {
    key: entry.action,
    entry: {
      actor: entry.actor,
      action: entry.action,
      target: '*',
      outcome: entry.outcome,
      detail: { overflow: true },
    },
  };
}

/** Gathers rows by key and writes them, with their counts, once per interval and on close. */
export class AuditTally {
  private tallies = new Map<string, Tally>();
  private ownKeys = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly options: AuditTallyOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Keys held now. */
  get size(): number {
    return this.tallies.size;
  }

  /**
   * Counts one occurrence of the row `entry` under `key` (the same key, the same row: only the
   * first entry of an interval is kept), with an optional sample id.
   */
  record(key: string, entry: AuditEntry, sample?: string): void {
    const at = this.now();
    this.add(key, { entry, count: 1, firstAt: at, lastAt: at, samples: sample ? [sample] : [] });
  }

  private add(key: string, t: Omit<Tally, 'overflow'> & { overflow?: boolean }): void {
    const overflowOf = this.options.overflowOf ?? overflowByAction;
    let overflow = t.overflow ?? false;
    let k = overflow ? `overflow:${overflowOf(t.entry).key}` : `key:${key}`;
    if (!overflow && !this.tallies.has(k) && this.ownKeys >= (this.options.maxKeys ?? 1000)) {
      overflow = true;
      k = `overflow:${overflowOf(t.entry).key}`;
    }
    const held = this.tallies.get(k);
    if (held) {
      held.count += t.count;
      held.firstAt = Math.min(held.firstAt, t.firstAt);
      held.lastAt = Math.max(held.lastAt, t.lastAt);
      for (const s of held.overflow ? [] : t.samples)
        if (held.samples.length < (this.options.maxSamples ?? 10) && !held.samples.includes(s))
          held.samples.push(s);
    } else {
      const entry: AuditEntry = overflow ? overflowOf(t.entry).entry : t.entry;
      const samples = overflow ? [] : t.samples.slice(0, this.options.maxSamples ?? 10);
      this.tallies.set(k, { ...t, entry, samples, overflow });
      if (!overflow) this.ownKeys++;
    }
    this.timer ??= setTimeout(() => void this.flush(), this.options.intervalMs ?? 60_000).unref();
  }

  /** The row a tally becomes: its entry, with the count, the instants and the samples. */
  private rowOf(t: Tally): AuditEntry {
    return {
      ...t.entry,
      detail: {
        ...t.entry.detail,
        count: t.count,
        firstAt: new Date(t.firstAt).toISOString(),
        lastAt: new Date(t.lastAt).toISOString(),
        ...(t.samples.length ? { [this.options.samplesAs ?? 'samples']: t.samples } : {}),
      },
    };
  }

  /**
   * Writes the rows gathered so far (one write at a time) and answers how many it wrote; a
   * failed write keeps the counts for the next interval.
   */
  flush(): Promise<number> {
    const run = this.writing.then(async () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      const held = [...this.tallies.entries()];
      this.tallies = new Map();
      this.ownKeys = 0;
      if (held.length === 0) return 0;
      try {
        await this.options.write(held.map(([, t]) => this.rowOf(t)));
        return held.length;
      } catch (err) {
        this.options.onError?.(err);
        for (const [k, t] of held) this.add(k.replace(/^key:/, ''), t);
        return 0;
      }
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Writes what is left (before the database closes). */
  async close(): Promise<void> {
    await this.flush();
  }
}
