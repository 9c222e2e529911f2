/**
 * idflow's SCIM 2.0 service against the real gateway, worker, Temporal and PostgreSQL, with the
 * reference definitions (the entra and okta Sources among them) and their targets: idflow's own
 * SCIM client connector provisions a person (create, a department change, active false,
 * DELETE: a joiner, a mover and a leaver in that order, their runs done); requests shaped like
 * Entra ID's and Okta's provisioning; ETags; every mistake a SCIM error with its scimType; who
 * may write users; a source's rate limit; and a write whose event cannot be sent writes nothing.
 */
import { createScimConnector } from '../../activities/connectors/scim';
import { listAudit } from '../../src/db/repos/audit';
import { getPerson } from '../../src/db/repos/persons';
import { scimUsers } from '../../src/db/schema';
import { ConflictProblem, UnavailableProblem } from '../../src/gateway/problems';
import { TokenService } from '../../src/gateway/services/tokens';
import type { IdentityEvent } from '../../src/model/event';
import { ScimService } from '../../src/scim/service';
import { ActiveSources } from '../../src/sources/active';
import type { RunState } from '../../src/temporal/contracts';
import type { Targets } from '../../src/targets';
import { Harness } from '../support/harness';
import { opContext } from '../support/op-context';
import { referenceWorld } from '../support/reference-world';
import {
  ENTERPRISE,
  ERROR,
  PATCH_OP,
  USER,
  eventTypes,
  filtered,
  patchOp,
  scim,
  type ScimAnswer,
} from '../support/scim-inbound';

let targets: Targets;
let h: Harness;
const tokens: Record<string, string> = {};

const LIMITED = `apiVersion: idflow/v1
kind: Source
metadata:
  name: it-limited
  title: A SCIM client allowed three requests a minute
rateLimit:
  perMinute: 3
scim: {}
`;

beforeAll(async () => {
  const world = await referenceWorld('scim-inbound', { limited: LIMITED });
  targets = world.targets;
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
  const service = new TokenService(h.db.db);
  const make = async (name: string, scopes: string[], source?: string) => {
    tokens[name] = (
      await service.create({ name, scopes, ...(source ? { source } : {}), actor: 'test' })
    ).token;
  };
  await make('entra', ['scim:write'], 'entra');
  await make('okta', ['scim:write'], 'okta');
  await make('limited', ['scim:write'], 'it-limited');
  await make('no-scope', ['events:write', 'events:read'], 'entra');
  await make('no-source', ['scim:write', 'admin']);
  await make('workday', ['scim:write'], 'workday');
  process.env.IT_SCIM_INBOUND_TOKEN = tokens.entra;
}, 120_000);

afterAll(async () => {
  await h?.close();
  await targets?.stop();
});

/** A SCIM error document with this status and scimType, whose detail names no value sent. */
function scimError(res: ScimAnswer, status: number, scimType?: string, ...hidden: string[]) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status) });
  expect(res.body.scimType).toBe(scimType);
  expect(typeof res.body.detail).toBe('string');
  for (const value of hidden) expect(res.text).not.toContain(value);
}

async function runState(runId: string): Promise<RunState | undefined> {
  return h.client.workflow
    .getHandle(runId)
    .query<RunState>('state')
    .catch(() => undefined);
}

