/**
 * Loading definitions into the registry: compile files, refuse on any problem (nothing is half
 * applied), store every flow, policy, connector, role and SoD rule by hash and activate them.
 * Runs already started keep the IR they carry.
 */
import { compileSources } from '../dsl/compiler';
import { formatDiagnostic } from '../dsl/diagnostics';
import { contentHash } from '../dsl/hash';
import { loadSources } from '../dsl/load';
import type { Database } from '../db/client';
import { appendAudit } from '../db/repos/audit';
import {
  activateDefinitions,
  type ActivationChange,
  type StoredDefinition,
} from '../db/repos/definitions';

export class DefinitionsInvalidError extends Error {
  override readonly name = 'DefinitionsInvalidError';
  constructor(readonly problems: string[]) {
    super(`definitions have ${problems.length} problem(s):\n${problems.join('\n')}`);
  }
}

export interface ApplyResult {
  activated: ActivationChange[];
  deactivated: ActivationChange[];
  counts: {
    flows: number;
    policies: number;
    connectors: number;
    roles: number;
    sodRules: number;
    correlations: number;
  };
}

/**
 * Compiles `paths` and makes them the active definitions. With `replace`, active definitions
 * that are no longer in `paths` are deactivated (the directory is the whole truth).
 */
export async function applyDefinitions(
  db: Database,
  paths: string[],
  options: { replace: boolean; actor: string },
): Promise<ApplyResult> {
  const { sources, diagnostics } = await loadSources(paths);
  const result = compileSources(sources);
  const problems = [...diagnostics, ...result.diagnostics].map(formatDiagnostic);
  if (problems.length) throw new DefinitionsInvalidError(problems);
  const definitions: StoredDefinition[] = [
    ...[...result.flows].map(([name, c]) => ({
      kind: 'Flow' as const,
      name,
      hash: c.hash,
      ir: c.ir,
    })),
    ...[...result.policies].map(([name, c]) => ({
      kind: 'Policy' as const,
      name,
      hash: c.hash,
      ir: c.ir,
    })),
    ...[...result.connectors].map(([name, ir]) => ({
      kind: 'Connector' as const,
      name,
      hash: contentHash(ir),
      ir,
    })),
    ...[...result.roles].map(([name, c]) => ({
      kind: 'Role' as const,
      name,
      hash: c.hash,
      ir: c.ir,
    })),
    ...[...result.sodRules].map(([name, c]) => ({
      kind: 'SodRule' as const,
      name,
      hash: c.hash,
      ir: c.ir,
    })),
    ...[...result.correlations].map(([name, c]) => ({
      kind: 'Correlation' as const,
      name,
      hash: c.hash,
      ir: c.ir,
    })),
  ];
  const changes = await activateDefinitions(db, definitions, options.replace);
  const rows = [
    ...changes.activated.map((c) => ({ ...c, action: 'definition.activated' })),
    ...changes.deactivated.map((c) => ({ ...c, action: 'definition.deactivated' })),
  ].map((c) => ({
    actor: options.actor,
    action: c.action,
    target: `${c.kind.toLowerCase()}:${c.name}`,
    outcome: 'ok',
    detail: { hash: c.hash, ...(c.previousHash ? { previousHash: c.previousHash } : {}) },
  }));
  await appendAudit(db, rows);
  return {
    ...changes,
    counts: {
      flows: result.flows.size,
      policies: result.policies.size,
      connectors: result.connectors.size,
      roles: result.roles.size,
      sodRules: result.sodRules.size,
      correlations: result.correlations.size,
    },
  };
}
