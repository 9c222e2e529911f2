/**
 * A flow's compiled IR as a diagram: a tree of blocks (a node, a sequence, a branching with its
 * arms, a loop with its body) that the SVG layout draws, and the same flow as plain nodes and
 * edges that Mermaid draws. Both come from the IR a run carries, so a diagram shows exactly
 * what runs, never the YAML's surface.
 */
import type { FlowIR, StepIR, StepKind } from '../dsl/ir';
import { stepDetails } from './labels';
import { cleanText } from './text';

/** Step kinds, and the nodes a diagram adds: the start, the end and a parallel step's join. */
export type NodeKind = StepKind | 'start' | 'end' | 'join';

/**
 * How a node stands in a run: `running` and `parked` are where the run is now; `not-taken` a
 * step the run did not (and, once it ended, will not) reach; `pending` one it may still reach.
 */
export type NodeStatus =
  'done' | 'failed' | 'parked' | 'running' | 'skipped' | 'cancelled' | 'not-taken' | 'pending';

export interface GraphNode {
  /** Unique in the graph: the step id, or a name no step id can take (`#start`, `<id>#join`). */
  key: string;
  stepId?: string;
  kind: NodeKind;
  title: string;
  details: string[];
  /** Set when the graph shows a run (item steps of a forEach keep none: items run apart). */
  status?: NodeStatus;
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
  /** The arm of an `if` / `switch` step this edge belongs to. */
  arm?: { step: string; key: string };
  /** An edge into or out of a forEach step's item steps (the key of the forEach node). */
  loop?: string;
  /** Set when the graph shows a run: the run went along this edge. */
  taken?: boolean;
}

export interface NodeBlock {
  type: 'node';
  node: GraphNode;
}
export interface SeqBlock {
  type: 'seq';
  blocks: Block[];
}
export interface Arm {
  /** `then`/`else`, `case-<n>`/`default`, or a parallel branch id. */
  key: string;
  label: string;
  body: SeqBlock;
}
/** `if` / `switch` (a decision: one arm runs) or `parallel` (every arm runs, then the join). */
export interface BranchBlock {
  type: 'branch';
  node: GraphNode;
  arms: Arm[];
  join?: GraphNode;
  /** The arm a run's `if` / `switch` step chose (set when the graph shows a run). */
  chosen?: string;
}
export interface LoopBlock {
  type: 'loop';
  node: GraphNode;
  /** `each <item>`. */
  label: string;
  body: SeqBlock;
}
export type Block = NodeBlock | SeqBlock | BranchBlock | LoopBlock;

export interface FlowGraph {
  name: string;
  title: string;
  hash?: string;
  root: SeqBlock;
  /** In document order: the start first, the end (when the flow can reach it) last. */
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The run the statuses come from. */
  run?: { workflowId: string; status: string };
}

class Builder {
  readonly nodes: GraphNode[] = [];
  readonly edges: GraphEdge[] = [];
  private readonly keys = new Set<string>();

  node(kind: NodeKind, key: string, title: string, details: string[], stepId?: string): GraphNode {
    let unique = key;
    for (let n = 2; this.keys.has(unique); n++) unique = `${key}#${n}`;
    this.keys.add(unique);
    const node: GraphNode = {
      key: unique,
      kind,
      title,
      details,
      ...(stepId !== undefined ? { stepId } : {}),
    };
    return node;
  }

  stepNode(step: StepIR): GraphNode {
    return this.node(
      step.kind,
      step.id,
      cleanText(step.title) || cleanText(step.id),
      stepDetails(step),
      step.id,
    );
  }

  seq(steps: readonly StepIR[]): SeqBlock {
    return { type: 'seq', blocks: steps.map((s) => this.block(s)) };
  }

