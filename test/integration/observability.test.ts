/**
 * Operating idflow: `/metrics` on the gateway and on a worker run alone counts what happened
 * (events received, found again and refused; runs started, completed, parked and failed; connector
 * op latency; open approvals; the Temporal SDK's worker metrics) behind a `metrics:read` token;
 * the execution budget flags a run whose automated work is slow, findable by
 * `IdflowOverBudget = true`, and not one that only waited on an approver; log lines name the
 * workflow, never the person.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import { TokenService } from '../../src/gateway/services/tokens';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { freePort } from '../support/ports';

const tag = randomBytes(3).toString('hex');
const defsDir = join(ROOT, '.idflow', 'test', `observability-${tag}`);
const SLOW_MS = 1_500;
/** Distinctive personal values: any of them in a log line is a leak. */
const marker = { displayName: `Olga${tag}Private`, email: `olga.${tag}@example.org` };

let h: Harness;
let slowApi: Server;
let workerMetricsUrl = '';

function definitions(apiPort: number, closedPort: number): string {
  return `
apiVersion: idflow/v1
kind: Connector
metadata: { name: obs-slow-api }
type: http
config: { baseUrl: 'http://127.0.0.1:${apiPort}/' }
retry: { maxAttempts: 1 }
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: obs-gone-api }
type: http
config: { baseUrl: 'http://127.0.0.1:${closedPort}/' }
retry: { maxAttempts: 2, initialInterval: 100ms, maximumInterval: 200ms }
---
apiVersion: idflow/v1
kind: Policy
metadata: { name: obs }
rules:
  - { on: [obs.fast], run: [obs-fast] }
  - { on: [obs.slow], run: [obs-slow] }
  - { on: [obs.approval], run: [obs-approval] }
  - { on: [obs.park], run: [obs-park] }
  - { on: [obs.parallel], run: [obs-parallel] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: obs-fast, title: Fast }
steps:
  - id: note
    set: { done: true }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: obs-slow, title: Slow target }
executionBudget: 500ms
steps:
  - id: call-slow-target
    action:
      connector: obs-slow-api
      op: request
      args: { method: GET, path: slow }
  - id: after
    set: { done: true }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: obs-approval, title: Waits on its approver longer than its budget }
executionBudget: 2s
steps:
  - id: ask
    approval:
      approvers: [subject.managerId]
      request: Access for \${subject.id}?
      # open for longer than the approvals gauge keeps a reading (5 s), so a scrape sees it
      timeout: 9s
      onTimeout: approve
  - id: after
    set: { done: true }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: obs-parallel, title: One branch waits while the other works }
executionBudget: 1s
steps:
  - id: both
    parallel:
      branches:
        - id: waiting
          steps:
            - id: pause
              wait: { for: 3s }
        - id: working
          steps:
            - id: call-slow-target
              action:
                connector: obs-slow-api
                op: request
                args: { method: GET, path: slow }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: obs-park, title: Parks on a target that is gone }
steps:
  - id: call-gone-target
    action:
      connector: obs-gone-api
      op: request
      args: { method: GET, path: gone }
`;
}

