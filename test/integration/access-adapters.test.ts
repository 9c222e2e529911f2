/**
 * The access adapters against a real slapd and the SCIM target: a person's account is found by
 * its owner in a bounded number of calls, managed groups are reported and unmanaged ones only
 * counted, changes run through the connectors' own ops in order, and an owner value full of
 * filter metacharacters is a value, never a filter.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'ldapts';
import { createLdapAccess } from '../../activities/access/ldap';
import { createScimAccess, GROUPS_PER_REQUEST } from '../../activities/access/scim';
import { accessAdapter } from '../../activities/access/adapters';
import type { InvokeOp } from '../../activities/access/adapter';
import { createLdapConnector } from '../../activities/connectors/ldap';
import { createScimConnector } from '../../activities/connectors/scim';
import type { OpContext } from '../../activities/connectors/types';
import type { Change, EntitlementRef } from '../../src/access/types';
import { ldap as ldapSpec } from '../../src/connectors/ldap';
import { scim as scimSpec } from '../../src/connectors/scim';
import type { JsonValue } from '../../src/dsl/ir';
import { LDAP_TARGET, startSlapd, type SlapdTarget } from '../../src/targets/slapd';
import { startScimTarget, type ScimTarget } from '../../src/targets/scim';
import { failure } from '../support/failures';
import { opContext } from '../support/op-context';
import { freePort } from '../support/ports';

const PEOPLE = `ou=people,${LDAP_TARGET.baseDn}`;
const GROUPS = `ou=groups,${LDAP_TARGET.baseDn}`;
const DISABLED = `ou=disabled,${LDAP_TARGET.baseDn}`;
const TOKEN = 'access-adapters-token';
/** An owner value with every metacharacter of LDAP and SCIM filters in it. */
const NASTY = 'O\'Brien (*) \\ "x" or userName pr';

let slapd: SlapdTarget;
let scim: ScimTarget;
const ldapOps = createLdapConnector(5_000).ops;
const scimOps = createScimConnector(5_000).ops;
const ldapAccess = createLdapAccess(5_000);
const scimAccess = createScimAccess(5_000);

function dirCtx(config: Record<string, unknown> = {}): OpContext {
  return opContext('corp-directory', {
    url: slapd.url,
    bindDn: LDAP_TARGET.bindDn,
    bindPassword: { secretEnv: 'ACCESS_LDAP_PASSWORD' },
    usersDn: PEOPLE,
    groupsDn: GROUPS,
    userObjectClasses: ['inetOrgPerson', 'adUser'],
    groupObjectClass: 'adGroup',
    disable: { method: 'move', disabledDn: DISABLED },
    correlation: { attribute: 'employeeNumber' },
    ...config,
  });
}

function scimCtx(config: Record<string, unknown> = {}): OpContext {
  return opContext('crm', {
    baseUrl: scim.url,
    auth: { type: 'bearer', token: { secretEnv: 'ACCESS_SCIM_TOKEN' } },
    correlation: { attribute: 'externalId' },
    ...config,
  });
}

type AnyOps = Record<string, (args: unknown, ctx: OpContext) => Promise<unknown>>;
type Spec = { ops: Record<string, { args: { parse(v: unknown): unknown } }> };

/** An `invoke` that runs the connector's real op, its arguments checked as the audited path does. */
function invoker(ops: AnyOps, spec: Spec, ctx: OpContext, log: string[]): InvokeOp {
  return async (op, args) => {
    log.push(op);
    const declared = spec.ops[op];
    if (!declared || !ops[op]) throw new Error(`no op ${op}`);
    return (await ops[op](declared.args.parse(args), ctx)) as JsonValue;
  };
}
const ldapInvoke = (ctx: OpContext, log: string[]) =>
  invoker(ldapOps as unknown as AnyOps, ldapSpec, ctx, log);
const scimInvoke = (ctx: OpContext, log: string[]) =>
  invoker(scimOps as unknown as AnyOps, scimSpec, ctx, log);

