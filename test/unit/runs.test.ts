/**
 * Run operations without a server: secrets cut out of a run's outputs and errors; the filter's
 * grammar and its visibility query (every field named when bad, values never widening the
 * query); cursors that only page the query they came from; the rules of an operator's decision.
 */
import * as fc from 'fast-check';
import { renderRun, waitLine } from '../../src/cli/run-view';
import { RunInputError, RunNotOperableError } from '../../src/runs/errors';
import { RunFilterInput, runsQuery } from '../../src/runs/filter';
import { decodeCursor, encodeCursor } from '../../src/runs/list';
import { chooseStep } from '../../src/runs/operate';
import { REDACTED, Redactor, secretEnvNames } from '../../src/runs/redact';
import { waitView, type RunView } from '../../src/runs/view';
import type { RunState } from '../../src/temporal/contracts';

describe('redaction', () => {
  const SECRET = 'hunter2-ldap-bind';
  const redactor = new Redactor([SECRET, 'ab']);

  test('a secret in an output and in an error message is cut out; secret-named keys are replaced', () => {
    const step = {
      id: 'create',
      output: {
        username: 'ada',
        bindPassword: 'anything at all',
        headers: { Authorization: 'Bearer xyz', accept: 'json' },
        copied: `value ${SECRET} copied`,
        apiKey: 42,
        client_secret: null,
        tokenCount: 3,
      },
      error: { type: 'ConnectorAuthFailed', message: `bind as cn=idflow with ${SECRET} refused` },
    };
    const out = redactor.value(step);
    expect(out.output).toEqual({
      username: 'ada',
      bindPassword: REDACTED,
      headers: { Authorization: REDACTED, accept: 'json' },
      copied: `value ${REDACTED} copied`,
      apiKey: REDACTED,
      client_secret: null,
      tokenCount: 3,
    });
    expect(out.error.message).toBe(`bind as cn=idflow with ${REDACTED} refused`);
    expect(JSON.stringify(out)).not.toContain(SECRET);
    // the input is left as it was
    expect(step.output.bindPassword).toBe('anything at all');
  });

  test('short secrets are not searched for in text (they would match by accident)', () => {
    expect(redactor.text('abc')).toBe('abc');
  });

  test('any string holding a secret loses it, wherever it sits', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        const out = redactor.value({ a: [{ b: `${before}${SECRET}${after}` }] });
        expect(JSON.stringify(out)).not.toContain(SECRET);
      }),
      { numRuns: 300 },
    );
  });

  test('secretEnv references are found anywhere in a definition', () => {
    expect(
      [
        ...secretEnvNames({
          config: {
            auth: { type: 'bearer', token: { secretEnv: 'SCIM_TOKEN' } },
            bindPassword: { secretEnv: 'LDAP_PW' },
            list: [{ secretEnv: 'X' }],
          },
        }),
      ].sort(),
    ).toEqual(['LDAP_PW', 'SCIM_TOKEN', 'X']);
  });
});