  block(step: StepIR): Block {
    const node = this.stepNode(step);
    switch (step.kind) {
      case 'if':
        return {
          type: 'branch',
          node,
          arms: [
            { key: 'then', label: 'then', body: this.seq(step.then) },
            { key: 'else', label: 'else', body: this.seq(step.else) },
          ],
        };
      case 'switch':
        return {
          type: 'branch',
          node,
          arms: [
            ...step.cases.map((c, i) => ({
              key: `case-${i + 1}`,
              label: cleanText(
                `is ${c.is.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`,
              ),
              body: this.seq(c.then),
            })),
            { key: 'default', label: 'default', body: this.seq(step.default) },
          ],
        };
      case 'parallel':
        return {
          type: 'branch',
          node,
          arms: step.branches.map((b) => ({
            key: b.id,
            label: cleanText(b.title) || cleanText(b.id),
            body: this.seq(b.steps),
          })),
          join: this.node('join', `${step.id}#join`, 'all branches done', []),
        };
      case 'forEach':
        return {
          type: 'loop',
          node,
          label: cleanText(`each ${step.as}`),
          body: this.seq(step.steps),
        };
      default:
        return { type: 'node', node };
    }
  }
}

interface Exit {
  from: string;
  label?: string;
  arm?: { step: string; key: string };
  loop?: string;
}

/** Adds `block`'s nodes and edges in document order; returns the edges leaving it. */
function flatten(b: Builder, block: Block, incoming: Exit[]): Exit[] {
  const connect = (exits: Exit[], to: string, extra: Partial<GraphEdge> = {}) => {
    for (const e of exits) b.edges.push({ ...e, to, ...extra });
  };
  switch (block.type) {
    case 'node':
      b.nodes.push(block.node);
      connect(incoming, block.node.key);
      return block.node.kind === 'fail' ? [] : [{ from: block.node.key }];
    case 'seq':
      return block.blocks.reduce((exits, child) => flatten(b, child, exits), incoming);
    case 'branch': {
      b.nodes.push(block.node);
      connect(incoming, block.node.key);
      const step = block.node.stepId ?? block.node.key;
      const exits = block.arms.flatMap((arm) =>
        flatten(b, arm.body, [
          {
            from: block.node.key,
            label: arm.label,
            ...(block.join ? {} : { arm: { step, key: arm.key } }),
          },
        ]),
      );
      if (!block.join) return exits;
      if (!exits.length) return [];
      b.nodes.push(block.join);
      connect(exits, block.join.key);
      return [{ from: block.join.key }];
    }
    case 'loop': {
      b.nodes.push(block.node);
      connect(incoming, block.node.key);
      const key = block.node.key;
      const ends = flatten(b, block.body, [{ from: key, label: block.label, loop: key }]);
      // an empty arm at the end of the item steps keeps its label (`else`) on the way back
      for (const e of block.body.blocks.length ? ends : [])
        b.edges.push({ ...e, label: e.label ?? 'next', to: key, loop: key });
      return [{ from: key }];
    }
  }
}

/** A definition hash as a diagram shows it: its first 12 hex digits. */
export function shortHash(hash: string): string {
  return cleanText(hash.replace(/^sha256:/, '').slice(0, 12));
}

/** The graph of a compiled flow (statuses come with `highlightRun`). */
export function flowGraph(ir: FlowIR, hash?: string): FlowGraph {
  const b = new Builder();
  const start = b.node('start', '#start', 'start', []);
  const body = b.seq(ir.steps);
  b.nodes.push(start);
  const exits = flatten(b, body, [{ from: start.key }]);
  const blocks: Block[] = [{ type: 'node', node: start }, ...body.blocks];
  if (exits.length) {
    const end = b.node('end', '#end', 'end', []);
    b.nodes.push(end);
    for (const e of exits) b.edges.push({ ...e, to: end.key });
    blocks.push({ type: 'node', node: end });
  }
  return {
    name: cleanText(ir.name),
    title: cleanText(ir.title) || cleanText(ir.name),
    ...(hash ? { hash } : {}),
    root: { type: 'seq', blocks },
    nodes: b.nodes,
    edges: b.edges,
  };
}
