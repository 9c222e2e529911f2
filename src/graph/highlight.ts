/**
 * The path a run took, on its flow's graph: each step's status from the run's step records,
 * the arms its `if` and `switch` steps did not choose, and the edges it went along.
 */
import type { RunState, StepRecord } from '../temporal/contracts';
import type { Block, FlowGraph, GraphNode, NodeStatus } from './model';

/**
 * What a diagram needs of a run: its status and step records (the `state` query's answer) and
 * its workflow id. Steps running or parked are where the run is now.
 */
export type RunView = Pick<RunState, 'status' | 'steps'> & {
  workflowId: string;
};

const ENDED = new Set(['Completed', 'Failed', 'Cancelled']);
const REACHED = new Set<NodeStatus>([
  'done',
  'failed',
  'parked',
  'running',
  'skipped',
  'cancelled',
]);
const PASSED = new Set<NodeStatus>(['done', 'skipped']);

function fromRecord(record: StepRecord): NodeStatus {
  switch (record.status) {
    case 'completed':
      return 'done';
    case 'failed':
      return 'failed';
    case 'parked':
      return 'parked';
    case 'skipped':
      return 'skipped';
    case 'cancelled':
      return 'cancelled';
    case 'running':
      return 'running';
  }
}

/** The arm an `if` / `switch` record says was chosen (`then`, `else`, `case-<n>`, `default`). */
function chosenArm(record: StepRecord | undefined): string | undefined {
  const output = record?.output;
  if (!output || typeof output !== 'object' || Array.isArray(output)) return undefined;
  if (output.branch === 'then' || output.branch === 'else') return output.branch;
  if (output.case === 'default') return 'default';
  if (typeof output.case === 'number') return `case-${output.case}`;
  return undefined;
}

/** Sets each node's status and each edge's `taken` from `run`; returns the graph. */
export function highlightRun(graph: FlowGraph, run: RunView): FlowGraph {
  const records = new Map<string, StepRecord>();
  for (const r of run.steps) records.set(r.id, r); // the last record of a step counts
  const ended = ENDED.has(run.status);
  const chosen = new Map<string, string>();

  const mark = (node: GraphNode, untaken: boolean): void => {
    const record = node.stepId !== undefined ? records.get(node.stepId) : undefined;
    if (record) node.status = fromRecord(record);
    else node.status = untaken || ended ? 'not-taken' : 'pending';
  };

  const visit = (block: Block, untaken: boolean, inLoop: boolean): void => {
    switch (block.type) {
      case 'node':
        if (inLoop && !untaken) return; // item steps run in their own workflows
        return mark(block.node, untaken);
      case 'seq':
        return block.blocks.forEach((b) => visit(b, untaken, inLoop));
      case 'branch': {
        if (!(inLoop && !untaken)) mark(block.node, untaken);
        const record = block.node.stepId !== undefined ? records.get(block.node.stepId) : undefined;
        const arm = block.join ? undefined : chosenArm(record);
        if (arm && block.node.stepId !== undefined) chosen.set(block.node.stepId, arm);
        if (arm) block.chosen = arm;
        else delete block.chosen;
        for (const a of block.arms) {
          const armUntaken =
            untaken ||
            (!block.join && record !== undefined && record.status !== 'running' && a.key !== arm);
          visit(a.body, armUntaken, inLoop);
        }
        if (block.join && !(inLoop && !untaken)) {
          block.join.status =
            record?.status === 'completed' ? 'done' : untaken || ended ? 'not-taken' : 'pending';
        }
        return;
      }
      case 'loop':
        if (!(inLoop && !untaken)) mark(block.node, untaken);
        return visit(block.body, untaken, true);
    }
  };

  for (const node of graph.nodes) delete node.status;
  visit(graph.root, false, false);
  const start = graph.nodes.find((n) => n.kind === 'start');
  if (start) start.status = 'done';
  const end = graph.nodes.find((n) => n.kind === 'end');
  if (end) end.status = run.status === 'Completed' ? 'done' : ended ? 'not-taken' : 'pending';

  const byKey = new Map(graph.nodes.map((n) => [n.key, n]));
  for (const edge of graph.edges) {
    const from = byKey.get(edge.from)?.status;
    const to = byKey.get(edge.to)?.status;
    if (edge.loop !== undefined) {
      edge.taken = byKey.get(edge.loop)?.status === 'done';
      continue;
    }
    edge.taken =
      from !== undefined &&
      to !== undefined &&
      PASSED.has(from) &&
      REACHED.has(to) &&
      (!edge.arm || chosen.get(edge.arm.step) === edge.arm.key);
  }
  graph.run = { workflowId: run.workflowId, status: run.status };
  return graph;
}

/** Whether the run has been at a node (done, failed, parked, running, skipped or cancelled). */
export function reached(status: NodeStatus | undefined): boolean {
  return status !== undefined && REACHED.has(status);
}
