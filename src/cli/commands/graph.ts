/**
 * `idflow graph <flow>`: a flow drawn from its compiled IR, as Mermaid (for Markdown and pull
 * requests) or SVG. From the definitions directory by default, like `idflow validate`; from the
 * registry's active version with `--active`; `--run <workflow-id>` draws the version a run was
 * started with and highlights the path it took.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { activeDefinitions } from '../../db/repos/definitions';
import { escapeControl, formatDiagnostic } from '../../dsl/diagnostics';
import type { FlowIR } from '../../dsl/ir';
import { NAME_PATTERN } from '../../dsl/schema';
import { GRAPH_FORMATS, renderGraph, type GraphFormat, type RunView } from '../../graph';
import { loadRunGraph } from '../../graph/run-source';
import { createTemporalClient } from '../../temporal/client';
import { configOrExit, database, withDatabase } from '../runtime';
import { compilePaths, DEFAULT_DEFINITIONS } from './validate';

interface GraphOptions {
  format?: string;
  output?: string;
  definitions: string;
  active?: boolean;
  run?: string;
}

/** `--format`, or what the output file's name says, or Mermaid. */
export function graphFormat(options: Pick<GraphOptions, 'format' | 'output'>): GraphFormat {
  if (options.format === undefined) return options.output?.endsWith('.svg') ? 'svg' : 'mermaid';
  if (!(GRAPH_FORMATS as readonly string[]).includes(options.format))
    throw new Error(`--format must be mermaid or svg, not '${escapeControl(options.format)}'`);
  return options.format as GraphFormat;
}

/** The flow `name` compiled from `dir`; an error listing the problems when it does not compile. */
async function fromDefinitions(name: string, dir: string): Promise<{ ir: FlowIR; hash: string }> {
  const result = await compilePaths([dir]);
  const compiled = result.flows.get(name);
  if (compiled) {
    if (result.diagnostics.length)
      console.error(
        `idflow: ${result.diagnostics.length} problem(s) elsewhere in ${escapeControl(dir)} (see idflow validate)`,
      );
    return compiled;
  }
  if (result.diagnostics.length) {
    result.diagnostics.forEach((d) => console.error(formatDiagnostic(d)));
    throw new Error(
      `flow '${name}' is not among the flows that compiled in ${escapeControl(dir)}: ${result.diagnostics.length} problem(s) found`,
    );
  }
  const known = [...result.flows.keys()].sort().join(', ') || 'none';
  throw new Error(`no flow named '${name}' in ${escapeControl(dir)} (flows: ${known})`);
}

async function fromRegistry(name: string): Promise<{ ir: FlowIR; hash: string }> {
  return withDatabase(async (db) => {
    const [active] = await activeDefinitions(db, 'Flow', [name]);
    if (!active) throw new Error(`no active version of flow '${name}' in the registry`);
    return { ir: active.ir as FlowIR, hash: active.hash };
  });
}

async function fromRun(workflowId: string): Promise<{ ir: FlowIR; hash: string; run: RunView }> {
  const config = configOrExit();
  const temporal = createTemporalClient(config);
  // the registry is a fallback for a run whose history no longer holds its input; the embedded
  // database serves one process, so only a PostgreSQL one is opened here
  const handle = config.databaseUrl ? await database(config, 'cli') : undefined;
  try {
    return await loadRunGraph(temporal.client, workflowId, handle ? { db: handle.db } : {});
  } finally {
    await handle?.close();
    await temporal.close();
  }
}

export function registerGraph(program: Command): void {
  program
    .command('graph')
    .description('draw a flow from its compiled IR, or the path a run took, as Mermaid or SVG')
    .argument('[flow]', 'the flow name (not with --run)')
    .option(
      '--format <format>',
      'mermaid or svg (default: svg for an --output ending in .svg, else mermaid)',
    )
    .option('--output <file>', 'write the diagram to this file instead of standard output')
    .option('--definitions <dir>', 'compile the flow from this directory', DEFAULT_DEFINITIONS)
    .option('--active', "draw the registry's active version instead of the definitions directory")
    .option('--run <workflow-id>', 'draw the version the run was started with and the path it took')
    .action(async (flow: string | undefined, options: GraphOptions) => {
      const format = graphFormat(options);
      let source: { ir: FlowIR; hash: string; run?: RunView };
      if (options.run !== undefined) {
        if (flow !== undefined || options.active)
          throw new Error('--run draws the run’s own version: give no flow name and no --active');
        source = await fromRun(options.run);
      } else {
        if (flow === undefined)
          throw new Error('name the flow to draw, or give --run <workflow-id>');
        if (!NAME_PATTERN.test(flow))
          throw new Error(
            `the flow must be a flow name, like joiner-standard, not '${escapeControl(flow)}'`,
          );
        source = options.active
          ? await fromRegistry(flow)
          : await fromDefinitions(flow, options.definitions);
      }
      const text = renderGraph(source.ir, format, {
        hash: source.hash,
        ...(source.run ? { run: source.run } : {}),
      });
      if (options.output !== undefined) {
        writeFileSync(options.output, text);
        console.error(`wrote ${escapeControl(options.output)} (${format})`);
      } else process.stdout.write(text);
    });
}
