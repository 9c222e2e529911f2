/**
 * A flow graph as a standalone SVG, laid out here (no browser can be had to lay it out): steps
 * top to bottom, the arms of a branching side by side and joined below it, a forEach step's
 * item steps in a dashed frame with the loop drawn back. Boxes are sized from their text with
 * a monospace estimate. All text is escaped; the same graph always gives the same bytes.
 */
import { reached } from './highlight';
import {
  shortHash,
  type BranchBlock,
  type Block,
  type FlowGraph,
  type GraphNode,
  type LoopBlock,
  type SeqBlock,
} from './model';
import { f, paintOf, shapeExtra, shapeOf } from './shapes';
import { cleanText, textColumns, truncate, wrap, xml } from './text';

const FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace";
const CHAR = 7.3; // px per column at 12px
const SMALL_CHAR = 6.1; // px per column at 10px
const TITLE_COLUMNS = 34;
const LINE = 15;
const SMALL_LINE = 13;
const PAD_X = 12;
const PAD_Y = 8;
const MIN_WIDTH = 120;
const GAP = 26; // between steps of a sequence
const SPLIT = 14; // below a branching node, to its split line
const ARM_TOP = 30; // split line to the top of an arm (its label sits here)
const MERGE = 16; // bottom of the tallest arm to the join
const ARM_GAP = 26;
const FRAME_PAD = 12;
const FRAME_HEADER = 16;
const LOOP_MARGIN = 30;
const MARGIN = 20;

interface Box {
  w: number;
  h: number;
  /** No way out at the bottom (it ends in a fail step). */
  terminal: boolean;
  /** The node the box is entered at (none for an empty sequence). */
  entry?: GraphNode;
  /** Draws the box with its top-left corner at (x, y); `exitTaken`: the run left it at the bottom. */
  draw(x: number, y: number, exitTaken: boolean): void;
}

class SvgWriter {
  readonly out: string[] = [];
  constructor(readonly run: boolean) {}

  /** A line's stroke: green when the run went along it, faded when it did not. */
  private stroke(taken: boolean): string {
    if (!this.run) return 'stroke="#607d8b" stroke-width="1.5"';
    return taken
      ? 'stroke="#2e7d32" stroke-width="2.5"'
      : 'stroke="#cfd8dc" stroke-width="1.5" stroke-dasharray="4 3"';
  }

  private marker(taken: boolean): string {
    return !this.run ? 'url(#arrow)' : taken ? 'url(#arrow-taken)' : 'url(#arrow-faded)';
  }

  /** A polyline; with an arrowhead at its end when `arrow`. */
  line(points: Array<[number, number]>, taken: boolean, arrow: boolean): void {
    const d = points.map(([x, y], i) => `${i ? 'L' : 'M'}${f(x)} ${f(y)}`).join('');
    this.out.push(
      `<path d="${d}" fill="none" ${this.stroke(taken)}${arrow ? ` marker-end="${this.marker(taken)}"` : ''}/>`,
    );
  }

  label(x: number, y: number, text: string, anchor: 'start' | 'middle' = 'start'): void {
    this.out.push(
      `<text x="${f(x)}" y="${f(y)}" font-size="10" text-anchor="${anchor}" fill="#455a64" stroke="#ffffff" stroke-width="3" paint-order="stroke">${xml(text)}</text>`,
    );
  }

  nodeBox(node: GraphNode): Box {
    if (node.kind === 'start' || node.kind === 'end') {
      const size = node.kind === 'start' ? 16 : 20;
      return {
        w: size,
        h: size,
        terminal: node.kind === 'end',
        entry: node,
        draw: (x, y) => {
          const paint = paintOf(node.kind, node.status, this.run);
          this.out.push(
            `<g class="${node.kind}"><title>${node.kind}</title>${shapeOf(node.kind, x, y, size, size, paint)}</g>`,
          );
        },
      };
    }
    const title = wrap(node.title, TITLE_COLUMNS, 3);
    const details = node.details.map((d) => truncate(d, 52));
    const textW = Math.max(
      ...title.map((l) => textColumns(l) * CHAR),
      ...details.map((l) => textColumns(l) * SMALL_CHAR),
    );
    const innerH = 2 * PAD_Y + title.length * LINE + details.length * SMALL_LINE;
    const extra = shapeExtra(node.kind, innerH);
    const w = Math.ceil(Math.max(MIN_WIDTH, textW + 2 * PAD_X + extra.w));
    const h = Math.ceil(innerH + extra.h);
    return {
      w,
      h,
      terminal: node.kind === 'fail',
      entry: node,
      draw: (x, y) => {
        const paint = paintOf(node.kind, node.status, this.run);
        const cx = x + w / 2;
        let ty = y + extra.h / 2 + PAD_Y + 11;
        const texts: string[] = [];
        for (const line of title) {
          texts.push(
            `<text x="${f(cx)}" y="${f(ty)}" font-size="12" text-anchor="middle" fill="${paint.text}">${xml(line)}</text>`,
          );
          ty += LINE;
        }
        ty -= 2;
        for (const line of details) {
          texts.push(
            `<text x="${f(cx)}" y="${f(ty)}" font-size="10" text-anchor="middle" fill="${paint.text}" opacity="0.8">${xml(line)}</text>`,
          );
          ty += SMALL_LINE;
        }
        const tooltip = [node.title, ...node.details, ...(node.status ? [node.status] : [])].join(
          '\n',
        );
        const attrs = [
          `class="node ${node.kind}"`,
          ...(node.stepId !== undefined ? [`data-step="${xml(node.stepId)}"`] : []),
          ...(node.status ? [`data-status="${node.status}"`] : []),
        ].join(' ');
        this.out.push(
          `<g ${attrs}><title>${xml(tooltip)}</title>${shapeOf(node.kind, x, y, w, h, paint)}${texts.join('')}</g>`,
        );
        if (node.status === 'running' || node.status === 'parked') {
          const color = node.status === 'parked' ? '#c62828' : '#1565c0';
          this.out.push(
            `<text x="${f(x + w + 6)}" y="${f(y + h / 2 + 4)}" font-size="11" font-weight="bold" fill="${color}">◀ ${node.status === 'parked' ? 'parked' : 'now'}</text>`,
          );
        }
      },
    };
  }

