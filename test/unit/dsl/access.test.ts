/**
 * The access model's documents and step beyond the fixtures: what roles, SoD rules and
 * reconcile steps compile to, their defaults, when the grace check applies, and that the LDAP
 * group check never lets a role name a group outside the connector's groupsDn.
 */
import * as fc from 'fast-check';
import { stringify } from 'yaml';
import { REMOTE_DEFAULTS } from '../../../src/connectors/common';
import { ldap } from '../../../src/connectors/ldap';
import { compileSources } from '../../../src/dsl/compiler';
import type { ReconcileStepIR } from '../../../src/dsl/ir';
import { compileRepoPaths, compileText, formatted } from '../../support/definitions';

const GROUPS_DN = 'ou=groups,dc=example,dc=com';

const directory = `
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: corp-directory }
type: ldap
config:
  url: ldap://127.0.0.1:3389
  bindDn: cn=idflow,ou=services,dc=example,dc=com
  bindPassword: { secretEnv: LDAP_BIND_PASSWORD }
  usersDn: ou=people,dc=example,dc=com
  groupsDn: ${GROUPS_DN}
  correlation: { attribute: employeeNumber }
`;

const staff = `
---
apiVersion: idflow/v1
kind: Role
metadata: { name: staff, title: Staff, description: from metadata }
birthright: true
grants:
  - connector: corp-directory
    account:
      id: \${subject.attributes.username}
      attributes: { cn: '\${subject.displayName}', o: Example }
    groups: [all-staff, vpn-users]
`;

function flow(reconcile: string): string {
  return `
apiVersion: idflow/v1
kind: Flow
metadata: { name: mover }
steps:
  - id: reconcile-access
    reconcile: ${reconcile}
`;
}

function reconcileStep(text: string): ReconcileStepIR {
  const result = compileText(text);
  expect(formatted(result)).toEqual([]);
  return result.flows.get('mover')?.ir.steps[0] as ReconcileStepIR;
}

describe('Role', () => {
  test('compiles to who holds it and literal entitlements by kind name', () => {
    const result = compileText(staff + directory);
    expect(formatted(result)).toEqual([]);
    expect(result.roles.get('staff')?.ir).toEqual({
      irVersion: 1,
      name: 'staff',
      title: 'Staff',
      description: 'from metadata',
      birthright: true,
      grants: [
        {
          connector: 'corp-directory',
          connectorType: 'ldap',
          account: {
            id: { expr: 'subject.attributes.username' },
            attributes: { cn: { expr: 'subject.displayName' }, o: { lit: 'Example' } },
          },
          entitlements: [
            { kind: 'group', value: 'all-staff' },
            { kind: 'group', value: 'vpn-users' },
          ],
        },
      ],
    });
  });

  test('a rule-based role keeps its condition in canonical form; the hash ignores formatting', () => {
    const role = (when: string, order: 'a' | 'b') => `
apiVersion: idflow/v1
kind: Role
metadata: { name: engineering }
${order === 'a' ? `when: ${when}\ngrants: [{ connector: corp-directory, groups: [engineering] }]` : `grants:\n  - groups: [engineering]\n    connector: corp-directory\nwhen: ${when}`}
${directory}`;
    const a = compileText(role('subject.department == "Engineering"', 'a'));
    const b = compileText(role('subject.department=="Engineering"', 'b'));
    expect(formatted(a)).toEqual([]);
    expect(a.roles.get('engineering')?.ir.when).toBe('subject.department == "Engineering"');
    expect(a.roles.get('engineering')?.ir.birthright).toBe(false);
    expect(a.roles.get('engineering')?.hash).toBe(b.roles.get('engineering')?.hash);
  });

  test('a role named twice is an error like any other kind', () => {
    const result = compileText(staff + staff + directory);
    expect(formatted(result)).toEqual([
      "test.yaml:17:19: error at /metadata/name: a Role named 'staff' is already defined at test.yaml:3:1",
    ]);
    expect(result.roles.has('staff')).toBe(true);
  });

  test('a role on a connector with structural errors yields no IR and no second error', () => {
    const broken = directory.replace('correlation:', 'correlatoin:');
    const result = compileText(staff + broken);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['unknown-field']);
    expect(result.roles.size).toBe(0);
  });
});

