/**
 * The `forEach` step in the compiler (its IR: population, item name and shape, batch settings,
 * what its items may take away and the blast radius that guards it) and the guard's verdict.
 */
import fc from 'fast-check';
import type { FlowIR, ForEachStepIR } from '../../../src/dsl/ir';
import { ACCOUNT_ITEM_SHAPE, PERSON_ITEM_SHAPE } from '../../../src/dsl/shapes';
import { overBlastRadius } from '../../../src/population/guard';
import { compileText, formatted } from '../../support/definitions';

const CONNECTORS = `---
apiVersion: idflow/v1
kind: Connector
metadata: { name: people }
type: idstore
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: directory }
type: ldap
config:
  url: ldap://127.0.0.1:3389
  bindDn: cn=idflow,dc=example,dc=com
  bindPassword: { secretEnv: LDAP_BIND_PASSWORD }
  usersDn: ou=people,dc=example,dc=com
  groupsDn: ou=groups,dc=example,dc=com
`;

function flow(body: string, head = ''): string {
  return `apiVersion: idflow/v1
kind: Flow
metadata: { name: sweep }
${head}steps:
${body}${CONNECTORS}`;
}

function compiled(text: string): FlowIR {
  const result = compileText(text);
  expect(formatted(result)).toEqual([]);
  return result.flows.get('sweep')?.ir as FlowIR;
}

function errors(text: string): string[] {
  return formatted(compileText(text));
}

const disableEach = (extra = '') => `  - id: each
    forEach:
      accounts:
        connector: directory
        where: account.status == "enabled"
${extra}      steps:
        - id: disable
          action:
            connector: directory
            op: disableAccount
            args: { id: '\${account.name}', owner: '\${account.personId}' }
`;

test('accounts of a connector: the filter, the item named account, defaults, and a guard', () => {
  const ir = compiled(flow(disableEach()));
  const step = ir.steps[0] as ForEachStepIR;
  expect(step).toMatchObject({
    kind: 'forEach',
    over: { kind: 'accounts', connector: 'directory', where: 'account.status == "enabled"' },
    as: 'account',
    itemShape: ACCOUNT_ITEM_SHAPE,
    concurrency: 10,
    batchSize: 200,
    guard: { effects: ['directory.disableAccount'], max: 100, maxPercent: 10 },
  });
  expect(step.steps.map((s) => s.id)).toEqual(['disable']);
  expect('maxFailures' in step).toBe(false);
  expect('collect' in step).toBe(false);
  expect(step.title).toBe('each');
});

test("the blast radius: the step's own, else the flow's, else the default", () => {
  const own = compiled(
    flow(disableEach('      blastRadius: { max: 5 }\n'), 'blastRadius: { maxPercent: 2 }\n'),
  );
  expect((own.steps[0] as ForEachStepIR).guard).toStrictEqual({
    effects: ['directory.disableAccount'],
    max: 5,
  });
  const flows = compiled(flow(disableEach(), 'blastRadius: { maxPercent: 2 }\n'));
  expect((flows.steps[0] as ForEachStepIR).guard).toStrictEqual({
    effects: ['directory.disableAccount'],
    maxPercent: 2,
  });
});

test('items that take nothing away have no guard; persons are named person', () => {
  const ir = compiled(
    flow(`  - id: each
    forEach:
      persons: { where: 'person.status == "active"' }
      batchSize: 50
      concurrency: 4
      maxFailures: 3
      collect: \${person.id}
      steps:
        - id: read
          action: { connector: people, op: getPerson, args: { personId: '\${person.id}' } }
`),
  );
  const step = ir.steps[0] as ForEachStepIR;
  expect(step).toMatchObject({
    over: { kind: 'persons', where: 'person.status == "active"' },
    as: 'person',
    itemShape: PERSON_ITEM_SHAPE,
    batchSize: 50,
    concurrency: 4,
    maxFailures: 3,
    collect: { expr: 'person.id' },
  });
  expect(step.guard).toBeUndefined();
});

test('a reconcile or a setStatus inside an if counts as taking away', () => {
  const ir = compiled(
    flow(`  - id: each
    forEach:
      persons: {}
      steps:
        - id: maybe
          if:
            condition: person.status == "terminated"
            then:
              - id: settle
                reconcile: { person: '\${person.id}' }
            else:
              - id: suspend
                action:
                  connector: people
                  op: setStatus
                  args: { personId: '\${person.id}', status: suspended }
`),
  );
  expect((ir.steps[0] as ForEachStepIR).guard?.effects).toEqual(['people.setStatus', 'reconcile']);
});

