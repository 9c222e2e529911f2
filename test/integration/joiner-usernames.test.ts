/**
 * The reference joiner through the worker, against slapd and the SCIM service: two Sales
 * joiners whose names give the same username get two directory accounts and two CRM users
 * (jsmith, jsmith2), each with its own owner; the same person joining again lands on their own
 * accounts and changes nothing; and a run that would create an account someone else owns fails
 * with TargetConflict naming both owners, leaving that account exactly as it was.
 */
import { Client as LdapClient } from 'ldapts';
import { getPerson } from '../../src/db/repos/persons';
import type { RunState } from '../../src/temporal/contracts';
import { type Targets } from '../../src/targets';
import { LDAP_TARGET } from '../../src/targets/slapd';
import { Harness, makeEvent } from '../support/harness';
import { referenceWorld } from '../support/reference-world';

const PEOPLE = `ou=people,${LDAP_TARGET.baseDn}`;
let targets: Targets;
let h: Harness;

/** Flows that create an account under a given name, as a joiner racing another would. */
const CLAIMS = `
apiVersion: idflow/v1
kind: Policy
metadata: { name: it-claims }
rules:
  - { on: [it.claim-account], run: [it-claim-account] }
  - { on: [it.claim-user], run: [it-claim-user] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-claim-account }
steps:
  - id: directory-account
    action:
      connector: corp-directory
      op: createAccount
      args:
        id: \${subject.attributes.username}
        owner: \${subject.id}
        attributes:
          cn: \${subject.displayName}
          sn: \${subject.familyName}
          mail: \${subject.email}
        groups: [vpn-users]
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-claim-user }
steps:
  - id: crm-user
    action:
      connector: crm
      op: createUser
      args:
        owner: \${subject.id}
        user:
          userName: \${subject.attributes.username}
          displayName: \${subject.displayName}
`;

beforeAll(async () => {
  // the reference definitions, with the connectors pointed at this test's targets
  const world = await referenceWorld('joiner-usernames', { claims: CLAIMS });
  targets = world.targets;
  h = new Harness({ definitions: [world.definitions] });
  await h.start();
});

afterAll(async () => {
  await h?.close();
  await targets?.stop();
});

async function entry(uid: string, attributes = ['*', '+']): Promise<Record<string, unknown>[]> {
  const client = new LdapClient({ url: targets.slapd?.url ?? '' });
  try {
    await client.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
    const { searchEntries } = await client.search(PEOPLE, {
      scope: 'sub',
      filter: `(uid=${uid})`,
      attributes,
    });
    return searchEntries;
  } finally {
    await client.unbind();
  }
}