/** One sample of a Prometheus text: the value of `name{labels…}` (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const labelText = open >= 0 && open < close ? line.slice(open + 1, close) : '';
    const have = new Map<string, string>();
    for (const m of labelText.matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g))
      have.set(m[1] as string, m[2] as string);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function scrape(url: string, token: string | null = h.token): Promise<Response> {
  return fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

async function metricsText(url: string): Promise<string> {
  const res = await scrape(url);
  expect(res.status).toBe(200);
  return res.text();
}

function subject(id: string): Record<string, unknown> {
  return { id, displayName: marker.displayName, email: marker.email, managerId: `obs-mgr-${tag}` };
}

beforeAll(async () => {
  slowApi = createServer((_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    }, SLOW_MS);
  });
  const apiPort = await freePort();
  await new Promise<void>((resolve) => slowApi.listen(apiPort, '127.0.0.1', resolve));
  mkdirSync(defsDir, { recursive: true });
  writeFileSync(join(defsDir, 'obs.yaml'), definitions(apiPort, await freePort()));
  const metricsPort = await freePort();
  workerMetricsUrl = `http://127.0.0.1:${metricsPort}`;
  h = new Harness({
    definitions: [join('.idflow', 'test', `observability-${tag}`)],
    env: { IDFLOW_METRICS_PORT: String(metricsPort), IDFLOW_LOG_LEVEL: 'info' },
  });
  await h.start();
  await insertPersonIfAbsent(h.db.db, {
    id: `obs-mgr-${tag}`,
    displayName: 'Obs Manager',
    status: 'active',
  });
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => slowApi?.close(resolve));
  rmSync(defsDir, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  test('needs a token with metrics:read, on the gateway and on the worker', async () => {
    const { token: other } = await new TokenService(h.db.db).create({
      name: `obs-reader-${tag}`,
      scopes: ['events:read'],
      actor: 'test',
    });
    const { token: reader } = await new TokenService(h.db.db).create({
      name: `obs-metrics-${tag}`,
      scopes: ['metrics:read'],
      actor: 'test',
    });
    for (const url of [h.gatewayUrl, workerMetricsUrl]) {
      const none = await scrape(url, null);
      expect(none.status).toBe(401);
      expect(none.headers.get('content-type')).toContain('application/problem+json');
      const forbidden = await scrape(url, other);
      expect(forbidden.status).toBe(403);
      expect(await forbidden.text()).toContain('metrics:read');
      const ok = await scrape(url, reader);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    }
  });

  test('counts events received, deduplicated and rejected, and runs by flow and outcome', async () => {
    const gatewayBefore = await metricsText(h.gatewayUrl);
    const workerBefore = await metricsText(workerMetricsUrl);

    const fast = makeEvent('obs.fast', subject(`obs-fast-${tag}`), { source: 'obs-hr' });
    expect((await h.postEvent(fast)).status).toBe(202);
    expect((await h.postEvent(fast)).status).toBe(200);
    // valid source and type, but no subject: refused with both labels known
    const noSubject = makeEvent('obs.fast', {}, { source: 'obs-hr' });
    delete noSubject.subject;
    expect((await h.postEvent(noSubject)).status).toBe(400);
    // the same id with other content: a conflict
    expect((await h.postEvent({ ...fast, occurredAt: new Date(0).toISOString() })).status).toBe(
      409,
    );
    // not JSON at all: neither source nor type is known
    const garbage = await h.request('POST', '/v1/events', { raw: '{"source": "obs-hr",' });
    expect(garbage.status).toBe(400);
    const fastRun = `flow/obs-fast/obs-fast-${tag}/${fast.id as string}`;
    expect(await h.runOutcome(fastRun)).toMatchObject({ ok: true });

    const park = makeEvent('obs.park', subject(`obs-park-${tag}`), { source: 'obs-hr' });
    expect((await h.postEvent(park)).status).toBe(202);
    const parkRun = `flow/obs-park/obs-park-${tag}/${park.id as string}`;
    await h.eventually(async () =>
      (await h.runState(parkRun))?.status === 'Parked' ? true : undefined,
    );
    await h.operate(parkRun, { action: 'abort', step: 'call-gone-target', by: 'obs-operator' });
    expect(await h.runOutcome(parkRun)).toMatchObject({ ok: false, type: 'AbortedByOperator' });

    const gateway = await metricsText(h.gatewayUrl);
    const delta = (name: string, labels: Record<string, string>) =>
      sample(gateway, name, labels) - sample(gatewayBefore, name, labels);
    const byFast = { source: 'obs-hr', type: 'obs.fast' };
    expect(delta('idflow_events_received_total', byFast)).toBe(1);
    expect(delta('idflow_events_received_total', { source: 'obs-hr', type: 'obs.park' })).toBe(1);
    expect(delta('idflow_events_deduplicated_total', byFast)).toBe(1);
    expect(delta('idflow_events_rejected_total', { ...byFast, reason: 'invalid' })).toBe(1);
    expect(delta('idflow_events_rejected_total', { ...byFast, reason: 'conflict' })).toBe(1);
    expect(
      delta('idflow_events_rejected_total', {
        source: 'unknown',
        type: 'unknown',
        reason: 'invalid',
      }),
    ).toBe(1);

    // the worker counts runs (a sink of the workflow, once per run, never on replay)
    const worker = await h.eventually(async () => {
      const text = await metricsText(workerMetricsUrl);
      return sample(text, 'idflow_runs_failed_total', { flow: 'obs-park' }) >
        sample(workerBefore, 'idflow_runs_failed_total', { flow: 'obs-park' })
        ? text
        : undefined;
    });
    const runs = (name: string, flow: string) =>
      sample(worker, name, { flow }) - sample(workerBefore, name, { flow });
    expect(runs('idflow_runs_started_total', 'obs-fast')).toBe(1);
    expect(runs('idflow_runs_completed_total', 'obs-fast')).toBe(1);
    expect(runs('idflow_runs_started_total', 'obs-park')).toBe(1);
    expect(runs('idflow_runs_parked_total', 'obs-park')).toBe(1);
    expect(runs('idflow_runs_failed_total', 'obs-park')).toBe(1);
    expect(runs('idflow_runs_completed_total', 'obs-park')).toBe(0);
    // the op was tried twice (its retries) before the run parked
    const failedCalls = { connector: 'obs-gone-api', op: 'request', outcome: 'failed' };
    expect(
      sample(worker, 'idflow_step_duration_seconds_count', failedCalls) -
        sample(workerBefore, 'idflow_step_duration_seconds_count', failedCalls),
    ).toBe(2);
    // the Temporal SDK's worker metrics are in the same scrape
    expect(worker).toMatch(/^temporal_[a-z_]+/m);
    expect(worker).toContain('# TYPE idflow_approvals_pending gauge');
  });
});

describe('execution budget', () => {
  test('a run whose automated work is slow is flagged over budget, never stopped', async () => {
    const before = await metricsText(workerMetricsUrl);
    const event = makeEvent('obs.slow', subject(`obs-slow-${tag}`), { source: 'obs-hr' });
    expect((await h.postEvent(event)).status).toBe(202);
    const runId = `flow/obs-slow/obs-slow-${tag}/${event.id as string}`;
    expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
    const state = await h.runState(runId);
    expect(state).toMatchObject({ status: 'Completed', budgetMs: 500, overBudget: true });
    expect(state?.automatedMs).toBeGreaterThanOrEqual(SLOW_MS);
    expect(state?.steps.map((s) => s.status)).toEqual(['completed', 'completed']);

    const found = await h.eventually(async () => {
      for await (const run of h.client.workflow.list({
        query: `IdflowOverBudget = true AND WorkflowId = '${runId}'`,
      }))
        return run;
      return undefined;
    });
    expect(found.workflowId).toBe(runId);

    const after = await h.eventually(async () => {
      const text = await metricsText(workerMetricsUrl);
      return sample(text, 'idflow_runs_over_budget_total', { flow: 'obs-slow' }) >
        sample(before, 'idflow_runs_over_budget_total', { flow: 'obs-slow' })
        ? text
        : undefined;
    });
    expect(
      sample(after, 'idflow_runs_over_budget_total', { flow: 'obs-slow' }) -
        sample(before, 'idflow_runs_over_budget_total', { flow: 'obs-slow' }),
    ).toBe(1);
    const slowCalls = { connector: 'obs-slow-api', op: 'request', outcome: 'ok' };
    expect(
      sample(after, 'idflow_step_duration_seconds_sum', slowCalls) -
        sample(before, 'idflow_step_duration_seconds_sum', slowCalls),
    ).toBeGreaterThanOrEqual(SLOW_MS / 1000);
  });

  test('a branch that works while its sibling waits counts against the budget', async () => {
    const event = makeEvent('obs.parallel', subject(`obs-parallel-${tag}`), { source: 'obs-hr' });
    expect((await h.postEvent(event)).status).toBe(202);
    const runId = `flow/obs-parallel/obs-parallel-${tag}/${event.id as string}`;
    expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
    const state = await h.runState(runId);
    expect(state).toMatchObject({ status: 'Completed', budgetMs: 1_000, overBudget: true });
    // the slow call counted though the other branch waited meanwhile; the rest of the wait did not
    expect(state?.automatedMs).toBeGreaterThanOrEqual(SLOW_MS);
    expect(state?.automatedMs).toBeLessThan(3_000);
  });

  test('a run that waits on its approver longer than its budget is not flagged', async () => {
    const event = makeEvent('obs.approval', subject(`obs-approval-${tag}`), { source: 'obs-hr' });
    const started = Date.now();
    expect((await h.postEvent(event)).status).toBe(202);
    const runId = `flow/obs-approval/obs-approval-${tag}/${event.id as string}`;
    // while it waits, the open task shows in the gauge
    await h.eventually(async () =>
      sample(await metricsText(workerMetricsUrl), 'idflow_approvals_pending', {
        flow: 'obs-approval',
      }) >= 1
        ? true
        : undefined,
    );
    expect(await h.runOutcome(runId)).toMatchObject({ ok: true });
    expect(Date.now() - started).toBeGreaterThan(2_000);
    const state = await h.runState(runId);
    expect(state).toMatchObject({ status: 'Completed', budgetMs: 2_000, overBudget: false });
    expect(state?.automatedMs).toBeLessThan(2_000);
    const description = await h.client.workflow.getHandle(runId).describe();
    expect(description.searchAttributes.IdflowOverBudget).toBeUndefined();
  });
});

describe('logs', () => {
  test('name the workflow and its run, never the person or the token', async () => {
    const log = await h.eventually(() => {
      const text = readFileSync(join(ROOT, '.idflow', 'test', `${h.taskQueue}.log`), 'utf8');
      return Promise.resolve(text.includes('run over its execution budget') ? text : undefined);
    });
    const lines = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const overBudget = lines.find((l) => l.msg === 'run over its execution budget');
    expect(overBudget).toMatchObject({
      workflowId: expect.stringMatching(/^flow\/obs-slow\//) as string,
      runId: expect.any(String) as string,
      flow: 'obs-slow',
      budgetMs: 500,
    });
    const accepted = lines.find(
      (l) =>
        (l.req as { method?: string; url?: string } | undefined)?.url === '/v1/events' &&
        (l.res as { statusCode?: number } | undefined)?.statusCode === 202,
    );
    expect(accepted?.workflowIds).toEqual([expect.stringMatching(/^event\/obs-hr\//) as string]);
    // a line an activity writes names its workflow and run too
    const activityLine = lines.find((l) => typeof l.activity === 'string');
    expect(activityLine).toMatchObject({
      workflowId: expect.stringMatching(/^flow\//) as string,
      runId: expect.any(String) as string,
    });
    // the `log` approval channel delivers the approval message itself (for a deployment
    // without Slack or email): that line is the notification, not a diagnostic one
    const diagnostic = lines.filter((l) => l.channel !== 'log').map((l) => JSON.stringify(l));
    for (const value of [...Object.values(marker), h.token])
      for (const line of diagnostic) expect(line).not.toContain(value);
  });
});
