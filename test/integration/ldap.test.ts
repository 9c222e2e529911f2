/**
 * The ldap connector's ops against a real slapd (memberof and refint overlays, AD-like schema):
 * every op, convergence, the three disable methods, failures mapped to idflow's types.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLdapConnector, escapeDn, escapeFilter } from '../../activities/connectors/ldap';
import type { OpContext } from '../../activities/connectors/types';
import { LDAP_TARGET, startSlapd, type SlapdTarget } from '../../src/targets/slapd';
import { failure } from '../support/failures';
import { opContext } from '../support/op-context';
import { freePort } from '../support/ports';
import { TcpProxy } from '../support/tcp-proxy';

const PEOPLE = `ou=people,${LDAP_TARGET.baseDn}`;
const GROUPS = `ou=groups,${LDAP_TARGET.baseDn}`;
const DISABLED = `ou=disabled,${LDAP_TARGET.baseDn}`;

let slapd: SlapdTarget;

function idflow(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(__dirname, '..', '..', 'bin', 'idflow.js'), ...args],
      { env },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const { ops, check } = createLdapConnector(5_000);

function ctx(config: Record<string, unknown> = {}, connector = 'corp-directory'): OpContext {
  return opContext(connector, {
    url: slapd.url,
    bindDn: LDAP_TARGET.bindDn,
    bindPassword: { secretEnv: 'TEST_LDAP_BIND_PASSWORD' },
    usersDn: PEOPLE,
    groupsDn: GROUPS,
    userObjectClasses: ['inetOrgPerson', 'adUser'],
    groupObjectClass: 'adGroup',
    disable: { method: 'userAccountControl' },
    ...config,
  });
}

beforeAll(async () => {
  process.env.TEST_LDAP_BIND_PASSWORD = LDAP_TARGET.bindPassword;
  slapd = await startSlapd({ port: await freePort(), tlsPort: await freePort() });
});

afterAll(async () => {
  await slapd?.stop();
});

test('escaping: filter and DN special characters', () => {
  expect(escapeFilter('a*(b)\\')).toBe('a\\2a\\28b\\29\\5c');
  expect(escapeDn('Lovelace, Ada')).toBe('Lovelace\\, Ada');
  expect(escapeDn(' #x ')).toBe('\\ #x\\ ');
});

test('createAccount creates, a second create for the same owner converges, groups are joined once', async () => {
  const c = ctx({ correlation: { attribute: 'employeeNumber' } });
  const first = await ops.createAccount(
    {
      id: 'ada',
      owner: 'p-ada',
      attributes: {
        cn: 'Ada Lovelace',
        sn: 'Lovelace',
        mail: 'ada@example.com',
        sAMAccountName: 'ada',
      },
      groups: ['all-staff', 'engineering'],
    },
    c,
  );
  expect(first).toEqual({ dn: `uid=ada,${PEOPLE}`, created: true, changed: true });

  const again = await ops.createAccount(
    {
      id: 'ada',
      owner: 'p-ada',
      attributes: {
        cn: 'Ada Lovelace',
        sn: 'Lovelace',
        mail: 'ada@example.com',
        sAMAccountName: 'ada',
      },
      groups: ['all-staff', 'engineering'],
    },
    c,
  );
  expect(again).toEqual({ dn: `uid=ada,${PEOPLE}`, created: false, changed: false });

  const changed = await ops.createAccount(
    {
      id: 'ada',
      owner: 'p-ada',
      attributes: { cn: 'Ada Lovelace', sn: 'Lovelace', title: 'Analyst' },
    },
    c,
  );
  expect(changed).toMatchObject({ created: false, changed: true });

  const got = await ops.getAccount({ id: 'ada' }, c);
  expect(got.found).toBe(true);
  expect(got.account).toMatchObject({
    dn: `uid=ada,${PEOPLE}`,
    id: 'ada',
    enabled: true,
    groups: [`cn=all-staff,${GROUPS}`, `cn=engineering,${GROUPS}`],
    attributes: {
      title: 'Analyst',
      mail: 'ada@example.com',
      userAccountControl: '512',
      employeeNumber: 'p-ada',
    },
  });
});

test('updateAccount replaces changed attributes and removes emptied ones', async () => {
  const c = ctx();
  await ops.createAccount({ id: 'upd', attributes: { cn: 'U P', sn: 'P', title: 'Clerk' } }, c);
  expect(await ops.updateAccount({ id: 'upd', attributes: { title: 'Manager' } }, c)).toEqual({
    dn: `uid=upd,${PEOPLE}`,
    changed: true,
  });
  expect(await ops.updateAccount({ id: 'upd', attributes: { title: 'Manager' } }, c)).toMatchObject(
    {
      changed: false,
    },
  );
  await ops.updateAccount({ id: 'upd', attributes: { title: [] } }, c);
  const got = await ops.getAccount({ id: 'upd' }, c);
  expect(got.account?.attributes.title).toBeUndefined();
  const missing = await failure(ops.updateAccount({ id: 'nobody', attributes: { title: 'x' } }, c));
  expect(missing.type).toBe('TargetNotFound');
  expect(missing.nonRetryable).toBe(true);
});

test('disable and enable by userAccountControl: twice is fine', async () => {
  const c = ctx();
  await ops.createAccount({ id: 'uac', attributes: { cn: 'U A C', sn: 'C' } }, c);
  expect(await ops.disableAccount({ id: 'uac' }, c)).toEqual({
    dn: `uid=uac,${PEOPLE}`,
    changed: true,
  });
  expect(await ops.disableAccount({ id: 'uac' }, c)).toMatchObject({ changed: false });
  let got = await ops.getAccount({ id: 'uac' }, c);
  expect(got.account).toMatchObject({ enabled: false, attributes: { userAccountControl: '514' } });
  expect(await ops.enableAccount({ id: 'uac' }, c)).toMatchObject({ changed: true });
  expect(await ops.enableAccount({ id: 'uac' }, c)).toMatchObject({ changed: false });
  got = await ops.getAccount({ id: 'uac' }, c);
  expect(got.account).toMatchObject({ enabled: true, attributes: { userAccountControl: '512' } });
});

test('disable by a status attribute', async () => {
  const c = ctx({
    disable: {
      method: 'attribute',
      attribute: 'accountStatus',
      enabledValue: 'active',
      disabledValue: 'disabled',
    },
  });
  await ops.createAccount(
    { id: 'attr', attributes: { cn: 'A T', sn: 'T', accountStatus: 'active' } },
    c,
  );
  expect(await ops.disableAccount({ id: 'attr' }, c)).toMatchObject({ changed: true });
  expect(await ops.disableAccount({ id: 'attr' }, c)).toMatchObject({ changed: false });
  const got = await ops.getAccount({ id: 'attr' }, c);
  expect(got.account).toMatchObject({ enabled: false, attributes: { accountStatus: 'disabled' } });
});

test('disable by moving to the disabled OU keeps group memberships (refint) and is found again', async () => {
  const c = ctx({ disable: { method: 'move', disabledDn: DISABLED } });
  await ops.createAccount(
    { id: 'mover', attributes: { cn: 'M O', sn: 'O' }, groups: ['vpn-users'] },
    c,
  );
  expect(await ops.disableAccount({ id: 'mover' }, c)).toEqual({
    dn: `uid=mover,${DISABLED}`,
    changed: true,
  });
  expect(await ops.disableAccount({ id: 'mover' }, c)).toMatchObject({ changed: false });
  const got = await ops.getAccount({ id: 'mover' }, c);
  expect(got.account).toMatchObject({
    dn: `uid=mover,${DISABLED}`,
    enabled: false,
    groups: [`cn=vpn-users,${GROUPS}`],
  });
  expect(await ops.enableAccount({ id: 'mover' }, c)).toEqual({
    dn: `uid=mover,${PEOPLE}`,
    changed: true,
  });
});

test('group membership converges both ways; listGroups and search', async () => {
  const c = ctx();
  await ops.createAccount({ id: 'grp', attributes: { cn: 'G R', sn: 'R' } }, c);
  expect(await ops.addToGroup({ id: 'grp', group: 'finance' }, c)).toEqual({
    group: `cn=finance,${GROUPS}`,
    changed: true,
  });
  expect(await ops.addToGroup({ id: 'grp', group: 'finance' }, c)).toMatchObject({
    changed: false,
  });
  const groups = await ops.listGroups({}, c);
  expect(groups.groups.find((g) => g.name === 'finance')).toMatchObject({
    dn: `cn=finance,${GROUPS}`,
    description: 'Finance department',
    members: 1,
  });
  const found = await ops.search(
    { filter: '(memberOf=cn=finance,ou=groups,dc=example,dc=com)', attributes: ['uid'] },
    c,
  );
  expect(found.entries).toEqual([{ dn: `uid=grp,${PEOPLE}`, uid: 'grp' }]);
  expect(await ops.removeFromGroup({ id: 'grp', group: `cn=finance,${GROUPS}` }, c)).toMatchObject({
    changed: true,
  });
  expect(await ops.removeFromGroup({ id: 'grp', group: 'finance' }, c)).toMatchObject({
    changed: false,
  });
  const unknown = await failure(ops.addToGroup({ id: 'grp', group: 'no-such-group' }, c));
  expect(unknown.type).toBe('TargetNotFound');
});

test('deleteAccount deletes, then converges; the account leaves its groups', async () => {
  const c = ctx();
  await ops.createAccount(
    { id: 'gone', attributes: { cn: 'G O', sn: 'O' }, groups: ['all-staff'] },
    c,
  );
  expect(await ops.deleteAccount({ id: 'gone' }, c)).toEqual({ deleted: true });
  expect(await ops.deleteAccount({ id: 'gone' }, c)).toEqual({ deleted: false });
  expect(await ops.getAccount({ id: 'gone' }, c)).toEqual({ found: false });
  const staff = await ops.search(
    { base: GROUPS, filter: '(cn=all-staff)', attributes: ['member'] },
    c,
  );
  expect(JSON.stringify(staff.entries)).not.toContain('uid=gone');
});

test('a schema violation is InvalidRequest, not retried', async () => {
  const err = await failure(
    ops.createAccount({ id: 'bad', attributes: { noSuchAttribute: 'x' } }, ctx()),
  );
  expect(err.type).toBe('InvalidRequest');
  expect(err.nonRetryable).toBe(true);
});

test('a wrong bind password is ConnectorAuthFailed, not retried, and the password is in no message', async () => {
  process.env.TEST_LDAP_WRONG = 'not-the-password-41f3';
  const err = await failure(
    ops.getAccount(
      { id: 'ada' },
      ctx({ bindPassword: { secretEnv: 'TEST_LDAP_WRONG' } }, 'wrong-password'),
    ),
  );
  expect(err.type).toBe('ConnectorAuthFailed');
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toContain('TEST_LDAP_WRONG');
  expect(
    JSON.stringify({ message: err.message, details: err.details, stack: err.stack }),
  ).not.toContain('not-the-password-41f3');
});

test('an unset password variable names the variable', async () => {
  const err = await failure(
    ops.getAccount({ id: 'ada' }, ctx({ bindPassword: { secretEnv: 'TEST_LDAP_UNSET' } }, 'unset')),
  );
  expect(err.type).toBe('ConnectorNotConfigured');
  expect(err.message).toContain('TEST_LDAP_UNSET');
});

test('the directory unreachable is TargetUnavailable (retryable); reachable again, the op succeeds', async () => {
  const port = await freePort();
  const proxy = new TcpProxy(port, { host: '127.0.0.1', port: slapd.port });
  const c = ctx({ url: `ldap://127.0.0.1:${port}` }, 'via-proxy');
  const down = await failure(ops.getAccount({ id: 'ada' }, c));
  expect(down.type).toBe('TargetUnavailable');
  expect(down.nonRetryable).toBe(false);
  await proxy.start();
  try {
    expect((await ops.getAccount({ id: 'ada' }, c)).found).toBe(true);
    await proxy.stop();
    expect((await failure(ops.getAccount({ id: 'ada' }, c))).type).toBe('TargetUnavailable');
    await proxy.start();
    expect((await ops.getAccount({ id: 'ada' }, c)).found).toBe(true);
  } finally {
    await proxy.stop();
  }
});

test('check: binds and reads the configured DNs', async () => {
  expect(await check(ctx())).toEqual([
    `bound to ${slapd.url} as ${LDAP_TARGET.bindDn}`,
    `can read ${PEOPLE}`,
    `can read ${GROUPS}`,
  ]);
});

test('idflow connectors test: ✓ with the right password, ✗ ConnectorAuthFailed naming the variable with a wrong one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idflow-connectors-'));
  const connector = (name: string, secretEnv: string) => `apiVersion: idflow/v1
kind: Connector
metadata: { name: ${name} }
type: ldap
config:
  url: ${slapd.url}
  bindDn: ${LDAP_TARGET.bindDn}
  bindPassword: { secretEnv: ${secretEnv} }
  usersDn: ${PEOPLE}
  groupsDn: ${GROUPS}
`;
  writeFileSync(
    join(dir, 'connectors.yaml'),
    `${connector('good-directory', 'CLI_LDAP_PASSWORD')}---\n${connector('bad-directory', 'CLI_LDAP_WRONG')}`,
  );
  const env = {
    ...process.env,
    CLI_LDAP_PASSWORD: LDAP_TARGET.bindPassword,
    CLI_LDAP_WRONG: 'nope-3e1',
  };
  const good = await idflow(['connectors', 'test', 'good-directory', '--definitions', dir], env);
  expect(good.code).toBe(0);
  expect(good.stdout).toContain('✓ good-directory (ldap)');
  expect(good.stdout).toContain(`can read ${PEOPLE}`);
  const bad = await idflow(['connectors', 'test', '--definitions', dir], env);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toContain('✗ bad-directory (ldap) ConnectorAuthFailed');
  expect(bad.stdout).toContain('CLI_LDAP_WRONG');
  expect(bad.stdout).not.toContain('nope-3e1');
  const unknown = await idflow(['connectors', 'test', 'good-directry', '--definitions', dir], env);
  expect(unknown.code).toBe(1);
  expect(unknown.stdout).toContain("did you mean 'good-directory'");
});

test('StartTLS and LDAPS: verified against the CA file, refused without it', async () => {
  const viaStartTls = ctx(
    { startTls: true, tls: { caFile: slapd.certFile } },
    'starttls-directory',
  );
  expect((await check(viaStartTls))[0]).toContain('bound to');
  const viaLdaps = ctx({ url: slapd.ldapsUrl, tls: { caFile: slapd.certFile } }, 'ldaps-directory');
  expect((await ops.getAccount({ id: 'ada' }, viaLdaps)).found).toBe(true);
  // a self-signed certificate the worker does not trust is not silently accepted
  const untrusted = await failure(
    ops.getAccount({ id: 'ada' }, ctx({ url: slapd.ldapsUrl }, 'untrusted-directory')),
  );
  expect(untrusted.type).toBe('ConnectorAuthFailed');
  expect(untrusted.nonRetryable).toBe(true);
  expect(untrusted.message).toContain('config.tls.caFile');
});

test('createAccount finds an account moved to the disabled OU instead of creating a second', async () => {
  const c = ctx({
    disable: { method: 'move', disabledDn: DISABLED },
    correlation: { attribute: 'employeeNumber' },
  });
  const twice = { id: 'twice', owner: 'p-twice', attributes: { cn: 'T W', sn: 'W' } };
  await ops.createAccount(twice, c);
  await ops.disableAccount({ id: 'twice' }, c);
  const again = await ops.createAccount(twice, c);
  expect(again).toEqual({ dn: `uid=twice,${DISABLED}`, created: false, changed: false });
  const all = await ops.search({ base: LDAP_TARGET.baseDn, filter: '(uid=twice)' }, c);
  expect(all.entries).toHaveLength(1);
});

test('groups given as DNs must lie below groupsDn; credential attributes are never returned', async () => {
  const c = ctx();
  await ops.createAccount(
    { id: 'sec', attributes: { cn: 'S E', sn: 'E', userPassword: 'initial-Secret-1' } },
    c,
  );
  const outside = await failure(
    ops.addToGroup({ id: 'sec', group: `cn=idflow,ou=services,${LDAP_TARGET.baseDn}` }, c),
  );
  expect(outside.type).toBe('InvalidRequest');
  expect(outside.message).toContain('not under');
  const found = await ops.search({ filter: '(uid=sec)', attributes: ['uid', 'userPassword'] }, c);
  expect(found.entries).toEqual([{ dn: `uid=sec,${PEOPLE}`, uid: 'sec' }]);
  const got = await ops.getAccount({ id: 'sec' }, c);
  expect(JSON.stringify(got)).not.toContain('initial-Secret-1');
});
