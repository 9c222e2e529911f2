/**
 * Signed checkpoints of the audit chain. A checkpoint fixes one row's hash (`head_seq`,
 * `head_hash`) under an Ed25519 signature, so a chain rewritten after it no longer verifies;
 * a prune's checkpoint fixes the last row it removes, and the chain carries on from its hash.
 *
 * The signature covers one line of canonical JSON (keys sorted):
 *
 *   {"actor":…,"algorithm":"ed25519","at":"…Z","headHash":…,"headSeq":…,"keyId":…,
 *    "kind":"idflow.audit.checkpoint/1","prunedThroughSeq":…|null,"rowsPruned":…}
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './chain';
import { CHECKPOINT_ALGORITHM, keyId } from './keys';

export interface CheckpointFields {
  at: Date;
  headSeq: number;
  headHash: string;
  prunedThroughSeq: number | null;
  rowsPruned: number;
  keyId: string;
  algorithm: string;
  actor: string;
}

export function checkpointPayload(c: CheckpointFields): string {
  return canonicalJson({
    kind: 'idflow.audit.checkpoint/1',
    at: c.at.toISOString(),
    headSeq: c.headSeq,
    headHash: c.headHash,
    prunedThroughSeq: c.prunedThroughSeq,
    rowsPruned: c.rowsPruned,
    keyId: c.keyId,
    algorithm: c.algorithm,
    actor: c.actor,
  });
}

/** The fields of a new checkpoint with its signature (base64). */
export function signCheckpoint(
  fields: Omit<CheckpointFields, 'keyId' | 'algorithm'>,
  privateKey: KeyObject,
): CheckpointFields & { signature: string } {
  const full = { ...fields, keyId: keyId(privateKey), algorithm: CHECKPOINT_ALGORITHM };
  const signature = sign(null, Buffer.from(checkpointPayload(full)), privateKey).toString('base64');
  return { ...full, signature };
}

/**
 * Why a stored checkpoint cannot be trusted, or undefined when its signature verifies with one
 * of `publicKeys`.
 */
export function checkpointProblem(
  c: CheckpointFields & { id: number; signature: string },
  publicKeys: KeyObject[],
): string | undefined {
  if (c.algorithm !== CHECKPOINT_ALGORITHM)
    return `checkpoint #${c.id} uses algorithm '${c.algorithm}', not ${CHECKPOINT_ALGORITHM}`;
  if (!publicKeys.length)
    return `checkpoint #${c.id} cannot be checked without its public key (key ${c.keyId}): set IDFLOW_AUDIT_PUBLIC_KEY`;
  const key = publicKeys.find((k) => keyId(k) === c.keyId);
  if (!key)
    return `checkpoint #${c.id} was signed by key ${c.keyId}, not by ${publicKeys.map(keyId).join(' or ')}: set IDFLOW_AUDIT_PUBLIC_KEY to the key that signed it`;
  const ok = verify(
    null,
    Buffer.from(checkpointPayload(c)),
    key,
    Buffer.from(c.signature, 'base64'),
  );
  return ok
    ? undefined
    : `checkpoint #${c.id}'s signature does not verify: the checkpoint was changed after it was signed`;
}
