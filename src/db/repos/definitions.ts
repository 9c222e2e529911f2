/**
 * Definition versions: every compiled flow, policy, connector, role and SoD rule is stored by
 * content hash; activation switches which version new runs use. Running flows keep the IR they
 * started with; roles and SoD rules are read when a reconcile step plans, so the active ones
 * count.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { RoleIR, SodRuleIR } from '../../dsl/ir';
import type { Database } from '../client';
import { definitionVersions } from '../schema';

/** What the `kind` column holds (the column itself is text: new kinds need no migration). */
export type DefinitionKind = 'Flow' | 'Policy' | 'Connector' | 'Role' | 'SodRule' | 'Correlation';

/** Every kind, in the order `idflow definitions list` shows them. */
export const DEFINITION_KINDS: readonly DefinitionKind[] = [
  'Flow',
  'Policy',
  'Connector',
  'Role',
  'SodRule',
  'Correlation',
];

export interface StoredDefinition {
  kind: DefinitionKind;
  name: string;
  hash: string;
  ir: unknown;
}

export interface ActivationChange {
  kind: DefinitionKind;
  name: string;
  hash: string;
  previousHash?: string;
}

/**
 * Stores `definitions` and makes them the active versions, in one transaction. Active
 * definitions of the same kinds that are not in `definitions` are deactivated when `replace`
 * is set (loading a whole directory). Returns what changed.
 */
export async function activateDefinitions(
  db: Database,
  definitions: StoredDefinition[],
  replace: boolean,
): Promise<{ activated: ActivationChange[]; deactivated: ActivationChange[] }> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(724310002)`);
    const active = await tx
      .select()
      .from(definitionVersions)
      .where(eq(definitionVersions.active, true));
    const current = new Map(active.map((row) => [`${row.kind}/${row.name}`, row.hash]));
    const activated: ActivationChange[] = [];
    for (const def of definitions) {
      const key = `${def.kind}/${def.name}`;
      const previousHash = current.get(key);
      current.delete(key);
      if (previousHash === def.hash) continue;
      const [row] = await tx
        .select({ next: sql<number>`coalesce(max(${definitionVersions.version}), 0)::int + 1` })
        .from(definitionVersions)
        .where(and(eq(definitionVersions.kind, def.kind), eq(definitionVersions.name, def.name)));
      await tx
        .insert(definitionVersions)
        .values({ ...def, version: row?.next ?? 1 })
        .onConflictDoNothing();
      await tx
        .update(definitionVersions)
        .set({ active: false })
        .where(
          and(
            eq(definitionVersions.kind, def.kind),
            eq(definitionVersions.name, def.name),
            eq(definitionVersions.active, true),
          ),
        );
      await tx
        .update(definitionVersions)
        .set({ active: true, activatedAt: new Date() })
        .where(
          and(
            eq(definitionVersions.kind, def.kind),
            eq(definitionVersions.name, def.name),
            eq(definitionVersions.hash, def.hash),
          ),
        );
      activated.push({
        kind: def.kind,
        name: def.name,
        hash: def.hash,
        ...(previousHash ? { previousHash } : {}),
      });
    }
    const deactivated: ActivationChange[] = [];
    if (replace) {
      for (const [key, hash] of current) {
        const [kind, name] = key.split('/') as [DefinitionKind, string];
        await tx
          .update(definitionVersions)
          .set({ active: false })
          .where(and(eq(definitionVersions.kind, kind), eq(definitionVersions.name, name)));
        deactivated.push({ kind, name, hash });
      }
    }
    return { activated, deactivated };
  });
}

export async function activeDefinitions(
  db: Database,
  kind: DefinitionKind,
  names?: string[],
): Promise<StoredDefinition[]> {
  const conditions = [eq(definitionVersions.kind, kind), eq(definitionVersions.active, true)];
  if (names) {
    if (names.length === 0) return [];
    conditions.push(inArray(definitionVersions.name, names));
  }
  const rows = await db
    .select({
      kind: definitionVersions.kind,
      name: definitionVersions.name,
      hash: definitionVersions.hash,
      ir: definitionVersions.ir,
    })
    .from(definitionVersions)
    .where(and(...conditions));
  return rows as StoredDefinition[];
}

/**
 * The active roles and separation-of-duties rules, sorted by name so a plan computed from them
 * does not depend on the order rows come back in.
 */
export async function activeAccessDefinitions(
  db: Database,
): Promise<{ roles: RoleIR[]; sodRules: SodRuleIR[] }> {
  const [roles, sodRules] = await Promise.all([
    activeDefinitions(db, 'Role'),
    activeDefinitions(db, 'SodRule'),
  ]);
  const byName = (a: StoredDefinition, b: StoredDefinition) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return {
    roles: roles.sort(byName).map((d) => d.ir as RoleIR),
    sodRules: sodRules.sort(byName).map((d) => d.ir as SodRuleIR),
  };
}