test('a list value names its item item; its shape is the list element', () => {
  const ir = compiled(
    flow(`  - id: each
    forEach:
      items: \${["a", "b"]}
      steps:
        - id: note
          set: { last: '\${item + "!"}' }
`),
  );
  const step = ir.steps[0] as ForEachStepIR;
  expect(step).toMatchObject({ over: { kind: 'items' }, as: 'item', itemShape: 'string' });
});

test('the item is not known after the step, nor its steps, nor what they set', () => {
  const found = errors(
    flow(`  - id: each
    forEach:
      persons: {}
      steps:
        - id: read
          action: { connector: people, op: getPerson, args: { personId: '\${person.id}' } }
        - id: note
          set: { seen: '\${person.id}' }
  - id: after
    set:
      a: \${person.id}
      b: \${steps.read.output.found}
      c: \${vars.seen}
      d: \${steps.each.output.completed}
`),
  );
  expect(found.map((e) => e.replace(/^[^ ]+ /, ''))).toEqual([
    expect.stringContaining("unknown variable 'person'"),
    expect.stringContaining("step 'read' has not run on every path"),
    expect.stringContaining('vars.seen is not set on every path'),
  ]);
});

test('the filter sees no step outputs; the where must be a bool; one population only', () => {
  const found = errors(
    flow(`  - id: first
    action: { connector: people, op: getPerson, args: { personId: '\${subject.id}' } }
  - id: each
    forEach:
      persons: { where: 'steps.first.output.found' }
      steps:
        - id: a
          set: { x: 1 }
  - id: each-two
    forEach:
      accounts: { where: 'account.name' }
      steps:
        - id: b
          set: { y: 1 }
  - id: each-three
    forEach:
      persons: {}
      items: [1]
      steps:
        - id: c
          set: { z: 1 }
`),
  );
  expect(found).toEqual([
    expect.stringContaining("unknown variable 'steps'"),
    expect.stringContaining('/steps/2/forEach/accounts/where: a condition must be true or false'),
    expect.stringContaining('needs exactly one of persons, accounts and items'),
  ]);
});

test('the guard trips over the count or the percentage, never within both', () => {
  expect(overBlastRadius({ max: 3 }, { matched: 3 }, 'items')).toBeUndefined();
  expect(overBlastRadius({ max: 3 }, { matched: 4 }, 'items')).toBe(
    'would act on 4 items, over the blast radius of 3 items',
  );
  expect(overBlastRadius({ maxPercent: 10 }, { matched: 10, population: 100 }, 'accounts')).toBe(
    undefined,
  );
  expect(overBlastRadius({ maxPercent: 10 }, { matched: 11, population: 100 }, 'accounts')).toBe(
    'would act on 11 of 100 accounts (11 %), over the blast radius of 10 %',
  );
  expect(
    overBlastRadius({ max: 100, maxPercent: 10 }, { matched: 1500, population: 20000 }, 'persons'),
  ).toBe(
    'would act on 1,500 of 20,000 persons (7.5 %), over the blast radius of 100 persons or 10 %',
  );
  // a list has no population: only the count holds it
  expect(overBlastRadius({ maxPercent: 1 }, { matched: 1000 }, 'items')).toBeUndefined();
  expect(overBlastRadius({ max: 0 }, { matched: 1 }, 'items')).toBeDefined();
  expect(
    overBlastRadius({ maxPercent: 0 }, { matched: 0, population: 0 }, 'items'),
  ).toBeUndefined();
});