test('idflow’s own SCIM client: create, a department change, active false and DELETE are a joiner, a mover and a leaver of one person, in order', async () => {
  const { ops } = createScimConnector(10_000);
  const ctx = opContext('inbound', {
    baseUrl: `${h.gatewayUrl}/scim/v2`,
    auth: { type: 'bearer', token: { secretEnv: 'IT_SCIM_INBOUND_TOKEN' } },
  });
  const run = (flow: string, version: number) => `flow/${flow}/p-ada/scim-${id}-v${version}`;
  // each write once the run of the one before is where it rests: a leaver sent while the
  // joiner still runs would cancel it, as the reference policies say
  const { user, created } = await ops.createUser(
    {
      user: {
        userName: 'ada.lovelace@example.com',
        externalId: 'p-ada',
        name: { givenName: 'Ada', familyName: 'Lovelace' },
        displayName: 'Ada Lovelace',
        emails: [{ value: 'ada.lovelace@example.com', type: 'work', primary: true }],
        userType: 'employee',
        active: true,
        [ENTERPRISE]: { employeeNumber: 'E2001', department: 'Engineering' },
      },
    },
    ctx,
  );
  const id = user.id;
  expect(created).toBe(true);
  expect(user).toMatchObject({ userName: 'ada.lovelace@example.com', externalId: 'p-ada' });
  expect(await h.runOutcome(run('joiner-standard', 1), 90_000)).toMatchObject({ ok: true });

  await ops.patchUser(
    { id, operations: [{ op: 'replace', path: `${ENTERPRISE}:department`, value: 'Finance' }] },
    ctx,
  );
  expect(await h.runOutcome(run('mover-standard', 2), 90_000)).toMatchObject({ ok: true });

  expect(await ops.deactivateUser({ id }, ctx)).toEqual({ changed: true });
  expect(await ops.deactivateUser({ id }, ctx)).toEqual({ changed: false });
  // an immediate leaver: the accounts are disabled now, then the grace period
  await h.eventually(async () => {
    const s = await runState(run('leaver-standard', 3));
    return s?.waitingOn?.step === 'grace-period' ? s : undefined;
  }, 90_000);
  expect(await getPerson(h.db.db, 'p-ada')).toMatchObject({
    status: 'termination-pending',
    department: 'Finance',
  });

  // deleting the user idflow already handled as a leaver is no new event
  expect(await ops.deleteUser({ id }, ctx)).toEqual({ deleted: true });
  expect(await ops.getUser({ id }, ctx)).toEqual({ found: false });
  expect(await ops.deleteUser({ id }, ctx)).toEqual({ deleted: false });

  expect(await eventTypes(h, 'p-ada', 3)).toEqual([
    { source: 'entra', id: `scim-${id}-v1`, type: 'person.joiner' },
    { source: 'entra', id: `scim-${id}-v2`, type: 'person.mover' },
    { source: 'entra', id: `scim-${id}-v3`, type: 'person.leaver' },
  ]);
  // each write audited, with ids only
  const audit = await listAudit(h.db.db, { target: 'person:p-ada' });
  const rows = audit.filter((a) => a.action.startsWith('scim.user.'));
  expect(rows.map((a) => [a.action, (a.detail as { version: number }).version])).toEqual([
    ['scim.user.created', 1],
    ['scim.user.updated', 2],
    ['scim.user.updated', 3],
    ['scim.user.deleted', 4],
  ]);
  expect(rows[0]).toMatchObject({ actor: 'token:entra', outcome: 'ok' });
  expect(rows[3]?.detail).toEqual({ source: 'entra', scimId: id, version: 4 });
  expect(JSON.stringify(rows)).not.toMatch(/Lovelace|ada\.lovelace|Finance|E2001/);
}, 300_000);

