/**
 * `idflow definitions apply|list|history|activate|diff`: the registry of definition versions.
 * Apply stores what changed as new versions (active, or drafts) and prunes old ones; activate
 * switches the version new runs use; running runs keep theirs.
 */
import type { Command } from 'commander';
import type { Config } from '../../config';
import type { Database } from '../../db/client';
import {
  activeDefinitions,
  DEFINITION_KINDS,
  type DefinitionVersion,
} from '../../db/repos/definitions';
import { applyDefinitions, type ApplyResult } from '../../definitions/apply';
import { renderDiff } from '../../definitions/diff';
import { temporalVersionsInUse } from '../../definitions/retention';
import { activateDefinition, diffDefinition, historyOf } from '../../definitions/versions';
import { syncReport } from '../../schedules/sync';
import { table } from '../access-view';
import { cliActor, withDatabase, withTemporal } from '../runtime';
import { syncAfterApply } from './schedules';

const TEMPORAL_DEADLINE_MS = 10_000;

const when = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');
const shortHash = (hash: string) => hash.replace(/^sha256:/, '').slice(0, 12);

/** The history as `idflow definitions history` prints it. */
export function renderHistory(versions: DefinitionVersion[]): string {
  return table(
    ['VERSION', 'HASH', 'STATUS', 'STORED', 'APPLIED BY', 'GIT COMMIT', 'GIT AUTHOR', 'ACTIVATED'],
    versions.map((v) => [
      String(v.version),
      shortHash(v.hash),
      v.status,
      when(v.createdAt),
      v.appliedBy,
      v.gitCommit ? v.gitCommit.replace(/^([0-9a-f]{12})[0-9a-f]*/, '$1') : '-',
      v.gitAuthor ?? '-',
      v.status === 'draft' ? '-' : when(v.activatedAt),
    ]),
    '',
  );
}

/** The active flows' schedules follow the definitions into Temporal. */
async function syncSchedules(db: Database, config: Config): Promise<void> {
  const synced = await syncAfterApply(db, config, cliActor());
  if (synced.ok) for (const line of syncReport(synced.result)) console.log(line);
  else {
    console.error(`idflow: ${synced.message}`);
    process.exitCode = 1;
  }
}

function printApply(result: ApplyResult, draft: boolean): void {
  for (const s of result.stored)
    console.log(
      `stored ${s.kind} ${s.name} version ${s.version} ${s.hash}${draft ? ' (draft)' : ''}`,
    );
  for (const c of result.activated) {
    const was = c.previousHash ? ` (was version ${c.previousVersion} ${c.previousHash})` : '';
    console.log(`activated ${c.kind} ${c.name} version ${c.version} ${c.hash}${was}`);
  }
  for (const c of result.deactivated)
    console.log(`deactivated ${c.kind} ${c.name} version ${c.version} ${c.hash}`);
  if (!result.stored.length && !result.activated.length && !result.deactivated.length)
    console.log('no changes: these definitions are stored already');
  if (result.git) console.log(`git commit ${result.git.commit} by ${result.git.author}`);
  const retention = result.retention;
  if (retention) {
    for (const p of retention.pruned)
      console.log(`pruned ${p.kind} ${p.name} version ${p.version} ${p.hash}`);
    for (const p of retention.inUse)
      console.log(`kept ${p.kind} ${p.name} version ${p.version}: running runs use it`);
    if (retention.skipped) console.error(`idflow: ${retention.skipped}`);
  }
}

export function registerDefinitions(program: Command): void {
  const definitions = program
    .command('definitions')
    .description('store, activate and compare definition versions');
  definitions
    .command('apply')
    .description(
      'compile definitions, store each changed one as a new version and activate it (running flows keep their version)',
    )
    .argument('[paths...]', 'files or directories (default: IDFLOW_DEFINITIONS, definitions/)')
    .option('--replace', 'also deactivate active definitions that are not in these paths')
    .option('--draft', 'store changed definitions as drafts: nothing active changes')
    .action((paths: string[], options: { replace?: boolean; draft?: boolean }) =>
      withDatabase(async (db, config) => {
        await withTemporal(config, async (client) => {
          const inUse = temporalVersionsInUse(client);
          const result = await applyDefinitions(
            db,
            paths.length ? paths : [config.definitionsDir],
            {
              replace: options.replace ?? false,
              draft: options.draft ?? false,
              actor: cliActor(),
              retention: config.definitionRetention,
              inUse: (hashes) =>
                client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => inUse(hashes)),
            },
          );
          printApply(result, options.draft ?? false);
        });
        if (!options.draft) await syncSchedules(db, config);
      }),
    );
  definitions
    .command('list')
    .description('list active definitions with their hashes')
    .action(() =>
      withDatabase(async (db) => {
        for (const kind of DEFINITION_KINDS) {
          for (const d of await activeDefinitions(db, kind))
            console.log(`${kind}\t${d.name}\t${d.hash}`);
        }
      }),
    );
  definitions
    .command('history')
    .description("a definition's versions, newest first: status, who applied it, git commit")
    .argument('<kind/name>', 'like flow/joiner-standard')
    .action((ref: string) =>
      withDatabase(async (db) => {
        const { versions } = await historyOf(db, ref);
        console.log(renderHistory(versions));
      }),
    );
  definitions
    .command('activate')
    .description('make a stored version the one new runs use (running runs keep theirs)')
    .argument('<kind/name>', 'like flow/joiner-standard')
    .argument('<version>', 'a version number or a prefix of its hash')
    .action((ref: string, version: string) =>
      withDatabase(async (db, config) => {
        const { change, unchanged } = await activateDefinition(db, ref, version, cliActor());
        if (unchanged) {
          console.log(`${change.kind} ${change.name} version ${change.version} is active already`);
          return;
        }
        const was = change.previousHash ? ` (was version ${change.previousVersion})` : '';
        console.log(
          `activated ${change.kind} ${change.name} version ${change.version} ${change.hash}${was}`,
        );
        if (change.kind === 'Flow') await syncSchedules(db, config);
      }),
    );
  definitions
    .command('diff')
    .description('what changed between two versions: the YAML, and the steps of a flow')
    .argument('<kind/name>', 'like flow/joiner-standard')
    .argument('<a>', 'the older version (number or hash prefix)')
    .argument('<b>', 'the newer version (number or hash prefix)')
    .action((ref: string, a: string, b: string) =>
      withDatabase(async (db) => {
        const { ref: parsed, diff } = await diffDefinition(db, ref, a, b);
        console.log(renderDiff(parsed.kind, parsed.name, diff));
      }),
    );
}
