/** `idflow bundle`: builds the workflow bundle into the cache, so the next worker starts at once. */
import { join } from 'node:path';
import type { Command } from 'commander';
import { workflowBundle } from '../../temporal/bundle';
import { configOrExit } from '../runtime';

export function registerBundle(program: Command): void {
  program
    .command('bundle')
    .description('prebuild the workflow bundle (cached under IDFLOW_DATA_DIR/bundle)')
    .action(async () => {
      const config = configOrExit();
      const { code } = await workflowBundle(join(config.dataDir, 'bundle'), (m) =>
        console.error(m),
      );
      console.error(
        `workflow bundle ready (${Math.round(code.length / 1024)} KiB) in ${join(config.dataDir, 'bundle')}`,
      );
    });
}
