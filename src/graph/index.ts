/**
 * Flow diagrams: a compiled flow (and optionally the path a run took through it) as Mermaid or
 * as a standalone SVG. The CLI's `idflow graph` and the gateway's run graph both draw here.
 */
import type { FlowIR } from '../dsl/ir';
import { highlightRun, type RunView } from './highlight';
import { toMermaid } from './mermaid';
import { flowGraph } from './model';
import { toSvg } from './svg';

export const GRAPH_FORMATS = ['mermaid', 'svg'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** The diagram of `ir` in `format`, with `run`'s path highlighted when given. */
export function renderGraph(
  ir: FlowIR,
  format: GraphFormat,
  options: { hash?: string; run?: RunView } = {},
): string {
  const graph = flowGraph(ir, options.hash);
  if (options.run) highlightRun(graph, options.run);
  return format === 'svg' ? toSvg(graph) : toMermaid(graph);
}

export type { RunView } from './highlight';