describe('Entra ID’s requests', () => {
  const grace = {
    schemas: [USER, ENTERPRISE],
    externalId: 'p-grace',
    userName: 'grace.hopper@contoso.example',
    active: true,
    emails: [{ primary: true, type: 'work', value: 'grace.hopper@contoso.example' }],
    meta: { resourceType: 'User' },
    name: { formatted: 'Grace Hopper', familyName: 'Hopper', givenName: 'Grace' },
    roles: [],
    title: 'Rear Admiral',
    addresses: [{ type: 'work', locality: 'Arlington', primary: true }],
    [ENTERPRISE]: { employeeNumber: 'E3001', department: 'Navy' },
  };
  let id = '';
  let bossId = '';

  test('a lookup by userName before the create, the create, and lookups after it', async () => {
    const token = tokens.entra;
    const before = await scim(h, 'GET', filtered('userName eq "grace.hopper@contoso.example"'), {
      token,
    });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ totalResults: 0, Resources: [], startIndex: 1 });
    const boss = await scim(h, 'POST', '/Users', {
      token,
      body: {
        schemas: [USER],
        externalId: 'p-boss-e',
        userName: 'boss@contoso.example',
        emails: [{ value: 'boss@contoso.example', type: 'work', primary: true }],
        name: { givenName: 'Bea', familyName: 'Boss' },
      },
    });
    expect(boss.status).toBe(201);
    bossId = boss.body.id as string;

    const created = await scim(h, 'POST', '/Users', { token, body: grace });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(created.headers.get('etag')).toBe('W/"1"');
    id = created.body.id as string;
    expect(created.headers.get('location')).toBe(`${h.gatewayUrl}/scim/v2/Users/${id}`);
    expect(created.body).toMatchObject({
      schemas: [USER, ENTERPRISE],
      id,
      userName: grace.userName,
      active: true,
      [ENTERPRISE]: { employeeNumber: 'E3001', department: 'Navy' },
      meta: {
        resourceType: 'User',
        version: 'W/"1"',
        location: `${h.gatewayUrl}/scim/v2/Users/${id}`,
      },
    });
    expect(created.body).not.toHaveProperty('roles');

    for (const filter of [
      'userName eq "GRACE.HOPPER@contoso.example"',
      'externalId eq "p-grace"',
      'emails[type eq "work"].value eq "grace.hopper@contoso.example"',
      'emails.value eq "Grace.Hopper@contoso.example" and active eq true',
      `id eq "${id}" or userName eq "nobody"`,
    ]) {
      const found = await scim(h, 'GET', filtered(filter), { token });
      expect([
        filter,
        found.body.totalResults,
        (found.body.Resources as Array<{ id: string }>)?.[0]?.id,
      ]).toEqual([filter, 1, id]);
    }
    const page = await scim(h, 'GET', '/Users?startIndex=2&count=1&attributes=userName', { token });
    expect(page.body).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1 });
    expect(Object.keys((page.body.Resources as object[])[0]!).sort()).toEqual([
      'id',
      'schemas',
      'userName',
    ]);
  });

  test('Replace by filtered path, path-less Replace, Add by URN path with the manager as a list, active "False" and "True"', async () => {
    const token = tokens.entra;
    const steps: Array<[unknown, string]> = [
      [
        patchOp(
          {
            op: 'Replace',
            path: 'emails[type eq "work"].value',
            value: 'grace.b.hopper@contoso.example',
          },
          { op: 'Replace', path: 'name.familyName', value: 'Brewster Hopper' },
        ),
        'W/"2"',
      ],
      [
        patchOp({ op: 'Replace', value: { title: 'Commodore', 'name.givenName': 'Grace B.' } }),
        'W/"3"',
      ],
      [
        patchOp(
          { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Computing' },
          { op: 'Add', path: `${ENTERPRISE}:costCenter`, value: 'CC-7' },
          { op: 'Add', path: `${ENTERPRISE}:manager`, value: [{ $ref: null, value: bossId }] },
        ),
        'W/"4"',
      ],
      [patchOp({ op: 'Replace', path: 'active', value: 'False' }), 'W/"5"'],
      [patchOp({ op: 'Replace', value: { active: 'True' } }), 'W/"6"'],
    ];
    for (const [body, etag] of steps) {
      const res = await scim(h, 'PATCH', `/Users/${id}`, { token, body });
      expect([res.status, res.headers.get('etag')]).toEqual([200, etag]);
    }
    const user = await scim(h, 'GET', `/Users/${id}`, { token });
    expect(user.body).toMatchObject({
      title: 'Commodore',
      active: true,
      name: { givenName: 'Grace B.', familyName: 'Brewster Hopper' },
      emails: [{ value: 'grace.b.hopper@contoso.example', type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'Computing', costCenter: 'CC-7', manager: { value: bossId } },
    });
    const events = await eventTypes(h, 'p-grace', 6);
    expect(events.map((e) => e.type)).toEqual([
      'person.joiner',
      'person.updated',
      'person.mover',
      'person.mover',
      'person.leaver',
      'person.reactivation',
    ]);
    const moved = await h.request<{
      event: {
        subject: Record<string, unknown>;
        attributes: Record<string, unknown>;
        previous: Record<string, unknown>;
      };
    }>('GET', `/v1/events/entra/${events[3]!.id}`);
    expect(moved.body.event.subject).toMatchObject({
      id: 'p-grace',
      department: 'Computing',
      managerId: 'p-boss-e',
      location: 'Arlington',
    });
    expect(moved.body.event.previous).toMatchObject({ department: 'Navy' });
    expect(moved.body.event.attributes).toEqual({ costCenter: 'CC-7' });
  }, 120_000);

  test('the same PATCH sent again changes nothing: no new version, no event', async () => {
    const res = await scim(h, 'PATCH', `/Users/${id}`, {
      token: tokens.entra,
      body: patchOp({ op: 'replace', path: 'title', value: 'Commodore' }),
    });
    expect([res.status, res.headers.get('etag')]).toEqual([200, 'W/"6"']);
  });
});

