/**
 * An adversarial pass over the access model, against the real slapd, SCIM target and Temporal.
 * Each test states the behaviour the access model promises (docs/access-model.md, DESIGN.md
 * invariants 6 and 10) against an input an attacker or a messy feed would send.
 */
import { randomUUID } from 'node:crypto';
import { Client as LdapClient } from 'ldapts';
import { sql } from 'drizzle-orm';
import { createLdapAccess } from '../../activities/access/ldap';
import { createScimAccess } from '../../activities/access/scim';
import type { InvokeOp } from '../../activities/access/adapter';
import { createLdapConnector } from '../../activities/connectors/ldap';
import { createScimConnector } from '../../activities/connectors/scim';
import type { OpContext } from '../../activities/connectors/types';
import { planAccess } from '../../src/access/plan';
import { entitlementKeys } from '../../src/access/scope';
import type { Change, DesiredState, EntitlementRef } from '../../src/access/types';
import { ldap as ldapSpec } from '../../src/connectors/ldap';
import type { ConnectorIR, JsonValue } from '../../src/dsl/ir';
import type { RunState } from '../../src/temporal/contracts';
import { type Targets } from '../../src/targets';
import { LDAP_TARGET } from '../../src/targets/slapd';
import { Harness, makeEvent } from '../support/harness';
import { opContext } from '../support/op-context';
import { referenceWorld } from '../support/reference-world';

const BASE = LDAP_TARGET.baseDn;
const PEOPLE = `ou=people,${BASE}`;
const GROUPS = `ou=groups,${BASE}`;
let targets: Targets;
let h: Harness;

const EXTRA = `
apiVersion: idflow/v1
kind: Policy
metadata: { name: it-adv }
rules:
  - { on: [it.adv-reconcile], run: [it-adv-reconcile] }
  # the person's access reconciled while an earlier reconcile waits on its approval
  - { on: [it.adv-leave], run: [it-adv-reconcile], pending: { it.adv-reconcile: alongside } }
  - { on: [it.adv-grant], run: [it-adv-grant] }
  - { on: [it.adv-grant-until], run: [it-adv-grant-until] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-adv-reconcile }
steps:
  - id: access
    reconcile: {}
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-adv-grant }
inputs:
  group: { type: string, required: true }
steps:
  - id: grant
    action:
      connector: identity-store
      op: grantAccess
      args:
        personId: \${subject.id}
        entitlement: { connector: corp-directory, value: '\${event.attributes.group}' }
        reason: requested
  - id: access
    reconcile: {}
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-adv-grant-until }
inputs:
  group: { type: string, required: true }
  until: { type: string, required: true }
steps:
  - id: grant
    action:
      connector: identity-store
      op: grantAccess
      args:
        personId: \${subject.id}
        entitlement: { connector: corp-directory, value: '\${event.attributes.group}' }
        validUntil: '\${event.attributes.until}'
        reason: for a while
  - id: access
    reconcile: {}
---
apiVersion: idflow/v1
kind: Role
metadata: { name: it-adv-auditor }
when: subject.attributes.?advAuditor.orValue(false) == true
grants:
  - connector: corp-directory
    groups: [adv-audit]
---
apiVersion: idflow/v1
kind: SodRule
metadata: { name: it-adv-audit-sales }
between:
  - roles: [it-adv-auditor]
  - roles: [sales]
action: approval
approval:
  approvers: [subject.managerId]
  request: Audit and sell at once?
  timeout: 5m
`;

beforeAll(async () => {
  const world = await referenceWorld('access-adv', { 'access-adversarial': EXTRA });
  targets = world.targets;
  await ldap(async (c) => {
    for (const cn of ['adv-temp', 'adv-audit'])
      await c.add(`cn=${cn},${GROUPS}`, { objectClass: 'adGroup', cn });
  });
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
  const boss = await send('person.joiner', {
    id: 'p-adv-boss',
    givenName: 'Bo',
    familyName: 'Advboss',
    department: 'Finance',
  });
  expect(await boss.outcome()).toMatchObject({ ok: true });
}, 180_000);

afterAll(async () => {
  await h?.close();
  await targets?.stop();
});

async function ldap<T>(fn: (client: LdapClient) => Promise<T>): Promise<T> {
  const client = new LdapClient({ url: targets.slapd?.url ?? '' });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    return await fn(client);
  } finally {
    await client.unbind();
  }
}

/** The entries whose employeeNumber is exactly `owner` (compared here, not by the directory). */
async function entriesOf(owner: string): Promise<Array<Record<string, unknown>>> {
  return ldap(async (c) => {
    const { searchEntries } = await c.search(BASE, {
      scope: 'sub',
      filter: `(employeeNumber=${owner})`,
      attributes: ['*'],
    });
    return searchEntries.filter((e) => String(e.employeeNumber) === owner);
  });
}

