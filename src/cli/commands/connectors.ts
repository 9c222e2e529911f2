/** `idflow connectors list|test`: the configured connectors, and whether the worker can reach them. */
import type { Command } from 'commander';
import { checkConnector } from '../../../activities/connectors/check';
import { closeChannels } from '../../../activities/notify/channels';
import { compileSources } from '../../dsl/compiler';
import { formatDiagnostic } from '../../dsl/diagnostics';
import { loadSources } from '../../dsl/load';
import { didYouMean } from '../../dsl/diagnostics';
import type { ConnectorIR } from '../../dsl/ir';

async function configured(paths: string[]): Promise<Map<string, ConnectorIR>> {
  const { sources, diagnostics } = await loadSources(paths);
  const result = compileSources(sources);
  const problems = [...diagnostics, ...result.diagnostics];
  if (problems.length) {
    for (const p of problems) console.error(formatDiagnostic(p));
    throw new Error(
      `the definitions have ${problems.length} problem(s); fix them first (idflow validate)`,
    );
  }
  return result.connectors;
}

export function registerConnectors(program: Command): void {
  const connectors = program.command('connectors').description('configured connectors');
  connectors
    .command('list')
    .description('list the connectors the definitions configure')
    .option(
      '--definitions <path>',
      'definitions directory',
      process.env.IDFLOW_DEFINITIONS ?? 'definitions',
    )
    .action(async (options: { definitions: string }) => {
      for (const c of (await configured([options.definitions])).values())
        console.log(`${c.name}\t${c.type}`);
    });
  connectors
    .command('test')
    .description(
      "check a connector's connectivity and credentials from this machine (run it where the worker runs: secrets come from the environment)",
    )
    .argument('[names...]', 'connectors to check (default: all)')
    .option(
      '--definitions <path>',
      'definitions directory',
      process.env.IDFLOW_DEFINITIONS ?? 'definitions',
    )
    .option('--timeout <ms>', 'per check', '10000')
    .action(async (names: string[], options: { definitions: string; timeout: string }) => {
      const all = await configured([options.definitions]);
      const chosen = names.length ? names : [...all.keys()];
      let failed = 0;
      for (const name of chosen) {
        const connector = all.get(name);
        if (!connector) {
          console.log(`✗ ${name}: no such connector${didYouMean(name, [...all.keys()])}`);
          failed++;
          continue;
        }
        const result = await checkConnector(connector, Number(options.timeout) || 10_000);
        console.log(
          `${result.ok ? '✓' : '✗'} ${name} (${connector.type})${result.failure ? ` ${result.failure}` : ''}`,
        );
        for (const line of result.lines) console.log(`    ${line}`);
        if (!result.ok) failed++;
      }
      closeChannels();
      if (failed) process.exitCode = 1;
    });
}
