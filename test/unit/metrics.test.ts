/**
 * The metrics registry: label values stay bounded whatever senders put in events, refusals are
 * told apart by status, request log lines get the workflow ids an answer names, and the scrape
 * is valid Prometheus text naming every idflow metric.
 */
import fc from 'fast-check';
import type { Response } from 'express';
import {
  countEvent,
  countRun,
  LabelClamp,
  observeStep,
  ownMetrics,
  renderMetrics,
  setPendingApprovalsSource,
} from '../../src/metrics';
import { rejectReason, requestLogProps } from '../../src/gateway/middleware/observe';

describe('LabelClamp', () => {
  test('admits at most `limit` distinct values; the rest are "other", odd ones "unknown"', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(
          fc.oneof(fc.string(), fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/), fc.anything()),
          {
            maxLength: 200,
          },
        ),
        (limit, values) => {
          const clamp = new LabelClamp(limit);
          const out = values.map((v) => clamp.value(v));
          const admitted = new Set(out.filter((v) => v !== 'other' && v !== 'unknown'));
          expect(admitted.size).toBeLessThanOrEqual(limit);
          for (const [i, v] of out.entries()) {
            if (v !== 'other' && v !== 'unknown') expect(v).toBe(values[i]);
            // a label value never breaks the text format
            expect(v).toMatch(/^[A-Za-z0-9._:/-]{1,100}$/);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a value once admitted stays itself after the limit is reached', () => {
    const clamp = new LabelClamp(2);
    expect([
      clamp.value('a.b'),
      clamp.value('c.d'),
      clamp.value('e.f'),
      clamp.value('a.b'),
    ]).toEqual(['a.b', 'c.d', 'other', 'a.b']);
    expect(clamp.value('has space')).toBe('unknown');
    expect(clamp.value('x'.repeat(101))).toBe('unknown');
    expect(clamp.value(42)).toBe('unknown');
  });
});

test('refusals are told apart by status', () => {
  expect([400, 413, 415, 409, 429, 401, 403, 503, 500].map(rejectReason)).toEqual([
    'invalid',
    'invalid',
    'invalid',
    'conflict',
    'rate-limited',
    'forbidden',
    'forbidden',
    'unavailable',
    'error',
  ]);
});

test('a request log line names the workflow ids its answer named, or nothing', () => {
  const res = (locals: Record<string, unknown>) => ({ locals }) as unknown as Response;
  expect(requestLogProps(res({}))).toEqual({});
  expect(requestLogProps(res({ idflowWorkflowIds: ['event/hr/1'] }))).toEqual({
    workflowIds: ['event/hr/1'],
  });
});

test('the scrape is Prometheus text with every idflow metric, and label values escaped', async () => {
  countEvent('received', 'hr-test', 'person.joiner');
  countEvent('rejected', 'bad source"\n', 'person.joiner', 'invalid');
  countRun('started', 'joiner-standard');
  countRun('overBudget', 'joiner-standard');
  observeStep('corp-directory', 'createAccount', 0.02, 'ok');
  setPendingApprovalsSource(() => Promise.resolve(new Map([['leaver-standard', 3]])));
  const { contentType, body } = await renderMetrics();
  expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  for (const name of [
    'idflow_events_received_total',
    'idflow_events_deduplicated_total',
    'idflow_events_rejected_total',
    'idflow_runs_started_total',
    'idflow_runs_completed_total',
    'idflow_runs_failed_total',
    'idflow_runs_cancelled_total',
    'idflow_runs_parked_total',
    'idflow_runs_over_budget_total',
    'idflow_step_duration_seconds',
    'idflow_approvals_pending',
  ])
    expect(body).toContain(`# TYPE ${name} `);
  expect(body).toContain('idflow_events_received_total{source="hr-test",type="person.joiner"} 1');
  expect(body).toContain(
    'idflow_events_rejected_total{source="unknown",type="person.joiner",reason="invalid"} 1',
  );
  expect(body).toContain('idflow_approvals_pending{flow="leaver-standard"} 3');
  expect(body).toContain(
    'idflow_step_duration_seconds_count{connector="corp-directory",op="createAccount",outcome="ok"} 1',
  );
  expect(body).toContain('process_cpu_user_seconds_total');
  // no Temporal worker in this process: nothing appended
  expect(body).not.toMatch(/^temporal_/m);
  expect((await ownMetrics()).split('\n')[0]).toBe(body.split('\n')[0]);
});

test('a slow or failing approvals reading leaves the last one in place', async () => {
  setPendingApprovalsSource(() => Promise.resolve(new Map([['mover-standard', 2]])));
  expect((await renderMetrics()).body).toContain(
    'idflow_approvals_pending{flow="mover-standard"} 2',
  );
  setPendingApprovalsSource(() => Promise.reject(new Error('connection refused')));
  expect((await renderMetrics()).body).toContain(
    'idflow_approvals_pending{flow="mover-standard"} 2',
  );
  setPendingApprovalsSource(() => new Promise(() => undefined)); // never answers
  const started = Date.now();
  expect((await renderMetrics()).body).toContain(
    'idflow_approvals_pending{flow="mover-standard"} 2',
  );
  expect(Date.now() - started).toBeLessThan(1_500);
});