/** The groups (cn) the entry `dn` is in. */
async function groupsOfDn(dn: string): Promise<string[]> {
  return ldap(async (c) => {
    const { searchEntries } = await c.search(GROUPS, {
      scope: 'sub',
      filter: `(member=${dn})`,
      attributes: ['cn'],
    });
    return searchEntries.map((e) => String(e.cn)).sort();
  });
}

async function groupsOfPerson(owner: string): Promise<string[]> {
  const [entry] = await entriesOf(owner);
  if (!entry) throw new Error(`no account of ${owner}`);
  return groupsOfDn(String(entry.dn));
}

async function send(
  type: string,
  subject: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const event = makeEvent(type, subject, {
    effectiveAt: new Date(Date.now() - 60_000).toISOString(),
    ...extra,
  });
  expect((await h.postEvent(event)).status).toBe(202);
  const name =
    (
      {
        'person.joiner': 'joiner-standard',
        'person.mover': 'mover-standard',
        'person.leaver': 'leaver-standard',
        'it.adv-leave': 'it-adv-reconcile',
      } as Record<string, string>
    )[type] ?? type.replace('it.', 'it-');
  const runId = `flow/${name}/${subject.id as string}/${event.id as string}`;
  return { runId, outcome: () => h.runOutcome(runId, 90_000) };
}

async function state(runId: string): Promise<RunState> {
  return h.client.workflow.getHandle(runId).query<RunState>('state');
}

async function stateWhen(runId: string, ready: (s: RunState) => boolean): Promise<RunState> {
  return h.eventually(async () => {
    const s = await state(runId).catch(() => undefined);
    return s && ready(s) ? s : undefined;
  }, 60_000);
}

/** The run's outcome, or its state once the access step is no longer running (parked runs). */
async function settled(runId: string): Promise<unknown> {
  return h.eventually(async () => {
    const done = await h.outcome(runId).catch(() => undefined);
    if (done) return done;
    const s = await state(runId).catch(() => undefined);
    const step = s?.steps.find((x) => x.id === 'access');
    return step && step.status !== 'running' ? s : undefined;
  }, 90_000);
}

// ---------------------------------------------------------------------------------------------
// Separation of duties through an explicit grant, the group named by an equivalent DN
// ---------------------------------------------------------------------------------------------

/*
 * One group, one written form: a DN naming a group by an attribute alias (`commonName=`) or
 * with escapes could pass for another group in comparisons — SoD rules among them — so it is
 * refused before anything is recorded.
 */
test('SoD: a grant of deployers spelled commonName=deployers,… is refused for a finance approver', async () => {
  const joiner = await send('person.joiner', {
    id: 'p-adv-fin',
    givenName: 'Fin',
    familyName: 'Advalias',
    department: 'Finance',
    jobCode: 'FIN-APPROVER',
    managerId: 'p-adv-boss',
  });
  expect(await joiner.outcome()).toMatchObject({ ok: true });
  expect(await groupsOfPerson('p-adv-fin')).toContain('finance-approvers');
  const grant = await send(
    'it.adv-grant',
    { id: 'p-adv-fin' },
    { attributes: { group: `commonName=deployers,${GROUPS}` } },
  );
  const outcome = await settled(grant.runId);
  expect(await groupsOfPerson('p-adv-fin')).not.toContain('deployers');
  // refused before anything is recorded: one group has one written form
  expect(JSON.stringify(outcome)).toMatch(/InvalidRequest.*must be named by its cn/);
});

// ---------------------------------------------------------------------------------------------
// An expired explicit grant: what it gave is removed by the next reconcile
// ---------------------------------------------------------------------------------------------

/*
 * docs/access-model.md: "A time-boxed grant stops counting at validUntil; the next reconcile of
 * the person removes what it gave" — also for a group no role names: what a person's grants ever
 * named stays managed for that person.
 */
test('an expired grant of a group no role names is removed by the next reconcile', async () => {
  const joiner = await send('person.joiner', {
    id: 'p-adv-tmp',
    givenName: 'Tem',
    familyName: 'Advporary',
    department: 'Engineering',
    managerId: 'p-adv-boss',
  });
  expect(await joiner.outcome()).toMatchObject({ ok: true });
  const until = new Date(Date.now() + 8_000).toISOString();
  const grant = await send(
    'it.adv-grant-until',
    { id: 'p-adv-tmp' },
    { attributes: { group: 'adv-temp', until } },
  );
  expect(await grant.outcome()).toMatchObject({ ok: true });
  expect(await groupsOfPerson('p-adv-tmp')).toContain('adv-temp');
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(until) - Date.now()) + 1_000));
  const rec = await send('it.adv-reconcile', { id: 'p-adv-tmp' });
  expect(await rec.outcome()).toMatchObject({ ok: true });
  expect(await groupsOfPerson('p-adv-tmp')).not.toContain('adv-temp');
});