describe('Okta’s requests', () => {
  const linus = {
    schemas: [USER],
    userName: 'linus@okta.example',
    name: { givenName: 'Linus', familyName: 'Torvalds' },
    emails: [{ primary: true, value: 'linus@okta.example', type: 'work' }],
    displayName: 'Linus Torvalds',
    locale: 'en-US',
    externalId: '00u1abcd',
    groups: [],
    password: 'not-to-be-kept-1',
    active: true,
  };

  test('lookup, create (the password never kept), PUT of the whole user, replace active false, PUT active true', async () => {
    const token = tokens.okta;
    const lookup = await scim(
      h,
      'GET',
      filtered('userName eq "linus@okta.example"', '&startIndex=1&count=100'),
      { token },
    );
    expect(lookup.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 0,
    });
    const created = await scim(h, 'POST', '/Users', {
      token,
      body: linus,
      contentType: 'application/scim+json; charset=utf-8',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.text).not.toContain('not-to-be-kept');
    expect(JSON.stringify(await h.db.db.select().from(scimUsers))).not.toContain('not-to-be-kept');

    const put = await scim(h, 'PUT', `/Users/${id}`, {
      token,
      body: { ...linus, id, title: 'Maintainer', password: undefined },
      contentType: 'application/json',
    });
    expect([put.status, put.body.title, put.headers.get('etag')]).toEqual([
      200,
      'Maintainer',
      'W/"2"',
    ]);
    const off = await scim(h, 'PATCH', `/Users/${id}`, {
      token,
      body: patchOp({ op: 'replace', value: { active: false } }),
    });
    expect([off.status, off.body.active]).toEqual([200, false]);
    const on = await scim(h, 'PUT', `/Users/${id}`, {
      token,
      body: { ...linus, id, title: 'Maintainer' },
    });
    expect([on.status, on.body.active]).toEqual([200, true]);
    expect((await eventTypes(h, '00u1abcd', 4)).map((e) => [e.source, e.type])).toEqual([
      ['okta', 'person.joiner'],
      ['okta', 'person.mover'],
      ['okta', 'person.leaver'],
      ['okta', 'person.reactivation'],
    ]);
  }, 120_000);

  test('a source’s users are its own: okta reads none of entra’s', async () => {
    const entra = await scim(h, 'GET', filtered('externalId eq "p-grace"'), {
      token: tokens.entra,
    });
    const id = (entra.body.Resources as Array<{ id: string }>)[0]!.id;
    scimError(await scim(h, 'GET', `/Users/${id}`, { token: tokens.okta }), 404);
    const okta = await scim(h, 'GET', filtered('externalId eq "p-grace"'), { token: tokens.okta });
    expect(okta.body.totalResults).toBe(0);
    scimError(await scim(h, 'DELETE', `/Users/${id}`, { token: tokens.okta }), 404);
  });
});

