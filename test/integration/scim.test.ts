/**
 * The scim connector's ops over HTTP against a SCIM 2.0 service (SCIMMY + scimmy-routers):
 * every op, convergence, ETags, pagination, failures mapped to idflow's types.
 */
import { createScimConnector, filterString } from '../../activities/connectors/scim';
import type { OpContext } from '../../activities/connectors/types';
import { failure } from '../support/failures';
import { opContext } from '../support/op-context';
import { freePort } from '../support/ports';
import { startScimTarget, type ScimTarget } from '../../src/targets/scim';

let target: ScimTarget;
const { ops, check } = createScimConnector(5_000);

function ctx(config: Record<string, unknown> = {}, connector = 'crm'): OpContext {
  return opContext(connector, {
    baseUrl: target.url,
    auth: { type: 'bearer', token: { secretEnv: 'TEST_SCIM_TOKEN' } },
    ...config,
  });
}

beforeAll(async () => {
  process.env.TEST_SCIM_TOKEN = 'scim-test-token-8d1e';
  target = await startScimTarget({ token: 'scim-test-token-8d1e', groups: ['sales', 'support'] });
});

afterAll(async () => {
  await target?.stop();
});

test('filter strings are quoted and escaped', () => {
  expect(filterString('a"b\\c')).toBe('"a\\"b\\\\c"');
});