test('property: the guard trips exactly when the count or the share is over its limit', () => {
  fc.assert(
    fc.property(
      fc.nat(10_000),
      fc.nat(10_000),
      fc.option(fc.nat(500), { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      (matched, extra, max, maxPercent) => {
        const population = matched + extra;
        const limit = {
          ...(max !== undefined ? { max } : {}),
          ...(maxPercent !== undefined ? { maxPercent } : {}),
        };
        const verdict = overBlastRadius(limit, { matched, population }, 'accounts');
        const over =
          (max !== undefined && matched > max) ||
          (maxPercent !== undefined && population > 0 && matched * 100 > maxPercent * population);
        expect(verdict !== undefined).toBe(over);
        if (verdict) {
          expect(verdict).toContain(`${matched.toLocaleString('en-US')} of`);
          expect(verdict).not.toMatch(/NaN|undefined/);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('steps that cannot run per item are told where they are, however deep', () => {
  const found = errors(
    flow(`  - id: each
    forEach:
      persons: {}
      steps:
        - id: branch
          if:
            condition: person.status == "active"
            then:
              - id: ask
                approval:
                  approvers: [subject.managerId]
                  request: Go on?
                  timeout: 1d
            else:
              - id: pause
                wait: { for: 1m }
        - id: choose
          switch:
            on: person.status
            cases:
              - is: active
                then:
                  - id: fan
                    parallel:
                      branches:
                        - id: only
                          steps:
                            - id: inner
                              set: { x: 1 }
            default:
              - id: again
                forEach:
                  items: \${[1]}
                  steps:
                    - id: deeper
                      set: { y: 1 }
        - id: settle
          reconcile:
            person: \${person.id}
            grace:
              for: 1d
              keep: [{ connector: directory, groups: [staff] }]
`),
  );
  const perItem = found.filter((e) => e.includes('cannot run for each item'));
  expect(perItem.map((e) => /error at (\S+): (an?) (.+?) step cannot/.exec(e)?.slice(1))).toEqual([
    ['/steps/0/forEach/steps/0/if/then/0/approval', 'an', 'approval'],
    ['/steps/0/forEach/steps/0/if/else/0/wait', 'a', 'wait'],
    ['/steps/0/forEach/steps/1/switch/cases/0/then/0/parallel', 'a', 'parallel'],
    ['/steps/0/forEach/steps/1/switch/default/0/forEach', 'a', 'forEach'],
    ['/steps/0/forEach/steps/2/reconcile/grace', 'a', 'reconcile with a grace period'],
  ]);
  expect(perItem[0]).toContain("of step 'each'");
});

test('accounts of a connector that is unknown or keeps no accounts; a reserved item name', () => {
  const typo = errors(
    flow(`  - id: each
    forEach:
      accounts: { connector: directry }
      steps:
        - id: note
          set: { seen: '\${account.name}' }
`),
  );
  // the item steps are still checked, with an item of unknown shape: one error, not two
  expect(typo).toEqual([
    expect.stringContaining(
      "error at /steps/0/forEach/accounts/connector: no connector named 'directry'",
    ),
  ]);
  expect(typo[0]).toContain('directory');
  const none = errors(
    flow(`  - id: each
    forEach:
      accounts: { connector: people }
      steps:
        - id: note
          set: { seen: '\${account.name}' }
`),
  );
  expect(none).toEqual([
    expect.stringContaining(
      "error at /steps/0/forEach/accounts/connector: connector 'people' (type idstore) keeps no accounts idflow records; accounts are kept by connectors of types ldap, scim",
    ),
  ]);
  const reserved = errors(
    flow(`  - id: each
    forEach:
      persons: {}
      as: now
      steps:
        - id: note
          set: { seen: x }
`),
  );
  expect(reserved).toEqual([
    expect.stringContaining(
      "error at /steps/0/forEach/as: 'now' already names something in expressions",
    ),
  ]);
});

test('items of maps keep their shape; a switch of deletes is guarded; reads settle defaults', () => {
  const sweep = (collect: string) =>
    flow(`  - id: each
    forEach:
      items:
        - { uid: a, drop: true }
        - { uid: b, drop: false }
      as: entry
      collect: ${collect}
      steps:
        - id: which
          switch:
            on: entry.drop
            cases:
              - is: true
                then:
                  - id: remove
                    action:
                      connector: directory
                      op: deleteAccount
                      args: { id: '\${entry.uid}', owner: x }
            default:
              - id: off
                action:
                  connector: directory
                  op: disableAccount
                  args: { id: '\${entry.uid}', owner: x }
`);
  // steps.remove has not run on every path to the collect: read it within the case
  expect(errors(sweep('${entry.uid + ":" + string(steps.remove.output.deleted)}'))).toEqual([
    expect.stringContaining("error at /steps/0/forEach/collect: step 'remove' has not run"),
  ]);
  const ok = compiled(sweep('${entry.uid}'));
  const step = ok.steps[0] as ForEachStepIR;
  expect(step.as).toBe('entry');
  expect(step.itemShape).toMatchObject({ fields: { uid: 'string', drop: 'bool' } });
  expect(step.guard?.effects).toEqual(['directory.deleteAccount', 'directory.disableAccount']);
  expect(step).toMatchObject({
    timeoutMs: 120_000,
    retry: { maximumAttempts: 5, initialIntervalMs: 1_000, backoffCoefficient: 2 },
  });
});

test('property: whatever the item is called, the compiler answers with IR or errors, never a crash', () => {
  const names = fc.oneof(
    fc.constantFrom('int', 'map', 'string', 'in', 'now', 'has', 'size', 'dyn', 'type', 'vars'),
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/),
  );
  fc.assert(
    fc.property(names, (name) => {
      const result = compileText(
        flow(`  - id: each
    forEach:
      items: \${[1, 2]}
      as: ${name}
      steps:
        - id: note
          set: { seen: x }
`),
      );
      const problems = formatted(result);
      if (problems.length > 0) expect(problems.join('\n')).toContain(`/steps/0/forEach/as`);
      else expect((result.flows.get('sweep')?.ir.steps[0] as ForEachStepIR).as).toBe(name);
    }),
    { numRuns: 60 },
  );
});

test('each problem has its code, its place, and the item steps are checked whatever went wrong', () => {
  const result = compileText(`apiVersion: idflow/v1
kind: Flow
metadata: { name: sweep }
steps:
  - id: each
    forEach:
      items: \${subject.id}
      steps:
        - id: note
          set: { x: '\${nothere}' }
  - id: each2
    forEach:
      persons: { where: 'person.id' }
      as: now
      steps:
        - id: note2
          set: { y: '\${nothere2}' }
  - id: each3
    forEach:
      accounts: { connector: peeple }
      steps:
        - id: wait-here
          wait: { for: 1m }
${CONNECTORS}`);
  expect(
    result.diagnostics.map((d) => [d.code, d.line, d.column, d.pointer, d.message.slice(0, 40)]),
  ).toEqual([
    ['bad-items', 7, 14, '/steps/0/forEach/items', 'items must be a list, but this gives str'],
    [
      'cel-type',
      10,
      24,
      '/steps/0/forEach/steps/0/set/x',
      "unknown variable 'nothere'; expressions ",
    ],
    ['reserved-name', 14, 7, '/steps/1/forEach/as', "'now' already names something in express"],
    [
      'cel-type',
      17,
      24,
      '/steps/1/forEach/steps/0/set/y',
      "unknown variable 'nothere2'; expressions",
    ],
    [
      'unknown-connector',
      20,
      30,
      '/steps/2/forEach/accounts/connector',
      "no connector named 'peeple'; did you mea",
    ],
    [
      'not-per-item',
      23,
      11,
      '/steps/2/forEach/steps/0/wait',
      'a wait step cannot run for each item of ',
    ],
  ]);
  // inside the item steps the item is in scope (and named in the hint); outside it is not
  expect(result.diagnostics[1]?.message).toContain("or 'item'");
  expect(result.diagnostics[3]?.message).not.toContain("'now' or 'person'");
});

test('a persons filter that is not a bool is told at its place; a good one is kept as written', () => {
  expect(
    errors(
      flow(`  - id: each
    forEach:
      persons: { where: 'person.id' }
      steps:
        - id: note
          set: { seen: x }
`),
    ),
  ).toEqual([
    expect.stringContaining(
      'error at /steps/0/forEach/persons/where: a condition must be true or false, but this gives string',
    ),
  ]);
  const ir = compiled(
    flow(`  - id: each
    forEach:
      accounts: { where: 'account.status == "enabled"' }
      steps:
        - id: note
          set: { seen: x }
`),
  );
  expect((ir.steps[0] as ForEachStepIR).over).toStrictEqual({
    kind: 'accounts',
    where: 'account.status == "enabled"',
  });
});

test.each([
  ...['event', 'subject', 'vars', 'steps', 'now', 'true', 'false', 'null', 'in'],
  ...['dyn', 'timestamp', 'duration', 'optional_type', 'int', 'map', 'string', 'while', 'var'],
])('an item called %s is refused at its name', (name) => {
  const found = errors(
    flow(`  - id: each
    forEach:
      items: \${[1]}
      as: '${name}'
      steps:
        - id: note
          set: { seen: x }
`),
  );
  expect(found).toEqual([
    expect.stringContaining(`error at /steps/0/forEach/as: '${name}' already names something`),
  ]);
});