const group = (connector: string, value: string): EntitlementRef => ({
  connector,
  kind: 'group',
  value,
});

function change(
  connector: string,
  op: Change['op'],
  account: string,
  more: Partial<Change> = {},
): Change {
  return {
    op,
    connector,
    connectorType: connector === 'crm' ? 'scim' : 'ldap',
    account,
    why: 'test',
    ...more,
  };
}

beforeAll(async () => {
  process.env.ACCESS_LDAP_PASSWORD = LDAP_TARGET.bindPassword;
  process.env.ACCESS_SCIM_TOKEN = TOKEN;
  [slapd, scim] = await Promise.all([
    freePort().then((port) => startSlapd({ port })),
    startScimTarget({ token: TOKEN }),
  ]);
  // groups whose SCIM id is not their displayName, as in most services
  for (const name of ['sales', 'sales-managers', 'support', 'g1', 'g2', 'g3', 'g4', 'g5']) {
    const id = randomUUID();
    scim.groups.set(id, { id, displayName: name, members: [], meta: { version: 'W/"1"' } });
  }
});

afterAll(async () => {
  await Promise.all([slapd?.stop(), scim?.stop()]);
});

test('accessAdapter knows ldap and scim, nothing else', () => {
  expect(accessAdapter('ldap')).toBeDefined();
  expect(accessAdapter('scim')).toBeDefined();
  expect(accessAdapter('http')).toBeUndefined();
});

