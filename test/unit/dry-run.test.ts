/**
 * Dry runs of events, without a worker: the policy evaluation of the dispatch, and the walk of
 * a flow — reads called, writes described with secrets redacted, conditions over a write's
 * output unknown with both branches shown, approvals, waits and a fail step's stop, and the
 * plan as an operator reads it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { AccessPlan } from '../../src/access/types';
import { renderDryRun } from '../../src/cli/dry-run-view';
import { compileSources } from '../../src/dsl/compiler';
import type { JsonValue } from '../../src/dsl/ir';
import { planEvent, type DryRunContext } from '../../src/dryrun/plan';
import type { StepPlan } from '../../src/dryrun/types';
import type { DryRunDeps } from '../../src/dryrun/walk';
import type { IdentityEvent } from '../../src/model/event';

const ROOT = join(__dirname, '..', '..');
const CONNECTORS = readdirSync(join(ROOT, 'definitions', 'connectors')).map((f) => ({
  path: `connectors/${f}`,
  text: readFileSync(join(ROOT, 'definitions', 'connectors', f), 'utf8'),
}));

const FLOW = `
apiVersion: idflow/v1
kind: Policy
metadata: { name: dry }
rules:
  - { name: engineers, on: [it.dry], when: 'subject.?department.orValue("") == "Engineering"', priority: 10, run: [dry-flow] }
  - { name: others, on: [it.dry], fallback: true, run: [dry-other] }
  - { name: elsewhere, on: [it.other], run: [dry-other] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: dry-other }
steps:
  - id: note
    set: { seen: true }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: dry-flow, title: Dry flow }
steps:
  - id: look
    title: Is the account there?
    action: { connector: corp-directory, op: getAccount, args: { id: jdoe } }
  - id: found
    if:
      condition: steps.look.output.found
      then:
        - id: known
          set: { state: known }
      else:
        - id: make
          title: Create the account
          action:
            connector: corp-directory
            op: createAccount
            args:
              id: jdoe
              owner: \${subject.id}
              attributes:
                cn: \${subject.givenName}
                userPassword: \${"hunter" + "2"}
        - id: made
          if:
            condition: steps.make.output.created
            then: [{ id: fresh, set: { state: created } }]
            else: [{ id: old, set: { state: existed } }]
  - id: ask
    approval:
      approvers: ['[subject.managerId]']
      request: Keep the mailbox?
      timeout: 5d
      onTimeout: reject
  - id: decided
    if:
      condition: steps.ask.output.decision == "approved"
      then: [{ id: kept, set: { kept: true } }]
  - id: pause
    wait: { for: 2d }
  - id: access
    reconcile: {}
  - id: stop
    fail: { reason: 'no more for \${subject.id}', code: Done }
`;

const compiled = compileSources([...CONNECTORS, { path: 'dry.yaml', text: FLOW }]);

function context(subject: DryRunContext['subject']): DryRunContext {
  const flows: DryRunContext['flows'] = {};
  for (const [name, flow] of compiled.flows) flows[name] = { ...flow, version: 3 };
  return {
    subject,
    subjectKnown: true,
    policies: [...compiled.policies.values()].map((p) => p.ir),
    flows,
  };
}

const EMPTY_PLAN: AccessPlan = {
  personId: 'p-1',
  status: 'active',
  connectors: ['corp-directory'],
  roles: [],
  removals: [
    {
      connector: 'corp-directory',
      connectorType: 'ldap',
      op: 'removeEntitlement',
      account: 'jdoe',
      kind: 'group',
      value: 'sales',
      why: 'no role grants it',
    } as never,
  ],
  additions: [
    {
      connector: 'corp-directory',
      connectorType: 'ldap',
      op: 'addEntitlement',
      account: 'jdoe',
      kind: 'group',
      value: 'engineering',
      why: 'role engineering',
    } as never,
  ],
  kept: [],
  heldBack: [],
  holds: [],
  unmanaged: {},
  problems: [],
};

function fakeDeps(found: boolean) {
  const calls: { reads: string[]; simulated: string[]; planned: string[] } = {
    reads: [],
    simulated: [],
    planned: [],
  };
  const deps: DryRunDeps = {
    read: (call) => {
      calls.reads.push(`${call.connector}.${call.op}`);
      return Promise.resolve({ found });
    },
    simulate: (op) => calls.simulated.push(op),
    planAccess: ({ personId }) => {
      calls.planned.push(personId);
      return Promise.resolve({ ...EMPTY_PLAN, personId });
    },
    count: () => Promise.resolve({ matched: 0, scanned: 0 }),
    redact: (v) =>
      JSON.parse(JSON.stringify(v), (k, x: unknown) =>
        /pass/i.test(k) ? '(redacted)' : x,
      ) as JsonValue,
  };
  return { deps, calls };
}

const event: IdentityEvent = {
  source: 'test-hr',
  id: 'evt-1',
  type: 'it.dry',
  occurredAt: '2026-01-01T00:00:00Z',
  subject: { id: 'p-1', givenName: 'Jo', department: 'Engineering', managerId: 'p-boss' },
};

const find = (steps: StepPlan[], id: string): StepPlan | undefined => {
  for (const s of steps) {
    if (s.id === id) return s;
    for (const b of s.branches ?? []) {
      const inner = find(b.steps, id);
      if (inner) return inner;
    }
  }
  return undefined;
};

test('the definitions compile', () => {
  expect(compiled.diagnostics).toEqual([]);
});

test('the matching rule and its flow: the fallback is not needed, the other event type is not listened to', async () => {
  const { deps } = fakeDeps(true);
  const result = await planEvent(event, context({ ...event.subject }), () => deps);
  expect(result.rules.map((r) => [r.rule, r.matched, r.reason])).toEqual([
    ['elsewhere', false, 'listens to it.other, not it.dry'],
    ['engineers', true, `condition 'subject.?department.orValue("") == "Engineering"' is true`],
    ['others', false, "fallback not needed: rule 'engineers' matched"],
  ]);
  expect(result.flows.map((f) => [f.flow, f.version, f.workflowId])).toEqual([
    ['dry-flow', 3, 'flow/dry-flow/p-1/evt-1'],
  ]);
});

test('a read is called; a write is described with its secret redacted and its output unknown, so a condition over it shows both branches', async () => {
  const { deps, calls } = fakeDeps(false);
  const [flow] = (await planEvent(event, context({ ...event.subject }), () => deps)).flows;
  const steps = flow?.steps ?? [];
  expect(calls.reads).toEqual(['corp-directory.getAccount']);
  expect(find(steps, 'look')).toMatchObject({ mode: 'read', call: { result: { found: false } } });
  expect(find(steps, 'found')).toMatchObject({
    condition: { value: false },
    branches: [
      { label: 'then', taken: 'no', steps: [] },
      { label: 'else', taken: 'yes' },
    ],
  });
  expect(find(steps, 'make')).toMatchObject({
    mode: 'write',
    call: {
      op: 'createAccount',
      args: { id: 'jdoe', owner: 'p-1', attributes: { cn: 'Jo', userPassword: '(redacted)' } },
    },
  });
  expect(JSON.stringify(flow)).not.toContain('hunter2');
  expect(find(steps, 'made')).toMatchObject({
    condition: { expression: 'steps.make.output.created', unknown: ['steps.make'] },
    branches: [
      { label: 'then', taken: 'unknown', steps: [{ id: 'fresh' }] },
      { label: 'else', taken: 'unknown', steps: [{ id: 'old' }] },
    ],
  });
});

test('an approval, a wait, a reconcile and a fail step: shown, not done; the walk ends at the fail', async () => {
  const { deps, calls } = fakeDeps(true);
  const [flow] = (await planEvent(event, context({ ...event.subject }), () => deps)).flows;
  const steps = flow?.steps ?? [];
  expect(find(steps, 'ask')).toMatchObject({
    mode: 'approval',
    values: { approvers: ['p-boss'], timeout: '5d', onTimeout: 'reject' },
  });
  expect(find(steps, 'decided')).toMatchObject({
    condition: { unknown: ['steps.ask'] },
    branches: [
      { label: 'then', taken: 'unknown' },
      { label: 'else', taken: 'unknown' },
    ],
  });
  const pause = find(steps, 'pause');
  expect(pause?.mode).toBe('wait');
  const until = Date.parse((pause?.values?.until as string) ?? '');
  expect(Math.abs(until - (Date.now() + 2 * 86_400_000))).toBeLessThan(60_000);
  expect(calls.planned).toEqual(['p-1']);
  expect(find(steps, 'access')?.reconcile?.removals).toHaveLength(1);
  expect(find(steps, 'stop')).toMatchObject({ mode: 'stop' });
  expect(flow?.stops).toBe('step \'stop\' fails the run (Done): "no more for p-1"');

  const text = renderDryRun(
    await planEvent(event, context({ ...event.subject }), () => fakeDeps(true).deps),
  );
  const lines = text.split('\n');
  const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
  expect(at('match dry/engineers (priority 10) → dry-flow')).toBeGreaterThan(0);
  expect(at('Flow dry-flow (Dry flow) — version 3')).toBeGreaterThan(0);
  expect(at('- corp-directory: remove group sales (jdoe)')).toBeGreaterThan(0);
  expect(at('- corp-directory: remove group sales (jdoe)')).toBeLessThan(
    at('+ corp-directory: add group engineering (jdoe)'),
  );
  expect(at('the run would stop: step')).toBeGreaterThan(at('7. stop'));
});

test('an event no rule matches starts no flow, and the text says so', async () => {
  const { deps } = fakeDeps(true);
  const result = await planEvent(
    { ...event, type: 'it.nothing' },
    context({ ...event.subject }),
    () => deps,
  );
  expect(result.flows).toEqual([]);
  expect(result.rules.every((r) => !r.matched)).toBe(true);
  expect(renderDryRun(result)).toContain('No flow would start: no rule matched this event.');
});

test('whatever a subject holds, the walk never throws and the text never carries a control character', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        givenName: fc.string({ minLength: 1, maxLength: 20 }),
        department: fc.oneof(fc.constant('Engineering'), fc.string({ maxLength: 10 })),
      }),
      fc.boolean(),
      async (subject, found) => {
        const result = await planEvent(
          { ...event, subject: { ...event.subject, ...subject } },
          context({ ...event.subject, ...subject }),
          () => fakeDeps(found).deps,
        );
        expect(result.flows).toHaveLength(1);
        // eslint-disable-next-line no-control-regex
        expect(renderDryRun(result)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      },
    ),
    { numRuns: 50 },
  );
});
