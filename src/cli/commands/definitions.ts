/** `idflow definitions apply|list`: the registry of active definition versions. */
import type { Command } from 'commander';
import { activeDefinitions } from '../../db/repos/definitions';
import { applyDefinitions } from '../../definitions/apply';
import { configOrExit, database } from '../runtime';

export function registerDefinitions(program: Command): void {
  const definitions = program
    .command('definitions')
    .description('load and inspect active definitions');
  definitions
    .command('apply')
    .description('compile definitions and make them active (running flows keep their version)')
    .argument('[paths...]', 'files or directories (default: IDFLOW_DEFINITIONS, definitions/)')
    .option('--replace', 'also deactivate active definitions that are not in these paths')
    .action(async (paths: string[], options: { replace?: boolean }) => {
      const config = configOrExit();
      const db = await database(config, 'cli');
      try {
        const result = await applyDefinitions(
          db.db,
          paths.length ? paths : [config.definitionsDir],
          {
            replace: options.replace ?? false,
            actor: `cli:${process.env.USER ?? 'unknown'}`,
          },
        );
        for (const c of result.activated)
          console.log(
            `activated ${c.kind} ${c.name} ${c.hash}${c.previousHash ? ` (was ${c.previousHash})` : ''}`,
          );
        for (const c of result.deactivated)
          console.log(`deactivated ${c.kind} ${c.name} ${c.hash}`);
        if (!result.activated.length && !result.deactivated.length)
          console.log('no changes: the active definitions are these');
      } finally {
        await db.close();
      }
    });
  definitions
    .command('list')
    .description('list active definitions with their hashes')
    .action(async () => {
      const config = configOrExit();
      const db = await database(config, 'cli');
      try {
        for (const kind of ['Flow', 'Policy', 'Connector'] as const) {
          for (const d of await activeDefinitions(db.db, kind))
            console.log(`${kind}\t${d.name}\t${d.hash}`);
        }
      } finally {
        await db.close();
      }
    });
}
