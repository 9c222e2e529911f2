/**
 * What a dry run of an event reads of the definitions: the active flows it would start, with
 * each one's version number next to its hash (the number a person reads, the hash a run keeps).
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { Compiled, FlowIR } from '../../dsl/ir';
import type { Database } from '../client';
import { definitionVersions } from '../schema';

export async function activeFlowVersions(
  db: Database,
  names: string[],
): Promise<Record<string, Compiled<FlowIR> & { version: number }>> {
  if (names.length === 0) return {};
  const rows = await db
    .select({
      name: definitionVersions.name,
      hash: definitionVersions.hash,
      ir: definitionVersions.ir,
      version: definitionVersions.version,
    })
    .from(definitionVersions)
    .where(
      and(
        eq(definitionVersions.kind, 'Flow'),
        eq(definitionVersions.active, true),
        inArray(definitionVersions.name, names),
      ),
    );
  const flows: Record<string, Compiled<FlowIR> & { version: number }> = {};
  for (const row of rows)
    flows[row.name] = { ir: row.ir as FlowIR, hash: row.hash, version: row.version };
  return flows;
}