describe('SodRule', () => {
  const roles = `${staff}
---
apiVersion: idflow/v1
kind: Role
metadata: { name: approver }
when: subject.jobCode == "APPROVER"
grants: [{ connector: corp-directory, groups: [approvers] }]
${directory}`;

  test('left and right are the two sides; the approval is an approval step without an id', () => {
    const result = compileText(`
apiVersion: idflow/v1
kind: SodRule
metadata: { name: approve-and-deploy, title: Approve and deploy }
between:
  - roles: [approver]
  - entitlements: [{ connector: corp-directory, groups: [deployers] }]
action: approval
approval:
  approvers: [subject.managerId]
  request: \${subject.displayName} for \${event.type}
  timeout: 2d
${roles}`);
    expect(formatted(result)).toEqual([]);
    const ir = result.sodRules.get('approve-and-deploy')?.ir;
    expect(ir?.left).toEqual({ roles: ['approver'], entitlements: [] });
    expect(ir?.right).toEqual({
      roles: [],
      entitlements: [{ connector: 'corp-directory', kind: 'group', value: 'deployers' }],
    });
    expect(ir?.approval).toMatchObject({
      kind: 'approval',
      id: '',
      title: 'Approve and deploy',
      approvers: [{ expr: 'subject.managerId' }],
      timeoutMs: 2 * 86_400_000,
      onTimeout: 'reject',
      notifyChannel: 'log',
    });
  });

  test('an approval reads the subject, now and the event, never a flow’s steps', () => {
    const result = compileText(`
apiVersion: idflow/v1
kind: SodRule
metadata: { name: approve-and-deploy }
between: [{ roles: [approver] }, { roles: [staff] }]
action: approval
approval:
  approvers: [steps.lookup.output.manager]
  request: asks
  timeout: 2d
${roles}`);
    expect(formatted(result)).toEqual([
      "test.yaml:8:15: error at /approval/approvers/0: unknown variable 'steps'; expressions here can read 'event', 'subject' or 'now'",
    ]);
    expect(result.sodRules.size).toBe(0);
  });
});

describe('reconcile step', () => {
  test('reconcile: {} takes the defaults', () => {
    expect(reconcileStep(flow('{}'))).toEqual({
      kind: 'reconcile',
      id: 'reconcile-access',
      title: 'reconcile-access',
      person: { expr: 'subject.id' },
      connectors: [],
      dryRun: false,
      timeoutMs: 60_000,
      retry: REMOTE_DEFAULTS.retry,
    });
  });

  test('grace keeps are flattened to entitlement refs; retry overrides the defaults field by field', () => {
    const step = reconcileStep(
      flow(`
      person: \${subject.managerId}
      connectors: [corp-directory]
      grace: { for: 2h, keep: [{ connector: corp-directory, groups: [vpn-users, all-staff] }] }
      dryRun: true
      timeout: 5s
      retry: { maxAttempts: 2 }`) +
        staff +
        directory,
    );
    expect(step).toMatchObject({
      person: { expr: 'subject.managerId' },
      connectors: ['corp-directory'],
      grace: {
        forMs: 2 * 3_600_000,
        keep: [
          { connector: 'corp-directory', kind: 'group', value: 'vpn-users' },
          { connector: 'corp-directory', kind: 'group', value: 'all-staff' },
        ],
      },
      dryRun: true,
      timeoutMs: 5_000,
      retry: { ...REMOTE_DEFAULTS.retry, maximumAttempts: 2 },
    });
  });

  test('grace is checked against roles only when every role compiled', () => {
    const keep = flow(
      `{ grace: { for: 1d, keep: [{ connector: corp-directory, groups: [not-granted] }] } }`,
    );
    expect(formatted(compileText(keep + staff + directory))).toEqual([
      "test.yaml:7:81: error at /steps/0/reconcile/grace/keep/0/groups/0: no role grants group 'not-granted' on 'corp-directory'; grace keeps only what roles grant",
    ]);
    // a role with a mistake: what roles grant is not known, so only that mistake is reported
    const broken = staff.replace('birthright: true', 'birthright: true\nwhen: "true"');
    expect(compileText(keep + broken + directory).diagnostics.map((d) => d.code)).toEqual([
      'birthright-and-when',
    ]);
  });

  test('its output has a shape flows can read', () => {
    const result = compileText(
      `${flow('{ dryRun: true }')}
  - id: after
    set:
      changes: '\${steps["reconcile-access"].output.removed + steps["reconcile-access"].output.added}'
      first: '\${steps["reconcile-access"].output.blocked.map(b, b.rule + ": " + b.reason)}'
      dry: '\${steps["reconcile-access"].output.dryRun}'
`,
    );
    expect(formatted(result)).toEqual([]);
    expect(result.flows.get('mover')?.ir.vars).toEqual({
      changes: 'int',
      first: { list: 'string' },
      dry: 'bool',
    });
  });
});

