/**
 * Flow diagrams: every reference flow and every step kind drawn as Mermaid and SVG — each step
 * once, every branch connected and joined, the same bytes every time, well-formed XML, labels
 * Mermaid cannot misread — for any title a person can type; and a run's path highlighted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compilePaths } from '../../src/cli/commands/validate';
import { graphFormat } from '../../src/cli/commands/graph';
import type { FlowIR, StepIR } from '../../src/dsl/ir';
import { renderGraph } from '../../src/graph';
import { highlightRun } from '../../src/graph/highlight';
import { mermaidText, toMermaid } from '../../src/graph/mermaid';
import { flowGraph, type FlowGraph } from '../../src/graph/model';
import { toSvg } from '../../src/graph/svg';
import { cleanText, textColumns, truncate, wrap, xml } from '../../src/graph/text';
import type { StepRecord } from '../../src/temporal/contracts';
import { xmlProblems } from '../support/xml-check';

const ROOT = join(__dirname, '..', '..');
const REFERENCE = readdirSync(join(ROOT, 'definitions', 'flows'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();
const FIXTURES = ['every-step-kind', 'parallel', 'approval', 'correlation'];

/** Compiled flows by reference flow name, or by fixture file (`fixture:<file>`, every flow in it). */
const flows = new Map<string, Array<{ ir: FlowIR; hash: string }>>();

beforeAll(async () => {
  const reference = await compilePaths([join(ROOT, 'definitions')]);
  expect(reference.diagnostics).toEqual([]);
  for (const [name, c] of reference.flows) flows.set(name, [c]);
  for (const file of FIXTURES) {
    const compiled = await compilePaths([join(ROOT, 'test', 'fixtures', 'valid', `${file}.yaml`)]);
    expect(compiled.diagnostics).toEqual([]);
    expect(compiled.flows.size).toBeGreaterThan(0);
    flows.set(`fixture:${file}`, [...compiled.flows.values()]);
  }
});

function allSteps(steps: readonly StepIR[]): StepIR[] {
  return steps.flatMap((s) => {
    switch (s.kind) {
      case 'if':
        return [s, ...allSteps(s.then), ...allSteps(s.else)];
      case 'switch':
        return [s, ...s.cases.flatMap((c) => allSteps(c.then)), ...allSteps(s.default)];
      case 'parallel':
        return [s, ...s.branches.flatMap((b) => allSteps(b.steps))];
      case 'forEach':
        return [s, ...allSteps(s.steps)];
      default:
        return [s];
    }
  });
}

/** Steps that follow a fail step in the same list: nothing leads to them. */
function afterFail(steps: readonly StepIR[]): Set<string> {
  const out = new Set<string>();
  let failed = false;
  for (const s of steps) {
    if (failed) allSteps([s]).forEach((x) => out.add(x.id));
    if (s.kind === 'fail') failed = true;
    for (const nested of nestedLists(s)) afterFail(nested).forEach((id) => out.add(id));
  }
  return out;
}

function nestedLists(s: StepIR): StepIR[][] {
  switch (s.kind) {
    case 'if':
      return [s.then, s.else];
    case 'switch':
      return [...s.cases.map((c) => c.then), s.default];
    case 'parallel':
      return s.branches.map((b) => b.steps);
    case 'forEach':
      return [s.steps];
    default:
      return [];
  }
}

