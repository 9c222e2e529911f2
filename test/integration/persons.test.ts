/**
 * `GET /v1/persons/:id` and `GET /v1/persons/:id/plan` through the real gateway, worker and
 * Temporal: tokens without `persons:read` are refused, a bad id is 400 and an unknown person 404
 * (before any workflow starts), a person is shown with their roles and why, accounts as idflow
 * last read them, grants and runs; a plan is read live from a SCIM target by the worker and
 * changes nothing — not the target, not idflow's record — and a target that cannot be read is a
 * 502 naming the failure.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import type { AccessGrant, AccessPlan } from '../../src/access/types';
import { accountsOf, addGrant, recordAccess } from '../../src/db/repos/access';
import { insertEvent, recordDecision } from '../../src/db/repos/events';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import { TokenService } from '../../src/gateway/services/tokens';
import type { PersonAccessView } from '../../src/gateway/services/persons';
import { startScimTarget, type ScimTarget } from '../../src/targets/scim';
import { Harness, ROOT } from '../support/harness';
import { freePort } from '../support/ports';

const SCIM_TOKEN = 'it-persons-scim-token';
let scim: ScimTarget;
let h: Harness;
let persons: string;
let events: string;
let grant: AccessGrant;
const read = new Date('2026-01-05T10:00:00Z');

const definitions = (scimUrl: string, deadLdapPort: number) => `
apiVersion: idflow/v1
kind: Connector
metadata: { name: crm }
type: scim
config:
  baseUrl: ${scimUrl}
  auth: { type: bearer, token: { secretEnv: CRM_SCIM_TOKEN } }
  correlation: { attribute: externalId, adoptUnowned: false }
retry: { maxAttempts: 2, initialInterval: 100ms, maximumInterval: 200ms }
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: dead-directory }
type: ldap
config:
  url: ldap://127.0.0.1:${deadLdapPort}
  bindDn: cn=idflow,ou=services,dc=example,dc=com
  bindPassword: { secretEnv: LDAP_BIND_PASSWORD }
  usersDn: ou=people,dc=example,dc=com
  groupsDn: ou=groups,dc=example,dc=com
  idAttribute: uid
  correlation: { attribute: employeeNumber, adoptUnowned: false }
retry: { maxAttempts: 2, initialInterval: 100ms, maximumInterval: 200ms }
---
apiVersion: idflow/v1
kind: Role
metadata: { name: sales, title: Sales }
when: subject.?department.orValue("") == "Sales"
grants:
  - connector: crm
    account:
      id: \${subject.attributes.?username.orValue("")}
      attributes:
        displayName: \${subject.?displayName.orValue(subject.id)}
    groups: [sales]
---
apiVersion: idflow/v1
kind: Role
metadata: { name: archivist, title: Archivist }
when: subject.?department.orValue("") == "Archive"
grants:
  - connector: dead-directory
    groups: [archive]
`;

beforeAll(async () => {
  scim = await startScimTarget({
    port: await freePort(),
    token: SCIM_TOKEN,
    groups: ['sales', 'auditors'],
  });
  const dir = join(ROOT, '.idflow', 'test', `persons-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'access.yaml'), definitions(scim.url, await freePort()));
  h = new Harness({
    definitions: [relative(ROOT, dir)],
    env: { CRM_SCIM_TOKEN: SCIM_TOKEN, LDAP_BIND_PASSWORD: 'unused' },
  });
  await h.start();
  const tokens = new TokenService(h.db.db);
  persons = (await tokens.create({ name: 'reader', scopes: ['persons:read'], actor: 'test' }))
    .token;
  events = (await tokens.create({ name: 'events', scopes: ['events:read'], actor: 'test' })).token;

  const db = h.db.db;
  await insertPersonIfAbsent(db, {
    id: 'p-sam',
    displayName: 'Sam Seller',
    department: 'Sales',
    status: 'active',
    attributes: { username: 'sam' },
  });
  await insertPersonIfAbsent(db, { id: 'p-arch', department: 'Archive', status: 'active' });
  // what idflow last read of p-sam, an explicit grant, and two runs
  grant = await addGrant(db, {
    personId: 'p-sam',
    entitlement: { connector: 'crm', kind: 'group', value: 'auditors' },
    reason: 'year-end audit',
    grantedBy: 'user:op-1',
  });
  await recordAccess(db, {
    personId: 'p-sam',
    actual: {
      connector: 'crm',
      connectorType: 'scim',
      account: { id: 'sam', targetId: 'scim-1', enabled: true, attributes: {} },
      entitlements: [{ connector: 'crm', kind: 'group', value: 'sales' }],
      unmanaged: 0,
    },
    sources: { 'group:sales': 'role:sales' },
    runId: 'flow/joiner/p-sam/e-1',
    now: read,
  });
  for (const [id, flow, at] of [
    ['e-1', 'joiner', '2026-01-01T00:00:00Z'],
    ['e-2', 'mover', '2026-01-02T00:00:00Z'],
  ] as const) {
    await insertEvent(
      db,
      {
        source: 'hr',
        id,
        type: `person.${flow}`,
        occurredAt: at,
        subject: { id: 'p-sam' },
      },
      `event/hr/${id}`,
    );
    await recordDecision(
      db,
      'hr',
      id,
      [],
      [{ flow, workflowId: `flow/${flow}/p-sam/${id}`, hash: 'h' }],
    );
  }
}, 120_000);

afterAll(async () => {
  await h?.close();
  await scim?.stop();
});

describe('who may ask', () => {
  test.each(['/v1/persons/p-arch', '/v1/persons/p-arch/plan'])(
    '%s: a token bound to another person is 403; bound to that person, allowed',
    async (path) => {
      const tokens = new TokenService(h.db.db);
      const bound = await tokens.create({
        name: 'sam-self',
        scopes: ['persons:read'],
        personId: 'p-sam',
        actor: 'test',
      });
      const refused = await h.request('GET', path, { token: bound.token });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({
        detail: "token 'sam-self' is bound to a person and may read only that person",
      });
      const own = await h.request('GET', '/v1/persons/p-sam', { token: bound.token });
      expect(own.status).toBe(200);
    },
  );

  test.each(['/v1/persons/p-sam', '/v1/persons/p-sam/plan'])(
    '%s: 401 without a token, 403 without persons:read',
    async (path) => {
      const anonymous = await h.request('GET', path, { token: null });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const refused = await h.request('GET', path, { token: events });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({
        type: 'urn:idflow:problem:forbidden',
        detail: "token 'events' may not do this: it needs the 'persons:read' scope",
      });
    },
  );
});

describe('bad and unknown ids', () => {
  test.each([
    ['a space', '/v1/persons/bad%20id'],
    ['a leading dash', '/v1/persons/-x/plan'],
    ['129 characters', `/v1/persons/${'a'.repeat(129)}`],
  ])('an id with %s is 400 naming the id', async (_what, path) => {
    const res = await h.request('GET', path, { token: persons });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      type: 'urn:idflow:problem:invalid-request',
      errors: [{ path: '/id', message: expect.stringMatching(/^must be a person id/) as string }],
    });
  });

  test.each(['/v1/persons/p-nobody', '/v1/persons/p-nobody/plan'])(
    '%s is 404, and no plan workflow starts',
    async (path) => {
      const res = await h.request('GET', path, { token: persons });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        type: 'urn:idflow:problem:not-found',
        detail: 'no person with id p-nobody in the identity store',
      });
      const started = [];
      for await (const run of h.client.workflow.list({
        query: `WorkflowType = 'planPerson' AND TaskQueue = '${h.taskQueue}'`,
      }))
        if (run.workflowId.startsWith('plan/p-nobody/')) started.push(run.workflowId);
      expect(started).toEqual([]);
    },
  );

  test('a connector that is not a connector name is 400', async () => {
    const res = await h.request('GET', '/v1/persons/p-sam/plan?connector=Not_A_Name', {
      token: persons,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ errors: [{ path: '/connector' }] });
  });
});

describe('GET /v1/persons/:id', () => {
  test('the person, their roles and why, accounts as last read, grants and runs', async () => {
    const res = await h.request<PersonAccessView>('GET', '/v1/persons/p-sam', { token: persons });
    expect(res.status).toBe(200);
    expect(res.body.person).toMatchObject({ id: 'p-sam', displayName: 'Sam Seller' });
    expect(res.body.roles).toEqual([
      { name: 'sales', title: 'Sales', why: 'subject.?department.orValue("") == "Sales"' },
    ]);
    expect(res.body.problems).toEqual([]);
    expect(res.body.accounts).toEqual([
      expect.objectContaining({
        connector: 'crm',
        accountName: 'sam',
        targetId: 'scim-1',
        status: 'enabled',
        lastReadAt: read.toISOString(),
        entitlements: [
          {
            kind: 'group',
            value: 'sales',
            source: 'role:sales',
            grantedAt: read.toISOString(),
            grantedByRun: 'flow/joiner/p-sam/e-1',
          },
        ],
      }),
    ]);
    expect(res.body.grants).toEqual([grant]);
    expect(res.body.runs.map((r) => r.workflowId)).toEqual([
      'flow/mover/p-sam/e-2',
      'flow/joiner/p-sam/e-1',
    ]);
    expect(res.body.runs[0]).toMatchObject({
      flow: 'mover',
      event: { source: 'hr', id: 'e-2', type: 'person.mover' },
    });

    // an admin token passes too
    expect((await h.request('GET', '/v1/persons/p-arch')).body).toMatchObject({
      person: { id: 'p-arch' },
      roles: [{ name: 'archivist' }],
      accounts: [],
      grants: [],
      runs: [],
    });
  });
});

describe('GET /v1/persons/:id/plan', () => {
  test('the plan is read live from the target on the worker, and changes nothing', async () => {
    const before = await accountsOf(h.db.db, 'p-sam');
    const res = await h.request<AccessPlan>('GET', '/v1/persons/p-sam/plan?connector=crm', {
      token: persons,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ personId: 'p-sam', status: 'active', removals: [] });
    expect(res.body.additions.map((c) => [c.op, c.account, c.value ?? null])).toEqual(
      expect.arrayContaining([
        ['createAccount', 'sam', null],
        ['addEntitlement', 'sam', 'sales'],
        ['addEntitlement', 'sam', 'auditors'],
      ]),
    );
    expect([...scim.users.values()]).toEqual([]);
    expect(await accountsOf(h.db.db, 'p-sam')).toEqual(before);
  });

  test('a target that cannot be read is 502, naming the failure and the workflow', async () => {
    const res = await h.request('GET', '/v1/persons/p-arch/plan', { token: persons });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({
      type: 'urn:idflow:problem:plan-failed',
      workflowId: expect.stringMatching(/^plan\/p-arch\/[0-9a-f-]{36}$/) as string,
      failure: 'TargetUnavailable',
      detail: expect.stringContaining('(TargetUnavailable)') as string,
    });
  });
});

describe('the CLI', () => {
  const idflow = (...args: string[]) =>
    promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'idflow.js'), ...args], {
      env: h.env(),
    });

  test('idflow persons show prints the sections; --json the data', async () => {
    const { stdout } = await idflow('persons', 'show', 'p-sam');
    expect(stdout).toMatch(/^Sam Seller \(p-sam\) — active/);
    expect(stdout).toMatch(/^Roles\n {2}ROLE +TITLE +WHY\n {2}sales +Sales +subject/m);
    expect(stdout).toMatch(/^ {2}crm +sam +enabled +scim-1 +2026-01-05T10:00:00Z$/m);
    expect(stdout).toMatch(
      /^ {2}[0-9a-f-]{36} +crm: group auditors +until revoked +user:op-1 at \S+ +year-end audit$/m,
    );
    expect(stdout).toMatch(/^ {2}\S+ +person\.mover +mover +flow\/mover\/p-sam\/e-2$/m);
    const json = JSON.parse((await idflow('persons', 'show', 'p-sam', '--json')).stdout) as {
      person: { id: string };
    };
    expect(json.person.id).toBe('p-sam');
  });

  test('idflow plan person prints the changes with their reasons', async () => {
    const { stdout } = await idflow('plan', 'person', 'p-sam', '--connector', 'crm');
    expect(stdout).toMatch(/^Access plan for p-sam \(active\) on crm/);
    expect(stdout).toMatch(/^ {2}crm +sam +create account +role:sales$/m);
    expect(stdout).toMatch(/^ {2}crm +sam +add group sales +role:sales$/m);
    expect(stdout).toMatch(/^ {2}crm +sam +add group auditors +grant:[0-9a-f-]{36}$/m);
  });

  test('an unknown person is a clear error and exit status 1', async () => {
    await expect(idflow('plan', 'person', 'p-nobody')).rejects.toMatchObject({
      code: 1,
      stderr: 'idflow: no person with id p-nobody in the identity store\n',
    });
  });
});
