/**
 * Retention of the audit log without breaking its verification: a prune first checks the rows
 * it will remove, writes a signed checkpoint of the last one (the chain carries on from its
 * hash), deletes them in the same transaction (the only delete the append-only trigger lets
 * through, with `idflow.audit_prune` set), and audits itself. A plain checkpoint signs the
 * chain's current head, so a chain rewritten up to it no longer verifies.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { appendAudit, AUDIT_CHAIN_LOCK, rowsOf } from '../db/repos/audit';
import { auditCheckpoints, auditLog } from '../db/schema';
import { GENESIS_HASH } from './chain';
import { signCheckpoint } from './checkpoint';
import { keyId } from './keys';
import { verifyChain } from './verify';

/** Pruning or checkpointing was refused; nothing was removed. */
export class AuditRetentionError extends Error {
  override readonly name = 'AuditRetentionError';
}

export const NO_SIGNING_KEY =
  'the audit log is pruned only after a signed checkpoint: set IDFLOW_AUDIT_SIGNING_KEY to an Ed25519 private key (`idflow audit keygen` makes a pair)';

export interface PruneResult {
  /** Rows removed (0 when nothing was older than `before`). */
  rowsPruned: number;
  prunedThroughSeq?: number;
  checkpointId?: number;
  keyId?: string;
}

/** Keys that verify checkpoints: the configured public key and the signing key's own. */
export function verificationKeys(keys: {
  signingKey?: KeyObject;
  publicKey?: KeyObject;
}): KeyObject[] {
  const out: KeyObject[] = [];
  if (keys.publicKey) out.push(keys.publicKey);
  if (keys.signingKey) {
    const own = createPublicKey(keys.signingKey);
    if (!out.some((k) => keyId(k) === keyId(own))) out.push(own);
  }
  return out;
}

async function lockChain(tx: Database): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
}

/** The newest row of the log, if any. */
async function headRow(tx: Database): Promise<{ seq: number; hash: string | null } | undefined> {
  const [row] = rowsOf<{ seq: string; hash: string | null }>(
    await tx.execute(sql`select seq::text as seq, hash from audit_log order by seq desc limit 1`),
  );
  return row ? { seq: Number(row.seq), hash: row.hash } : undefined;
}

/** Signs a checkpoint of the chain taken now and stores it, in the caller's transaction. */
async function storeCheckpoint(
  tx: Database,
  fields: Omit<Parameters<typeof signCheckpoint>[0], 'at'>,
  signingKey: KeyObject,
) {
  const signed = signCheckpoint({ at: new Date(), ...fields }, signingKey);
  const [checkpoint] = await tx
    .insert(auditCheckpoints)
    .values(signed)
    .returning({ id: auditCheckpoints.id });
  return { signed, checkpointId: checkpoint?.id as number };
}

/** Removes every row written before `before`, after a signed checkpoint of the last one. */
export async function pruneAudit(
  db: Database,
  options: {
    before: Date;
    actor: string;
    signingKey?: KeyObject;
    publicKey?: KeyObject;
  },
): Promise<PruneResult> {
  const before = options.before.toISOString();
  const { signingKey } = options;
  if (!signingKey) {
    await appendAudit(db, {
      actor: options.actor,
      action: 'audit.pruned',
      target: 'audit-log',
      outcome: 'refused',
      detail: { before, reason: 'no signing key' },
    });
    throw new AuditRetentionError(NO_SIGNING_KEY);
  }
  return db.transaction(async (txAny) => {
    const tx = txAny as unknown as Database;
    await lockChain(tx);
    const [last] = rowsOf<{ seq: string | null; n: string }>(
      await tx.execute(
        sql`select max(seq)::text as seq, count(*)::text as n from audit_log where at < ${before}::timestamptz`,
      ),
    );
    if (!last?.seq) {
      await appendAudit(tx, {
        actor: options.actor,
        action: 'audit.pruned',
        target: 'audit-log',
        outcome: 'unchanged',
        detail: { before, rowsPruned: 0 },
      });
      return { rowsPruned: 0 };
    }
    const through = Number(last.seq);
    // Never destroy evidence of tampering: what is about to go must verify first.
    const check = await verifyChain(tx, {
      publicKeys: verificationKeys(options),
      throughSeq: through,
    });
    if (!check.ok)
      throw new AuditRetentionError(
        `nothing was pruned: the audit chain does not verify (${check.problem?.message}); run idflow audit verify`,
      );
    const [row] = await tx
      .select({ hash: auditLog.hash })
      .from(auditLog)
      .where(eq(auditLog.seq, through));
    const [{ n } = { n: '0' }] = rowsOf<{ n: string }>(
      await tx.execute(sql`select count(*)::text as n from audit_log where seq <= ${through}`),
    );
    const { signed, checkpointId } = await storeCheckpoint(
      tx,
      {
        headSeq: through,
        headHash: row?.hash ?? GENESIS_HASH,
        prunedThroughSeq: through,
        rowsPruned: Number(n),
        actor: options.actor,
      },
      signingKey,
    );
    await tx.execute(sql`select set_config('idflow.audit_prune', 'on', true)`);
    const [deleted] = rowsOf<{ n: string }>(
      await tx.execute(
        sql`with d as (delete from audit_log where seq <= ${through} returning 1) select count(*)::text as n from d`,
      ),
    );
    await tx.execute(sql`select set_config('idflow.audit_prune', 'off', true)`);
    if (Number(deleted?.n) !== signed.rowsPruned)
      throw new AuditRetentionError(
        'nothing was pruned: rows changed while the checkpoint was written',
      );
    const result: PruneResult = {
      rowsPruned: signed.rowsPruned,
      prunedThroughSeq: through,
      checkpointId,
      keyId: signed.keyId,
    };
    await appendAudit(tx, {
      actor: options.actor,
      action: 'audit.pruned',
      target: `audit-checkpoint:${result.checkpointId}`,
      outcome: 'ok',
      detail: { before, ...result },
    });
    return result;
  });
}

/** Signs the chain's current head, so rewriting the chain up to it cannot go unnoticed. */
export async function writeCheckpoint(
  db: Database,
  options: { actor: string; signingKey?: KeyObject },
): Promise<{ checkpointId: number; headSeq: number; keyId: string }> {
  const { signingKey } = options;
  if (!signingKey)
    throw new AuditRetentionError(
      'a checkpoint is signed: set IDFLOW_AUDIT_SIGNING_KEY to an Ed25519 private key (`idflow audit keygen` makes a pair)',
    );
  return db.transaction(async (txAny) => {
    const tx = txAny as unknown as Database;
    await lockChain(tx);
    const head = await headRow(tx);
    if (!head?.hash) throw new AuditRetentionError('the audit log has no chained row to sign yet');
    const { signed, checkpointId } = await storeCheckpoint(
      tx,
      {
        headSeq: head.seq,
        headHash: head.hash,
        prunedThroughSeq: null,
        rowsPruned: 0,
        actor: options.actor,
      },
      signingKey,
    );
    await appendAudit(tx, {
      actor: options.actor,
      action: 'audit.checkpointed',
      target: `audit-checkpoint:${checkpointId}`,
      outcome: 'ok',
      detail: { headSeq: head.seq, keyId: signed.keyId },
    });
    return { checkpointId, headSeq: head.seq, keyId: signed.keyId };
  });
}