describe('LDAP groups stay under groupsDn', () => {
  const check = ldap.access.entitlements.group.check;
  const word = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 -]{0,10}[A-Za-z0-9]$/);
  const rdn = fc.tuple(fc.constantFrom('cn', 'ou', 'dc', 'OU', 'DC', 'o'), word);
  const dn = fc.array(rdn, { minLength: 1, maxLength: 4 });
  const spell = (rdns: Array<[string, string]>, comma = ',') =>
    rdns.map(([a, v]) => `${a}=${v}`).join(comma);
  const lower = (rdns: Array<[string, string]>) =>
    rdns.map(([a, v]) => `${a.toLowerCase()}=${v.toLowerCase()}`);

  // A value that starts like a DN (`cn=…`) is used as the group's DN; anything else is a cn
  // under groupsDn. So a DN must be strictly below groupsDn (case and spaces after commas aside).
  test('a DN is accepted exactly when it lies strictly below groupsDn', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.constantFrom('cn', 'CN'), word),
        dn,
        dn,
        fc.constantFrom(',', ', ', ' , '),
        fc.boolean(),
        (group, between, base, comma, under) => {
          const suffix = under ? [...between, ...base] : between;
          const inside =
            suffix.length >= base.length &&
            lower(suffix)
              .slice(-base.length)
              .every((part, i) => part === lower(base)[i]);
          const problem = check(spell([group, ...suffix], comma), { groupsDn: spell(base) });
          expect(problem === undefined).toBe(inside);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a name (no attribute=) is a cn under groupsDn, refused with spaces around it, a comma or an escape', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (name) => {
        fc.pre(!/^[a-z][a-z0-9-]*\s*=/i.test(name));
        const problem = check(name, { groupsDn: GROUPS_DN });
        expect(problem === undefined).toBe(
          name.trim() === name && !name.includes(',') && !name.includes('\\'),
        );
      }),
      { numRuns: 200 },
    );
  });

  test('the compiler gives a role no IR for a group the check refuses', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          word,
          dn.map((d) => spell(d)),
        ),
        (group) => {
          const result = compileSources([
            {
              path: 'role.yaml',
              text: `${stringify({
                apiVersion: 'idflow/v1',
                kind: 'Role',
                metadata: { name: 'r' },
                birthright: true,
                grants: [{ connector: 'corp-directory', groups: [group] }],
              })}${directory}`,
            },
          ]);
          const refused = check(group, { groupsDn: GROUPS_DN });
          expect(result.roles.has('r')).toBe(refused === undefined);
          if (refused) expect(result.diagnostics.map((d) => d.message)).toEqual([refused]);
        },
      ),
      { numRuns: 50 },
    );
  });
});

test('role and SoD documents built from the language’s own words compile to diagnostics only', () => {
  const key = fc.constantFrom(
    'connector',
    'account',
    'id',
    'attributes',
    'groups',
    'roles',
    'entitlements',
    'between',
    'birthright',
    'when',
    'grants',
  );
  const value = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue({ maxDepth: 1 }),
      fc.constantFrom('corp-directory', 'staff', '${subject.id}', 'cn=x,ou=other', true),
      fc.array(tie('node'), { maxLength: 3 }),
      fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    ),
  })).node;
  fc.assert(
    fc.property(
      fc.constantFrom('Role', 'SodRule'),
      fc.dictionary(key, value, { maxKeys: 5 }),
      fc.constantFrom('block', 'approval'),
      (kind, body, action) => {
        const doc = {
          apiVersion: 'idflow/v1',
          kind,
          metadata: { name: 'x' },
          ...(kind === 'SodRule' ? { action } : {}),
          ...body,
        };
        const result = compileSources([{ path: 'x.yaml', text: stringify(doc) + directory }]);
        expect(Array.isArray(result.diagnostics)).toBe(true);
      },
    ),
    { numRuns: 150 },
  );
});

describe('diagnostic codes of the access fixtures (what --format json and CI annotations key on)', () => {
  test.each([
    ['role-birthright-and-when', ['birthright-and-when']],
    ['role-connector-without-correlation', ['no-correlation']],
    [
      'role-grant-problems',
      [
        'constant-account-id',
        'cel-type',
        'bad-entitlement',
        'duplicate-entitlement',
        'empty-grant',
        'duplicate-grant',
        'no-access',
        'bad-account-id',
      ],
    ],
    ['role-group-outside-groupsdn', ['bad-entitlement']],
    ['role-unknown-connector', ['unknown-connector']],
    ['role-unknown-entitlement-key', ['unknown-entitlement', 'unknown-entitlement']],
    ['role-when-not-bool', ['not-a-condition', 'cel-type']],
    ['role-without-holders', ['no-holders', 'no-holders']],
    ['sod-approval-missing', ['missing-approval', 'approval-with-block']],
    ['sod-one-side', ['invalid-value', 'empty-side']],
    [
      'sod-side-problems',
      [
        'unknown-entitlement',
        'role-on-both-sides',
        'duplicate-role',
        'bad-entitlement',
        'empty-entitlements',
        'bad-approver',
        'bad-escalation',
      ],
    ],
    ['sod-unknown-role', ['unknown-role', 'unknown-role']],
    ['reconcile-grace-keeps-ungranted-group', ['keep-not-granted', 'keep-not-granted']],
    [
      'reconcile-problems',
      [
        'bad-person',
        'duplicate-connector',
        'keep-outside-reconcile',
        'keep-not-granted',
        'missing-field',
        'invalid-value',
        'cel-type',
      ],
    ],
    ['reconcile-unknown-connector', ['unknown-connector', 'no-access']],
  ])('%s', async (name, codes) => {
    const result = await compileRepoPaths(`test/fixtures/invalid/${name}.yaml`);
    expect(result.diagnostics.map((d) => d.code)).toEqual(codes);
  });
});