test('createUser creates; the same userName for the same owner converges by replacing', async () => {
  const c = ctx({ correlation: { attribute: 'externalId' } });
  const first = await ops.createUser(
    {
      owner: 'E1001',
      user: {
        userName: 'ada@example.com',
        externalId: 'E1001',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
        active: true,
      },
    },
    c,
  );
  expect(first.created).toBe(true);
  expect(first.user).toMatchObject({
    userName: 'ada@example.com',
    externalId: 'E1001',
    active: true,
  });
  expect(target.users.get(first.user.id)?.externalId).toBe('E1001');

  const again = await ops.createUser(
    { owner: 'E1001', user: { userName: 'ada@example.com', displayName: 'Ada L.' } },
    c,
  );
  expect(again.created).toBe(false);
  expect(again.user).toMatchObject({
    id: first.user.id,
    displayName: 'Ada L.',
    externalId: 'E1001',
  });
  expect(target.users.size).toBe(1);
  // the replace carried the ETag the target gave
  const put = target.requests.filter((r) => r.method === 'PUT').pop();
  expect(put?.ifMatch).toMatch(/^W\/"/);
});

test('getUser, findUser by userName and externalId', async () => {
  const c = ctx();
  const { user } = await ops.createUser(
    { user: { userName: 'grace@example.com', externalId: 'E1002' } },
    c,
  );
  expect(await ops.getUser({ id: user.id }, c)).toMatchObject({
    found: true,
    user: { userName: 'grace@example.com' },
  });
  expect(await ops.getUser({ id: 'no-such-id' }, c)).toEqual({ found: false });
  expect(await ops.findUser({ userName: 'grace@example.com' }, c)).toMatchObject({
    found: true,
    user: { id: user.id },
  });
  expect(await ops.findUser({ externalId: 'E1002' }, c)).toMatchObject({
    found: true,
    user: { id: user.id },
  });
  expect(await ops.findUser({ userName: 'nobody@example.com' }, c)).toEqual({ found: false });
});

test('listUsers follows pagination', async () => {
  const c = ctx({ pageSize: 2 });
  for (let i = 0; i < 5; i++)
    await ops.createUser({ user: { userName: `page-${i}@example.com` } }, c);
  const all = await ops.listUsers({}, c);
  expect(all.total).toBe(all.users.length);
  expect(all.users.map((u) => u.userName)).toEqual(
    expect.arrayContaining([0, 1, 2, 3, 4].map((i) => `page-${i}@example.com`)),
  );
  const pages = target.requests.filter((r) => r.method === 'GET' && r.path === '/scim/v2/Users');
  expect(pages.length).toBeGreaterThanOrEqual(Math.ceil(all.total / 2));
  const some = await ops.listUsers({ filter: 'userName sw "page-"' }, c);
  expect(some.total).toBe(5);
});

test('replaceUser sends If-Match and re-reads once when the version moved on', async () => {
  const c = ctx();
  const { user } = await ops.createUser(
    { user: { userName: 'etag@example.com', title: 'Clerk' } },
    c,
  );
  const replaced = await ops.replaceUser(
    { id: user.id, user: { userName: 'etag@example.com', title: 'Manager' } },
    c,
  );
  expect(replaced.user).toMatchObject({ title: 'Manager' });
  const stored = target.users.get(user.id);
  expect(stored?.title).toBe('Manager');
  // the version moved on between read and write: the PUT gets 412, the connector reads again
  const puts = () => target.requests.filter((r) => r.method === 'PUT').length;
  const before = puts();
  target.failNext(1, 412, { method: 'PUT' });
  const again = await ops.replaceUser(
    { id: user.id, user: { userName: 'etag@example.com', title: 'Director' } },
    c,
  );
  expect(again.user).toMatchObject({ title: 'Director' });
  expect(puts() - before).toBe(2);
  // stale twice: a conflict, not retried by Temporal
  target.failNext(2, 412, { method: 'PUT' });
  const conflict = await failure(
    ops.replaceUser({ id: user.id, user: { userName: 'etag@example.com', title: 'VP' } }, c),
  );
  expect(conflict.type).toBe('TargetConflict');
  expect(conflict.nonRetryable).toBe(true);
  expect(target.users.get(user.id)?.title).toBe('Director');
});

test('patchUser, deactivateUser twice, deleteUser twice', async () => {
  const c = ctx();
  const { user } = await ops.createUser(
    { user: { userName: 'leaver@example.com', active: true } },
    c,
  );
  const patched = await ops.patchUser(
    { id: user.id, operations: [{ op: 'replace', path: 'displayName', value: 'Leaving Soon' }] },
    c,
  );
  expect(patched.user).toMatchObject({ displayName: 'Leaving Soon' });
  expect(await ops.deactivateUser({ id: user.id }, c)).toEqual({ changed: true });
  expect(await ops.deactivateUser({ id: user.id }, c)).toEqual({ changed: false });
  expect(target.users.get(user.id)?.active).toBe(false);
  expect(await ops.deleteUser({ id: user.id }, c)).toEqual({ deleted: true });
  expect(await ops.deleteUser({ id: user.id }, c)).toEqual({ deleted: false });
  expect((await failure(ops.deactivateUser({ id: user.id }, c))).type).toBe('TargetNotFound');
});

test('group membership with PATCH converges both ways', async () => {
  const c = ctx();
  const { user } = await ops.createUser({ user: { userName: 'member@example.com' } }, c);
  expect(await ops.addGroupMember({ groupId: 'sales', userId: user.id }, c)).toEqual({
    changed: true,
  });
  expect(await ops.addGroupMember({ groupId: 'sales', userId: user.id }, c)).toEqual({
    changed: false,
  });
  expect(
    (target.groups.get('sales')?.members as Array<{ value: string }>).map((m) => m.value),
  ).toEqual([user.id]);
  expect(await ops.removeGroupMember({ groupId: 'sales', userId: user.id }, c)).toEqual({
    changed: true,
  });
  expect(await ops.removeGroupMember({ groupId: 'sales', userId: user.id }, c)).toEqual({
    changed: false,
  });
  expect(target.groups.get('sales')?.members ?? []).toEqual([]);
  expect(
    (await failure(ops.addGroupMember({ groupId: 'no-such-group', userId: user.id }, c))).type,
  ).toBe('TargetNotFound');
});

test('a wrong token is ConnectorAuthFailed, not retried, and the token is in no message', async () => {
  process.env.TEST_SCIM_WRONG = 'wrong-token-77aa';
  const err = await failure(
    ops.getUser(
      { id: 'x' },
      ctx({ auth: { type: 'bearer', token: { secretEnv: 'TEST_SCIM_WRONG' } } }),
    ),
  );
  expect(err.type).toBe('ConnectorAuthFailed');
  expect(err.nonRetryable).toBe(true);
  expect(`${err.message}${err.stack ?? ''}`).not.toContain('wrong-token-77aa');
});

test('5xx and an unreachable target are TargetUnavailable (retried); 429 is RateLimited after Retry-After', async () => {
  const c = ctx();
  target.failNext(1, 503);
  const down = await failure(ops.getUser({ id: 'x' }, c));
  expect(down.type).toBe('TargetUnavailable');
  expect(down.nonRetryable).toBe(false);
  target.failNext(1, 429, { headers: { 'retry-after': '7' } });
  const limited = await failure(ops.getUser({ id: 'x' }, c));
  expect(limited.type).toBe('RateLimited');
  expect(limited.nonRetryable).toBe(false);
  expect(limited.nextRetryDelay).toBe(7000);
  const gone = await failure(
    ops.getUser({ id: 'x' }, ctx({ baseUrl: `http://127.0.0.1:${await freePort()}/scim/v2` })),
  );
  expect(gone.type).toBe('TargetUnavailable');
  // and back: the same call succeeds
  expect(await ops.getUser({ id: 'x' }, c)).toEqual({ found: false });
});

test('an answer that is not SCIM is InvalidResponse', async () => {
  target.failNext(1, 200, { method: 'GET' });
  const err = await failure(ops.listUsers({}, ctx()));
  expect(err.type).toBe('InvalidResponse');
  expect(err.message).toContain('totalResults');
});

test('check: reads the service provider configuration and counts users', async () => {
  const lines = await check(ctx());
  expect(lines[0]).toContain('ServiceProviderConfig');
  expect(lines[1]).toMatch(/^authenticated; \d+ users$/);
});
