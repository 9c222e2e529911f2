/**
 * Nothing personal where it does not belong (invariant 11): when PostgreSQL refuses a value or
 * a unique key, or a target's answer quotes what it was sent, the run fails at once with an
 * idflow failure type and a message naming the operation and the column or constraint. None of
 * the values sent — names, email, employee id, attributes — appears in the error in the run's
 * state, in the failures of its Temporal history, in the audit log, or in the worker's and
 * gateway's log lines.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { SMTPServer } from 'smtp-server';
import { listAudit } from '../../src/db/repos/audit';
import { persons } from '../../src/db/schema';
import { dispatchWorkflowId } from '../../src/model/event';
import type { RunState } from '../../src/temporal/contracts';
import { Harness, makeEvent, ROOT } from '../support/harness';
import { freePort } from '../support/ports';

const tag = randomBytes(4).toString('hex');
/** Distinctive values: any of them outside the inputs is a leak. */
const marker = {
  employeeId: `EMP-${tag}-held`,
  givenName: `Zelda${tag}Given`,
  familyName: `Quill${tag}Family`,
  email: `zelda.${tag}@example.org`,
  note: `note-${tag}-private`,
  nulName: `Nul${tag}Name`,
};
const MARKERS = Object.values(marker);

let h: Harness;
let api: Server;
let smtp: SMTPServer;
const defsDir = join(ROOT, '.idflow', 'test', `no-personal-data-${tag}`);

function definitions(apiPort: number, smtpPort: number): string {
  return `
apiVersion: idflow/v1
kind: Connector
metadata: { name: npd-people }
type: idstore
retry: { maxAttempts: 3, initialInterval: 200ms, maximumInterval: 1s }
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: npd-api }
type: http
config: { baseUrl: 'http://127.0.0.1:${apiPort}/api/' }
retry: { maxAttempts: 3, initialInterval: 200ms, maximumInterval: 1s }
---
apiVersion: idflow/v1
kind: Connector
metadata: { name: npd-mail }
type: email
config: { host: 127.0.0.1, port: ${smtpPort}, startTls: 'off', from: iam@example.com }
retry: { maxAttempts: 3, initialInterval: 200ms, maximumInterval: 1s }
---
apiVersion: idflow/v1
kind: Template
metadata: { name: npd-welcome }
subject: 'Welcome {{ person }}'
text: 'Hello {{ person }}'
---
apiVersion: idflow/v1
kind: Policy
metadata: { name: npd }
rules:
  - on: [npd.joiner]
    run: [npd-record]
  - on: [npd.api]
    run: [npd-api-call]
  - on: [npd.mail]
    run: [npd-mail]
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: npd-record, title: Records the joiner }
steps:
  - id: record
    action:
      connector: npd-people
      op: upsertPerson
      args:
        id: \${subject.id}
        employeeId: \${subject.employeeId}
        givenName: \${subject.givenName}
        familyName: \${subject.familyName}
        email: \${subject.email}
        attributes: { note: '\${subject.attributes.note}' }
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: npd-api-call, title: Registers the joiner with an API }
steps:
  - id: register
    action:
      connector: npd-api
      op: request
      args:
        method: POST
        path: users
        body:
          name: \${subject.givenName + " " + subject.familyName}
          email: \${subject.email}
          note: \${subject.attributes.note}
---
apiVersion: idflow/v1
kind: Flow
metadata: { name: npd-mail, title: Welcomes the joiner }
steps:
  - id: welcome
    notify:
      channel: npd-mail
      to: \${subject.email}
      template: npd-welcome
      data:
        person: \${subject.givenName + " " + subject.familyName}
`;
}

function subject(id: string): Record<string, unknown> {
  return {
    id,
    employeeId: marker.employeeId,
    givenName: marker.givenName,
    familyName: marker.familyName,
    email: marker.email,
    attributes: { note: marker.note },
  };
}

/** Payload bytes as text, so a value inside a failure's details would show. */
function text(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v,
  );
}

/** Every failure recorded in a workflow's history (activity, local activity, workflow). */
async function historyFailures(workflowId: string): Promise<string> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const failures: unknown[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'failure' && value) failures.push(value);
      else walk(value);
    }
  };
  walk(history);
  expect(failures.length).toBeGreaterThan(0);
  return text(failures);
}

/** Attempts of `activity` as its history says (local activities leave a marker per call). */
async function attempts(workflowId: string, activity: string): Promise<number[]> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  const local = (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes?.details?.data?.payloads?.[0])
    .filter((p) => p !== undefined)
    .map((p) => defaultPayloadConverter.fromPayload<{ activity_type: string; attempt: number }>(p))
    .filter((m) => m.activity_type === activity)
    .map((m) => m.attempt);
  const remote = (history.events ?? [])
    .map((e) => e.activityTaskStartedEventAttributes?.attempt)
    .filter((a): a is number => typeof a === 'number');
  return [...local, ...remote];
}

function expectNoMarkers(where: string, content: string): void {
  for (const m of MARKERS) {
    if (content.includes(m)) throw new Error(`${where} holds the value ${m}: ${content}`);
  }
}

async function failedRun(event: Record<string, unknown>, flow: string) {
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = `flow/${flow}/${(event.subject as { id: string }).id}/${event.id as string}`;
  const outcome = await h.runOutcome(runId);
  expect(outcome.ok).toBe(false);
  const state = await h.client.workflow.getHandle(runId).query<RunState>('state');
  return { runId, outcome: outcome as { ok: false; type?: string; message: string }, state };
}

