/**
 * Retention of definition versions in the registry: which old versions may go (the newest N of
 * each definition, the active version and drafts newer than it always stay) and deleting them,
 * audited. Which versions running runs still use is decided by the caller (Temporal).
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { definitionVersions } from '../schema';
import { appendAudit } from './audit';
import { REGISTRY_LOCK, statusOf, target, type DefinitionKind } from './definitions';

/** A version that retention may drop: not active, not a draft newer than the active one. */
export interface PruneCandidate {
  kind: DefinitionKind;
  name: string;
  version: number;
  hash: string;
}

/**
 * The versions beyond the newest `keep` of each definition that retention may drop: never the
 * active version, nor a draft newer than it (or any draft when none is active).
 */
export async function pruneCandidates(db: Database, keep: number): Promise<PruneCandidate[]> {
  const rows = await db
    .select({
      kind: definitionVersions.kind,
      name: definitionVersions.name,
      version: definitionVersions.version,
      hash: definitionVersions.hash,
      active: definitionVersions.active,
      activatedAt: definitionVersions.activatedAt,
    })
    .from(definitionVersions)
    .orderBy(definitionVersions.kind, definitionVersions.name, desc(definitionVersions.version));
  return selectPrunable(rows, keep);
}

/** The pure rule behind pruneCandidates, over rows of every definition (any order). */
export function selectPrunable(
  rows: Array<{
    kind: string;
    name: string;
    version: number;
    hash: string;
    active: boolean;
    activatedAt: Date | null;
  }>,
  keep: number,
): PruneCandidate[] {
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    const key = `${r.kind}/${r.name}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: PruneCandidate[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => b.version - a.version);
    const activeVersion = group.find((r) => r.active)?.version;
    for (const r of group.slice(keep)) {
      if (r.active) continue;
      const draft = statusOf(r) === 'draft';
      if (draft && (activeVersion === undefined || r.version > activeVersion)) continue;
      out.push({ kind: r.kind as DefinitionKind, name: r.name, version: r.version, hash: r.hash });
    }
  }
  return out;
}

/**
 * Deletes `versions` (from pruneCandidates, minus those a run still uses), audited as `actor`.
 * A version that became active since it was chosen is kept.
 */
export async function pruneVersions(
  db: Database,
  versions: PruneCandidate[],
  actor: string,
  keep: number,
): Promise<PruneCandidate[]> {
  if (!versions.length) return [];
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRY_LOCK})`);
    const pruned: PruneCandidate[] = [];
    for (const v of versions) {
      const deleted = await tx
        .delete(definitionVersions)
        .where(
          and(
            eq(definitionVersions.kind, v.kind),
            eq(definitionVersions.name, v.name),
            eq(definitionVersions.hash, v.hash),
            eq(definitionVersions.active, false),
          ),
        )
        .returning({ version: definitionVersions.version });
      if (deleted.length) pruned.push(v);
    }
    await appendAudit(
      tx,
      pruned.map((v) => ({
        actor,
        action: 'definition.pruned',
        target: target(v.kind, v.name),
        outcome: 'ok',
        detail: { version: v.version, hash: v.hash, keep },
      })),
    );
    return pruned;
  });
}
