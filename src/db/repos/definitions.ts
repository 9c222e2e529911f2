/**
 * Definition versions: every compiled flow, policy, connector, role, SoD rule and correlation
 * is stored by content hash and numbered 1, 2, … per (kind, name); activation switches which
 * version new runs use. Running flows keep the IR they started with; roles and SoD rules are
 * read when a reconcile step plans, so the active ones count.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { RoleIR, SodRuleIR } from '../../dsl/ir';
import type { Database } from '../client';
import { definitionVersions } from '../schema';
import { appendAudit, type AuditEntry } from './audit';

/** What the `kind` column holds (the column itself is text: new kinds need no migration). */
export type DefinitionKind =
  'Flow' | 'Policy' | 'Connector' | 'Role' | 'SodRule' | 'Correlation' | 'Source';

/** Every kind, in the order `idflow definitions list` shows them. */
export const DEFINITION_KINDS: readonly DefinitionKind[] = [
  'Flow',
  'Policy',
  'Connector',
  'Role',
  'SodRule',
  'Correlation',
  'Source',
];

export interface StoredDefinition {
  kind: DefinitionKind;
  name: string;
  hash: string;
  ir: unknown;
  /** The YAML document the definition was compiled from, and its file. */
  source?: string;
  sourcePath?: string;
}

/** Where a set of definitions came from: the git commit of their tree, and who applied them. */
export interface Provenance {
  appliedBy: string;
  gitCommit?: string | null;
  gitAuthor?: string | null;
}

export interface ActivationChange {
  kind: DefinitionKind;
  name: string;
  hash: string;
  version?: number;
  previousHash?: string;
  previousVersion?: number;
}

/** A version stored by an apply (a definition whose hash was not stored before). */
export interface StoredVersion {
  kind: DefinitionKind;
  name: string;
  hash: string;
  version: number;
}

/** One row of a definition's history. */
export interface DefinitionVersion {
  kind: DefinitionKind;
  name: string;
  version: number;
  hash: string;
  ir: unknown;
  source: string | null;
  sourcePath: string | null;
  gitCommit: string | null;
  gitAuthor: string | null;
  appliedBy: string;
  createdAt: Date;
  active: boolean;
  activatedAt: Date | null;
  /** `active`; `superseded` (was active once); `draft` (never active). */
  status: 'active' | 'draft' | 'superseded';
}

/** A definition, version or hash that the registry does not hold; the message names it. */
export class DefinitionNotFoundError extends Error {
  override readonly name = 'DefinitionNotFoundError';
}

/** Serialises changes to the registry (applies, activations, pruning) across processes. */
export const REGISTRY_LOCK = 724310002;
/** The audit target of a definition: `flow:joiner-standard`. */
export const target = (kind: string, name: string) => `${kind.toLowerCase()}:${name}`;

/** `active`; `superseded` once active before; `draft` never active. */
export const statusOf = (row: { active: boolean; activatedAt: Date | null }) =>
  row.active ? 'active' : row.activatedAt ? 'superseded' : 'draft';

/**
 * Stores every definition whose hash is new as the next version of its (kind, name) and, unless
 * `draft`, makes each the active version; one transaction, audited in it. A definition whose
 * hash is already the active one changes nothing; one whose hash is an older or draft version
 * is activated without storing it again. With `replace` (and not `draft`), active definitions
 * of these kinds that are not in `definitions` are deactivated (the directory is the whole truth).
 */