  box(block: Block): Box {
    switch (block.type) {
      case 'node':
        return this.nodeBox(block.node);
      case 'seq':
        return this.seqBox(block);
      case 'branch':
        return this.branchBox(block);
      case 'loop':
        return this.loopBox(block);
    }
  }

  seqBox(seq: SeqBlock): Box {
    const children = seq.blocks.map((b) => this.box(b));
    const w = Math.max(0, ...children.map((c) => c.w));
    const h = children.reduce((sum, c) => sum + c.h, 0) + GAP * Math.max(0, children.length - 1);
    const terminal = children.some((c) => c.terminal);
    return {
      w,
      h,
      terminal,
      ...(children[0]?.entry ? { entry: children[0].entry } : {}),
      draw: (x, y, exitTaken) => {
        const cx = x + w / 2;
        let cy = y;
        children.forEach((child, i) => {
          const next = children[i + 1];
          const leaves = next ? reached(next.entry?.status) : exitTaken;
          child.draw(cx - child.w / 2, cy, leaves);
          cy += child.h;
          if (next) {
            if (!child.terminal)
              this.line(
                [
                  [cx, cy],
                  [cx, cy + GAP],
                ],
                leaves,
                true,
              );
            cy += GAP;
          }
        });
      },
    };
  }

  branchBox(block: BranchBlock): Box {
    const head = this.nodeBox(block.node);
    const arms = block.arms.map((arm) => {
      const body = this.seqBox(arm.body);
      const label = truncate(arm.label, 30);
      const slot = Math.max(body.w, textColumns(label) * SMALL_CHAR + 12, 48);
      return { arm, body, label, slot };
    });
    const armsW = arms.reduce((s, a) => s + a.slot, 0) + ARM_GAP * Math.max(0, arms.length - 1);
    const w = Math.max(head.w, armsW);
    const armH = Math.max(0, ...arms.map((a) => a.body.h));
    const h = head.h + SPLIT + ARM_TOP + armH + MERGE;
    const parallel = block.join !== undefined;
    const terminal = arms.length > 0 && arms.every((a) => a.body.terminal);
    return {
      w,
      h,
      terminal,
      entry: block.node,
      draw: (x, y, exitTaken) => {
        const cx = x + w / 2;
        head.draw(cx - head.w / 2, y, false);
        const ySplit = y + head.h + SPLIT;
        const yArm = ySplit + ARM_TOP;
        const yMerge = y + h;
        const status = block.node.status;
        this.line(
          [
            [cx, y + head.h],
            [cx, ySplit],
          ],
          parallel ? reached(status) : status === 'done',
          false,
        );
        let ax = x + (w - armsW) / 2;
        const centers = arms.map((a) => {
          const c = ax + a.slot / 2;
          ax += a.slot + ARM_GAP;
          return c;
        });
        if (parallel) {
          const left = Math.min(cx, ...centers) - 6;
          const right = Math.max(cx, ...centers) + 6;
          this.out.push(
            `<rect x="${f(left)}" y="${f(ySplit - 2)}" width="${f(right - left)}" height="4" fill="#37474f"/>`,
          );
        }
        arms.forEach((a, i) => {
          const c = centers[i] ?? cx;
          const taken = parallel ? reached(status) : block.chosen === a.arm.key;
          if (!parallel)
            this.line(
              [
                [cx, ySplit],
                [c, ySplit],
              ],
              taken,
              false,
            );
          const leaves = exitTaken && (parallel || taken);
          if (a.body.entry) {
            this.line(
              [
                [c, ySplit],
                [c, yArm],
              ],
              taken,
              true,
            );
            a.body.draw(c - a.body.w / 2, yArm, leaves);
            if (!a.body.terminal)
              this.line(
                [
                  [c, yArm + a.body.h],
                  [c, yMerge],
                ],
                leaves,
                parallel,
              );
          } else {
            this.line(
              [
                [c, ySplit],
                [c, yMerge],
              ],
              leaves,
              parallel,
            );
          }
          this.label(c + 4, ySplit + 13, a.label);
          if (!parallel && !a.body.terminal)
            this.line(
              [
                [c, yMerge],
                [cx, yMerge],
              ],
              leaves,
              false,
            );
        });
        if (parallel && !terminal) {
          const left = Math.min(cx, ...centers) - 6;
          const right = Math.max(cx, ...centers) + 6;
          this.out.push(
            `<rect x="${f(left)}" y="${f(yMerge - 2)}" width="${f(right - left)}" height="4" fill="#37474f"><title>all branches done</title></rect>`,
          );
        }
      },
    };
  }