describe('ETags', () => {
  test('GET with If-None-Match is 304; a stale If-Match on PUT, PATCH and DELETE is 412; the current one passes', async () => {
    const token = tokens.entra;
    const body = { schemas: [USER], userName: 'etag@contoso.example', externalId: 'p-etag' };
    const created = await scim(h, 'POST', '/Users', { token, body });
    const id = created.body.id as string;
    const fresh = await scim(h, 'GET', `/Users/${id}`, {
      token,
      headers: { 'if-none-match': 'W/"1"' },
    });
    expect([fresh.status, fresh.headers.get('etag')]).toEqual([304, 'W/"1"']);
    const changed = await scim(h, 'PATCH', `/Users/${id}`, {
      token,
      headers: { 'if-match': 'W/"1"' },
      body: patchOp({ op: 'add', path: 'nickName', value: 'E' }),
    });
    expect([changed.status, changed.headers.get('etag')]).toEqual([200, 'W/"2"']);
    expect(
      (await scim(h, 'GET', `/Users/${id}`, { token, headers: { 'if-none-match': 'W/"1"' } }))
        .status,
    ).toBe(200);
    const stale = { 'if-match': 'W/"1"' };
    scimError(
      await scim(h, 'PATCH', `/Users/${id}`, {
        token,
        headers: stale,
        body: patchOp({ op: 'add', path: 'nickName', value: 'F' }),
      }),
      412,
    );
    scimError(await scim(h, 'PUT', `/Users/${id}`, { token, headers: stale, body }), 412);
    scimError(await scim(h, 'DELETE', `/Users/${id}`, { token, headers: stale }), 412);
    const put = await scim(h, 'PUT', `/Users/${id}`, {
      token,
      headers: { 'if-match': 'W/"2"' },
      body,
    });
    expect([put.status, put.headers.get('etag')]).toEqual([200, 'W/"3"']);
    expect(
      (await scim(h, 'DELETE', `/Users/${id}`, { token, headers: { 'if-match': '*' } })).status,
    ).toBe(204);
  });
});