// ---------------------------------------------------------------------------------------------
// One account, one owner: person ids that differ only in case
// ---------------------------------------------------------------------------------------------

/*
 * Person ids are case-sensitive, owner attributes like employeeNumber match without case: the
 * adapters and username derivation compare the owner value exactly, so p-adv-case never
 * reaches P-ADV-CASE's account (invariant 10).
 */
test("reconciling p-adv-case never touches P-ADV-CASE's account", async () => {
  const victim = await send('person.joiner', {
    id: 'P-ADV-CASE',
    givenName: 'Vic',
    familyName: 'Advvictim',
    email: 'vic@example.com',
    department: 'Engineering',
    managerId: 'p-adv-boss',
  });
  expect(await victim.outcome()).toMatchObject({ ok: true });
  const [before] = await entriesOf('P-ADV-CASE');
  expect(before).toBeDefined();
  const other = await send('person.joiner', {
    id: 'p-adv-case',
    givenName: 'Mal',
    familyName: 'Advlower',
    email: 'mal@example.com',
    department: 'Sales',
    managerId: 'p-adv-boss',
  });
  // the joiner gets an account of its own: ids that differ in case are two people
  expect(await other.outcome()).toMatchObject({ ok: true });
  const [after] = await entriesOf('P-ADV-CASE');
  expect(after?.sn).toBe('Advvictim');
  expect(after?.mail).toBe('vic@example.com');
  expect(await groupsOfDn(String(after?.dn))).not.toContain('sales');
});

// ---------------------------------------------------------------------------------------------
// An SoD approval that arrives after the person left
// ---------------------------------------------------------------------------------------------

/*
 * A grant an SoD approval held back is carried out only if the person still should have it when
 * the approval arrives: the step plans again after the wait.
 */
