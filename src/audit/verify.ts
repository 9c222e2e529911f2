/**
 * `idflow audit verify`: walks the audit log in seq order, a page at a time, recomputing every
 * row's hash, and names the first row that was changed, removed or inserted out of order.
 * It starts from the newest prune checkpoint (its signature checked) and holds each signed
 * checkpoint's row to the hash it signed. Rows from before the chain (no hash) are counted.
 */
import type { KeyObject } from 'node:crypto';
import { asc, gt, lte, and, min } from 'drizzle-orm';
import type { Database } from '../db/client';
import { auditCheckpoints, auditLog } from '../db/schema';
import { chainHash, GENESIS_HASH } from './chain';
import { checkpointProblem } from './checkpoint';

export type AuditRow = typeof auditLog.$inferSelect;

export interface VerifyProblem {
  kind: 'changed' | 'removed' | 'inserted' | 'checkpoint';
  /** The row named (for a checkpoint problem, the row it signs). */
  seq: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** Chained rows whose hash and link were checked. */
  rowsVerified: number;
  /** Rows written before the chain existed (no hash), not checked. */
  legacyRows: number;
  /** Checkpoints whose signature verified. */
  checkpoints: number;
  /** The walk began after this seq (a prune checkpoint's boundary), if any. */
  startsAfterSeq?: number;
  /** The last row verified. */
  head?: { seq: number; hash: string };
  problem?: VerifyProblem;
}

export interface VerifyOptions {
  /** Keys checkpoints may be signed with. */
  publicKeys: KeyObject[];
  /** Rows read per query. */
  pageSize?: number;
  /** Stop after this seq (pruning checks what it is about to remove). */
  throughSeq?: number;
}

/** Rows in seq order after `after`, a page per query, never the whole log in memory. */
async function* rowsAfter(
  db: Database,
  after: number,
  pageSize: number,
  throughSeq?: number,
): AsyncGenerator<AuditRow> {
  let cursor = after;
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(
        throughSeq === undefined
          ? gt(auditLog.seq, cursor)
          : and(gt(auditLog.seq, cursor), lte(auditLog.seq, throughSeq)),
      )
      .orderBy(asc(auditLog.seq))
      .limit(pageSize);
    yield* page;
    if (page.length < pageSize) return;
    cursor = (page[page.length - 1] as AuditRow).seq;
  }
}

/** An iterator that can look one row ahead. */
class Peekable<T> {
  private ahead: IteratorResult<T> | undefined;
  constructor(private readonly it: AsyncIterator<T>) {}
  async next(): Promise<T | undefined> {
    const r = this.ahead ?? (await this.it.next());
    this.ahead = undefined;
    return r.done ? undefined : r.value;
  }
  async peek(): Promise<T | undefined> {
    this.ahead ??= await this.it.next();
    return this.ahead.done ? undefined : this.ahead.value;
  }
}

const short = (hash: string | null) => (hash ? `${hash.slice(0, 12)}…` : 'none');