/** Mermaid's node ids by graph key, read back from its node definitions. */
function mermaidNodeIds(text: string): string[] {
  return [...text.matchAll(/^\s+([A-Za-z0-9_]+)(?:\(|\[|\{|>)/gm)].map((m) => m[1] as string);
}

/** Every quoted label and edge text of Mermaid source. */
function mermaidLabels(text: string): string[] {
  return [...text.matchAll(/"([^"\n]*)"/g)].map((m) => m[1] as string);
}

const SAFE_LABEL = /^(?:[^"<>&`|%;#\\\n]|#\d+;|<br\/>)*$/;

function checkGraph(ir: FlowIR, graph: FlowGraph, mermaid: string, svg: string): void {
  const steps = allSteps(ir.steps);
  // every step exactly once, in the graph, the Mermaid source and the SVG
  const stepNodes = graph.nodes.filter((n) => n.stepId !== undefined);
  expect(stepNodes.map((n) => n.stepId).sort()).toEqual(steps.map((s) => s.id).sort());
  expect(new Set(graph.nodes.map((n) => n.key)).size).toBe(graph.nodes.length);
  const ids = mermaidNodeIds(mermaid);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.filter((id) => id.startsWith('n_')).length).toBe(graph.nodes.length);
  for (const s of steps) expect(svg.split(`data-step="${xml(s.id)}"`).length - 1).toBe(1);

  // edges join known nodes; everything is reachable from the start but what follows a fail
  const keys = new Set(graph.nodes.map((n) => n.key));
  for (const e of graph.edges) {
    expect(keys.has(e.from)).toBe(true);
    expect(keys.has(e.to)).toBe(true);
  }
  const reachable = new Set(['#start']);
  for (let grew = true; grew;) {
    grew = false;
    for (const e of graph.edges)
      if (reachable.has(e.from) && !reachable.has(e.to)) {
        reachable.add(e.to);
        grew = true;
      }
  }
  const unreachable = afterFail(ir.steps);
  for (const n of graph.nodes)
    if (!(n.stepId !== undefined && unreachable.has(n.stepId)))
      expect([n.key, reachable.has(n.key)]).toEqual([n.key, true]);
  // every node but the end and fail steps leads on: branches join again
  const leaving = new Set(graph.edges.map((e) => e.from));
  for (const n of graph.nodes)
    if (n.kind !== 'end' && n.kind !== 'fail')
      expect([n.key, leaving.has(n.key)]).toEqual([n.key, true]);
  // an if or switch step has an edge per arm
  for (const s of steps) {
    const out = graph.edges.filter((e) => e.from === s.id);
    if (s.kind === 'if') expect(out.length).toBe(2);
    if (s.kind === 'switch') expect(out.length).toBe(s.cases.length + 1);
    if (s.kind === 'parallel') expect(out.length).toBe(s.branches.length);
  }

  expect(xmlProblems(svg)).toEqual([]);
  expect(mermaid.startsWith('%% idflow graph: ')).toBe(true);
  expect(mermaid.split('\n')[1]).toBe('flowchart TD');
  for (const label of mermaidLabels(mermaid))
    expect([label, SAFE_LABEL.test(label)]).toEqual([label, true]);
}

describe.each([...REFERENCE, ...FIXTURES.map((f) => `fixture:${f}`)])('%s', (name) => {
  const compiled = () => {
    const found = flows.get(name);
    if (!found) throw new Error(`no compiled flow ${name}`);
    return found;
  };

  test('each step drawn once, every branch connected, well-formed and safe', () => {
    for (const { ir, hash } of compiled()) {
      const graph = flowGraph(ir, hash);
      checkGraph(ir, graph, toMermaid(graph), toSvg(graph));
    }
  });

  test('the same IR gives the same bytes', () => {
    for (const { ir, hash } of compiled()) {
      const copy = JSON.parse(JSON.stringify(ir)) as FlowIR;
      for (const format of ['svg', 'mermaid'] as const)
        expect(renderGraph(copy, format, { hash })).toBe(renderGraph(ir, format, { hash }));
    }
  });
});

/** `ir` with every title, branch title, case value and condition replaced by `texts` in turn. */
function retitle(ir: FlowIR, texts: readonly string[], hostileIds = false): FlowIR {
  let i = 0;
  const next = () => texts[i++ % texts.length] ?? '';
  const copy = JSON.parse(JSON.stringify(ir)) as FlowIR;
  copy.title = next();
  const visit = (steps: StepIR[]) => {
    for (const s of steps) {
      s.title = next();
      if (hostileIds) s.id = `${next()}${i}`;
      switch (s.kind) {
        case 'if':
          s.condition = next();
          visit(s.then);
          visit(s.else);
          break;
        case 'switch':
          s.on = next();
          s.cases.forEach((c) => (c.is = [next(), i]));
          s.cases.forEach((c) => visit(c.then));
          visit(s.default);
          break;
        case 'parallel':
          s.branches.forEach((b) => (b.title = next()));
          s.branches.forEach((b) => visit(b.steps));
          break;
        case 'forEach':
          s.as = next();
          visit(s.steps);
          break;
        case 'action':
          s.op = next();
          break;
        case 'fail':
          s.code = next();
          break;
        default:
      }
    }
  };
  visit(copy.steps);
  return copy;
}

/** One flow with every step kind: the fixtures' and the reference flows' steps in a row. */
function everyKind(): FlowIR {
  const base = flows.get('fixture:every-step-kind')?.[0]?.ir as FlowIR;
  const extra = [
    'fixture:parallel',
    'fixture:approval',
    'fixture:correlation',
    'dormant-accounts',
    'joiner-standard',
  ]
    .flatMap((name) => flows.get(name) ?? [])
    .flatMap(({ ir }) => ir.steps);
  const steps = [...base.steps.filter((s) => s.kind !== 'fail'), ...extra];
  // ids stay unique across the flows put together
  const seen = new Set<string>();
  const unique = (list: StepIR[]) => {
    for (const s of list) {
      while (seen.has(s.id)) s.id = `${s.id}-x`;
      seen.add(s.id);
      nestedLists(s).forEach(unique);
    }
  };
  const ir = JSON.parse(JSON.stringify({ ...base, steps })) as FlowIR;
  unique(ir.steps);
  return ir;
}

const HOSTILE = [
  '<script>alert("x&y")</script>',
  "it's [a] {b} (c) |d| `e` #f; %%g",
  'line one\nline two\r\n\tthree',
  'end',
  '"]-->x[("',
  '名前を記録する 🧑‍💻 ünïcödé',
  '\u0000\u0007\u001b[31m\ud800 bad',
  'x'.repeat(300),
  '',
];

test('every step kind is drawn; hostile titles are escaped, never markup', () => {
  const ir = retitle(everyKind(), HOSTILE);
  const kinds = new Set(allSteps(ir.steps).map((s) => s.kind));
  expect([...kinds].sort()).toEqual(
    [
      'action',
      'approval',
      'correlate',
      'fail',
      'forEach',
      'if',
      'notify',
      'parallel',
      'reconcile',
      'set',
      'switch',
      'wait',
    ].sort(),
  );
  const graph = flowGraph(ir, 'sha256:abc');
  const svg = toSvg(graph);
  const mermaid = toMermaid(graph);
  checkGraph(ir, graph, mermaid, svg);
  expect(svg).not.toContain('<script');
  expect(svg).toContain('&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;');
  expect(mermaid).not.toContain('<script');
  expect(mermaid).toContain('#60;script#62;alert(#34;x#38;y#34;)#60;/script#62;');
  expect(mermaid).toContain('名前を記録する 🧑‍💻 ünïcödé');
  // a long title is wrapped and cut in the SVG, kept whole in its tooltip
  expect(svg).toContain(`<title>${'x'.repeat(300)}`);
});

test('property: any titles and ids give well-formed SVG, safe Mermaid and the same bytes', () => {
  const base = everyKind();
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 12 }),
      fc.boolean(),
      (texts, hostileIds) => {
        const ir = retitle(base, texts, hostileIds);
        const graph = flowGraph(ir);
        const svg = toSvg(graph);
        const mermaid = toMermaid(graph);
        checkGraph(ir, graph, mermaid, svg);
        expect(toSvg(flowGraph(ir))).toBe(svg);
        expect(toMermaid(flowGraph(ir))).toBe(mermaid);
      },
    ),
    { numRuns: 60 },
  );
});

