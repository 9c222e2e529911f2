/**
 * `idflow compile <flow>`: the IR and content hash of one flow, as the runtime would pin it.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { didYouMean, formatDiagnostic } from '../../dsl/diagnostics';
import { compilePaths } from './validate';

export function registerCompile(program: Command): void {
  program
    .command('compile')
    .description('print the compiled IR and content hash of a flow')
    .argument('<flow>', 'flow name (metadata.name)')
    .option('-d, --definitions <paths...>', 'where the definitions are', ['definitions'])
    .option('-o, --out <file>', 'write the IR to a file instead of standard output')
    .action(async (flow: string, options: { definitions: string[]; out?: string }) => {
      const result = await compilePaths(options.definitions);
      const compiled = result.flows.get(flow);
      if (!compiled) {
        result.diagnostics.forEach((d) => console.error(formatDiagnostic(d)));
        const known = [...result.flows.keys()];
        throw new Error(
          result.diagnostics.length
            ? `flow '${flow}' did not compile (${result.diagnostics.length} problems above)`
            : `no flow named '${flow}'${didYouMean(flow, known)}; flows: ${known.join(', ') || 'none'}`,
        );
      }
      const json = JSON.stringify({ name: flow, hash: compiled.hash, ir: compiled.ir }, null, 2);
      if (options.out) {
        await writeFile(options.out, json + '\n');
        console.error(`${flow} ${compiled.hash} → ${options.out}`);
      } else {
        console.log(json);
      }
    });
}
