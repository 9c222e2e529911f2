/**
 * Run graphs on a real run: `idflow graph --run` and `GET /v1/runs/{workflowId}/graph` draw the
 * version a run was started with and highlight the path it took (done, the arm not taken, the
 * step it waits on; a failed step and what it never reached); the route needs a token with
 * `runs:read`, answers 404 for an unknown run and 400 naming a bad format.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { TokenService } from '../../src/gateway/services/tokens';
import type { RunState } from '../../src/temporal/contracts';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { xmlProblems } from '../support/xml-check';

let h: Harness;
let noRuns: string;
let waiting: string;
let failed: string;

const FLOWS = `
apiVersion: idflow/v1
kind: Policy
metadata: { name: it-graph }
rules:
  - on: [test.graph]
    run: [it-graph]
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-graph, title: 'Graph <"&'' test' }
steps:
  - id: create
    title: Record <the> "person"
    action:
      connector: people
      op: upsertPerson
      args: { id: '\${subject.id}', givenName: Graph, status: pending }
  - id: which
    title: Sales or not?
    if:
      condition: subject.?department.orValue("") == "Sales"
      then:
        - id: sales
          set: { team: sales }
      else:
        - id: refuse
          title: Only Sales may run this
          fail: { reason: not sales, code: NotSales }
  - id: pause
    title: Wait a minute
    wait: { for: 60s }
  - id: after
    set: { done: true }
`;

const idflow = (...args: string[]) => h.idflow(...args);

async function get(
  path: string,
  token: string | null = h.token,
): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${h.gatewayUrl}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text: await res.text(),
  };
}

const graphPath = (workflowId: string, format?: string) =>
  `/v1/runs/${encodeURIComponent(workflowId)}/graph${format ? `?format=${format}` : ''}`;

async function start(subject: Record<string, unknown>): Promise<string> {
  const event = makeEvent('test.graph', subject);
  expect((await h.postEvent(event)).status).toBe(202);
  return `flow/it-graph/${subject.id as string}/${event.id as string}`;
}

beforeAll(async () => {
  const dir = join(ROOT, '.idflow', 'test', `graph-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'flows.yaml'), FLOWS);
  h = new Harness({ definitions: ['test/fixtures/runtime', relative(ROOT, dir)] });
  await h.start();
  noRuns = (
    await new TokenService(h.db.db).create({
      name: 'graph-events',
      scopes: ['events:read'],
      actor: 'test',
    })
  ).token;
  waiting = await start({ id: 'p-graph-sales', department: 'Sales' });
  failed = await start({ id: 'p-graph-other', department: 'Finance' });
  await h.eventually(async () => {
    const s: RunState | undefined = await h.runState(waiting);
    return s?.steps.some((r) => r.id === 'pause' && r.status === 'running') ? s : undefined;
  });
  expect(await h.runOutcome(failed)).toMatchObject({ ok: false, type: 'NotSales' });
});

afterAll(async () => {
  await h?.client.workflow
    .getHandle(waiting)
    .terminate('graph test done')
    .catch(() => undefined);
  await h?.close();
});

test('idflow graph --run: the path a waiting run took, as Mermaid and as SVG', async () => {
  const mermaid = await idflow('graph', '--run', waiting);
  expect(mermaid).toMatchObject({ code: 0 });
  expect(mermaid.stdout).toContain(`run ${waiting} (Waiting)`);
  expect(mermaid.stdout).toContain('class n__start,n_create,n_which,n_sales done');
  expect(mermaid.stdout).toContain('class n_pause running');
  expect(mermaid.stdout).toContain('class n_refuse notTaken');
  expect(mermaid.stdout).toContain('class n_after,n__end pending');
  expect(mermaid.stdout).toContain('n_create["Record #60;the#62; #34;person#34;');

  const file = join(ROOT, '.idflow', 'test', `graph-${randomBytes(4).toString('hex')}.svg`);
  expect(await idflow('graph', '--run', waiting, '--output', file)).toMatchObject({ code: 0 });
  const svg = readFileSync(file, 'utf8');
  expect(xmlProblems(svg)).toEqual([]);
  expect(svg).toContain('data-step="create" data-status="done"');
  expect(svg).toContain('data-step="refuse" data-status="not-taken"');
  expect(svg).toContain('data-step="pause" data-status="running"');
  expect(svg).toContain('Graph &lt;&quot;&amp;&apos; test');

  const unknown = await idflow('graph', '--run', 'flow/it-graph/p-graph-none/evt-none');
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('no idflow run has the workflow id');
});

test('GET /v1/runs/{workflowId}/graph: a failed run in red, what it never reached grey', async () => {
  const svg = await get(graphPath(failed));
  expect(svg.status).toBe(200);
  expect(svg.type).toMatch(/^image\/svg\+xml/);
  expect(xmlProblems(svg.text)).toEqual([]);
  expect(svg.text).toContain('data-step="refuse" data-status="failed"');
  expect(svg.text).toContain('data-step="sales" data-status="not-taken"');
  expect(svg.text).toContain('data-step="pause" data-status="not-taken"');

  const mermaid = await get(graphPath(failed, 'mermaid'));
  expect(mermaid.status).toBe(200);
  expect(mermaid.type).toMatch(/^text\/plain/);
  expect(mermaid.text).toContain('class n_refuse failed');
  expect(mermaid.text.split('\n')[1]).toBe('flowchart TD');

  const waitingSvg = await get(graphPath(waiting));
  expect(waitingSvg.text).toContain('data-step="pause" data-status="running"');
});

test('the route needs runs:read, knows its runs and names a bad format', async () => {
  expect((await get(graphPath(failed), null)).status).toBe(401);
  expect((await get(graphPath(failed), noRuns)).status).toBe(403);
  const unknown = await get(graphPath('flow/it-graph/p-graph-none/evt-none'));
  expect(unknown.status).toBe(404);
  expect(unknown.type).toMatch(/^application\/problem\+json/);
  // a workflow that is not a flow run is no run either
  const dispatch = await get(graphPath(`event/test-hr/${failed.split('/').pop() ?? ''}`));
  expect(dispatch.status).toBe(404);
  const bad = await get(graphPath(failed, 'png'));
  expect(bad.status).toBe(400);
  expect(JSON.parse(bad.text)).toMatchObject({ errors: [{ path: '/format' }] });
  const twice = await get(`${graphPath(failed)}?format=svg&format=svg`);
  expect(twice.status).toBe(400);
});
