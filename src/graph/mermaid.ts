/**
 * A flow graph as a Mermaid `flowchart TD`, for Markdown that GitHub renders and for the Web
 * UI's notes. Node ids are made from step ids but safe for Mermaid; every label is quoted and
 * its characters that Mermaid or HTML would read are written as Mermaid's `#<code>;` entities.
 */
import {
  shortHash,
  type Block,
  type FlowGraph,
  type GraphNode,
  type NodeKind,
  type NodeStatus,
} from './model';
import { cleanText } from './text';

/** Mermaid's entity for each character that could end a label or turn into markup. */
const SPECIAL = /[#"&<>`|%;\\]/g;

/** `text` safe inside a double-quoted Mermaid label or edge text. */
export function mermaidText(text: string): string {
  return cleanText(text).replace(SPECIAL, (c) => `#${c.charCodeAt(0)};`);
}

/** Opening and closing of each kind's shape. */
const SHAPES: Record<NodeKind, [string, string]> = {
  start: ['((', '))'],
  end: ['(((', ')))'],
  join: ['((', '))'],
  action: ['[', ']'],
  notify: ['>', ']'],
  set: ['[/', '/]'],
  if: ['{', '}'],
  switch: ['{', '}'],
  parallel: ['[[', ']]'],
  wait: ['([', '])'],
  approval: ['{{', '}}'],
  reconcile: ['[[', ']]'],
  correlate: ['[(', ')]'],
  forEach: ['[\\', '\\]'],
  fail: ['[/', '\\]'],
};

const STATUS_CLASSES: Record<NodeStatus, string> = {
  done: 'done',
  failed: 'failed',
  parked: 'parked',
  running: 'running',
  skipped: 'skipped',
  cancelled: 'cancelled',
  'not-taken': 'notTaken',
  pending: 'pending',
};

const CLASS_DEFS: Array<[string, string]> = [
  ['done', 'fill:#e8f5e9,stroke:#2e7d32,color:#1b5e20'],
  ['failed', 'fill:#ffebee,stroke:#c62828,color:#b71c1c'],
  ['parked', 'fill:#ffebee,stroke:#c62828,stroke-width:4px,color:#b71c1c'],
  ['running', 'fill:#e3f2fd,stroke:#1565c0,stroke-width:4px,color:#0d47a1'],
  ['skipped', 'fill:#f5f5f5,stroke:#9e9e9e,stroke-dasharray:4 3,color:#616161'],
  ['cancelled', 'fill:#f5f5f5,stroke:#9e9e9e,stroke-dasharray:4 3,color:#616161'],
  ['notTaken', 'fill:#fafafa,stroke:#bdbdbd,stroke-dasharray:4 3,color:#9e9e9e'],
  ['pending', 'fill:#ffffff,stroke:#455a64,color:#263238'],
];

class Ids {
  private readonly used = new Set<string>();
  private readonly byKey = new Map<string, string>();

  get(prefix: string, key: string): string {
    const known = this.byKey.get(`${prefix}:${key}`);
    if (known) return known;
    const base = `${prefix}_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}_${n}`;
    this.used.add(id);
    this.byKey.set(`${prefix}:${key}`, id);
    return id;
  }
}

function label(node: GraphNode): string {
  return [node.title, ...node.details].map(mermaidText).join('<br/>');
}

/** The flow as Mermaid source (deterministic: the same graph gives the same text). */
export function toMermaid(graph: FlowGraph): string {
  const ids = new Ids();
  const lines: string[] = [];
  const heading = `${graph.name}${graph.hash ? ` ${shortHash(graph.hash)}` : ''}${graph.run ? ` run ${graph.run.workflowId} (${graph.run.status})` : ''}`;
  lines.push(`%% idflow graph: ${cleanText(heading).replace(/%/g, '?')}`);
  lines.push('flowchart TD');

  const define = (node: GraphNode, indent: string) => {
    const [open, close] = SHAPES[node.kind];
    lines.push(`${indent}${ids.get('n', node.key)}${open}"${label(node)}"${close}`);
  };
  const subgraph = (key: string, title: string, body: Block, indent: string) => {
    lines.push(`${indent}subgraph ${ids.get('g', key)}["${mermaidText(title)}"]`);
    lines.push(`${indent}  direction TB`);
    walk(body, `${indent}  `);
    lines.push(`${indent}end`);
  };
  const walk = (block: Block, indent: string): void => {
    switch (block.type) {
      case 'node':
        return define(block.node, indent);
      case 'seq':
        return block.blocks.forEach((b) => walk(b, indent));
      case 'branch':
        define(block.node, indent);
        for (const arm of block.arms) {
          if (block.join && arm.body.blocks.length)
            subgraph(`${block.node.key}/${arm.key}`, arm.label, arm.body, indent);
          else walk(arm.body, indent);
        }
        if (block.join && graph.nodes.includes(block.join)) define(block.join, indent);
        return;
      case 'loop':
        define(block.node, indent);
        if (block.body.blocks.length) subgraph(block.node.key, block.label, block.body, indent);
        return;
    }
  };
  walk(graph.root, '  ');

  for (const edge of graph.edges) {
    const arrow = edge.loop !== undefined ? '-.->' : '-->';
    const text = edge.label ? `|"${mermaidText(edge.label)}"|` : '';
    lines.push(`  ${ids.get('n', edge.from)} ${arrow}${text} ${ids.get('n', edge.to)}`);
  }

  if (graph.run) {
    for (const [name, style] of CLASS_DEFS) lines.push(`  classDef ${name} ${style}`);
    const byClass = new Map<string, string[]>();
    for (const node of graph.nodes) {
      if (!node.status) continue;
      const cls = STATUS_CLASSES[node.status];
      byClass.set(cls, [...(byClass.get(cls) ?? []), ids.get('n', node.key)]);
    }
    for (const [name] of CLASS_DEFS) {
      const members = byClass.get(name);
      if (members?.length) lines.push(`  class ${members.join(',')} ${name}`);
    }
    const taken = graph.edges.flatMap((e, i) => (e.taken ? [i] : []));
    if (taken.length) lines.push(`  linkStyle ${taken.join(',')} stroke:#2e7d32,stroke-width:3px`);
  }
  return `${lines.join('\n')}\n`;
}
