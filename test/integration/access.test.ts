/**
 * The access model end to end: the reference roles, joiner, mover and leaver through the
 * worker against slapd and the SCIM service. A joiner ends with exactly the desired accounts
 * and groups; a mover's removals reach the directory before any addition (watched from the
 * directory itself while the run goes); drift is corrected, unmanaged groups left alone, and a
 * second reconcile changes nothing; a leaver loses every managed group, a grace option keeps
 * one until its timer; SoD rules block or wait on an approval.
 */
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Attribute, Change, Client as LdapClient } from 'ldapts';
import { and, eq, like, sql } from 'drizzle-orm';
import { auditLog } from '../../src/db/schema';
import type { RunState } from '../../src/temporal/contracts';
import { type Targets } from '../../src/targets';
import { LDAP_TARGET } from '../../src/targets/slapd';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

const BASE = LDAP_TARGET.baseDn;
const PEOPLE = `ou=people,${BASE}`;
const GROUPS = `ou=groups,${BASE}`;
let targets: Targets;
let h: Harness;

/** A leaver flow keeping VPN access for `grace` after the others are removed. */
const leaveWithGrace = (name: string, grace: string) => `---
apiVersion: idflow/v1
kind: Flow
metadata: { name: ${name} }
steps:
  - id: disable
    action:
      connector: identity-store
      op: setStatus
      args: { personId: '\${subject.id}', status: disabled }
  - id: access
    reconcile:
      grace:
        for: ${grace}
        keep:
          - connector: corp-directory
            groups: [vpn-users]
  - id: after
    set: { done: true }`;

/** Test flows and rules beside the reference set. */
const EXTRA = `
apiVersion: idflow/v1
kind: Policy
metadata: { name: it-access }
rules:
  - { on: [it.reconcile], run: [it-reconcile] }
  - { on: [it.leave-with-grace], run: [it-leave-with-grace] }
  - { on: [it.leave-with-long-grace], run: [it-leave-with-long-grace] }
  - { on: [it.grant], run: [it-grant] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-reconcile }
steps:
  - id: access
    reconcile: {}
${leaveWithGrace('it-leave-with-grace', '4s')}
${leaveWithGrace('it-leave-with-long-grace', '60s')}
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-grant }
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
kind: Role
metadata: { name: it-deployer }
when: subject.attributes.?deployer.orValue(false) == true
grants:
  - connector: corp-directory
    groups: [deployers]
---
apiVersion: idflow/v1
kind: Role
metadata: { name: it-auditor }
when: subject.attributes.?auditor.orValue(false) == true
grants:
  - connector: corp-directory
    groups: [wiki-editors]
---
apiVersion: idflow/v1
kind: SodRule
metadata: { name: it-audit-sales }
between:
  - roles: [it-auditor]
  - roles: [sales]
action: approval
approval:
  approvers: [subject.managerId]
  request: Audit and sell at once?
  timeout: 2m
`;

beforeAll(async () => {
  const world = await referenceWorld('access', { access: EXTRA });
  targets = world.targets;
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
  // the manager approvers are asked for
  await send('person.joiner', {
    id: 'p-boss',
    givenName: 'Bea',
    familyName: 'Boss',
    department: 'Finance',
  });
}, 120_000);

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

/** The groups (cn) the account is in, read from the directory. */
async function groupsOf(uid: string, client?: LdapClient): Promise<string[]> {
  const read = async (c: LdapClient) => {
    const { searchEntries } = await c.search(GROUPS, {
      scope: 'sub',
      filter: `(member=uid=${uid},${PEOPLE})`,
      attributes: ['cn'],
    });
    return searchEntries.map((e) => String(e.cn)).sort();
  };
  return client ? read(client) : ldap(read);
}

async function account(uid: string): Promise<Record<string, unknown> | undefined> {
  return ldap(async (c) => {
    const { searchEntries } = await c.search(BASE, {
      scope: 'sub',
      filter: `(uid=${uid})`,
      attributes: ['*', 'modifyTimestamp', 'entryCSN'],
    });
    return searchEntries[0];
  });
}

async function send(
  type: string,
  subject: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  flow?: string,
) {
  const event = makeEvent(type, subject, {
    effectiveAt: new Date(Date.now() - 60_000).toISOString(),
    ...extra,
  });
  expect((await h.postEvent(event)).status).toBe(202);
  const name =
    flow ??
    (
      {
        'person.joiner': 'joiner-standard',
        'person.mover': 'mover-standard',
        'person.leaver': 'leaver-standard',
      } as Record<string, string>
    )[type] ??
    type.replace('it.', 'it-');
  const runId = `flow/${name}/${subject.id as string}/${event.id as string}`;
  return { runId, outcome: () => h.runOutcome(runId, 90_000) };
}

