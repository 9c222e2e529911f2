/**
 * Payload encryption end to end, on a dev server of its own whose state is a file: with keys,
 * neither a joiner run's raw history (`temporal workflow show --output json`) nor the bytes of
 * the server's database hold the person's names, email or attribute values; without keys they
 * do (the control, so the test can fail). Through the gateway's codec endpoint the CLI shows
 * them. A run started under key 1 completes after key 2 becomes the encrypting key, and its
 * history still decodes; with key 1 gone, the decode error names key 1.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { insertPersonIfAbsent } from '../../src/db/repos/persons';
import type { RunSummary } from '../../src/runs/list';
import { findTemporalCli } from '../../src/temporal/cli';
import type { RunState } from '../../src/temporal/contracts';
import { idflowDataConverter } from '../../src/temporal/data-converter';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { Harness, makeEvent, type CliResult } from '../support/harness';
import { TEST_KEY_1, TEST_KEY_2, testKeys } from '../support/payload-keys';
import { freePort } from '../support/ports';

jest.setTimeout(240_000);

const DEFINITIONS = ['definitions/connectors/identity-store.yaml', 'test/fixtures/encryption'];
const cli = findTemporalCli(process.env.TEMPORAL_CLI);
const dir = mkdtempSync(join(tmpdir(), 'idflow-encryption-'));
const dbFile = join(dir, 'temporal.db');
let server: DevServer;
let plain: Harness;
let sealed: Harness;

/** A joiner whose every personal value is a marker that is nowhere else. */
function person(id: string, given: string, family: string, costCenter: string) {
  const email = `${given.toLowerCase()}.${family.toLowerCase()}@example.com`;
  return {
    subject: {
      id,
      givenName: given,
      familyName: family,
      displayName: `${given} ${family}`,
      email,
      managerId: 'p-enc-mgr',
    },
    attributes: { costCenter },
    markers: [given, family, email, costCenter],
  };
}

const PLAIN = person('p-plain-1', 'Plaina', 'Clearwater', 'CC-PLAIN-7731');
const SEALED = person('p-enc-1', 'Cyphra', 'Sealworth', 'CC-SEALED-4417');
const FAILING = person('p-enc-2', 'Failina', 'Quietfield', 'CC-FAIL-5520');
const ROTATED = person('p-rot-1', 'Rotara', 'Keychange', 'CC-ROT-9034');

