/**
 * The `parallel` step in the compiler: its IR, what expressions after it and inside its
 * branches may read, and the checks that see inside branches.
 */
import type { FlowIR, ParallelStepIR } from '../../../src/dsl/ir';
import { compileRepoPaths, compileText, formatted } from '../../support/definitions';

const CONNECTOR = `---
apiVersion: idflow/v1
kind: Connector
metadata: { name: people }
type: idstore
`;

function flow(steps: string): string {
  return `apiVersion: idflow/v1
kind: Flow
metadata: { name: contain }
steps:
${steps}${CONNECTOR}`;
}

const lookup = (id: string) => `- id: ${id}
  action:
    connector: people
    op: getPerson
    args: { personId: '\${subject.id}' }`;

function indent(text: string, by: number): string {
  return text
    .split('\n')
    .map((line) => ' '.repeat(by) + line)
    .join('\n');
}

test('the valid fixture compiles to a parallel step with its branches, nested ones included', async () => {
  const result = await compileRepoPaths('test/fixtures/valid/parallel.yaml');
  expect(formatted(result)).toEqual([]);
  const ir = result.flows.get('contain-account-takeover')?.ir as FlowIR;
  const contain = ir.steps[0] as ParallelStepIR;
  expect(contain).toMatchObject({ kind: 'parallel', id: 'contain', failFast: true });
  expect(contain.branches.map((b) => [b.id, b.title, b.steps.map((s) => s.id)])).toEqual([
    ['directory', 'Directory account', ['lookup', 'directory-found']],
    ['crm', 'crm', ['crm-check']],
    ['nested', 'nested', ['inner']],
  ]);
  const inner = contain.branches[2]?.steps[0] as ParallelStepIR;
  expect(inner).toMatchObject({ kind: 'parallel', failFast: false });
  expect(inner.branches.map((b) => b.id)).toEqual(['one', 'two']);
});

test('after the step, what every branch did has happened: outputs and vars of all branches', () => {
  const text = flow(`  - id: contain
    parallel:
      branches:
        - id: a
          steps:
${indent(lookup('read-a'), 12)}
        - id: b
          steps:
${indent(lookup('read-b'), 12)}
            - id: mark
              set: { marked: true }
  - id: after
    set:
      both: \${steps["read-a"].output.found && steps["read-b"].output.found && vars.marked}
`);
  expect(formatted(compileText(text))).toEqual([]);
});

test('inside a branch, the steps of its siblings are not readable (they are not ordered)', () => {
  const text = flow(`  - id: contain
    parallel:
      branches:
        - id: a
          steps:
${indent(lookup('read-a'), 12)}
        - id: b
          steps:
            - id: use
              set: { found: '\${steps["read-a"].output.found}' }
`);
  expect(formatted(compileText(text))).toEqual([
    `test.yaml:18:32: error at /steps/0/parallel/branches/1/steps/0/set/found: step 'read-a' has not run on every path to here (it sits in another branch); read it inside that branch`,
  ]);
});

test('a branch that always fails fails the step, so nothing after it can run', () => {
  const text = flow(`  - id: contain
    parallel:
      branches:
        - id: a
          steps:
            - id: stop
              fail: { reason: no }
        - id: b
          steps:
            - id: pause
              wait: { for: 1s }
  - id: after
    set: { done: true }
`);
  expect(formatted(compileText(text))).toEqual([
    `test.yaml:16:9: error at /steps/1/id: step 'after' can never run: every path through step 'contain' before it ends the run`,
  ]);
});

test('step ids are unique across branches and nesting; a var set in two branches is refused', () => {
  const text = flow(`  - id: contain
    parallel:
      branches:
        - id: a
          steps:
            - id: inner
              parallel:
                branches:
                  - id: x
                    steps:
                      - id: pause
                        wait: { for: 1s }
        - id: b
          steps:
            - id: pause
              wait: { for: 1s }
            - id: check
              if:
                condition: has(subject.email)
                then:
                  - id: mark
                    set: { seen: true }
        - id: c
          steps:
            - id: mark-c
              set: { seen: false }
`);
  expect(formatted(compileText(text))).toEqual([
    `test.yaml:19:19: error at /steps/0/parallel/branches/1/steps/0/id: step id 'pause' is used twice in this flow; step ids must be unique`,
    `test.yaml:30:28: error at /steps/0/parallel/branches/2/steps/0/set/seen: vars.seen is also set in branch 'b', which runs at the same time as branch 'c', so which value wins would depend on timing; set it in one branch only, or after step 'contain'`,
  ]);
});

test('failFast must be true or false', () => {
  const text = flow(`  - id: contain
    parallel:
      failFast: yes please
      branches:
        - id: a
          steps:
            - id: pause
              wait: { for: 1s }
`);
  expect(formatted(compileText(text))).toEqual([
    `test.yaml:7:17: error at /steps/0/parallel/failFast: 'failFast' must be true or false, not the text 'yes please'`,
  ]);
});

