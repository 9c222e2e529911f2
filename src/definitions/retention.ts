/**
 * Retention of definition versions: the newest N of each definition stay, and so do the active
 * version, drafts newer than it, and every version a running or parked run still uses (runs
 * carry their IR, but `history` and `diff` should still explain them). Which versions runs use
 * is asked of Temporal's visibility; when Temporal cannot be asked, nothing is pruned.
 */
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import {
  pruneCandidates,
  pruneVersions,
  type PruneCandidate,
} from '../db/repos/definition-retention';
import { equals, visibilityQuery } from '../temporal/visibility';

/** The subset of `hashes` that some running (or parked, or waiting) run still uses. */
export type VersionsInUse = (hashes: readonly string[]) => Promise<Set<string>>;

/** Asks Temporal visibility, one count per hash: `IdflowDefinitionHash = … AND Running`. */
export function temporalVersionsInUse(client: Client): VersionsInUse {
  return async (hashes) => {
    const used = new Set<string>();
    for (const hash of new Set(hashes)) {
      const query = visibilityQuery(
        equals('IdflowDefinitionHash', hash, 'hash'),
        equals('ExecutionStatus', 'Running'),
      );
      if ((await client.workflow.count(query)).count > 0) used.add(hash);
    }
    return used;
  };
}

export interface RetentionResult {
  keep: number;
  pruned: PruneCandidate[];
  /** Older versions kept because a run still uses them. */
  inUse: PruneCandidate[];
  /** Why nothing was pruned although versions were due (Temporal could not be asked). */
  skipped?: string;
}

/**
 * Prunes every definition down to `keep` versions (plus those that must stay). Without
 * `inUse`, or when it fails, prunes nothing and says why.
 */
export async function applyRetention(
  db: Database,
  options: { keep: number; actor: string; inUse?: VersionsInUse },
): Promise<RetentionResult> {
  const { keep } = options;
  const candidates = await pruneCandidates(db, keep);
  if (!candidates.length) return { keep, pruned: [], inUse: [] };
  if (!options.inUse)
    return {
      keep,
      pruned: [],
      inUse: [],
      skipped: `${candidates.length} version(s) beyond the newest ${keep} were kept: Temporal was not asked which versions running runs use`,
    };
  let used: Set<string>;
  try {
    used = await options.inUse(candidates.map((c) => c.hash));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return {
      keep,
      pruned: [],
      inUse: [],
      skipped: `${candidates.length} version(s) beyond the newest ${keep} were kept: Temporal could not be asked which versions running runs use (${why})`,
    };
  }
  const inUse = candidates.filter((c) => used.has(c.hash));
  const pruned = await pruneVersions(
    db,
    candidates.filter((c) => !used.has(c.hash)),
    options.actor,
    keep,
  );
  return { keep, pruned, inUse };
}