async function state(runId: string): Promise<RunState> {
  return h.client.workflow.getHandle(runId).query<RunState>('state');
}

/** The run's state once `ready` holds for it (the run may not have started yet). */
async function stateWhen(runId: string, ready: (s: RunState) => boolean): Promise<RunState> {
  return h.eventually(async () => {
    const s = await state(runId).catch(() => undefined);
    return s && ready(s) ? s : undefined;
  }, 60_000);
}

const output = (s: RunState, id: string) => s.steps.find((x) => x.id === id)?.output as never;

const ada = {
  id: 'p-ada',
  givenName: 'Ada',
  familyName: 'Lovelace',
  email: 'ada@example.com',
  department: 'Engineering',
  title: 'Engineer',
  employmentType: 'employee',
  managerId: 'p-boss',
};

test('a joiner ends with exactly the desired account and groups, and no CRM user outside Sales', async () => {
  const run = await send('person.joiner', ada);
  expect(await run.outcome()).toMatchObject({ ok: true });
  expect(await groupsOf('alovelace')).toEqual([
    'all-staff',
    'deployers',
    'engineering',
    'vpn-users',
  ]);
  expect(await account('alovelace')).toMatchObject({
    employeeNumber: 'p-ada',
    title: 'Engineer',
    departmentNumber: 'Engineering',
  });
  expect([...targets.scim.users.values()].filter((u) => u.externalId === 'p-ada')).toEqual([]);
  const out = output(await state(run.runId), 'access') as { added: number; removed: number };
  expect(out).toMatchObject({ removed: 0, added: 5 });
});

test('a Sales joiner also gets a CRM user in the sales group, and nothing else there', async () => {
  const run = await send('person.joiner', {
    ...ada,
    id: 'p-sam',
    givenName: 'Sam',
    familyName: 'Seller',
    email: 'sam@example.com',
    department: 'Sales',
  });
  expect(await run.outcome()).toMatchObject({ ok: true });
  expect(await groupsOf('sseller')).toEqual(['all-staff', 'sales', 'vpn-users']);
  const users = [...targets.scim.users.values()].filter((u) => u.externalId === 'p-sam');
  expect(users).toHaveLength(1);
  expect(users[0]).toMatchObject({ userName: 'sseller', active: true });
  const groups = [...targets.scim.groups.values()].filter((g) =>
    ((g.members as Array<{ value: string }> | undefined) ?? []).some(
      (m) => m.value === users[0]?.id,
    ),
  );
  expect(groups.map((g) => g.displayName)).toEqual(['sales']);
});

test('a mover Engineering → Finance: every removal reaches the directory before any addition', async () => {
  // watch the directory while the run goes: the person never holds both departments' groups
  const seen: string[][] = [];
  let watching = true;
  const watcher = ldap(async (c) => {
    while (watching) seen.push(await groupsOf('alovelace', c));
  });
  const run = await send('person.mover', { id: 'p-ada', department: 'Finance', title: 'Analyst' });
  expect(await run.outcome()).toMatchObject({ ok: true });
  watching = false;
  await watcher;
  expect(await groupsOf('alovelace')).toEqual(['all-staff', 'finance', 'vpn-users']);
  const both = seen.filter(
    (g) => (g.includes('engineering') || g.includes('deployers')) && g.includes('finance'),
  );
  expect(seen.length).toBeGreaterThan(3);
  expect(both).toEqual([]);
  // the order idflow carried them out in, as the audit log recorded each target call
  const rows = await h.db.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.runId, run.runId), like(auditLog.action, 'ldap.%')))
    .orderBy(auditLog.seq);
  const ops = rows.map((r) => r.action);
  const lastRemoval = ops.lastIndexOf('ldap.removeFromGroup');
  const firstAddition = ops.findIndex((a) => a === 'ldap.addToGroup' || a === 'ldap.updateAccount');
  expect(lastRemoval).toBeGreaterThanOrEqual(0);
  expect(lastRemoval).toBeLessThan(firstAddition);
  expect(await account('alovelace')).toMatchObject({
    title: 'Analyst',
    departmentNumber: 'Finance',
  });
});

