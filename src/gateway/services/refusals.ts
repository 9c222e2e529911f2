/**
 * Refused requests, counted in memory and written to the audit trail in the background (an
 * AuditTally): one `request.refused` row per (reason, status, method, route, token or
 * `unknown`, source) per interval, with how many requests it stands for. A flood of made-up
 * tokens costs a counter increment each, not a row each; at most `maxKeys` distinct keys are
 * held, and refusals beyond them are counted in one overflow row per reason and status.
 */
import { AuditTally, type AuditTallyOptions } from '../../audit/tally';
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

/** What a RefusalRecorder is given: where and how often to write, how many keys to hold. */
export type RefusalRecorderOptions = Omit<
  AuditTallyOptions,
  'overflowOf' | 'maxSamples' | 'samplesAs'
>;

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

/** The row of a refusal (the tally adds `count`, `firstAt` and `lastAt`): ids and route only. */
export function refusalEntry(r: Refusal): AuditEntry {
  return {
    actor: r.tokenName ? `token:${r.tokenName}` : 'anonymous',
    action: 'request.refused',
    target: `route:${r.method} ${r.route}`,
    outcome: 'refused',
    detail: {
      reason: r.reason,
      status: r.status,
      method: r.method,
      route: r.route,
      tokenId: r.tokenId ?? 'unknown',
      ...(r.source ? { source: r.source } : {}),
      ...(r.tokenSource ? { tokenSource: r.tokenSource } : {}),
    },
  };
}

/** Beyond maxKeys: one row per reason and status, naming no route, token or source. */
function overflowOf(entry: AuditEntry): { key: string; entry: AuditEntry } {
  const { reason, status } = entry.detail as { reason: string; status: number };
  return {
    key: JSON.stringify([reason, status]),
    entry: {
      actor: 'anonymous',
      action: 'request.refused',
      target: 'route:*',
      outcome: 'refused',
      detail: { reason, status, overflow: true },
    },
  };
}

/** Gathers refusals and writes their aggregate rows once per interval and on close. */
export class RefusalRecorder {
  private readonly tally: AuditTally;

  constructor(options: RefusalRecorderOptions) {
    this.tally = new AuditTally({ ...options, overflowOf });
  }

  /** Distinct keys held now (at most maxKeys, plus one overflow key per reason and status). */
  get size(): number {
    return this.tally.size;
  }

  /** Counts one refusal; the first of an interval schedules the interval's write. */
  record(refusal: Refusal): void {
    this.tally.record(keyOf(refusal), refusalEntry(refusal));
  }

  /** Writes the rows gathered so far; a failed write keeps the counts for the next one. */
  flush(): Promise<number> {
    return this.tally.flush();
  }

  /** Writes what is left (the gateway closes it before the database). */
  close(): Promise<void> {
    return this.tally.close();
  }
}