describe('ldap', () => {
  test('read finds the account by its owner with two searches; managed groups listed, others counted', async () => {
    const c = dirCtx();
    await ldapOps.createAccount(
      {
        id: 'ada',
        owner: 'p-ada',
        attributes: { cn: 'Ada Lovelace', sn: 'Lovelace', userPassword: 'secret-pw' },
        groups: ['sales', 'deployers', 'all-staff', 'vpn-users'],
      },
      c,
    );
    // an entry with the same owner outside the account OUs is not an account
    const admin = new Client({ url: slapd.url });
    await admin.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    await admin.add(`cn=svc-ada,ou=services,${LDAP_TARGET.baseDn}`, {
      objectClass: ['inetOrgPerson'],
      cn: 'svc-ada',
      sn: 'svc',
      employeeNumber: 'p-ada',
    });
    await admin.unbind();
    const managed = [
      group('corp-directory', 'sales'),
      group('corp-directory', 'CN=Deployers, ou=groups,dc=example,dc=com'),
      group('corp-directory', 'wiki-editors'),
    ];
    const search = jest.spyOn(Client.prototype, 'search');
    const bind = jest.spyOn(Client.prototype, 'bind');
    try {
      const actual = await ldapAccess.read(c, 'p-ada', managed);
      expect(search).toHaveBeenCalledTimes(2);
      expect(bind).toHaveBeenCalledTimes(1);
      expect(actual).toMatchObject({
        connector: 'corp-directory',
        connectorType: 'ldap',
        account: { id: 'ada', targetId: `uid=ada,${PEOPLE}`, enabled: true },
        entitlements: [managed[0], managed[1]],
        unmanaged: 2,
      });
      expect(actual.account?.attributes).toMatchObject({
        employeeNumber: 'p-ada',
        cn: 'Ada Lovelace',
      });
      expect(JSON.stringify(actual)).not.toMatch(/userPassword|secret-pw/i);
    } finally {
      search.mockRestore();
      bind.mockRestore();
    }
  });

  test('read reports no account when no entry has the owner', async () => {
    expect(await ldapAccess.read(dirCtx(), 'p-nobody', [group('corp-directory', 'sales')])).toEqual(
      { connector: 'corp-directory', connectorType: 'ldap', entitlements: [], unmanaged: 0 },
    );
  });

  test('two accounts with one owner are a TargetConflict naming the connector and the count', async () => {
    const c = dirCtx();
    for (const id of ['dup1', 'dup2'])
      await ldapOps.createAccount({ id, owner: 'p-dup', attributes: { cn: id, sn: id } }, c);
    const err = await failure(ldapAccess.read(c, 'p-dup', []));
    expect(err.type).toBe('TargetConflict');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain("connector 'corp-directory'");
    expect(err.message).toContain('2 accounts');
    expect(err.message).not.toMatch(/dup1|dup2|p-dup/);
  });

  test('an owner with filter metacharacters is matched as a value', async () => {
    const c = dirCtx();
    await ldapOps.createAccount(
      { id: 'obrien', owner: NASTY, attributes: { cn: 'O B', sn: 'B' } },
      c,
    );
    expect((await ldapAccess.read(c, NASTY, [])).account?.id).toBe('obrien');
    for (const probe of ['*', '*)(uid=*', "O'Brien (*) \\", '\\2a'])
      expect((await ldapAccess.read(c, probe, [])).account).toBeUndefined();
  });

  test('apply carries out create, add, remove, disable, enable, delete in order', async () => {
    const c = dirCtx();
    const log: string[] = [];
    const invoke = ldapInvoke(c, log);
    const C = 'corp-directory';
    const managed = [group(C, 'sales'), group(C, 'deployers')];
    expect(
      await ldapAccess.apply(
        c,
        'p-bob',
        [
          change(C, 'createAccount', 'bob', { attributes: { cn: 'Bob B', sn: 'B' } }),
          change(C, 'addEntitlement', 'bob', { kind: 'group', value: 'sales' }),
          change(C, 'addEntitlement', 'bob', { kind: 'group', value: 'deployers' }),
        ],
        invoke,
      ),
    ).toEqual([true, true, true]);
    expect(await ldapAccess.read(c, 'p-bob', managed)).toMatchObject({
      account: { id: 'bob', enabled: true },
      entitlements: managed,
    });
    const removeAndDisable = [
      change(C, 'removeEntitlement', 'bob', { kind: 'group', value: 'deployers' }),
      change(C, 'disableAccount', 'bob'),
    ];
    expect(await ldapAccess.apply(c, 'p-bob', removeAndDisable, invoke)).toEqual([true, true]);
    // converged: the same changes again change nothing
    expect(await ldapAccess.apply(c, 'p-bob', removeAndDisable, invoke)).toEqual([false, false]);
    expect(await ldapAccess.read(c, 'p-bob', managed)).toMatchObject({
      account: { id: 'bob', enabled: false, targetId: `uid=bob,${DISABLED}` },
      entitlements: [managed[0]],
    });
    expect(
      await ldapAccess.apply(
        c,
        'p-bob',
        [change(C, 'enableAccount', 'bob'), change(C, 'deleteAccount', 'bob')],
        invoke,
      ),
    ).toEqual([true, true]);
    expect((await ldapAccess.read(c, 'p-bob', managed)).account).toBeUndefined();
    expect(log).toEqual([
      'createAccount',
      'addToGroup',
      'addToGroup',
      'removeFromGroup',
      'disableAccount',
      'removeFromGroup',
      'disableAccount',
      'enableAccount',
      'deleteAccount',
    ]);
  });

  test('an unknown entitlement kind is refused before any change; so is a connector without correlation', async () => {
    const c = dirCtx();
    const log: string[] = [];
    const err = await failure(
      ldapAccess.apply(
        c,
        'p-x',
        [
          change('corp-directory', 'createAccount', 'x', { attributes: { cn: 'x', sn: 'x' } }),
          change('corp-directory', 'addEntitlement', 'x', { kind: 'role', value: 'admin' }),
        ],
        ldapInvoke(c, log),
      ),
    );
    expect(err.type).toBe('InvalidRequest');
    expect(log).toEqual([]);
    const bare = await failure(ldapAccess.read(dirCtx({ correlation: undefined }), 'p-x', []));
    expect(bare.type).toBe('InvalidRequest');
    expect(bare.message).toContain("'corp-directory'");
    expect(bare.message).toContain('config.correlation');
  });
});