test('an SoD-approved grant is not carried out for a person terminated while it waited', async () => {
  const joiner = await send('person.joiner', {
    id: 'p-adv-stale',
    givenName: 'Sta',
    familyName: 'Advstale',
    department: 'Sales',
    managerId: 'p-adv-boss',
  });
  expect(await joiner.outcome()).toMatchObject({ ok: true });
  expect(await groupsOfPerson('p-adv-stale')).toContain('sales');
  await h.db.db.execute(
    sql.raw(
      `update persons set attributes = attributes || '{"advAuditor": true}' where id = 'p-adv-stale'`,
    ),
  );
  const rec = await send('it.adv-reconcile', { id: 'p-adv-stale', managerId: 'p-adv-boss' });
  const waiting = await stateWhen(rec.runId, (s) => s.waitingOn?.kind === 'approval');
  expect(waiting.waitingOn).toMatchObject({ step: 'access-sod-it-adv-audit-sales' });
  expect(await groupsOfPerson('p-adv-stale')).not.toContain('adv-audit');

  // the person leaves meanwhile: status terminated, their access reconciled away (by an event
  // whose policy runs it alongside the waiting reconcile; by default it would queue behind it)
  await h.db.db.execute(
    sql.raw(`update persons set status = 'terminated' where id = 'p-adv-stale'`),
  );
  const leave = await send('it.adv-leave', { id: 'p-adv-stale' });
  expect(await leave.outcome()).toMatchObject({ ok: true });
  expect(await groupsOfPerson('p-adv-stale')).toEqual([]);

  await h.client.workflow.getHandle(rec.runId).executeUpdate('decide', {
    args: [
      {
        step: 'access-sod-it-adv-audit-sales',
        decision: 'approve',
        by: 'p-adv-boss',
        onBehalfOf: 'p-adv-boss',
        channel: 'api',
      },
    ],
  });
  await settled(rec.runId);
  expect(await groupsOfPerson('p-adv-stale')).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// Adapter level: the ldap adapter applies changes to an account found by name
// ---------------------------------------------------------------------------------------------

type AnyOps = Record<string, (args: unknown, ctx: OpContext) => Promise<unknown>>;
type Spec = { ops: Record<string, { args: { parse(v: unknown): unknown } }> };
function invoker(ops: AnyOps, spec: Spec, ctx: OpContext): InvokeOp {
  return async (op, args) => {
    const declared = spec.ops[op];
    if (!declared || !ops[op]) throw new Error(`no op ${op}`);
    return (await ops[op](declared.args.parse(args), ctx)) as JsonValue;
  };
}

function dirCtx(): OpContext {
  process.env.ADV_LDAP_PASSWORD = LDAP_TARGET.bindPassword;
  return opContext('corp-directory', {
    url: targets.slapd?.url,
    bindDn: LDAP_TARGET.bindDn,
    bindPassword: { secretEnv: 'ADV_LDAP_PASSWORD' },
    usersDn: PEOPLE,
    groupsDn: GROUPS,
    idAttribute: 'uid',
    userObjectClasses: ['inetOrgPerson', 'adUser'],
    groupObjectClass: 'adGroup',
    disable: { method: 'userAccountControl' },
    correlation: { attribute: 'employeeNumber' },
  });
}

/*
 * uid is not unique in LDAP: the adapter's changes name the owner, and the ops act only on that
 * person's entry of the name, never on another entry with the same uid.
 */
test('ldap apply changes the entry read by owner, not another entry with the same uid', async () => {
  const c = dirCtx();
  const ops = createLdapConnector(5_000).ops;
  const access = createLdapAccess(5_000);
  // someone else's account named adv-twin, created first
  await ops.createAccount(
    { id: 'adv-twin', owner: 'p-adv-twin-other', attributes: { cn: 'Other', sn: 'Other' } },
    c,
  );
  // the person's own account, with the same uid, in an OU below usersDn
  const sub = `ou=adv-sub,${PEOPLE}`;
  const own = `uid=adv-twin,${sub}`;
  await ldap(async (client) => {
    await client.add(sub, { objectClass: 'organizationalUnit', ou: 'adv-sub' });
    await client.add(own, {
      objectClass: ['inetOrgPerson'],
      uid: 'adv-twin',
      cn: 'Twin',
      sn: 'Twin',
      employeeNumber: 'p-adv-twin',
    });
  });
  const managed = [{ connector: 'corp-directory', kind: 'group', value: 'deployers' }];
  const actual = await access.read(c, 'p-adv-twin', managed);
  expect(actual.account?.targetId.toLowerCase()).toBe(own.toLowerCase());
  const add: Change = {
    op: 'addEntitlement',
    connector: 'corp-directory',
    connectorType: 'ldap',
    account: actual.account?.id ?? '',
    targetId: actual.account?.targetId ?? '',
    kind: 'group',
    value: 'deployers',
    why: 'role:engineering',
  };
  await access.apply(c, 'p-adv-twin', [add], invoker(ops as unknown as AnyOps, ldapSpec, c));
  expect(await groupsOfDn(`uid=adv-twin,${PEOPLE}`)).not.toContain('deployers');
  expect(await groupsOfDn(own)).toContain('deployers');
});

// ---------------------------------------------------------------------------------------------
// Adapter + plan: SCIM group names that differ only in case
// ---------------------------------------------------------------------------------------------

/*
 * SCIM compares displayNames without case, and so does idflow: `Sales` and `sales` are one
 * group, so a plan never removes a group the person is entitled to under another spelling, and
 * an SoD rule naming one spelling covers the other.
 */
test('scim: a group named in two cases is one group: the plan never removes what the person is entitled to', async () => {
  const token = targets.scim.token;
  process.env.ADV_SCIM_TOKEN = token;
  const c = opContext('crm', {
    baseUrl: targets.scim.url,
    auth: { type: 'bearer', token: { secretEnv: 'ADV_SCIM_TOKEN' } },
    correlation: { attribute: 'externalId' },
  });
  const ops = createScimConnector(5_000).ops;
  const access = createScimAccess(5_000);
  const gid = randomUUID();
  targets.scim.groups.set(gid, {
    id: gid,
    displayName: 'adv-sales',
    members: [],
    meta: { version: 'W/"1"' },
  });
  const { user } = await ops.createUser(
    { owner: 'p-adv-scim', user: { userName: 'adv-scim@example.com' } },
    c,
  );
  await ops.addGroupMember({ groupId: gid, userId: user.id }, c);
  const managed: EntitlementRef[] = [
    { connector: 'crm', kind: 'group', value: 'adv-sales' }, // role sales
    { connector: 'crm', kind: 'group', value: 'ADV-SALES' }, // another role
  ];
  const actual = await access.read(c, 'p-adv-scim', managed);
  const connectors = new Map<string, ConnectorIR>([
    ['crm', { name: 'crm', type: 'scim', config: {} }],
  ]);
  const desired: DesiredState = {
    personId: 'p-adv-scim',
    status: 'active',
    roles: [{ name: 'sales', title: 'Sales', why: 'test' }],
    accounts: [],
    entitlements: [{ ...managed[0]!, sources: ['role:sales'] }],
    holds: [],
    problems: [],
  };
  const plan = planAccess({
    desired,
    actual: [actual],
    scopes: [{ connector: 'crm', connectorType: 'scim', accounts: false, entitlements: managed }],
    roles: [],
    sodRules: [],
    key: entitlementKeys(connectors),
  });
  expect(plan.removals).toEqual([]);
});
