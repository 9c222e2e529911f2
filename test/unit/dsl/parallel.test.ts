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
