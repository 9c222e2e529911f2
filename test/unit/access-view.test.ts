/**
 * How a plan and a person's access are printed, and how a failed `planPerson` workflow is told:
 * an unknown person, no answer in time, or a target that failed — by failure type, whatever
 * wraps it.
 */
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  RetryState,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import type { AccessPlan, Change } from '../../src/access/types';
import { describeChange, renderPerson, renderPlan, table } from '../../src/cli/access-view';
import type { PersonAccessView } from '../../src/gateway/services/persons';
import {
  executePlanPerson,
  PlanFailedError,
  PlanPersonNotFoundError,
  PlanTimedOutError,
} from '../../src/temporal/plan-person';

const change = (op: Change['op'], extra: Partial<Change> = {}): Change => ({
  op,
  connector: 'corp',
  connectorType: 'ldap',
  account: 'ada',
  why: 'role:staff',
  ...extra,
});

const emptyPlan: AccessPlan = {
  personId: 'p-1',
  status: 'active',
  connectors: ['corp'],
  roles: [{ name: 'staff', title: 'Staff', why: 'birthright' }],
  removals: [],
  additions: [],
  kept: [],
  heldBack: [],
  holds: [],
  unmanaged: {},
  problems: [],
};

describe('table', () => {
  test('columns line up under the header; the last column is not padded', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['xyz', 'v'],
          ['ü', 'w'],
        ],
      ),
    ).toBe(['  A    LONGER', '  xyz  v', '  ü    w'].join('\n'));
  });

  test('control characters cannot break a line or move the cursor', () => {
    expect(table(['A'], [['a\nb\u001b[2J']])).toBe('  A\n  a?b?[2J');
  });
});

describe('describeChange', () => {
  test.each<[string, Change]>([
    ['create account', change('createAccount')],
    ['enable account', change('enableAccount')],
    [
      'update account (title, mail)',
      change('updateAccount', { attributes: { title: 'x', mail: 'y' } }),
    ],
    ['disable account', change('disableAccount')],
    ['delete account', change('deleteAccount')],
    ['add group deployers', change('addEntitlement', { kind: 'group', value: 'deployers' })],
    ['remove group sales', change('removeEntitlement', { kind: 'group', value: 'sales' })],
  ])('%s', (text, c) => {
    expect(describeChange(c)).toBe(text);
  });
});

describe('renderPlan', () => {
  test('an empty plan says the person has exactly their desired access', () => {
    expect(renderPlan(emptyPlan)).toBe(
      [
        'Access plan for p-1 (active) on corp — a preview, nothing changed',
        '  roles: staff (birthright)',
        '',
        'no changes: p-1 has exactly their desired access',
      ].join('\n'),
    );
  });

  test('removals before additions, then held back, kept, problems and what is left alone', () => {
    const text = renderPlan({
      ...emptyPlan,
      removals: [
        change('removeEntitlement', {
          kind: 'group',
          value: 'sales',
          why: 'no role or grant of the person grants it',
        }),
      ],
      additions: [change('addEntitlement', { kind: 'group', value: 'engineers' })],
      heldBack: [
        {
          change: change('addEntitlement', { kind: 'group', value: 'deployers' }),
          rule: 'approve-or-deploy',
          reason: 'role finance-approver conflicts with group deployers',
          action: 'block',
        },
      ],
      kept: [change('removeEntitlement', { kind: 'group', value: 'vpn', why: 'grace until x' })],
      unmanaged: { corp: 3, apps: 0 },
      problems: ['role x: its rule could not be evaluated'],
    });
    expect(text).toBe(
      [
        'Access plan for p-1 (active) on corp — a preview, nothing changed',
        '  roles: staff (birthright)',
        '',
        'Changes (removals first)',
        '  CONNECTOR  ACCOUNT  CHANGE               WHY',
        '  corp       ada      remove group sales   no role or grant of the person grants it',
        '  corp       ada      add group engineers  role:staff',
        '',
        'Held back by separation of duties',
        '  CONNECTOR  CHANGE               REASON',
        '  corp       add group deployers  refused: role finance-approver conflicts with group deployers',
        '',
        'Kept for the grace period',
        '  CONNECTOR  ACCOUNT  CHANGE            WHY',
        '  corp       ada      remove group vpn  grace until x',
        '',
        'Problems (a reconcile step would not carry this plan out)',
        '  ! role x: its rule could not be evaluated',
        '',
        'Left alone',
        '  corp: 3 unmanaged entitlements left alone (no role or grant names them)',
      ].join('\n'),
    );
  });
});

const personView: PersonAccessView = {
  person: {
    id: 'p-1',
    displayName: 'Ada Lovelace',
    employeeId: 'E1',
    status: 'disabled',
    attributes: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  },
  roles: [],
  noAccessBecause: 'the person is disabled',
  problems: [],
  accounts: [
    {
      id: 'a',
      connector: 'corp',
      accountName: 'ada',
      status: 'disabled',
      createdAt: new Date('2026-01-01T00:00:00Z'),
      lastReadAt: new Date('2026-01-02T00:00:00Z'),
      updatedAt: new Date('2026-01-02T00:00:00Z'),
      entitlements: [],
    },
  ],
  grants: [],
  holds: [],
  runs: [],
};