/** Everything `text` says, with every string also read as base64 (payload data and metadata). */
function readable(text: string): string {
  const parts = [text];
  JSON.stringify(JSON.parse(text), (_key, value: unknown) => {
    if (typeof value === 'string' && /^[A-Za-z0-9+/_-]+=*$/.test(value))
      parts.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return parts.join('\n');
}

async function show(
  workflowId: string,
  codec?: { url: string; token: string },
): Promise<CliResult> {
  const args = ['workflow', 'show', '--address', server.address, '-w', workflowId];
  if (codec)
    args.push('--codec-endpoint', `${codec.url}/codec`, '--codec-auth', `Bearer ${codec.token}`);
  try {
    const { stdout, stderr } = await promisify(execFile)(cli, [...args, '--output', 'json']);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as CliResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The dev server's state as it is on disk: the database file and its write-ahead log. */
function databaseBytes(): Buffer {
  return Buffer.concat(
    [dbFile, `${dbFile}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
  );
}

/** The markers of `who` that `content` holds. */
function found(content: string | Buffer, who: { markers: string[] }): string[] {
  return who.markers.filter((m) => content.includes(m));
}

const runOf = (h: Harness, id: string, eventId: string) => `flow/enc-joiner/${id}/${eventId}`;

async function waitingOnApproval(h: Harness, client: Client, runId: string): Promise<void> {
  await h.eventually(async () => {
    const state = await client.workflow
      .getHandle(runId)
      .query<RunState>('state')
      .catch(() => undefined);
    return state?.waitingOn?.kind === 'approval' ? true : undefined;
  }, 60_000);
}

function approve(client: Client, runId: string) {
  return client.workflow.getHandle(runId).executeUpdate('decide', {
    args: [
      {
        step: 'ask-manager',
        decision: 'approve',
        by: 'p-enc-mgr',
        onBehalfOf: 'p-enc-mgr',
        channel: 'api',
        comment: 'ok',
      },
    ],
  });
}

/** A joiner run through to its end: started, waiting on the manager, approved, completed. */
async function joiner(h: Harness, who: typeof PLAIN): Promise<string> {
  const event = makeEvent('person.joiner', who.subject, { attributes: who.attributes });
  expect((await h.postEvent(event)).status).toBe(202);
  const runId = runOf(h, who.subject.id, event.id as string);
  await waitingOnApproval(h, h.client, runId);
  await approve(h.client, runId);
  expect(await h.runOutcome(runId, 60_000)).toMatchObject({ ok: true });
  return runId;
}

/** Stops the harness's gateway and worker and starts them with `keys`. */
async function restartWith(h: Harness, keys: string): Promise<void> {
  h.options.env = { ...h.options.env, IDFLOW_PAYLOAD_KEYS: keys };
  await h.stopWorker('SIGTERM');
  const gateway = h.gateway;
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
  }
  await Promise.all([h.startWorker(), h.startGateway()]);
}

beforeAll(async () => {
  server = await startDevServer({
    cli,
    port: await freePort(),
    dbFilename: dbFile,
    logFile: join(dir, 'temporal.log'),
  });
  plain = new Harness({ definitions: DEFINITIONS, temporalAddress: server.address });
  sealed = new Harness({
    definitions: DEFINITIONS,
    temporalAddress: server.address,
    env: { IDFLOW_PAYLOAD_KEYS: TEST_KEY_1 },
  });
  // one after the other: four idflow processes starting at once can take a loaded machine long
  await plain.start();
  await sealed.start();
  for (const h of [plain, sealed])
    await insertPersonIfAbsent(h.db.db, { id: 'p-enc-mgr', displayName: 'M', status: 'active' });
});

afterAll(async () => {
  await Promise.all([plain?.close(), sealed?.close()]);
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('without keys, the history and the database file hold the joiner’s personal data (the control)', async () => {
  const runId = await joiner(plain, PLAIN);
  const history = await show(runId);
  expect(history.code).toBe(0);
  expect(found(readable(history.stdout), PLAIN)).toEqual(PLAIN.markers);
  expect(found(databaseBytes(), PLAIN)).toEqual(PLAIN.markers);
});

test('with keys, neither the raw history nor the database file holds any of it; the codec endpoint shows it', async () => {
  const runId = await joiner(sealed, SEALED);
  const failed = makeEvent('test.enc-fail', FAILING.subject, { attributes: FAILING.attributes });
  expect((await sealed.postEvent(failed)).status).toBe(202);
  const failedRun = `flow/enc-fail/${FAILING.subject.id}/${failed.id as string}`;
  // the failure's message is the person's, decoded for whoever holds the keys
  expect(await sealed.runOutcome(failedRun)).toMatchObject({
    ok: false,
    message: expect.stringContaining('Failina Quietfield') as string,
  });
  const workflows = [
    runId,
    failedRun,
    `event/test-hr/${failed.id as string}`,
    `person/${sealed.taskQueue}/${SEALED.subject.id}`,
  ];
  for (const who of [SEALED, FAILING])
    expect([who.subject.id, found(databaseBytes(), who)]).toEqual([who.subject.id, []]);
  for (const workflowId of workflows) {
    const raw = await show(workflowId);
    expect(raw.code).toBe(0);
    expect([
      workflowId,
      found(readable(raw.stdout), SEALED),
      found(readable(raw.stdout), FAILING),
    ]).toEqual([workflowId, [], []]);
  }
  // the control holds within the same file: the plain harness's joiner is readable there
  expect(found(databaseBytes(), PLAIN)).toEqual(PLAIN.markers);

  const decoded = await show(runId, { url: sealed.gatewayUrl, token: sealed.token });
  expect(decoded).toMatchObject({ code: 0 });
  expect(found(readable(decoded.stdout), SEALED)).toEqual(SEALED.markers);
  const failure = await show(failedRun, { url: sealed.gatewayUrl, token: sealed.token });
  expect(readable(failure.stdout)).toContain('no desk for Failina Quietfield');

  // what stays readable names the person by id; GET /v1/runs decodes the summary memo
  const description = await sealed.client.workflow.getHandle(runId).describe();
  expect(await description.staticSummary()).toBe('Encrypted joiner: p-enc-1 — enc-joiner');
  const listed = await sealed.request<{ runs: RunSummary[] }>('GET', '/v1/runs?person=p-enc-1');
  expect(listed.body.runs.map((r) => r.summary)).toEqual([
    'Encrypted joiner: Cyphra Sealworth — enc-joiner',
  ]);
});

test('a run started under key 1 completes after key 2 encrypts, and decodes; without key 1 the error names it', async () => {
  const event = makeEvent('person.joiner', ROTATED.subject, { attributes: ROTATED.attributes });
  expect((await sealed.postEvent(event)).status).toBe(202);
  const runId = runOf(sealed, ROTATED.subject.id, event.id as string);
  await waitingOnApproval(sealed, sealed.client, runId);

  await restartWith(sealed, `${TEST_KEY_2},${TEST_KEY_1}`);
  const rotated = new Client({
    connection: sealed.client.connection,
    dataConverter: idflowDataConverter(testKeys(`${TEST_KEY_2},${TEST_KEY_1}`)),
  });
  await waitingOnApproval(sealed, rotated, runId);
  await approve(rotated, runId);
  await expect(rotated.workflow.getHandle(runId).result()).resolves.toMatchObject({
    status: 'Completed',
  });

  // its history holds payloads under both keys, and decodes whole through the codec endpoint
  const raw = await show(runId);
  const keyIds = new Set<string>();
  JSON.stringify(JSON.parse(raw.stdout), (key, value: unknown) => {
    if (key === 'encryption-key-id' && typeof value === 'string')
      keyIds.add(Buffer.from(value, 'base64').toString());
    return value;
  });
  expect([...keyIds].sort()).toEqual(['test-k1', 'test-k2']);
  expect(found(readable(raw.stdout), ROTATED)).toEqual([]);
  const decoded = await show(runId, { url: sealed.gatewayUrl, token: sealed.token });
  expect(decoded).toMatchObject({ code: 0 });
  expect(found(readable(decoded.stdout), ROTATED)).toEqual(ROTATED.markers);

  // key 1 retired too early: the codec endpoint says which key it lacks, and nothing else
  await restartWith(sealed, TEST_KEY_2);
  const underKey1: unknown[] = [];
  JSON.stringify(JSON.parse(raw.stdout), (_key, value: unknown) => {
    const id = (value as { metadata?: Record<string, string> } | null)?.metadata?.[
      'encryption-key-id'
    ];
    if (id && Buffer.from(id, 'base64').toString() === 'test-k1') underKey1.push(value);
    return value;
  });
  const refused = await fetch(`${sealed.gatewayUrl}/codec/decode`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sealed.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ payloads: underKey1.slice(0, 3) }),
  });
  const problem = await refused.text();
  expect(refused.status).toBe(400);
  expect(problem).toContain(
    "payloads/0: a payload is encrypted with key 'test-k1', which is not configured (configured: test-k2)",
  );
  expect(found(problem, ROTATED)).toEqual([]);
});