export async function storeDefinitions(
  db: Database,
  definitions: StoredDefinition[],
  options: { replace: boolean; draft: boolean; provenance: Provenance },
): Promise<{
  stored: StoredVersion[];
  activated: ActivationChange[];
  deactivated: ActivationChange[];
}> {
  const { provenance } = options;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRY_LOCK})`);
    const known = await tx
      .select({
        kind: definitionVersions.kind,
        name: definitionVersions.name,
        hash: definitionVersions.hash,
        version: definitionVersions.version,
        active: definitionVersions.active,
      })
      .from(definitionVersions);
    const byHash = new Map(known.map((r) => [`${r.kind}/${r.name}/${r.hash}`, r.version]));
    const latest = new Map<string, number>();
    const current = new Map<string, { hash: string; version: number }>();
    for (const r of known) {
      const key = `${r.kind}/${r.name}`;
      latest.set(key, Math.max(latest.get(key) ?? 0, r.version));
      if (r.active) current.set(key, { hash: r.hash, version: r.version });
    }
    const stored: StoredVersion[] = [];
    const activated: ActivationChange[] = [];
    const audit: AuditEntry[] = [];
    for (const def of definitions) {
      const key = `${def.kind}/${def.name}`;
      const previous = current.get(key);
      current.delete(key);
      if (previous?.hash === def.hash) continue;
      let version = byHash.get(`${key}/${def.hash}`);
      if (version === undefined) {
        version = (latest.get(key) ?? 0) + 1;
        latest.set(key, version);
        await tx.insert(definitionVersions).values({
          kind: def.kind,
          name: def.name,
          hash: def.hash,
          ir: def.ir,
          version,
          source: def.source ?? null,
          sourcePath: def.sourcePath ?? null,
          gitCommit: provenance.gitCommit ?? null,
          gitAuthor: provenance.gitAuthor ?? null,
          appliedBy: provenance.appliedBy,
        });
        stored.push({ kind: def.kind, name: def.name, hash: def.hash, version });
        audit.push({
          actor: provenance.appliedBy,
          action: 'definition.stored',
          target: target(def.kind, def.name),
          outcome: 'ok',
          detail: {
            version,
            hash: def.hash,
            draft: options.draft,
            ...(provenance.gitCommit ? { gitCommit: provenance.gitCommit } : {}),
          },
        });
      }
      if (options.draft) continue;
      const change = await switchActive(tx, def.kind, def.name, { hash: def.hash, version });
      activated.push({ ...change, ...previousOf(previous) });
      audit.push(activationAudit(provenance.appliedBy, change, previous));
    }
    const deactivated: ActivationChange[] = [];
    if (options.replace && !options.draft) {
      for (const [key, was] of current) {
        const [kind, name] = key.split('/') as [DefinitionKind, string];
        await tx
          .update(definitionVersions)
          .set({ active: false })
          .where(and(eq(definitionVersions.kind, kind), eq(definitionVersions.name, name)));
        deactivated.push({ kind, name, hash: was.hash, version: was.version });
        audit.push({
          actor: provenance.appliedBy,
          action: 'definition.deactivated',
          target: target(kind, name),
          outcome: 'ok',
          detail: { version: was.version, hash: was.hash },
        });
      }
    }
    await appendAudit(tx, audit);
    return { stored, activated, deactivated };
  });
}

const previousOf = (previous?: { hash: string; version: number }) =>
  previous ? { previousHash: previous.hash, previousVersion: previous.version } : {};

function activationAudit(
  actor: string,
  change: ActivationChange,
  previous?: { hash: string; version: number },
): AuditEntry {
  return {
    actor,
    action: 'definition.activated',
    target: target(change.kind, change.name),
    outcome: 'ok',
    detail: { version: change.version, hash: change.hash, ...previousOf(previous) },
  };
}

async function switchActive(
  tx: Database,
  kind: DefinitionKind,
  name: string,
  to: { hash: string; version: number },
): Promise<ActivationChange> {
  const same = and(eq(definitionVersions.kind, kind), eq(definitionVersions.name, name));
  await tx
    .update(definitionVersions)
    .set({ active: false })
    .where(and(same, eq(definitionVersions.active, true)));
  await tx
    .update(definitionVersions)
    .set({ active: true, activatedAt: new Date() })
    .where(and(same, eq(definitionVersions.hash, to.hash)));
  return { kind, name, hash: to.hash, version: to.version };
}

/** Every stored version of one definition, newest first. */
export async function definitionHistory(
  db: Database,
  kind: DefinitionKind,
  name: string,
): Promise<DefinitionVersion[]> {
  const rows = await db
    .select()
    .from(definitionVersions)
    .where(and(eq(definitionVersions.kind, kind), eq(definitionVersions.name, name)))
    .orderBy(desc(definitionVersions.version));
  return rows.map((r) => ({
    kind: r.kind as DefinitionKind,
    name: r.name,
    version: r.version,
    hash: r.hash,
    ir: r.ir,
    source: r.source,
    sourcePath: r.sourcePath,
    gitCommit: r.gitCommit,
    gitAuthor: r.gitAuthor,
    appliedBy: r.appliedBy,
    createdAt: r.createdAt,
    active: r.active,
    activatedAt: r.activatedAt,
    status: statusOf(r),
  }));
}

/**
 * The version `ref` names: a version number (`3`, `v3`) or a prefix of its hash (with or
 * without `sha256:`) that only one version has. Throws DefinitionNotFoundError naming what is
 * missing or ambiguous.
 */
export async function findVersion(
  db: Database,
  kind: DefinitionKind,
  name: string,
  ref: string,
): Promise<DefinitionVersion> {
  const history = await definitionHistory(db, kind, name);
  if (!history.length)
    throw new DefinitionNotFoundError(`${kind} '${name}' has no stored versions`);
  const numbered = /^v?(\d{1,9})$/i.exec(ref);
  if (numbered) {
    const found = history.find((v) => v.version === Number(numbered[1]));
    if (found) return found;
  }
  const prefix = ref.toLowerCase().replace(/^sha256:/, '');
  if (/^[0-9a-f]{4,64}$/.test(prefix)) {
    const matches = history.filter((v) => v.hash.replace(/^sha256:/, '').startsWith(prefix));
    if (matches.length === 1) return matches[0] as DefinitionVersion;
    if (matches.length > 1)
      throw new DefinitionNotFoundError(
        `${kind} '${name}': hash prefix '${ref}' matches versions ${matches
          .map((m) => m.version)
          .join(', ')}; give more of the hash or the version number`,
      );
  }
  const known = history
    .map((v) => v.version)
    .reverse()
    .join(', ');
  throw new DefinitionNotFoundError(
    `${kind} '${name}' has no version '${ref}' (a version number or a hash prefix of at least 4 hex digits); stored versions: ${known}`,
  );
}

/**
 * Makes version `ref` of a definition the active one, audited as `actor`. Returns the change,
 * or `unchanged` when it already is the active version.
 */
export async function activateVersion(
  db: Database,
  kind: DefinitionKind,
  name: string,
  ref: string,
  actor: string,
): Promise<{ change: ActivationChange; unchanged: boolean }> {
  const wanted = await findVersion(db, kind, name, ref);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRY_LOCK})`);
    const [previous] = await tx
      .select({ hash: definitionVersions.hash, version: definitionVersions.version })
      .from(definitionVersions)
      .where(
        and(
          eq(definitionVersions.kind, kind),
          eq(definitionVersions.name, name),
          eq(definitionVersions.active, true),
        ),
      );
    const to = { hash: wanted.hash, version: wanted.version };
    if (previous?.hash === wanted.hash) return { change: { kind, name, ...to }, unchanged: true };
    const [still] = await tx
      .select({ hash: definitionVersions.hash })
      .from(definitionVersions)
      .where(
        and(
          eq(definitionVersions.kind, kind),
          eq(definitionVersions.name, name),
          eq(definitionVersions.hash, wanted.hash),
        ),
      );
    if (!still)
      throw new DefinitionNotFoundError(`${kind} '${name}' version ${wanted.version} was pruned`);
    const change = await switchActive(tx, kind, name, to);
    await appendAudit(tx, activationAudit(actor, change, previous));
    return { change: { ...change, ...previousOf(previous) }, unchanged: false };
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