describe('scim', () => {
  const C = 'crm';
  const groupId = (name: string) =>
    [...scim.groups.values()].find((g) => g.displayName === name)?.id as string;
  const calls = (from: number) =>
    scim.requests.slice(from).map((r) => `${r.method} ${r.path.replace('/scim/v2', '')}`);

  test('read finds the user by its owner with one GET /Users and one GET /Groups', async () => {
    const c = scimCtx();
    const { user } = await scimOps.createUser(
      {
        owner: 'p-ada',
        user: { userName: 'ada@example.com', displayName: 'Ada', password: 'pw-1' },
      },
      c,
    );
    for (const name of ['sales', 'support'])
      await scimOps.addGroupMember({ groupId: groupId(name), userId: user.id }, c);
    const managed = [group(C, 'sales'), group(C, 'sales-managers'), group(C, 'no-such-group')];
    const from = scim.requests.length;
    const actual = await scimAccess.read(c, 'p-ada', managed);
    expect(calls(from)).toEqual(['GET /Users', 'GET /Groups']);
    expect(actual).toEqual({
      connector: C,
      connectorType: 'scim',
      account: {
        id: 'ada@example.com',
        targetId: user.id,
        enabled: true,
        attributes: expect.objectContaining({
          userName: 'ada@example.com',
          externalId: 'p-ada',
        }) as unknown,
      },
      entitlements: [managed[0]],
      // this target gives no User.groups: nothing to count
      unmanaged: 0,
    });
    expect(Object.keys(actual.account?.attributes ?? {})).not.toEqual(
      expect.arrayContaining(['password']),
    );
    expect(actual.account?.attributes).not.toHaveProperty('meta');
    // a service that lists the user's groups: the unmanaged ones are counted
    const stored = scim.users.get(user.id) as Record<string, unknown>;
    stored.groups = ['sales', 'support'].map((name) => ({ value: groupId(name), display: name }));
    expect((await scimAccess.read(c, 'p-ada', managed)).unmanaged).toBe(1);
    delete stored.groups;
  });

  test('many managed groups: one GET /Groups per 50 names, pages followed', async () => {
    const c = scimCtx({ pageSize: 2 });
    const { user } = await scimOps.createUser({ owner: 'p-many', user: { userName: 'many' } }, c);
    for (const name of ['g1', 'g4', 'g5'])
      await scimOps.addGroupMember({ groupId: groupId(name), userId: user.id }, c);
    const names = [
      ...Array.from({ length: 110 }, (_, i) => `absent-${i}`),
      'g1',
      'g2',
      'g3',
      'g4',
      'g5',
    ];
    const from = scim.requests.length;
    const actual = await scimAccess.read(
      c,
      'p-many',
      names.map((n) => group(C, n)),
    );
    expect(actual.entitlements.map((e) => e.value)).toEqual(['g1', 'g4', 'g5']);
    // 115 names: chunks of 50, 50, 15; the last matches g1..g5, three pages of two
    expect(Math.ceil(names.length / GROUPS_PER_REQUEST)).toBe(3);
    expect(calls(from)).toEqual(['GET /Users', ...Array<string>(5).fill('GET /Groups')]);
  });

  test('read reports no account with one request', async () => {
    const from = scim.requests.length;
    expect(await scimAccess.read(scimCtx(), 'p-nobody', [group(C, 'sales')])).toEqual({
      connector: C,
      connectorType: 'scim',
      entitlements: [],
      unmanaged: 0,
    });
    expect(calls(from)).toEqual(['GET /Users']);
  });

  test('two users with one owner are a TargetConflict', async () => {
    const c = scimCtx();
    for (const userName of ['dup1', 'dup2'])
      await scimOps.createUser({ owner: 'p-dup', user: { userName } }, c);
    const err = await failure(scimAccess.read(c, 'p-dup', []));
    expect(err.type).toBe('TargetConflict');
    expect(err.message).toContain("connector 'crm'");
    expect(err.message).toContain('2 accounts');
    expect(err.message).not.toMatch(/dup1|dup2|p-dup/);
  });

  test('an owner with filter metacharacters is matched as a value', async () => {
    const c = scimCtx();
    await scimOps.createUser({ owner: NASTY, user: { userName: 'obrien' } }, c);
    expect((await scimAccess.read(c, NASTY, [])).account?.id).toBe('obrien');
    for (const probe of ['x" or userName pr "', "O'Brien (*) \\", '*'])
      expect((await scimAccess.read(c, probe, [])).account).toBeUndefined();
  });

  test('apply resolves groups once, then creates, adds, removes, disables, enables, deletes in order', async () => {
    const c = scimCtx();
    const log: string[] = [];
    const invoke = scimInvoke(c, log);
    const managed = [group(C, 'sales'), group(C, 'sales-managers')];
    const from = scim.requests.length;
    expect(
      await scimAccess.apply(
        c,
        'p-bob',
        [
          change(C, 'createAccount', 'bob', { attributes: { displayName: 'Bob B' } }),
          change(C, 'addEntitlement', 'bob', { kind: 'group', value: 'sales' }),
          change(C, 'addEntitlement', 'bob', { kind: 'group', value: 'sales-managers' }),
        ],
        invoke,
      ),
    ).toEqual([true, true, true]);
    expect(calls(from).filter((r) => r === 'GET /Groups')).toHaveLength(1);
    expect(calls(from)[0]).toBe('GET /Groups');
    const read = await scimAccess.read(c, 'p-bob', managed);
    expect(read).toMatchObject({
      account: { id: 'bob', enabled: true, attributes: { displayName: 'Bob B' } },
      entitlements: managed,
    });
    const targetId = read.account?.targetId as string;
    const removeAndDisable = [
      change(C, 'removeEntitlement', 'bob', { kind: 'group', value: 'sales-managers', targetId }),
      change(C, 'disableAccount', 'bob', { targetId }),
    ];
    expect(await scimAccess.apply(c, 'p-bob', removeAndDisable, invoke)).toEqual([true, true]);
    expect(await scimAccess.apply(c, 'p-bob', removeAndDisable, invoke)).toEqual([false, false]);
    expect(await scimAccess.read(c, 'p-bob', managed)).toMatchObject({
      account: { enabled: false },
      entitlements: [managed[0]],
    });
    expect(
      await scimAccess.apply(
        c,
        'p-bob',
        [
          change(C, 'enableAccount', 'bob', { targetId }),
          change(C, 'updateAccount', 'bob', { targetId, attributes: { title: 'Lead' } }),
        ],
        invoke,
      ),
    ).toEqual([true, true]);
    expect(await scimAccess.read(c, 'p-bob', [])).toMatchObject({
      account: { enabled: true, attributes: { title: 'Lead' } },
    });
    expect(
      await scimAccess.apply(c, 'p-bob', [change(C, 'deleteAccount', 'bob', { targetId })], invoke),
    ).toEqual([true]);
    expect((await scimAccess.read(c, 'p-bob', managed)).account).toBeUndefined();
    expect(log).toEqual([
      'createUser',
      'addGroupMember',
      'addGroupMember',
      'removeGroupMember',
      'deactivateUser',
      'removeGroupMember',
      'deactivateUser',
      'patchUser',
      'patchUser',
      'deleteUser',
    ]);
  });

  test('an unknown group is a TargetNotFound naming it, before any change', async () => {
    const c = scimCtx();
    const log: string[] = [];
    const err = await failure(
      scimAccess.apply(
        c,
        'p-carl',
        [
          change(C, 'createAccount', 'carl'),
          change(C, 'addEntitlement', 'carl', { kind: 'group', value: 'no-such-group' }),
        ],
        scimInvoke(c, log),
      ),
    );
    expect(err.type).toBe('TargetNotFound');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain("connector 'crm'");
    expect(err.message).toContain("'no-such-group'");
    expect(log).toEqual([]);
  });
});