describe('a run on its flow', () => {
  const at = '2026-01-05T10:00:00.000Z';
  const record = (
    id: string,
    status: StepRecord['status'],
    output?: StepRecord['output'],
  ): StepRecord => ({
    id,
    kind: 'x',
    title: id,
    status,
    startedAt: at,
    ...(output !== undefined ? { output } : {}),
  });
  const joiner = () => flows.get('joiner-standard')?.[0]?.ir as FlowIR;

  test('a waiting joiner: its path green, the branch not taken grey, the wait current', () => {
    const graph = highlightRun(flowGraph(joiner()), {
      workflowId: 'flow/joiner-standard/p-graph-1/evt-1',
      status: 'Waiting',
      steps: [
        record('require-name', 'completed', { branch: 'else' }),
        record('record-person', 'completed'),
        record('wait-for-first-day', 'running'),
      ],
    });
    const status = (key: string) => graph.nodes.find((n) => n.key === key)?.status;
    expect(status('#start')).toBe('done');
    expect(status('require-name')).toBe('done');
    expect(status('reject-nameless')).toBe('not-taken');
    expect(status('record-person')).toBe('done');
    expect(status('wait-for-first-day')).toBe('running');
    expect(status('activate')).toBe('pending');
    expect(status('#end')).toBe('pending');
    const taken = (from: string, to: string) =>
      graph.edges.find((e) => e.from === from && e.to === to)?.taken;
    expect(taken('#start', 'require-name')).toBe(true);
    expect(taken('require-name', 'record-person')).toBe(true);
    expect(taken('require-name', 'reject-nameless')).toBe(false);
    expect(taken('record-person', 'wait-for-first-day')).toBe(true);
    expect(taken('wait-for-first-day', 'activate')).toBe(false);

    const mermaid = toMermaid(graph);
    expect(mermaid).toContain('class n__start,n_require_name,n_record_person done');
    expect(mermaid).toContain('class n_wait_for_first_day running');
    expect(mermaid).toMatch(/class [a-z_,]*n_reject_nameless[a-z_,]* notTaken/);
    expect(mermaid).toContain('linkStyle 0,2,3 stroke:#2e7d32');
    const svg = toSvg(graph);
    expect(xmlProblems(svg)).toEqual([]);
    expect(svg).toContain('data-step="wait-for-first-day" data-status="running"');
    expect(svg).toContain('data-step="reject-nameless" data-status="not-taken"');
    expect(svg).toContain('◀ now');
    expect(svg).toContain('flow/joiner-standard/p-graph-1/evt-1 · Waiting');
  });

  test('a failed run: the failed step red, everything after it not taken', () => {
    const graph = highlightRun(flowGraph(joiner()), {
      workflowId: 'flow/joiner-standard/p-graph-2/evt-2',
      status: 'Failed',
      steps: [
        record('require-name', 'completed', { branch: 'then' }),
        record('reject-nameless', 'failed'),
      ],
    });
    const status = (key: string) => graph.nodes.find((n) => n.key === key)?.status;
    expect(status('reject-nameless')).toBe('failed');
    expect(status('record-person')).toBe('not-taken');
    expect(status('#end')).toBe('not-taken');
    expect(graph.edges.filter((e) => e.taken).map((e) => `${e.from}>${e.to}`)).toEqual([
      '#start>require-name',
      'require-name>reject-nameless',
    ]);
    expect(toSvg(graph)).toContain('data-step="reject-nameless" data-status="failed"');
  });

  test('a switch takes its chosen case; a parked step is marked; a parallel join follows its step', () => {
    const every = flows.get('fixture:every-step-kind')?.[0]?.ir as FlowIR;
    const graph = highlightRun(flowGraph(every), {
      workflowId: 'w',
      status: 'Parked',
      steps: [
        record('lookup', 'completed'),
        record('names', 'completed'),
        record('known', 'completed', { branch: 'then' }),
        record('update', 'completed'),
        record('by-level', 'completed', { value: 'junior', case: 2 }),
        record('junior-wait', 'completed'),
        record('tell', 'parked'),
      ],
    });
    const status = (key: string) => graph.nodes.find((n) => n.key === key)?.status;
    expect(status('create')).toBe('not-taken');
    expect(status('senior-wait')).toBe('not-taken');
    expect(status('impossible')).toBe('not-taken');
    expect(status('tell')).toBe('parked');
    expect(graph.edges.find((e) => e.from === 'by-level' && e.to === 'junior-wait')?.taken).toBe(
      true,
    );
    expect(graph.edges.find((e) => e.from === 'by-level' && e.to === 'senior-wait')?.taken).toBe(
      false,
    );
    expect(toMermaid(graph)).toContain('class n_tell parked');
    expect(toSvg(graph)).toContain('◀ parked');

    const par = flows.get('fixture:parallel')?.[0]?.ir as FlowIR;
    const parallelStep = par.steps.find((s) => s.kind === 'parallel');
    if (parallelStep?.kind !== 'parallel') throw new Error('no parallel step in the fixture');
    const done = highlightRun(flowGraph(par), {
      workflowId: 'w2',
      status: 'Completed',
      steps: allSteps(par.steps).map((s) =>
        record(s.id, 'completed', s.kind === 'if' ? { branch: 'then' } : undefined),
      ),
    });
    expect(done.nodes.find((n) => n.kind === 'join')?.status).toBe('done');
    expect(done.nodes.find((n) => n.kind === 'end')?.status).toBe('done');
    // every edge but the `else` of the if step the run did not take
    expect(done.edges.filter((e) => !e.taken).map((e) => e.arm?.key)).toEqual(['else']);
  });
});

