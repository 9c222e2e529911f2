/**
 * Loading definitions into the registry: compile files, refuse on any problem (nothing is half
 * applied), store every changed flow, policy, connector, role, SoD rule and correlation as a new
 * numbered version with its YAML, git commit and who applied it, and activate them (or keep
 * them as drafts). Runs already started keep the IR they carry.
 */
import { relative, resolve } from 'node:path';
import { compileSources } from '../dsl/compiler';
import { formatDiagnostic } from '../dsl/diagnostics';
import { contentHash } from '../dsl/hash';
import { loadSources } from '../dsl/load';
import type { Database } from '../db/client';
import {
  storeDefinitions,
  type ActivationChange,
  type DefinitionKind,
  type StoredDefinition,
  type StoredVersion,
} from '../db/repos/definitions';
import { documentTexts } from './documents';
import { commitLabel, gitProvenance } from './git';
import { applyRetention, type RetentionResult, type VersionsInUse } from './retention';

export class DefinitionsInvalidError extends Error {
  override readonly name = 'DefinitionsInvalidError';
  constructor(readonly problems: string[]) {
    super(`definitions have ${problems.length} problem(s):\n${problems.join('\n')}`);
  }
}

export interface ApplyResult {
  /** Versions stored by this apply (new hashes), active or draft. */
  stored: StoredVersion[];
  activated: ActivationChange[];
  deactivated: ActivationChange[];
  counts: {
    flows: number;
    policies: number;
    connectors: number;
    roles: number;
    sodRules: number;
    correlations: number;
    sources: number;
  };
  /** The git commit (`-dirty` when the files differ from it) and author; absent outside git. */
  git?: { commit: string; author: string };
  /** Pruning after the apply, when a retention was given. */
  retention?: RetentionResult;
}

export interface ApplyOptions {
  /** Also deactivate active definitions that are not in `paths`. */
  replace: boolean;
  /** Who applies, for the versions and the audit log. */
  actor: string;
  /** Store changed definitions as drafts: nothing active changes. */
  draft?: boolean;
  /** Versions to keep per definition; pruning runs only when this is given. */
  retention?: number;
  /** Which hashes running runs use (Temporal visibility); without it nothing is pruned. */
  inUse?: VersionsInUse;
}

/**
 * Compiles `paths` and stores what changed; unless `draft`, makes it the active definitions.
 * With `replace`, active definitions that are no longer in `paths` are deactivated.
 */
export async function applyDefinitions(
  db: Database,
  paths: string[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  if (options.draft && options.replace)
    throw new Error(
      '--replace deactivates definitions and --draft changes nothing active: give one of them',
    );
  const { sources, diagnostics } = await loadSources(paths);
  const result = compileSources(sources);
  const problems = [...diagnostics, ...result.diagnostics].map(formatDiagnostic);
  if (problems.length) throw new DefinitionsInvalidError(problems);
  const git = await gitProvenance(paths);
  const texts = documentTexts(sources);
  const withSource = (kind: DefinitionKind, name: string, hash: string, ir: unknown) => {
    const doc = texts.get(`${kind}/${name}`);
    const def: StoredDefinition = { kind, name, hash, ir };
    if (doc) {
      def.source = doc.text;
      def.sourcePath = git ? relative(git.root, resolve(doc.path)) : doc.path;
    }
    return def;
  };
  const definitions: StoredDefinition[] = [
    ...[...result.flows].map(([name, c]) => withSource('Flow', name, c.hash, c.ir)),
    ...[...result.policies].map(([name, c]) => withSource('Policy', name, c.hash, c.ir)),
    ...[...result.connectors].map(([name, ir]) =>
      withSource('Connector', name, contentHash(ir), ir),
    ),
    ...[...result.roles].map(([name, c]) => withSource('Role', name, c.hash, c.ir)),
    ...[...result.sodRules].map(([name, c]) => withSource('SodRule', name, c.hash, c.ir)),
    ...[...result.correlations].map(([name, c]) => withSource('Correlation', name, c.hash, c.ir)),
    ...[...result.sources].map(([name, c]) => withSource('Source', name, c.hash, c.ir)),
  ];
  const gitFields = git ? { commit: commitLabel(git), author: git.author } : undefined;
  const changes = await storeDefinitions(db, definitions, {
    replace: options.replace,
    draft: options.draft ?? false,
    provenance: {
      appliedBy: options.actor,
      gitCommit: gitFields?.commit ?? null,
      gitAuthor: gitFields?.author ?? null,
    },
  });
  const retention =
    options.retention === undefined
      ? undefined
      : await applyRetention(db, {
          keep: options.retention,
          actor: options.actor,
          ...(options.inUse ? { inUse: options.inUse } : {}),
        });
  return {
    ...changes,
    counts: {
      flows: result.flows.size,
      policies: result.policies.size,
      connectors: result.connectors.size,
      roles: result.roles.size,
      sodRules: result.sodRules.size,
      correlations: result.correlations.size,
      sources: result.sources.size,
    },
    ...(gitFields ? { git: gitFields } : {}),
    ...(retention ? { retention } : {}),
  };
}