test('a managed group added by hand is removed, an unmanaged one left alone; a second reconcile changes nothing', async () => {
  await ldap(async (c) => {
    // a group no role names
    await c.add(`cn=it-unmanaged,${GROUPS}`, { objectClass: 'adGroup', cn: 'it-unmanaged' });
    for (const group of ['engineering', 'it-unmanaged'])
      await c.modify(
        `cn=${group},${GROUPS}`,
        new Change({
          operation: 'add',
          modification: new Attribute({ type: 'member', values: [`uid=alovelace,${PEOPLE}`] }),
        }),
      );
  });
  const first = await send('it.reconcile', { id: 'p-ada' });
  expect(await first.outcome()).toMatchObject({ ok: true });
  expect(await groupsOf('alovelace')).toEqual([
    'all-staff',
    'finance',
    'it-unmanaged',
    'vpn-users',
  ]);
  const out = output(await state(first.runId), 'access') as {
    removed: number;
    added: number;
    plan: { removals: string[]; unmanaged: Record<string, number> };
  };
  expect(out.removed).toBe(1);
  expect(out.added).toBe(0);
  expect(out.plan.removals).toEqual(['corp-directory: remove group engineering (alovelace)']);
  expect(out.plan.unmanaged).toEqual({ 'corp-directory': 1 });

  const before = await account('alovelace');
  const auditBefore = (await h.db.db.select().from(auditLog).orderBy(auditLog.seq)).length;
  const scimWrites = () => targets.scim.requests.filter((r) => r.method !== 'GET').length;
  const scimBefore = scimWrites();
  const second = await send('it.reconcile', { id: 'p-ada' });
  expect(await second.outcome()).toMatchObject({ ok: true });
  const again = output(await state(second.runId), 'access') as {
    removed: number;
    added: number;
    plan: { removals: string[]; additions: string[] };
  };
  expect(again).toMatchObject({ removed: 0, added: 0, plan: { removals: [], additions: [] } });
  expect(await account('alovelace')).toEqual(before);
  expect(scimWrites()).toBe(scimBefore);
  const newRows = (await h.db.db.select().from(auditLog).orderBy(auditLog.seq)).slice(auditBefore);
  expect(newRows.filter((r) => /^(ldap|scim|access)\./.test(r.action))).toEqual([]);
});

test('a leaver: every managed group removed and the accounts disabled; unmanaged groups stay', async () => {
  await ldap((c) =>
    c.modify(
      `cn=it-unmanaged,${GROUPS}`,
      new Change({
        operation: 'add',
        modification: new Attribute({ type: 'member', values: [`uid=sseller,${PEOPLE}`] }),
      }),
    ),
  );
  const run = await send('person.leaver', { id: 'p-sam', employmentType: 'employee' });
  // the reference leaver waits 30 days after disabling: look once access has been reconciled
  await stateWhen(run.runId, (s) =>
    s.steps.some((x) => x.id === 'access' && x.status === 'completed'),
  );
  expect(await groupsOf('sseller')).toEqual(['it-unmanaged']);
  const entry = await account('sseller');
  expect(Number(entry?.userAccountControl) & 2).toBe(2);
  const user = [...targets.scim.users.values()].find((u) => u.externalId === 'p-sam');
  expect(user?.active).toBe(false);
  await h.client.workflow.getHandle(run.runId).terminate('test done');
});

test('the grace option keeps a named entitlement until its timer fires', async () => {
  const run = await send('person.joiner', {
    ...ada,
    id: 'p-gus',
    givenName: 'Gus',
    familyName: 'Grace',
  });
  expect(await run.outcome()).toMatchObject({ ok: true });
  const leave = await send('it.leave-with-grace', { id: 'p-gus' });
  const kept = await stateWhen(leave.runId, (s) => s.steps.some((x) => x.id === 'after'));
  expect(output(kept, 'access')).toMatchObject({ kept: 1 });
  expect(await groupsOf('ggrace')).toEqual(['vpn-users']);
  expect(await leave.outcome()).toMatchObject({ ok: true });
  expect(await groupsOf('ggrace')).toEqual([]);
  const done = await state(leave.runId);
  expect(output(done, 'access-grace')).toMatchObject({ removed: 1 });
});

test('a run cancelled during its grace period removes what the grace period kept, at once', async () => {
  const run = await send('person.joiner', {
    ...ada,
    id: 'p-gwen',
    givenName: 'Gwen',
    familyName: 'Graceless',
  });
  expect(await run.outcome()).toMatchObject({ ok: true });
  const leave = await send('it.leave-with-long-grace', { id: 'p-gwen' });
  await stateWhen(leave.runId, (s) => s.steps.some((x) => x.id === 'after'));
  expect(await groupsOf('ggraceless')).toEqual(['vpn-users']);
  const cancelledAt = Date.now();
  await h.client.workflow.getHandle(leave.runId).cancel();
  await h.eventually(async () => {
    const d = await h.client.workflow.getHandle(leave.runId).describe();
    return d.status.name === 'CANCELLED' ? true : undefined;
  });
  expect(Date.now() - cancelledAt).toBeLessThan(60_000); // before the grace period is over
  expect(await groupsOf('ggraceless')).toEqual([]);
  const done = await state(leave.runId);
  expect(done.status).toBe('Cancelled');
  expect(output(done, 'access-grace')).toMatchObject({ removed: 1 });
});

