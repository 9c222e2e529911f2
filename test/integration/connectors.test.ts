/**
 * Connectors inside runs, through the worker: a joiner flow provisions an LDAP account in
 * slapd, a SCIM user and an email with its rendered template and a CSV attachment; a wrong bind
 * password stops the run at once; a target that is down is retried; the bind password appears
 * in no log line, audit row or workflow history.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client as LdapClient } from 'ldapts';
import { listAudit } from '../../src/db/repos/audit';
import { LDAP_TARGET, startSlapd, type SlapdTarget } from '../../src/targets/slapd';
import { startScimTarget, type ScimTarget } from '../../src/targets/scim';
import { startSmtpTarget, type SmtpTarget } from '../../src/targets/smtp';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { freePort } from '../support/ports';

const WRONG_PASSWORD = `wrong-${randomBytes(6).toString('hex')}`;
let slapd: SlapdTarget;
let scim: ScimTarget;
let smtp: SmtpTarget;
let h: Harness;

function definitions(): string {
  return `
apiVersion: idflow/v1
kind: Connector
metadata: { name: corp-directory }
type: ldap
config:
  url: ${slapd.url}
  bindDn: ${LDAP_TARGET.bindDn}
  bindPassword: { secretEnv: IT_LDAP_PASSWORD }
  usersDn: ou=people,${LDAP_TARGET.baseDn}
  groupsDn: ou=groups,${LDAP_TARGET.baseDn}
  userObjectClasses: [inetOrgPerson, adUser]
  groupObjectClass: adGroup
  disable: { method: userAccountControl }
retry: { initialInterval: 200ms, maxAttempts: 5 }
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: bad-directory }
type: ldap
config:
  url: ${slapd.url}
  bindDn: ${LDAP_TARGET.bindDn}
  bindPassword: { secretEnv: IT_LDAP_WRONG_PASSWORD }
  usersDn: ou=people,${LDAP_TARGET.baseDn}
  groupsDn: ou=groups,${LDAP_TARGET.baseDn}
retry: { initialInterval: 200ms, maxAttempts: 5 }
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: crm }
type: scim
config:
  baseUrl: ${scim.url}
  auth: { type: bearer, token: { secretEnv: IT_SCIM_TOKEN } }
retry: { initialInterval: 200ms, backoffCoefficient: 1, maxAttempts: 10 }
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: mail }
type: email
config:
  host: 127.0.0.1
  port: ${smtp.port}
  startTls: off
  from: idflow <idflow@example.com>
---
apiVersion: idflow/v1
kind: Template
metadata: { name: it-welcome }
subject: 'Welcome, {{name}}'
text: |
  Hello {{name}}, your account is {{account}}.
html: '<p>Hello {{name}}, your account is <b>{{account}}</b>.</p>'
---
apiVersion: idflow/v1
kind: Policy
metadata: { name: it-connectors }
rules:
  - { on: [it.join], run: [it-join] }
  - { on: [it.badbind], run: [it-badbind] }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-join }
steps:
  - id: account
    action:
      connector: corp-directory
      op: createAccount
      args:
        id: \${subject.attributes.username}
        attributes:
          cn: \${subject.displayName}
          sn: \${subject.familyName}
          mail: \${subject.email}
        groups: [all-staff]
  - id: app-user
    action:
      connector: crm
      op: createUser
      args:
        user:
          userName: \${subject.email}
          externalId: \${subject.id}
          displayName: \${subject.displayName}
          active: true
  - id: welcome
    notify:
      channel: mail
      to: \${subject.email}
      template: it-welcome
      data:
        name: \${subject.displayName}
        account: \${steps.account.output.dn}
      attachments:
        - filename: access.csv
          rows: '\${[{"system": "directory", "id": steps.account.output.dn}, {"system": "crm", "id": steps["app-user"].output.user.id}]}'
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: it-badbind }
steps:
  - id: lookup
    action:
      connector: bad-directory
      op: getAccount
      args: { id: '\${subject.attributes.username}' }
`;
}

beforeAll(async () => {
  slapd = await startSlapd({ port: await freePort() });
  scim = await startScimTarget({ token: 'it-scim-token' });
  smtp = await startSmtpTarget({});
  const dir = join(ROOT, '.idflow', 'test', `connectors-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'connectors.yaml'), definitions());
  h = new Harness({
    definitions: [relative(ROOT, dir)],
    env: {
      IT_LDAP_PASSWORD: LDAP_TARGET.bindPassword,
      IT_LDAP_WRONG_PASSWORD: WRONG_PASSWORD,
      IT_SCIM_TOKEN: 'it-scim-token',
      IDFLOW_LOG_LEVEL: 'debug',
    },
  });
  await h.start();
});

afterAll(async () => {
  await h?.close();
  await Promise.all([slapd?.stop(), scim?.stop(), smtp?.stop()]);
});

test('a joiner run creates the LDAP account, the SCIM user, and emails the rendered template', async () => {
  const subject = {
    id: 'p-3001',
    attributes: { username: 'klovelace' },
    displayName: 'Kay Lovelace',
    familyName: 'Lovelace',
    email: 'kay@example.com',
  };
  // the application is down for its first two calls: retried, then it succeeds
  scim.failNext(2, 503);
  const event = makeEvent('it.join', subject);
  expect((await h.postEvent(event)).status).toBe(202);
  const outcome = await h.runOutcome(`flow/it-join/p-3001/${event.id as string}`, 60_000);
  expect(outcome).toMatchObject({ ok: true, result: { status: 'Completed' } });

  const ldap = new LdapClient({ url: slapd.url });
  await ldap.bind(LDAP_TARGET.bindDn, LDAP_TARGET.bindPassword);
  const { searchEntries } = await ldap.search(`ou=people,${LDAP_TARGET.baseDn}`, {
    filter: '(uid=klovelace)',
    attributes: ['cn', 'mail', 'memberOf', 'userAccountControl'],
  });
  await ldap.unbind();
  expect(searchEntries).toEqual([
    {
      dn: `uid=klovelace,ou=people,${LDAP_TARGET.baseDn}`,
      cn: 'Kay Lovelace',
      mail: 'kay@example.com',
      memberOf: `cn=all-staff,ou=groups,${LDAP_TARGET.baseDn}`,
      userAccountControl: '512',
    },
  ]);

  const users = [...scim.users.values()];
  expect(users).toHaveLength(1);
  expect(users[0]).toMatchObject({ userName: 'kay@example.com', externalId: 'p-3001' });
  const posts = scim.requests.filter((r) => r.method === 'POST' && r.path === '/scim/v2/Users');
  expect(posts).toHaveLength(3); // two refused with 503, the third created the user

  const [mail] = await smtp.waitFor(1);
  expect(mail).toMatchObject({
    from: 'idflow@example.com',
    to: ['kay@example.com'],
    subject: 'Welcome, Kay Lovelace',
    text: `Hello Kay Lovelace, your account is uid=klovelace,ou=people,${LDAP_TARGET.baseDn}.\n`,
  });
  expect(mail?.html).toContain('<b>uid=klovelace,ou=people,dc=example,dc=com</b>');
  expect(mail?.attachments).toEqual([
    {
      filename: 'access.csv',
      contentType: 'text/csv',
      content: `system,id\r\ndirectory,"uid=klovelace,ou=people,dc=example,dc=com"\r\ncrm,${users[0]?.id}\r\n`,
    },
  ]);

  const audit = await listAudit(h.db.db, { runId: `flow/it-join/p-3001/${event.id as string}` });
  expect(audit.map((a) => a.action)).toEqual(
    expect.arrayContaining(['ldap.createAccount', 'scim.createUser', 'notification.sent']),
  );
});

test('a wrong bind password fails the run at once with ConnectorAuthFailed', async () => {
  const event = makeEvent('it.badbind', { id: 'p-3002', attributes: { username: 'klovelace' } });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/it-badbind/p-3002/${event.id as string}`;
  const outcome = await h.runOutcome(runId, 60_000);
  expect(outcome).toMatchObject({ ok: false, type: 'ConnectorAuthFailed' });
  const message = (outcome as { message: string }).message;
  expect(message).toContain("step 'lookup'");
  expect(message).toContain('IT_LDAP_WRONG_PASSWORD');
  // one attempt: permanent failures are not retried
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  const started = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes);
  expect(started.map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);
});

test('the bind password is in no log line, audit row or workflow history', async () => {
  const runs = h.client.workflow.list({ query: `TaskQueue = '${h.taskQueue}'` });
  let histories = '';
  for await (const run of runs) {
    const history = await h.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    // payloads are base64 in the history: read them as the Web UI shows them
    histories += JSON.stringify(history, (key, value: unknown) =>
      key === 'data' && typeof value === 'string'
        ? Buffer.from(value, 'base64').toString('utf8')
        : value,
    );
  }
  expect(histories).toContain('IT_LDAP_WRONG_PASSWORD'); // the reference is there…
  expect(histories).toContain('klovelace');
  for (const secret of [LDAP_TARGET.bindPassword, WRONG_PASSWORD, 'it-scim-token']) {
    expect(histories).not.toContain(secret); // …the value is not
    const audit = JSON.stringify(await listAudit(h.db.db, {}));
    expect(audit).not.toContain(secret);
    const log = readFileSync(join(ROOT, '.idflow', 'test', `${h.taskQueue}.log`), 'utf8');
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(secret);
  }
});