async function joinAs(
  subject: Record<string, unknown>,
  type = 'person.joiner',
  flow = 'joiner-standard',
) {
  const event = makeEvent(type, subject, {
    effectiveAt: new Date(Date.now() - 60_000).toISOString(),
  });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/${flow}/${subject.id as string}/${event.id as string}`;
  return { ...(await h.runOutcome(runId, 60_000)), runId };
}

// Sales: the roles give them a CRM user as well as the directory account
const john = {
  id: 'p-1',
  givenName: 'John',
  familyName: 'Smith',
  email: 'john.smith@example.com',
  department: 'Sales',
};
const jane = {
  id: 'p-2',
  givenName: 'Jane',
  familyName: 'Smith',
  email: 'jane.smith@example.com',
  department: 'Sales',
};

/** The groups (cn) an entry's memberOf names, sorted. */
function groupNames(memberOf: unknown): string[] {
  return (Array.isArray(memberOf) ? memberOf : [memberOf])
    .map((dn) => String(dn).replace(/^cn=([^,]+),.*$/, '$1'))
    .sort();
}

test('two joiners with the same derived username get two accounts, each with its own owner', async () => {
  expect(await joinAs(john)).toMatchObject({
    ok: true,
    result: { status: 'Completed', vars: { username: 'jsmith' } },
  });
  expect(await joinAs(jane)).toMatchObject({
    ok: true,
    result: { status: 'Completed', vars: { username: 'jsmith2' } },
  });
  const [johnEntry] = await entry('jsmith', ['cn', 'mail', 'employeeNumber', 'memberOf']);
  const [janeEntry] = await entry('jsmith2', ['cn', 'mail', 'employeeNumber', 'memberOf']);
  expect(johnEntry).toMatchObject({
    dn: `uid=jsmith,${PEOPLE}`,
    cn: 'John Smith',
    mail: 'john.smith@example.com',
    employeeNumber: 'p-1',
  });
  expect(janeEntry).toMatchObject({
    dn: `uid=jsmith2,${PEOPLE}`,
    cn: 'Jane Smith',
    mail: 'jane.smith@example.com',
    employeeNumber: 'p-2',
  });
  expect(await entry('jsmith')).toHaveLength(1);
  expect(await entry('jsmith2')).toHaveLength(1);
  // what the staff, employee and sales roles grant, each on its own account
  expect(groupNames(johnEntry?.memberOf)).toEqual(['all-staff', 'sales', 'vpn-users']);
  expect(groupNames(janeEntry?.memberOf)).toEqual(['all-staff', 'sales', 'vpn-users']);
  const crm = [...targets.scim.users.values()].map((u) => [u.userName, u.externalId]).sort();
  expect(crm).toEqual([
    ['jsmith', 'p-1'],
    ['jsmith2', 'p-2'],
  ]);
  // both CRM users are in the CRM's sales group
  const userNames = new Map([...targets.scim.users.values()].map((u) => [u.id, u.userName]));
  const sales = [...targets.scim.groups.values()].find((g) => g.displayName === 'sales');
  const members = ((sales?.members as Array<{ value: string }> | undefined) ?? []).map((m) =>
    userNames.get(m.value),
  );
  expect(members.sort()).toEqual(['jsmith', 'jsmith2']);
  expect((await getPerson(h.db.db, 'p-1'))?.attributes).toMatchObject({ username: 'jsmith' });
  expect((await getPerson(h.db.db, 'p-2'))?.attributes).toMatchObject({ username: 'jsmith2' });
});

test('the same person joining again gets the same username and their own account, unchanged', async () => {
  const before = await entry('jsmith2');
  const crmBefore = JSON.stringify([...targets.scim.users.values()]);
  const again = await joinAs(jane);
  expect(again).toMatchObject({
    ok: true,
    result: { status: 'Completed', vars: { username: 'jsmith2' } },
  });
  const { steps } = await h.client.workflow.getHandle(again.runId).query<RunState>('state');
  const output = (id: string) => steps.find((s) => s.id === id)?.output;
  expect(output('derive-username')).toEqual({ username: 'jsmith2', existing: true });
  // her directory account and CRM user are found as hers: nothing to create, change or remove
  expect(output('access')).toMatchObject({
    removed: 0,
    added: 0,
    plan: { removals: [], additions: [] },
  });
  expect(await entry('jsmith2')).toEqual(before);
  expect(JSON.stringify([...targets.scim.users.values()])).toBe(crmBefore);
  expect(targets.scim.users.size).toBe(2);
});

test('a run creating an account someone else owns fails with TargetConflict; the account is untouched', async () => {
  const before = await entry('jsmith');
  const crmBefore = JSON.stringify([...targets.scim.users.values()]);
  const mallory = {
    id: 'p-3',
    givenName: 'Jay',
    familyName: 'Smith',
    displayName: 'Jay Smith',
    email: 'jay@example.com',
    attributes: { username: 'jsmith' },
  };
  const ldapRun = await joinAs(mallory, 'it.claim-account', 'it-claim-account');
  expect(ldapRun).toMatchObject({ ok: false, type: 'TargetConflict' });
  const ldapMessage = (ldapRun as { message: string }).message;
  expect(ldapMessage).toContain(
    'uid=jsmith belongs to employeeNumber p-1, not to employeeNumber p-3',
  );
  expect(ldapMessage).not.toMatch(/Jay|John|example\.com/);
  expect(await entry('jsmith')).toEqual(before);

  const scimRun = await joinAs(mallory, 'it.claim-user', 'it-claim-user');
  expect(scimRun).toMatchObject({ ok: false, type: 'TargetConflict' });
  const scimMessage = (scimRun as { message: string }).message;
  expect(scimMessage).toContain('belongs to externalId p-1, not to externalId p-3');
  expect(scimMessage).not.toMatch(/Jay|John|example\.com/);
  expect(JSON.stringify([...targets.scim.users.values()])).toBe(crmBefore);
});