  loopBox(block: LoopBlock): Box {
    const head = this.nodeBox(block.node);
    const body = this.seqBox(block.body);
    if (!body.entry) return head;
    const label = truncate(block.label, 40);
    const frameW = Math.max(body.w, textColumns(label) * SMALL_CHAR) + 2 * FRAME_PAD;
    const frameH = body.h + 2 * FRAME_PAD + FRAME_HEADER;
    const w = Math.max(head.w, frameW) + 2 * LOOP_MARGIN;
    const h = head.h + GAP + frameH;
    return {
      w,
      h,
      terminal: false,
      entry: block.node,
      draw: (x, y) => {
        const cx = x + w / 2;
        head.draw(cx - head.w / 2, y, false);
        const done = block.node.status === 'done';
        const fy = y + head.h + GAP;
        const fx = cx - frameW / 2;
        this.out.push(
          `<rect x="${f(fx)}" y="${f(fy)}" width="${f(frameW)}" height="${f(frameH)}" rx="6" fill="none" stroke="#90a4ae" stroke-dasharray="6 4"/>`,
        );
        this.label(fx + 6, fy + 12, label);
        const by = fy + FRAME_HEADER + FRAME_PAD;
        this.line(
          [
            [cx, y + head.h],
            [cx, by],
          ],
          done,
          true,
        );
        body.draw(cx - body.w / 2, by, false);
        const bottom = by + body.h;
        const right = x + w - LOOP_MARGIN / 2;
        if (!body.terminal)
          this.line(
            [
              [cx, bottom],
              [cx, bottom + FRAME_PAD / 2],
              [right, bottom + FRAME_PAD / 2],
              [right, y + head.h / 2],
              [cx + head.w / 2, y + head.h / 2],
            ],
            done,
            true,
          );
        this.label(right - 4, y + head.h / 2 - 4, 'next', 'middle');
      },
    };
  }
}

const LEGEND: Array<[string, string, string]> = [
  ['done', '#e8f5e9', '#2e7d32'],
  ['failed / parked', '#ffebee', '#c62828'],
  ['now', '#e3f2fd', '#1565c0'],
  ['skipped / not taken', '#fafafa', '#9e9e9e'],
];

/** The flow as a standalone SVG document. */
export function toSvg(graph: FlowGraph): string {
  const writer = new SvgWriter(graph.run !== undefined);
  const root = writer.seqBox(graph.root);
  const title = truncate(cleanText(graph.title), 80);
  const subtitle = truncate(
    cleanText(
      graph.run
        ? `${graph.name} · run ${graph.run.workflowId} · ${graph.run.status}`
        : `${graph.name}${graph.hash ? ` · ${shortHash(graph.hash)}` : ''}`,
    ),
    100,
  );
  const header = 46;
  const legendH = graph.run ? 30 : 0;
  const headerW = Math.max(textColumns(title) * 8.6, textColumns(subtitle) * SMALL_CHAR);
  const contentW = Math.max(root.w + 60, headerW);
  const width = Math.ceil(contentW + 2 * MARGIN);
  const height = Math.ceil(root.h + header + legendH + 2 * MARGIN);
  root.draw(MARGIN + (contentW - root.w) / 2, MARGIN + header, graph.run?.status === 'Completed');
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${xml(FONT)}" role="img" aria-label="${xml(`${graph.title}: flow diagram`)}">`,
    `<title>${xml(`${graph.title} (${graph.name})`)}</title>`,
    '<defs>',
    ...[
      ['arrow', '#607d8b'],
      ['arrow-taken', '#2e7d32'],
      ['arrow-faded', '#cfd8dc'],
    ].map(
      ([id, color]) =>
        `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="${color}"/></marker>`,
    ),
    '</defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN + 14}" font-size="15" font-weight="bold" fill="#263238">${xml(title)}</text>`,
    `<text x="${MARGIN}" y="${MARGIN + 31}" font-size="10" fill="#607d8b">${xml(subtitle)}</text>`,
    ...writer.out,
  ];
  if (graph.run) {
    let lx = MARGIN;
    const ly = height - MARGIN - 12;
    for (const [text, fill, stroke] of LEGEND) {
      parts.push(
        `<rect x="${f(lx)}" y="${f(ly)}" width="14" height="12" rx="2" fill="${fill}" stroke="${stroke}"/><text x="${f(lx + 19)}" y="${f(ly + 10)}" font-size="10" fill="#455a64">${xml(text)}</text>`,
      );
      lx += 19 + textColumns(text) * SMALL_CHAR + 18;
    }
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