test('SoD block: a grant completing a pair is refused with a reason naming both sides', async () => {
  const run = await send('person.joiner', {
    ...ada,
    id: 'p-fay',
    givenName: 'Fay',
    familyName: 'Approver',
    department: 'Finance',
    jobCode: 'FIN-APPROVER',
  });
  expect(await run.outcome()).toMatchObject({ ok: true });
  expect(await groupsOf('fapprover')).toEqual([
    'all-staff',
    'finance',
    'finance-approvers',
    'vpn-users',
  ]);
  const grant = await send('it.grant', { id: 'p-fay' }, { attributes: { group: 'deployers' } });
  const outcome = (await grant.outcome()) as { ok: boolean; error?: { message?: string } };
  expect(outcome.ok).toBe(false);
  expect(JSON.stringify(outcome)).toMatch(/SodConflict/);
  expect(JSON.stringify(outcome)).toMatch(/role finance-approver/);
  expect(JSON.stringify(outcome)).toMatch(/group deployers on corp-directory/);
  expect(await groupsOf('fapprover')).not.toContain('deployers');

  // the same pair through a role: reconcile holds the grant back and says why
  await h.db.db.execute(
    sql.raw(
      `update persons set attributes = attributes || '{"deployer": true}' where id = 'p-fay'`,
    ),
  );
  const rec = await send('it.reconcile', { id: 'p-fay' });
  expect(await rec.outcome()).toMatchObject({ ok: true });
  const out = output(await state(rec.runId), 'access') as {
    blocked: Array<{ rule: string; reason: string }>;
  };
  expect(out.blocked).toHaveLength(1);
  expect(out.blocked[0]?.rule).toBe('approve-or-deploy');
  expect(out.blocked[0]?.reason).toMatch(
    /role finance-approver.*group deployers on corp-directory/,
  );
  expect(await groupsOf('fapprover')).not.toContain('deployers');
});

test('SoD approval: the grant waits on the approval and proceeds when approved', async () => {
  await h.db.db.execute(
    sql.raw(
      `update persons set attributes = attributes || '{"auditor": true}', status = 'active' where id = 'p-sam'`,
    ),
  );
  const rec = await send('it.reconcile', { id: 'p-sam', managerId: 'p-boss' });
  const waiting = await stateWhen(rec.runId, (s) => s.waitingOn?.kind === 'approval');
  // the other side and the rest are not held back; the grants completing the pair are
  expect(waiting.waitingOn).toMatchObject({ step: 'access-sod-it-audit-sales' });
  expect(await groupsOf('sseller')).toContain('wiki-editors');
  expect(await groupsOf('sseller')).not.toContain('sales');
  await h.client.workflow.getHandle(rec.runId).executeUpdate('decide', {
    args: [
      {
        step: 'access-sod-it-audit-sales',
        decision: 'approve',
        by: 'p-boss',
        onBehalfOf: 'p-boss',
        channel: 'api',
      },
    ],
  });
  expect(await rec.outcome()).toMatchObject({ ok: true });
  expect(await groupsOf('sseller')).toEqual([
    'all-staff',
    'it-unmanaged',
    'sales',
    'vpn-users',
    'wiki-editors',
  ]);
});

test('idflow plan person on a drifted person prints the exact plan and changes nothing', async () => {
  // drift Ada (Finance): an engineering group added and VPN taken away by hand
  await ldap(async (c) => {
    await c.modify(
      `cn=engineering,${GROUPS}`,
      new Change({
        operation: 'add',
        modification: new Attribute({ type: 'member', values: [`uid=alovelace,${PEOPLE}`] }),
      }),
    );
    await c.modify(
      `cn=vpn-users,${GROUPS}`,
      new Change({
        operation: 'delete',
        modification: new Attribute({ type: 'member', values: [`uid=alovelace,${PEOPLE}`] }),
      }),
    );
  });
  const before = await account('alovelace');
  const groupsBefore = await groupsOf('alovelace');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'bin', 'idflow.js'), 'plan', 'person', 'p-ada', '--connector', 'corp-directory'],
    { env: h.env() },
  );
  const changes = stdout
    .split('\n')
    .filter((l) => /^ {2}corp-directory /.test(l))
    .map((l) => l.trim().split(/ {2,}/));
  expect(changes).toEqual([
    [
      'corp-directory',
      'alovelace',
      'remove group engineering',
      'no role or grant of the person grants it',
    ],
    ['corp-directory', 'alovelace', 'add group vpn-users', 'role:employee'],
  ]);
  expect(stdout).toMatch(/1 unmanaged/);
  expect(await account('alovelace')).toEqual(before);
  expect(await groupsOf('alovelace')).toEqual(groupsBefore);
});
