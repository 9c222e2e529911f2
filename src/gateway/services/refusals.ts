/**
 * Refused requests, counted in memory and written to the audit trail in the background: one
 * `request.refused` row per (reason, status, method, route, token or `unknown`, source) per
 * interval, with how many requests it stands for. A flood of made-up tokens costs a counter
 * increment each, not a row each; at most `maxKeys` distinct keys are held, and refusals
 * beyond them are counted in one overflow row per reason and status.
 */
import type { AuditEntry } from '../../db/repos/audit';

/** One refused request as the gateway saw it: no credential, no raw URL. */
export interface Refusal {
  reason: string;
  status: number;
  method: string;
  /** The declared route's pattern, `/v1/events/{source}/{id}`, or `(no route)`. */
  route: string;
  tokenId?: string;
  tokenName?: string;
  source?: string;
  tokenSource?: string;
}

interface Tally {
  refusal: Refusal;
  count: number;
  firstAt: number;
  lastAt: number;
  overflow: boolean;
}

export interface RefusalRecorderOptions {
  /** Writes the rows (appendAudit on the gateway's database). */
  write: (entries: AuditEntry[]) => Promise<void>;
  /** How long refusals are gathered before their rows are written (default 60 s). */
  intervalMs?: number;
  /** Distinct keys held at most (default 1000). */
  maxKeys?: number;
  /** Told when a write fails; the counts are kept for the next interval. */
  onError?: (err: unknown) => void;
  now?: () => number;
}

function keyOf(r: Refusal): string {
  return JSON.stringify([
    r.reason,
    r.status,
    r.method,
    r.route,
    r.tokenId ?? 'unknown',
    r.source ?? '',
  ]);
}

function overflowKey(r: Refusal): string {
  return JSON.stringify(['overflow', r.reason, r.status]);
}

/** The row a tally becomes: ids, the route and counts only. */
export function refusalEntry(t: Tally): AuditEntry {
  const r = t.refusal;
  return {
    actor: r.tokenName ? `token:${r.tokenName}` : 'anonymous',
    action: 'request.refused',
    target: t.overflow ? 'route:*' : `route:${r.method} ${r.route}`,
    outcome: 'refused',
    detail: {
      reason: r.reason,
      status: r.status,
      ...(t.overflow
        ? { overflow: true }
        : {
            method: r.method,
            route: r.route,
            tokenId: r.tokenId ?? 'unknown',
            ...(r.source ? { source: r.source } : {}),
            ...(r.tokenSource ? { tokenSource: r.tokenSource } : {}),
          }),
      count: t.count,
      firstAt: new Date(t.firstAt).toISOString(),
      lastAt: new Date(t.lastAt).toISOString(),
    },
  };
}

/** Gathers refusals and writes their aggregate rows once per interval and on close. */
export class RefusalRecorder {
  private tallies = new Map<string, Tally>();
  /** Keys held that are not overflow keys. */
  private ownKeys = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<unknown> = Promise.resolve();
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly options: RefusalRecorderOptions) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxKeys = options.maxKeys ?? 1000;
    this.now = options.now ?? Date.now;
  }

  /** Distinct keys held now (at most maxKeys, plus one overflow key per reason and status). */
  get size(): number {
    return this.tallies.size;
  }

  /** Counts one refusal; the first of an interval schedules the interval's write. */
  record(refusal: Refusal): void {
    const at = this.now();
    this.add(refusal, 1, at, at, false);
  }

  private add(refusal: Refusal, count: number, firstAt: number, lastAt: number, over: boolean) {
    let key = over ? overflowKey(refusal) : keyOf(refusal);
    let overflow = over;
    if (!over && !this.tallies.has(key) && this.ownKeys >= this.maxKeys) {
      key = overflowKey(refusal);
      overflow = true;
    }
    const tally = this.tallies.get(key);
    if (tally) {
      tally.count += count;
      tally.firstAt = Math.min(tally.firstAt, firstAt);
      tally.lastAt = Math.max(tally.lastAt, lastAt);
    } else {
      this.tallies.set(key, { refusal, count, firstAt, lastAt, overflow });
      if (!overflow) this.ownKeys++;
    }
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs).unref();
  }

  /**
   * Writes the rows gathered so far (one write at a time) and answers how many it wrote; a
   * failed write keeps the counts for the next interval.
   */
  flush(): Promise<number> {
    const run = this.writing.then(async () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      const tallies = [...this.tallies.values()];
      this.tallies = new Map();
      this.ownKeys = 0;
      if (tallies.length === 0) return 0;
      try {
        await this.options.write(tallies.map(refusalEntry));
        return tallies.length;
      } catch (err) {
        this.options.onError?.(err);
        for (const t of tallies) this.add(t.refusal, t.count, t.firstAt, t.lastAt, t.overflow);
        return 0;
      }
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Writes what is left (the gateway closes it before the database). */
  async close(): Promise<void> {
    await this.flush();
  }
}
