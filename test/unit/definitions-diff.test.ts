/**
 * `definitions diff` on compiled IR: steps added, removed and changed by id (nested steps in
 * branches included, each naming the fields that changed), other top-level fields, and the
 * unified diff of the YAML.
 */
import { compileSources } from '../../src/dsl/compiler';
import type { DefinitionVersion } from '../../src/db/repos/definitions';
import {
  diffFields,
  diffSteps,
  diffVersions,
  flowSteps,
  renderDiff,
} from '../../src/definitions/diff';

const CONNECTOR = `apiVersion: idflow/v1
kind: Connector
metadata: { name: people }
type: idstore
`;

function flowIr(steps: string, title = 'A flow'): unknown {
  const text = `${CONNECTOR}---
apiVersion: idflow/v1
kind: Flow
metadata: { name: f, title: ${title} }
steps:
${steps}`;
  const result = compileSources([{ path: 'f.yaml', text }]);
  expect(result.diagnostics).toEqual([]);
  return result.flows.get('f')?.ir;
}

const BEFORE = `  - id: ask
    approval:
      approvers: [subject.managerId]
      request: Access?
      timeout: 60s
  - id: branch
    if:
      condition: steps.ask.output.decision == "approved"
      then:
        - id: grant
          set: { granted: true }
      else:
        - id: deny
          set: { granted: false }
  - id: old
    set: { x: 1 }
`;

const AFTER = `  - id: ask
    approval:
      approvers: [subject.managerId]
      request: Access please?
      timeout: 120s
  - id: branch
    if:
      condition: steps.ask.output.decision == "approved"
      then:
        - id: grant
          set: { granted: true }
        - id: record
          set: { recorded: true }
      else:
        - id: deny
          set: { granted: false }
`;

test('flowSteps flattens nested steps with their parents, nested steps replaced by ids', () => {
  const steps = flowSteps(flowIr(BEFORE));
  expect(steps.map((s) => [s.id, s.kind, s.parent])).toEqual([
    ['ask', 'approval', null],
    ['branch', 'if', null],
    ['grant', 'set', 'branch'],
    ['deny', 'set', 'branch'],
    ['old', 'set', null],
  ]);
  expect(steps[1]?.own.then).toEqual([{ step: 'grant' }]);
});

test('steps added, removed and changed, by id, with the fields that changed', () => {
  expect(diffSteps(flowIr(BEFORE), flowIr(AFTER))).toEqual([
    { change: 'removed', id: 'old', kind: 'set', parent: null },
    { change: 'changed', id: 'ask', kind: 'approval', fields: ['request', 'timeoutMs'] },
    { change: 'changed', id: 'branch', kind: 'if', fields: ['then'] },
    { change: 'added', id: 'record', kind: 'set', parent: 'branch' },
  ]);
  expect(diffSteps(flowIr(BEFORE), flowIr(BEFORE))).toEqual([]);
});

test('a step moved into a branch is changed in its position', () => {
  const moved = `  - id: wrap
    if:
      condition: subject.id != ""
      then:
        - id: a
          set: { x: 1 }
`;
  expect(diffSteps(flowIr('  - id: a\n    set: { x: 1 }\n'), flowIr(moved))).toEqual([
    { change: 'added', id: 'wrap', kind: 'if', parent: null },
    { change: 'changed', id: 'a', kind: 'set', fields: ['position'] },
  ]);
});

test('top-level fields other than steps', () => {
  expect(diffFields(flowIr(BEFORE, 'One'), flowIr(BEFORE, 'Two'))).toEqual(['title']);
  expect(diffFields({ a: 1, steps: [1] }, { a: 1, b: 2, steps: [2] })).toEqual(['b']);
});

function version(n: number, ir: unknown, source: string | null): DefinitionVersion {
  return {
    kind: 'Flow',
    name: 'f',
    version: n,
    hash: `sha256:${String(n).repeat(64)}`,
    ir,
    source,
    sourcePath: 'flows/f.yaml',
    gitCommit: null,
    gitAuthor: null,
    appliedBy: 't',
    createdAt: new Date(0),
    active: false,
    activatedAt: null,
    status: 'draft',
  };
}

test('a readable unified diff of the YAML and the steps', () => {
  const diff = diffVersions(version(1, flowIr(BEFORE), BEFORE), version(2, flowIr(AFTER), AFTER));
  expect(diff.yaml).toContain('--- flow/f@1 (flows/f.yaml)');
  expect(diff.yaml).toContain('+++ flow/f@2 (flows/f.yaml)');
  expect(diff.yaml).toContain(
    '-      request: Access?\n-      timeout: 60s\n+      request: Access please?\n+      timeout: 120s',
  );
  const text = renderDiff('Flow', 'f', diff);
  expect(text).toContain('Flow f: version 1');
  expect(text).toContain('  - old (set) removed');
  expect(text).toContain('  + record (set) added in branch');
  expect(text).toContain('  ~ ask (approval): request, timeoutMs');
  expect(text).toContain('Other fields changed: vars');
});

test('versions without YAML and equal YAML say so', () => {
  const ir = flowIr(BEFORE);
  expect(
    renderDiff('Flow', 'f', diffVersions(version(1, ir, null), version(2, ir, BEFORE))),
  ).toContain('YAML: not stored for one of these versions');
  const same = renderDiff(
    'Flow',
    'f',
    diffVersions(version(1, ir, BEFORE), version(2, ir, BEFORE)),
  );
  expect(same).toContain('YAML: unchanged');
  expect(same).toContain('Steps: unchanged');
});