export async function verifyChain(db: Database, options: VerifyOptions): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, rowsVerified: 0, legacyRows: 0, checkpoints: 0 };
  const fail = (problem: VerifyProblem): VerifyReport => ({ ...report, ok: false, problem });

  // Every checkpoint's signature, then the newest prune boundary and the rows signed after it.
  const checkpoints = await db.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.id));
  let boundary: (typeof checkpoints)[number] | undefined;
  for (const c of checkpoints) {
    const why = checkpointProblem(c, options.publicKeys);
    if (why) return fail({ kind: 'checkpoint', seq: c.headSeq, message: why });
    report.checkpoints++;
    if (c.prunedThroughSeq !== null && c.prunedThroughSeq >= (boundary?.prunedThroughSeq ?? -1))
      boundary = c;
  }
  const start = boundary?.prunedThroughSeq ?? 0;
  if (boundary) report.startsAfterSeq = start;
  const anchors = checkpoints
    .filter((c) => c.headSeq > start)
    .sort((a, b) => a.headSeq - b.headSeq || a.id - b.id);

  if (boundary) {
    const [left] = await db
      .select({ seq: min(auditLog.seq) })
      .from(auditLog)
      .where(lte(auditLog.seq, start));
    if (left?.seq != null)
      return fail({
        kind: 'inserted',
        seq: left.seq,
        message: `row ${left.seq} was inserted: checkpoint #${boundary.id} pruned every row through ${start}`,
      });
  }

  // The hash the next chained row must carry as prev_hash; null until the chain has begun.
  // (a prune of rows from before the chain leaves the genesis hash: the chain has not begun)
  let expected: string | null =
    boundary && boundary.headHash !== GENESIS_HASH ? boundary.headHash : null;
  // The hash expected before the last verified row, to recognise that row as an insertion.
  let beforeLast: string | null = null;
  // the checkpoint's row stands for the rows it pruned
  let last: { seq: number; hash: string } | undefined =
    expected !== null ? { seq: start, hash: expected } : undefined;
  const rows = new Peekable(
    rowsAfter(db, start, options.pageSize ?? 1000, options.throughSeq)[Symbol.asyncIterator](),
  );
  for (let row = await rows.next(); row; row = await rows.next()) {
    const a = anchors[0];
    if (a && a.headSeq < row.seq) {
      return fail({
        kind: 'removed',
        seq: a.headSeq,
        message: `row ${a.headSeq}, signed by checkpoint #${a.id}, was removed`,
      });
    }
    if (row.hash === null && expected === null) {
      report.legacyRows++;
      continue;
    }
    const prevExpected: string = expected ?? GENESIS_HASH;
    const selfOk =
      row.hash !== null && row.prevHash !== null && chainHash(row.prevHash, row) === row.hash;
    const linkOk = row.prevHash === prevExpected;
    if (selfOk && linkOk) {
      const anchor = anchors[0]?.headSeq === row.seq ? anchors.shift() : undefined;
      if (anchor && anchor.headHash !== row.hash)
        return fail({
          kind: 'changed',
          seq: row.seq,
          message: `row ${row.seq} does not match checkpoint #${anchor.id}, which signed hash ${short(anchor.headHash)}: the chain was rewritten up to it`,
        });
      beforeLast = prevExpected;
      expected = row.hash;
      last = { seq: row.seq, hash: row.hash as string };
      report.rowsVerified++;
      continue;
    }
    const after = last ? `row ${last.seq}` : 'the start of the chain';
    // The last verified row was linked in, but this one follows the row before it.
    if (selfOk && last && beforeLast !== null && row.prevHash === beforeLast)
      return fail({
        kind: 'inserted',
        seq: last.seq,
        message: `row ${last.seq} was inserted out of order: row ${row.seq} follows the row before it`,
      });
    const next = await rows.peek();
    if (next && next.prevHash === prevExpected && next.hash !== null)
      return fail({
        kind: 'inserted',
        seq: row.seq,
        message: `row ${row.seq} was inserted out of order: the chain goes from ${after} to row ${next.seq}`,
      });
    if (row.hash === null)
      return fail({
        kind: 'inserted',
        seq: row.seq,
        message: `row ${row.seq} has no hash: it was written outside the chain, after ${after}`,
      });
    if (!selfOk)
      return fail({
        kind: 'changed',
        seq: row.seq,
        message: `row ${row.seq} was changed: its content does not match its hash`,
      });
    return fail({
      kind: 'removed',
      seq: row.seq,
      message: `rows were removed before row ${row.seq}: its prev_hash ${short(row.prevHash)} is not the hash of ${after} (${short(prevExpected)})${last ? `, or row ${last.seq} was changed and its hash recomputed` : ''}`,
    });
  }
  const missing = anchors.find(
    (a) => options.throughSeq === undefined || a.headSeq <= options.throughSeq,
  );
  if (missing)
    return fail({
      kind: 'removed',
      seq: missing.headSeq,
      message: `row ${missing.headSeq}, signed by checkpoint #${missing.id}, was removed`,
    });
  if (last) report.head = last;
  return report;
}