describe('mistakes are SCIM errors with their scimType, naming no value', () => {
  const token = () => tokens.entra;
  let id = '';

  beforeAll(async () => {
    const res = await scim(h, 'POST', '/Users', {
      token: token(),
      body: { schemas: [USER], userName: 'taken@contoso.example', externalId: 'p-taken' },
    });
    id = res.body.id as string;
  });

  test.each([
    ['bad JSON', 'POST', '/Users', { raw: '{"schemas": [' }, 400, 'invalidSyntax'],
    [
      'an unknown schema',
      'POST',
      '/Users',
      { body: { schemas: [USER, 'urn:example:other-schema'], userName: 'secret@y.z' } },
      400,
      'invalidSyntax',
    ],
    [
      'an unknown attribute',
      'POST',
      '/Users',
      { body: { schemas: [USER], userName: 'x@y.z', shoeSize: 'secret-44' } },
      400,
      'invalidSyntax',
    ],
    [
      'a wrong type',
      'POST',
      '/Users',
      { body: { schemas: [USER], userName: 'x@y.z', active: 'secret-maybe' } },
      400,
      'invalidValue',
    ],
    [
      'a person id outside the grammar',
      'POST',
      '/Users',
      { body: { schemas: [USER], userName: 'x@y.z', externalId: 'secret id!' } },
      400,
      'invalidValue',
    ],
    [
      'a taken userName',
      'POST',
      '/Users',
      { body: { schemas: [USER], userName: 'TAKEN@contoso.example', externalId: 'p-other' } },
      409,
      'uniqueness',
    ],
    [
      'a person who has a user',
      'POST',
      '/Users',
      { body: { schemas: [USER], userName: 'secret-new@contoso.example', externalId: 'p-taken' } },
      409,
      'uniqueness',
    ],
    ['a bad filter', 'GET', filtered('userName eq secret-value'), {}, 400, 'invalidFilter'],
    ['an unanswered filter', 'GET', filtered('title co "secret"'), {}, 400, 'invalidFilter'],
    ['a bad startIndex', 'GET', '/Users?startIndex=abc', {}, 400, 'invalidValue'],
    [
      'a bad PATCH op',
      'PATCH',
      '/Users/ID',
      { body: patchOp({ op: 'move', path: 'title', value: 'secret' }) },
      400,
      'invalidSyntax',
    ],
    [
      'a bad PATCH path',
      'PATCH',
      '/Users/ID',
      { body: patchOp({ op: 'replace', path: 'emails[type eq "work"', value: 'secret' }) },
      400,
      'invalidPath',
    ],
    [
      'an unknown PATCH attribute',
      'PATCH',
      '/Users/ID',
      { body: patchOp({ op: 'replace', path: 'shoeSize', value: 'secret' }) },
      400,
      'invalidPath',
    ],
    [
      'a PATCH of a read-only attribute',
      'PATCH',
      '/Users/ID',
      { body: patchOp({ op: 'replace', path: 'id', value: 'secret' }) },
      400,
      'mutability',
    ],
    [
      'a remove without a path',
      'PATCH',
      '/Users/ID',
      { body: patchOp({ op: 'remove' }) },
      400,
      'noTarget',
    ],
    [
      'a PATCH giving a wrong type',
      'PATCH',
      '/Users/ID',
      { body: patchOp({ op: 'replace', path: 'active', value: 'secret' }) },
      400,
      'invalidValue',
    ],
    [
      'a PatchOp without its schema',
      'PATCH',
      '/Users/ID',
      { body: { Operations: [] } },
      400,
      'invalidSyntax',
    ],
    ['a text body', 'POST', '/Users', { raw: 'secret', contentType: 'text/plain' }, 415, undefined],
    [
      'a body over 256 KiB',
      'POST',
      '/Users',
      { body: { schemas: [USER], userName: 'x', title: 'secret'.repeat(50_000) } },
      413,
      undefined,
    ],
    ['an unknown user', 'GET', '/Users/2819c223-7f76-453a-919d-413861904646', {}, 404, undefined],
    ['a user id that is none', 'DELETE', '/Users/secret-id', {}, 404, undefined],
    ['an unknown resource type', 'GET', '/Groups', {}, 404, undefined],
  ])('%s: %s %s', async (_case, method, path, options, status, scimType) => {
    const res = await scim(h, method, path.replace('ID', id), { token: token(), ...options });
    scimError(res, status, scimType, 'secret');
  });

  test('nothing was written by the mistakes', async () => {
    const users = await scim(h, 'GET', filtered('externalId eq "p-taken"'), { token: token() });
    expect(users.body.Resources).toEqual([
      expect.objectContaining({ id, userName: 'taken@contoso.example' }),
    ]);
    expect(
      (await scim(h, 'GET', filtered('externalId eq "p-other"'), { token: token() })).body
        .totalResults,
    ).toBe(0);
  });
});