describe('text', () => {
  test('clean, measure, wrap, cut and escape', () => {
    expect(cleanText(' a\n\tb\u0000c ')).toBe('a b?c');
    expect(textColumns('ab名🧑')).toBe(6);
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(wrap('one two three four', 9, 2)).toEqual(['one two', 'three fo…']);
    expect(wrap('x'.repeat(10), 4, 5)).toEqual(['xxxx', 'xxxx', 'xx']);
    expect(xml(`<a b="c" d='e'>&`)).toBe('&lt;a b=&quot;c&quot; d=&apos;e&apos;&gt;&amp;');
    expect(mermaidText('a "b" #1; <c>|`d`')).toBe('a #34;b#34; #35;1#59; #60;c#62;#124;#96;d#96;');
  });

  test('the format follows --format, else the output file name', () => {
    expect(graphFormat({})).toBe('mermaid');
    expect(graphFormat({ output: 'joiner.svg' })).toBe('svg');
    expect(graphFormat({ output: 'joiner.md', format: 'svg' })).toBe('svg');
    expect(() => graphFormat({ format: 'png' })).toThrow('--format must be mermaid or svg');
  });
});

test('docs/diagrams/joiner-standard.svg is the reference joiner as idflow draws it now', () => {
  const joiner = flows.get('joiner-standard')?.[0];
  if (!joiner) throw new Error('no joiner-standard');
  const drawn = renderGraph(joiner.ir, 'svg', { hash: joiner.hash });
  const stored = readFileSync(join(ROOT, 'docs', 'diagrams', 'joiner-standard.svg'), 'utf8');
  // regenerate with: npx idflow graph joiner-standard --output docs/diagrams/joiner-standard.svg
  expect(stored).toBe(drawn);
});
