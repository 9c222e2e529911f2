/**
 * How each node of an SVG flow diagram looks: its shape by step kind, its colours by kind (a
 * flow on its own) or by status (a run's path). Numbers are rounded so output is stable.
 */
import type { NodeKind, NodeStatus } from './model';

/** A coordinate as written into the SVG: at most one decimal. */
export function f(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** Extra width (beside the text) and height each shape needs. */
export function shapeExtra(kind: NodeKind, h: number): { w: number; h: number } {
  switch (kind) {
    case 'if':
    case 'switch':
      return { w: 2 * Math.min(h / 2, 22), h: 0 };
    case 'wait':
      return { w: h / 2, h: 0 };
    case 'notify':
      return { w: 12, h: 0 };
    case 'set':
      return { w: 16, h: 0 };
    case 'reconcile':
      return { w: 16, h: 0 };
    case 'correlate':
      return { w: 0, h: 10 };
    case 'approval':
      return { w: 8, h: 4 };
    default:
      return { w: 0, h: 0 };
  }
}

export interface Paint {
  fill: string;
  stroke: string;
  text: string;
  width: number;
  dash?: string;
}

const KIND_PAINT: Partial<Record<NodeKind, Pick<Paint, 'fill' | 'stroke'>>> = {
  if: { fill: '#fff8e1', stroke: '#f9a825' },
  switch: { fill: '#fff8e1', stroke: '#f9a825' },
  approval: { fill: '#f3e5f5', stroke: '#6a1b9a' },
  wait: { fill: '#e0f7fa', stroke: '#00838f' },
  notify: { fill: '#e8eaf6', stroke: '#3949ab' },
  fail: { fill: '#ffebee', stroke: '#c62828' },
  parallel: { fill: '#eceff1', stroke: '#37474f' },
  forEach: { fill: '#eceff1', stroke: '#37474f' },
};

const STATUS_PAINT: Record<NodeStatus, Paint> = {
  done: { fill: '#e8f5e9', stroke: '#2e7d32', text: '#1b5e20', width: 2 },
  failed: { fill: '#ffebee', stroke: '#c62828', text: '#b71c1c', width: 2 },
  parked: { fill: '#ffebee', stroke: '#c62828', text: '#b71c1c', width: 3.5 },
  running: { fill: '#e3f2fd', stroke: '#1565c0', text: '#0d47a1', width: 3.5 },
  skipped: { fill: '#f5f5f5', stroke: '#9e9e9e', text: '#616161', width: 1.5, dash: '4 3' },
  cancelled: { fill: '#f5f5f5', stroke: '#9e9e9e', text: '#616161', width: 1.5, dash: '4 3' },
  'not-taken': { fill: '#fafafa', stroke: '#cfd8dc', text: '#9e9e9e', width: 1.2, dash: '4 3' },
  pending: { fill: '#ffffff', stroke: '#607d8b', text: '#263238', width: 1.5 },
};

/** A node's paint: by status when the diagram shows a run, else by kind. */
export function paintOf(kind: NodeKind, status: NodeStatus | undefined, run: boolean): Paint {
  if (run) return STATUS_PAINT[status ?? 'pending'];
  const byKind = KIND_PAINT[kind];
  return { fill: '#ffffff', stroke: '#455a64', text: '#263238', width: 1.5, ...byKind };
}

/** The outline of a node of `kind` in the box (x, y, w, h), with its paint attributes. */
export function shapeOf(
  kind: NodeKind,
  x: number,
  y: number,
  w: number,
  h: number,
  paint: Paint,
): string {
  const attrs = `fill="${paint.fill}" stroke="${paint.stroke}" stroke-width="${paint.width}"${paint.dash ? ` stroke-dasharray="${paint.dash}"` : ''}`;
  const poly = (points: Array<[number, number]>) =>
    `<polygon points="${points.map(([px, py]) => `${f(px)},${f(py)}`).join(' ')}" ${attrs}/>`;
  const rect = (rx: number, dx = 0) =>
    `<rect x="${f(x + dx)}" y="${f(y + dx)}" width="${f(w - 2 * dx)}" height="${f(h - 2 * dx)}" rx="${f(rx)}" ${attrs}/>`;
  switch (kind) {
    case 'if':
    case 'switch': {
      const d = Math.min(h / 2, 22);
      return poly([
        [x, y + h / 2],
        [x + d, y],
        [x + w - d, y],
        [x + w, y + h / 2],
        [x + w - d, y + h],
        [x + d, y + h],
      ]);
    }
    case 'notify':
      return poly([
        [x, y],
        [x + w, y],
        [x + w, y + h],
        [x, y + h],
        [x + 10, y + h / 2],
      ]);
    case 'set':
      return poly([
        [x + 8, y],
        [x + w, y],
        [x + w - 8, y + h],
        [x, y + h],
      ]);
    case 'wait':
      return rect(h / 2);
    case 'approval':
      return `${rect(8)}<rect x="${f(x + 3)}" y="${f(y + 3)}" width="${f(w - 6)}" height="${f(h - 6)}" rx="6" fill="none" stroke="${paint.stroke}" stroke-width="1"/>`;
    case 'reconcile':
      return `${rect(2)}<path d="M${f(x + 8)} ${f(y)}V${f(y + h)}M${f(x + w - 8)} ${f(y)}V${f(y + h)}" stroke="${paint.stroke}" stroke-width="1" fill="none"/>`;
    case 'correlate': {
      const r = 5;
      return `<path d="M${f(x)} ${f(y + r)}A${f(w / 2)} ${r} 0 0 1 ${f(x + w)} ${f(y + r)}V${f(y + h - r)}A${f(w / 2)} ${r} 0 0 1 ${f(x)} ${f(y + h - r)}Z" ${attrs}/><path d="M${f(x)} ${f(y + r)}A${f(w / 2)} ${r} 0 0 0 ${f(x + w)} ${f(y + r)}" fill="none" stroke="${paint.stroke}" stroke-width="1"/>`;
    }
    case 'parallel':
      return `${rect(2)}<path d="M${f(x)} ${f(y + 4)}H${f(x + w)}M${f(x)} ${f(y + h - 4)}H${f(x + w)}" stroke="${paint.stroke}" stroke-width="1" fill="none"/>`;
    case 'forEach':
      return rect(12);
    case 'fail': {
      const c = Math.min(10, h / 3);
      return poly([
        [x + c, y],
        [x + w - c, y],
        [x + w, y + c],
        [x + w, y + h - c],
        [x + w - c, y + h],
        [x + c, y + h],
        [x, y + h - c],
        [x, y + c],
      ]);
    }
    case 'start':
      return `<circle cx="${f(x + w / 2)}" cy="${f(y + h / 2)}" r="${f(w / 2)}" fill="${paint.stroke}" stroke="${paint.stroke}"/>`;
    case 'end':
      return `<circle cx="${f(x + w / 2)}" cy="${f(y + h / 2)}" r="${f(w / 2)}" fill="#ffffff" stroke="${paint.stroke}" stroke-width="2"/><circle cx="${f(x + w / 2)}" cy="${f(y + h / 2)}" r="${f(w / 2 - 4)}" fill="${paint.stroke}"/>`;
    default:
      return rect(4);
  }
}