describe('who may write users', () => {
  test('no token is 401; a token without scim:write, bound to no source, or to a source without scim is 403, as SCIM errors', async () => {
    const body = { schemas: [USER], userName: 'who@contoso.example', externalId: 'p-who' };
    const none = await scim(h, 'POST', '/Users', { body });
    scimError(none, 401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    scimError(await scim(h, 'GET', '/Users', { token: 'idf_not-a-token' }), 401);
    const scope = await scim(h, 'POST', '/Users', { token: tokens['no-scope'], body });
    scimError(scope, 403);
    expect(scope.body.detail).toContain("'scim:write' scope");
    const unbound = await scim(h, 'GET', '/Users', { token: tokens['no-source'] });
    scimError(unbound, 403);
    expect(unbound.body.detail).toContain(
      'idflow tokens create --name <name> --scopes scim:write --source <source>',
    );
    const workday = await scim(h, 'POST', '/Users', {
      token: tokens.workday,
      raw: 'not even JSON',
    });
    scimError(workday, 403);
    expect(workday.body.detail).toContain(
      "source 'workday' has no active Source definition with a scim section",
    );
  });

  test('a source over its rate limit is 429 with Retry-After, as a SCIM error', async () => {
    const token = tokens.limited;
    const answers: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await scim(h, 'POST', '/Users', {
        token,
        body: { schemas: [USER], userName: `l${i}@x.example`, externalId: `p-limited-${i}` },
      });
      answers.push(res.status);
      if (res.status === 429) {
        scimError(res, 429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    expect(answers).toEqual([201, 201, 201, 429]);
  }, 60_000);
});

test('the discovery documents need no token', async () => {
  const spc = await scim(h, 'GET', '/ServiceProviderConfig');
  expect(spc.status).toBe(200);
  expect(spc.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(spc.body).toMatchObject({
    patch: { supported: true },
    bulk: { supported: false },
    etag: { supported: true },
    filter: { supported: true, maxResults: 200 },
  });
  const types = await scim(h, 'GET', '/ResourceTypes');
  expect(types.body).toMatchObject({
    totalResults: 1,
    Resources: [{ id: 'User', schemaExtensions: [{ schema: ENTERPRISE, required: false }] }],
  });
  expect((await scim(h, 'GET', '/ResourceTypes/user')).body).toMatchObject({ endpoint: '/Users' });
  const schemas = await scim(h, 'GET', '/Schemas');
  expect((schemas.body.Resources as Array<{ id: string }>).map((r) => r.id)).toEqual([
    USER,
    ENTERPRISE,
  ]);
  const enterprise = await scim(h, 'GET', `/Schemas/${ENTERPRISE}`);
  expect((enterprise.body.attributes as Array<{ name: string }>).map((a) => a.name)).toContain(
    'manager',
  );
  scimError(await scim(h, 'GET', '/Schemas/urn:nothing'), 404);
  // PATCH_OP is no resource schema
  scimError(await scim(h, 'GET', `/Schemas/${PATCH_OP}`), 404);
});

describe('a write whose event is not accepted writes nothing', () => {
  const principal = { tokenId: 't', name: 'it', scopes: new Set(['scim:write']), source: 'entra' };
  const sent: IdentityEvent[] = [];
  let failWith: Error | undefined;
  const service = () =>
    new ScimService(
      h.db.db,
      {
        submit: (event) => {
          const err = failWith;
          failWith = undefined;
          if (err) return Promise.reject(err);
          sent.push(event);
          return Promise.resolve();
        },
      },
      new ActiveSources(h.db.db),
    );
  const body = {
    schemas: [USER],
    userName: 'atomic@contoso.example',
    externalId: 'p-atomic',
    title: 'One',
  };
  const stored = () =>
    h.db.db
      .select()
      .from(scimUsers)
      .then((rows) => rows.filter((r) => r.personId === 'p-atomic'));

  test('Temporal down (503): no user, no version, no audit; the retry goes through', async () => {
    const scimService = service();
    const caller = await scimService.caller(principal);
    failWith = new UnavailableProblem('Temporal');
    await expect(scimService.create(caller, body)).rejects.toMatchObject({
      status: 503,
      headers: { 'Retry-After': '5' },
    });
    expect(await stored()).toEqual([]);
    const row = await scimService.create(caller, body);
    expect(row.version).toBe(1);

    failWith = new UnavailableProblem('Temporal');
    const patch = patchOp({ op: 'replace', path: 'title', value: 'Two' });
    await expect(scimService.patch(caller, row.id, patch)).rejects.toMatchObject({ status: 503 });
    expect(
      (await stored()).map((r) => [r.version, (r.resource as { title: string }).title]),
    ).toEqual([[1, 'One']]);
    failWith = new UnavailableProblem('Temporal');
    await expect(scimService.remove(caller, row.id)).rejects.toMatchObject({ status: 503 });
    expect(await stored()).toHaveLength(1);
    const audit = await listAudit(h.db.db, { target: 'person:p-atomic' });
    expect(audit.map((a) => a.action)).toEqual(['scim.user.created']);
  });

  test('an event id taken by other content (a retry after a lost answer): the write takes the next version', async () => {
    const scimService = service();
    const caller = await scimService.caller(principal);
    const [row] = await stored();
    failWith = new ConflictProblem('event entra/x was already received with other content');
    const moved = await scimService.patch(
      caller,
      row!.id,
      patchOp({ op: 'replace', path: 'title', value: 'Three' }),
    );
    expect(moved.version).toBe(3);
    expect(sent.at(-1)).toMatchObject({
      id: `scim-${row!.id}-v3`,
      type: 'person.mover',
      subject: { title: 'Three' },
    });
  });
});
