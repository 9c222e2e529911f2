/** `idflow definitions apply|list`: the registry of active definition versions. */
import type { Command } from 'commander';
import { activeDefinitions, DEFINITION_KINDS } from '../../db/repos/definitions';
import { applyDefinitions } from '../../definitions/apply';
import { cliActor, withDatabase } from '../runtime';
import { syncAfterApply } from './schedules';
import { syncReport } from '../../schedules/sync';

export function registerDefinitions(program: Command): void {
  const definitions = program
    .command('definitions')
    .description('load and inspect active definitions');
  definitions
    .command('apply')
    .description('compile definitions and make them active (running flows keep their version)')
    .argument('[paths...]', 'files or directories (default: IDFLOW_DEFINITIONS, definitions/)')
    .option('--replace', 'also deactivate active definitions that are not in these paths')
    .action((paths: string[], options: { replace?: boolean }) =>
      withDatabase(async (db, config) => {
        const result = await applyDefinitions(db, paths.length ? paths : [config.definitionsDir], {
          replace: options.replace ?? false,
          actor: cliActor(),
        });
        for (const c of result.activated) {
          console.log(
            `activated ${c.kind} ${c.name} ${c.hash}${c.previousHash ? ` (was ${c.previousHash})` : ''}`,
          );
        }
        for (const c of result.deactivated)
          console.log(`deactivated ${c.kind} ${c.name} ${c.hash}`);
        if (!result.activated.length && !result.deactivated.length) {
          console.log('no changes: these are the active definitions already');
        }
        // the active flows' schedules follow the definitions into Temporal
        const synced = await syncAfterApply(db, config, cliActor());
        if (synced.ok) for (const line of syncReport(synced.result)) console.log(line);
        else {
          console.error(`idflow: ${synced.message}`);
          process.exitCode = 1;
        }
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
}