describe('renderPerson', () => {
  const view = personView;

  test('a person without access says why; what was last read is still shown', () => {
    expect(renderPerson(view)).toBe(
      [
        'Ada Lovelace (p-1) — disabled',
        '  employee E1',
        '',
        'Roles',
        '  none: the person is disabled, so no role gives access',
        '',
        'Accounts (as idflow last read them from the targets)',
        '  CONNECTOR  ACCOUNT  STATUS    TARGET ID  LAST READ',
        '  corp       ada      disabled  -          2026-01-02T00:00:00Z',
        '',
        'Explicit grants',
        '  none',
        '',
        'Recent runs',
        '  none',
      ].join('\n'),
    );
  });
});

describe('holds', () => {
  const hold = {
    id: 'h-1',
    personId: 'p-1',
    connector: 'corp',
    reason: 'dormant',
    placedBy: 'run:flow/dormant-accounts/schedule.nightly-1',
    placedAt: '2026-01-03T02:00:00.000Z',
  };

  test('a plan with nothing to change still names the hold that keeps an account disabled', () => {
    expect(renderPlan({ ...emptyPlan, holds: [{ ...hold, account: 'ada' }] })).toBe(
      [
        'Access plan for p-1 (active) on corp — a preview, nothing changed',
        '  roles: staff (birthright)',
        '',
        'no changes: p-1 has exactly their desired access',
        '',
        'Held (kept disabled until released)',
        '  CONNECTOR  ACCOUNT  REASON   PLACED BY                                     SINCE',
        '  corp       ada      dormant  run:flow/dormant-accounts/schedule.nightly-1  2026-01-03T02:00:00Z',
      ].join('\n'),
    );
  });

  test('a held account the target does not have is shown as not created', () => {
    const text = renderPlan({
      ...emptyPlan,
      additions: [change('addEntitlement', { connector: 'apps', kind: 'group', value: 'x' })],
      holds: [{ ...hold, account: '' }],
    });
    expect(text).toContain('  corp       - (not created while held)  dormant');
  });

  test("a person's held account says so, and the holds are listed with who placed them", () => {
    const text = renderPerson({
      ...personView,
      holds: [hold],
    });
    expect(text).toContain('  corp       ada      disabled, held  -          2026-01-02T00:00:00Z');
    expect(text).toContain(
      [
        'Holds (each keeps the account disabled until released)',
        '  CONNECTOR  REASON   PLACED BY                                     SINCE                 HOLD',
        '  corp       dormant  run:flow/dormant-accounts/schedule.nightly-1  2026-01-03T02:00:00Z  h-1',
      ].join('\n'),
    );
  });
});

describe('executePlanPerson tells failures apart by type', () => {
  function clientFailingWith(cause: Error): Client {
    return {
      workflow: {
        execute: () =>
          Promise.reject(
            new WorkflowFailedError('failed', cause, RetryState.NON_RETRYABLE_FAILURE),
          ),
      },
    } as unknown as Client;
  }
  const inActivity = (cause: Error) =>
    new ActivityFailure(
      'activity failed',
      'planAccess',
      '1',
      RetryState.MAXIMUM_ATTEMPTS_REACHED,
      'w',
      cause,
    );
  const input = { personId: 'p-1', connectors: [] };

  test('PersonNotFound from the activity is an unknown person', async () => {
    const failure = ApplicationFailure.create({ type: 'PersonNotFound', message: 'no person' });
    await expect(
      executePlanPerson(clientFailingWith(inActivity(failure)), 'q', input),
    ).rejects.toBeInstanceOf(PlanPersonNotFoundError);
  });

  test('a workflow that timed out is no plan in time, naming the workflow', async () => {
    const err = await executePlanPerson(
      clientFailingWith(new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE)),
      'q',
      input,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlanTimedOutError);
    expect((err as PlanTimedOutError).message).toMatch(
      /^no plan within 60 s \(workflow plan\/p-1\/[0-9a-f-]{36}\): is a worker running/,
    );
  });

  test('any other failure is a failed plan with its type and message', async () => {
    const failure = ApplicationFailure.create({
      type: 'TargetUnavailable',
      message: 'corp.readAccess: cannot reach the directory',
    });
    const err = await executePlanPerson(clientFailingWith(inActivity(failure)), 'q', input).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PlanFailedError);
    expect(err).toMatchObject({
      type: 'TargetUnavailable',
      message:
        'the plan could not be computed (TargetUnavailable): corp.readAccess: cannot reach the directory',
    });
  });

  test('an error that is not a workflow failure passes through', async () => {
    const down = new Error('connection refused');
    const client = { workflow: { execute: () => Promise.reject(down) } } as unknown as Client;
    await expect(executePlanPerson(client, 'q', input)).rejects.toBe(down);
  });
});