/** A parallel step whose branch 'a' sets vars.seen and whose branch 'b' runs `steps`. */
function againstBranchA(steps: string): string {
  return flow(`  - id: contain
    parallel:
      branches:
        - id: a
          steps:
            - id: mark-a
              set: { seen: true }
        - id: b
          steps:
${indent(steps, 12)}
`);
}

test.each([
  ['directly', `- id: mark\n  set: { seen: false }`, '/steps/0/set/seen'],
  [
    'in the then of an if',
    `- id: check\n  if:\n    condition: has(subject.email)\n    then:\n      - id: mark\n        set: { seen: false }`,
    '/steps/0/if/then/0/set/seen',
  ],
  [
    'in the else of an if',
    `- id: check\n  if:\n    condition: has(subject.email)\n    then:\n      - id: pause\n        wait: { for: 1s }\n    else:\n      - id: mark\n        set: { seen: false }`,
    '/steps/0/if/else/0/set/seen',
  ],
  [
    'in a case of a switch',
    `- id: by-id\n  switch:\n    on: subject.id\n    cases:\n      - is: x\n        then:\n          - id: pause\n            wait: { for: 1s }\n      - is: y\n        then:\n          - id: mark\n            set: { seen: false }`,
    '/steps/0/switch/cases/1/then/0/set/seen',
  ],
  [
    'in the default of a switch',
    `- id: by-id\n  switch:\n    on: subject.id\n    cases:\n      - is: x\n        then:\n          - id: pause\n            wait: { for: 1s }\n    default:\n      - id: mark\n        set: { seen: false }`,
    '/steps/0/switch/default/0/set/seen',
  ],
  [
    'in a branch of a nested parallel step',
    `- id: pause\n  wait: { for: 1s }\n- id: inner\n  parallel:\n    branches:\n      - id: x\n        steps:\n          - id: pause-x\n            wait: { for: 1s }\n      - id: y\n        steps:\n          - id: mark\n            set: { seen: false }`,
    '/steps/1/parallel/branches/1/steps/0/set/seen',
  ],
])('a var set in another branch %s is refused where it is set', (_, steps, at) => {
  const result = compileText(againstBranchA(steps));
  expect(result.diagnostics.map((d) => [d.code, d.pointer])).toEqual([
    ['parallel-var-conflict', `/steps/0/parallel/branches/1${at}`],
  ]);
  expect(result.diagnostics[0]?.message).toBe(
    `vars.seen is also set in branch 'a', which runs at the same time as branch 'b', so which value wins would depend on timing; set it in one branch only, or after step 'contain'`,
  );
});

test('a var set twice within one branch, or in both arms of its if, is no conflict', () => {
  const text = flow(`  - id: contain
    parallel:
      branches:
        - id: a
          steps:
            - id: first
              set: { seen: true }
            - id: check
              if:
                condition: has(subject.email)
                then:
                  - id: again
                    set: { seen: false }
                else:
                  - id: otherwise
                    set: { seen: true }
        - id: b
          steps:
            - id: pause
              wait: { for: 1s }
  - id: after
    set: { seen: false }
`);
  expect(formatted(compileText(text))).toEqual([]);
});

test('a branch id used twice is reported with its code', () => {
  const text = flow(`  - id: contain
    parallel:
      branches:
        - id: a
          steps:
            - id: one
              wait: { for: 1s }
        - id: a
          steps:
            - id: two
              wait: { for: 1s }
`);
  expect(compileText(text).diagnostics.map((d) => [d.code, d.pointer])).toEqual([
    ['duplicate-branch-id', '/steps/0/parallel/branches/1/id'],
  ]);
});

test.each([
  ['its title', '    title: Contain it\n', 'Contain it'],
  ['its id when it has no title', '', 'contain'],
])('the step is shown by %s', (_, title, shown) => {
  const text = flow(`  - id: contain
${title}    parallel:
      branches:
        - id: a
          steps:
            - id: pause
              wait: { for: 1s }
`);
  const result = compileText(text);
  expect(formatted(result)).toEqual([]);
  const ir = result.flows.get('contain')?.ir as FlowIR;
  expect(ir.steps[0]).toMatchObject({ kind: 'parallel', title: shown, failFast: false });
});

test('branches that each hold an if without else and a switch without default set nothing in common', () => {
  const branch = (id: string) => `        - id: ${id}
          steps:
            - id: check-${id}
              if:
                condition: has(subject.email)
                then:
                  - id: pause-${id}
                    wait: { for: 1s }
            - id: by-id-${id}
              switch:
                on: subject.id
                cases:
                  - is: x
                    then:
                      - id: mark-${id}
                        set: { ${id}: true }
`;
  const text = flow(`  - id: contain
    parallel:
      branches:
${branch('a')}${branch('b')}`);
  expect(formatted(compileText(text))).toEqual([]);
});