describe('the runs filter', () => {
  test('fields become escaped clauses, with ranges and the budget flag', () => {
    const f = RunFilterInput.parse({
      person: 'p-1',
      flow: 'joiner-standard',
      status: 'Parked',
      eventType: 'person.joiner',
      since: '2026-01-01T00:00:00+01:00',
      until: '2026-02-01T00:00:00Z',
      overBudget: 'true',
      limit: '20',
    });
    expect(f.limit).toBe(20);
    expect(runsQuery(f)).toBe(
      "IdflowFlow IS NOT NULL AND IdflowFlow = 'joiner-standard' AND IdflowSubject = 'p-1' AND IdflowStatus = 'Parked' AND IdflowEventType = 'person.joiner' AND StartTime >= '2025-12-31T23:00:00.000Z' AND StartTime < '2026-02-01T00:00:00.000Z' AND IdflowOverBudget = true",
    );
    expect(runsQuery(RunFilterInput.parse({ overBudget: 'false' }))).toBe(
      'IdflowFlow IS NOT NULL AND (IdflowOverBudget IS NULL OR IdflowOverBudget = false)',
    );
  });

  test('every bad field is named', () => {
    const parsed = RunFilterInput.safeParse({
      person: "x' OR 'a'='a",
      flow: 'Joiner',
      status: 'Lost',
      eventType: 'joiner',
      since: '2026-02-01T00:00:00Z',
      until: '2026-01-01T00:00:00Z',
      overBudget: 'yes',
      limit: '201',
      cursor: 'a b',
      colour: 'red',
    });
    expect(parsed.success).toBe(false);
    const paths = parsed.error?.issues
      .map((i) => i.path.join('.') || (i as { keys?: string[] }).keys?.join())
      .sort();
    expect(paths).toEqual([
      'colour',
      'cursor',
      'eventType',
      'flow',
      'limit',
      'overBudget',
      'person',
      'status',
    ]);
    expect(RunFilterInput.safeParse({ limit: '200' }).data?.limit).toBe(200);
    for (const limit of ['0', '201', '007', '1e2', '-1'])
      expect(RunFilterInput.safeParse({ limit }).success).toBe(false);
  });

  test('whatever the values, a query is refused or has exactly the clauses asked for', () => {
    const value = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.constantFrom("a' OR 'b", '\\', 'OR', 'p-1'),
    );
    fc.assert(
      fc.property(
        fc.record({ person: value, flow: value, eventType: value }, { requiredKeys: [] }),
        (input) => {
          const parsed = RunFilterInput.safeParse(input);
          if (!parsed.success) return;
          const query = runsQuery(parsed.data);
          // accepted values cannot hold a quote or a backslash, so the clause count is exact
          expect(query.split(' AND ')).toHaveLength(1 + Object.keys(input).length);
          expect(query.replace(/'(?:[^'\\]|\\.)*'/g, "''")).not.toMatch(/\bOR\b/);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('cursors', () => {
  const q = "IdflowFlow IS NOT NULL AND IdflowSubject = 'p-1'";
  test('a cursor pages only the query it came from', () => {
    const token =
      '{"CloseTime":"2026-01-01T00:00:00Z","StartTime":"2026-01-01T00:00:00Z","RunID":"0f1e"}';
    const cursor = encodeCursor(q, Buffer.from(token));
    expect(decodeCursor(q, cursor).toString()).toBe(token);
    // tokens Temporal cannot read (it would fail the call as if it were down) are refused here
    for (const bad of ['{"CloseTime":', 'garbage', '{"StartTime":"x"}', '[1]', '{"Other":1}'])
      expect(() => decodeCursor(q, encodeCursor(q, Buffer.from(bad)))).toThrow(RunInputError);
    expect(() => decodeCursor(`${q} AND IdflowStatus = 'Parked'`, cursor)).toThrow(RunInputError);
    expect(() => decodeCursor(q, `${cursor.slice(0, 4)}A${cursor.slice(5)}`)).toThrow(
      RunInputError,
    );
    expect(() => decodeCursor(q, 'AAAA')).toThrow('cursor: is not a cursor of this filter');
  });

  test('no string is taken for a cursor of another query by accident', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
        try {
          decodeCursor(q, s);
        } catch (err) {
          expect(err).toBeInstanceOf(RunInputError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("an operator's decision", () => {
  const state = (waitingOn?: RunState['waitingOn'], waiting?: RunState['waiting']): RunState => ({
    flow: 'f',
    hash: 'h',
    status: waitingOn ? 'Parked' : 'Completed',
    ...(waitingOn ? { waitingOn } : {}),
    ...(waiting ? { waiting } : {}),
    steps: [],
    approvals: [],
    vars: {},
    stepsExecuted: 1,
    automatedMs: 1,
    budgetMs: 15_000,
    overBudget: false,
    budgetExceeded: false,
  });
  const parkedOn = (step: string, type = 'TargetUnavailable') =>
    ({
      kind: 'operator',
      step,
      since: '2026-01-01T00:00:00Z',
      error: { type, message: 'm', attempts: 3 },
    }) as const;

  test('only a parked run, only a parked step, approve only on the blast-radius guard', () => {
    expect(() => chooseStep('w', state(), { action: 'retry' })).toThrow(
      'w is not parked (status Completed)',
    );
    expect(chooseStep('w', state(parkedOn('a')), { action: 'skip' }).step).toBe('a');
    expect(() => chooseStep('w', state(parkedOn('a')), { action: 'skip', step: 'b' })).toThrow(
      "w is parked on 'a', not 'b'",
    );
    expect(() => chooseStep('w', state(parkedOn('a')), { action: 'approve' })).toThrow(
      RunNotOperableError,
    );
    expect(
      chooseStep('w', state(parkedOn('a', 'BlastRadiusExceeded')), { action: 'approve' }).step,
    ).toBe('a');
    const timer = { kind: 'timer', step: 't', until: '2026-01-02T00:00:00Z' } as const;
    expect(chooseStep('w', state(timer, [timer, parkedOn('b')]), { action: 'abort' }).step).toBe(
      'b',
    );
  });

  test('runs show says what a waiting run waits on and until when', () => {
    const approval = waitView({
      kind: 'approval',
      step: 'ask-manager',
      since: '2026-01-01T00:00:00.000Z',
      approvers: ['m-1', 'm-2'],
      deadline: '2026-01-06T00:00:00.000Z',
    });
    expect(waitLine(approval)).toBe(
      "waiting on approval by m-1, m-2 at step 'ask-manager' until 2026-01-06T00:00:00Z",
    );
    const view: RunView = {
      workflowId: 'flow/f/p-1/e-1',
      runId: 'r',
      flow: 'f',
      status: 'Waiting',
      executionStatus: 'RUNNING',
      startedAt: '2026-01-01T00:00:00.000Z',
      source: 'live',
      waitingOn: waitView({
        kind: 'timer',
        step: 'wait-for-last-day',
        until: '2026-03-01T00:00:00.000Z',
      }),
      steps: [
        {
          id: 'notify',
          kind: 'notify',
          title: 'Tell',
          status: 'completed',
          startedAt: '2026-01-01T00:00:00.000Z',
          durationMs: 1200,
        },
      ],
      approvals: [],
      links: { self: '/v1/runs/x', graph: '/v1/runs/x/graph' },
    };
    const text = renderRun(view);
    expect(text).toContain(
      "waiting on a timer at step 'wait-for-last-day' until 2026-03-01T00:00:00Z",
    );
    expect(text).toMatch(/notify\s+notify\s+completed\s+2026-01-01T00:00:00Z\s+1\.2s/);
  });
});

describe('the runs filter names what is wrong with each field', () => {
  const problems = (input: Record<string, unknown>) => {
    const parsed = RunFilterInput.safeParse(input);
    return parsed.success
      ? {}
      : Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.'), i.message]));
  };

  test('limits from 1 to 200 pass; others are refused with the range', () => {
    for (const ok of ['1', '9', '10', '99', '100', '150', '199', '200'])
      expect(RunFilterInput.safeParse({ limit: ok }).success).toBe(true);
    for (const bad of ['0', '201', '1a0', '1x', '010', '-1', '2000'])
      expect(problems({ limit: bad })).toEqual({ limit: 'must be a whole number from 1 to 200' });
  });

  test('status, event type, overBudget, cursor and times say what they take', () => {
    expect(problems({ status: 'Done' }).status).toBe(
      'must be one of Running, Waiting, Parked, Completed, Failed, Cancelled',
    );
    expect(problems({ eventType: 'Person Joiner' }).eventType).toBe(
      'must be a dotted event type, like person.joiner',
    );
    expect(problems({ eventType: `a.${'b'.repeat(200)}` }).eventType).toBe(
      'must be at most 200 characters',
    );
    expect(problems({ overBudget: 'yes' }).overBudget).toBe("must be 'true' or 'false'");
    expect(problems({ cursor: 'a b' }).cursor).toBe('must be a cursor from an earlier page');
    expect(problems({ cursor: 'ab' }).cursor).toBeUndefined();
    expect(problems({ cursor: 'a'.repeat(4097) }).cursor).toBe('must be at most 4096 characters');
    // the years 0001 and 9999 themselves are in range, to the millisecond
    expect(problems({ since: '0001-01-01T00:00:00Z', until: '9999-12-31T23:59:59.999Z' })).toEqual(
      {},
    );
  });
});