beforeAll(async () => {
  // a target that says what it refused, quoting what it was sent
  api = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const sent = JSON.parse(body || '{}') as Record<string, unknown>;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          scimType: 'invalidValue',
          detail: `user ${String(sent.name)} <${String(sent.email)}> refused: ${String(sent.note)}`,
          error: `rejected ${String(sent.email)}`,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const apiPort = (api.address() as { port: number }).port;
  // an SMTP server whose refusal quotes the recipient, as real ones do
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, done) {
      done(
        Object.assign(new Error(`<${address.address}>: Recipient address rejected: unknown user`), {
          responseCode: 550,
        }),
      );
    },
  });
  const smtpPort = await freePort();
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
  mkdirSync(defsDir, { recursive: true });
  writeFileSync(join(defsDir, 'npd.yaml'), definitions(apiPort, smtpPort));
  h = new Harness({ definitions: ['test/fixtures/runtime', defsDir.slice(ROOT.length + 1)] });
  await h.start();
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => api?.close(resolve));
  await new Promise((resolve) => smtp?.close(() => resolve(undefined)));
  rmSync(defsDir, { recursive: true, force: true });
});

test('a unique key another person holds fails the step at once, naming the constraint only', async () => {
  await h.db.db.insert(persons).values({ id: `p-holder-${tag}`, employeeId: marker.employeeId });
  const { runId, outcome, state } = await failedRun(
    makeEvent('npd.joiner', subject(`p-dup-${tag}`)),
    'npd-record',
  );
  expect(outcome).toMatchObject({ type: 'ConstraintViolated' });
  expect(outcome.message).toBe(
    "step 'record' failed: ConstraintViolated: identity store: upsertPerson failed: unique constraint persons_employee_id_idx violated",
  );
  expect(state.steps).toMatchObject([
    {
      id: 'record',
      status: 'failed',
      error: {
        type: 'ConstraintViolated',
        message:
          'identity store: upsertPerson failed: unique constraint persons_employee_id_idx violated',
      },
    },
  ]);
  expect(await attempts(runId, 'runConnectorOp')).toEqual([1]);
  expectNoMarkers('the run state', text(state.steps));
  expectNoMarkers('the run history', await historyFailures(runId));
});

test('a value PostgreSQL cannot store (a NUL in a name) fails at once, naming the column', async () => {
  // the gateway refuses such a body: this is what a caller that reaches Temporal directly gets
  const event = makeEvent('npd.joiner', {
    ...subject(`p-nul-${tag}`),
    givenName: `${marker.nulName}\u0000`,
  });
  const workflowId = dispatchWorkflowId(event.source as string, event.id as string);
  await h.client.workflow.start('dispatchEvent', {
    taskQueue: h.taskQueue,
    workflowId,
    args: [event],
  });
  const outcome = await h.outcome(workflowId);
  expect(outcome).toMatchObject({
    ok: false,
    type: 'InvalidValue',
    message:
      "records: recordEvent failed: value of column 'body' cannot be stored (untranslatable character)",
  });
  expect(await attempts(workflowId, 'recordEvent')).toEqual([1]);
  expectNoMarkers('the dispatch history', await historyFailures(workflowId));
});

test("a target's refusal that quotes what it was sent is told by its status and codes", async () => {
  const { runId, outcome, state } = await failedRun(
    makeEvent('npd.api', subject(`p-api-${tag}`)),
    'npd-api-call',
  );
  expect(outcome).toMatchObject({ type: 'InvalidRequest' });
  expect(state.steps[0]?.error).toEqual({
    type: 'InvalidRequest',
    message: 'npd-api.request: POST answered 400 (scimType invalidValue)',
  });
  expect(await attempts(runId, 'runConnectorOp')).toEqual([1]);
  expectNoMarkers('the run state', text(state.steps));
  expectNoMarkers('the run history', await historyFailures(runId));
  const [failed] = await listAudit(h.db.db, { runId, action: 'http.request' });
  expect(failed).toMatchObject({
    outcome: 'failed',
    detail: { step: 'register', fields: ['body', 'method', 'path'] },
  });
});

test('an SMTP refusal that quotes the recipient is told by its reply code', async () => {
  const { runId, outcome, state } = await failedRun(
    makeEvent('npd.mail', subject(`p-mail-${tag}`)),
    'npd-mail',
  );
  expect(outcome).toMatchObject({ type: 'InvalidRequest' });
  expect(state.steps[0]?.error?.message).toMatch(
    /^channel 'npd-mail': the SMTP server rejected it \(550 EENVELOPE, a recipient or the sender\)$/,
  );
  expect(await attempts(runId, 'sendNotification')).toEqual([1]);
  expectNoMarkers('the run state', text(state.steps));
  expectNoMarkers('the run history', await historyFailures(runId));
});

test('the audit log and the worker and gateway logs hold none of the values', async () => {
  const audit = await listAudit(h.db.db);
  expect(audit.some((a) => a.action === 'run.failed')).toBe(true);
  expectNoMarkers('the audit log', text(audit));
  const log = readFileSync(join(ROOT, '.idflow', 'test', `${h.taskQueue}.log`), 'utf8');
  expect(log).toMatch(/Activity failed|request failed|ConstraintViolated/);
  expectNoMarkers('the logs', log);
});
