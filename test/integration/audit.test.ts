/**
 * The tamper-evident audit trail on real PostgreSQL: concurrent writers in two processes' pools
 * keep one chain; `idflow audit verify` passes on a clean log and names the row after a row is
 * edited, deleted or inserted in SQL (by someone who can switch the append-only trigger off);
 * prune refuses without a signing key, writes a signed checkpoint, and verification carries on
 * from it; `GET /v1/audit` filters, pages and streams CSV, and names every bad field.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import { chainHash } from '../../src/audit/chain';
import { generateCheckpointKeys } from '../../src/audit/keys';
import { openDatabase, type DatabaseHandle } from '../../src/db/client';
import { appendAudit, type AuditEntry } from '../../src/db/repos/audit';
import { TokenService } from '../../src/gateway/services/tokens';
import { Harness, ROOT } from '../support/harness';

let h: Harness;
let admin: postgres.Sql;
let second: DatabaseHandle;
const keys = generateCheckpointKeys();

beforeAll(async () => {
  h = new Harness({ definitions: ['test/fixtures/runtime'] });
  await h.start();
  admin = postgres(h.env().DATABASE_URL as string, { max: 1, onnotice: () => undefined });
  // a second pool, as a second process (another worker, the CLI) would hold
  second = await openDatabase({ databaseUrl: h.env().DATABASE_URL, dataDir: '', max: 4 });
});

afterAll(async () => {
  await admin?.end();
  await second?.close();
  await h?.close();
});

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

/** `idflow <args>` as a user runs it, against this test's database. */
function idflow(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Cli> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'idflow.js'), ...args],
      { env: { ...h.env(), ...env }, cwd: ROOT },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** What an attacker with the database's admin rights does, trigger off and on again. */
async function tamper(statement: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  await admin`alter table audit_log disable trigger audit_log_append_only`;
  try {
    await statement(admin);
  } finally {
    await admin`alter table audit_log enable trigger audit_log_append_only`;
  }
}

const entry = (n: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  actor: 'it-audit:writer',
  action: 'it-audit.wrote',
  target: `it-audit-target:${n}`,
  outcome: 'ok',
  detail: { n, nested: { b: [1.5, 'x'], a: null } },
  ...extra,
});

/** Removes a row as an attacker would; the returned function puts it back exactly. */
async function removeRow(seq: number): Promise<() => Promise<void>> {
  const copy = `it_audit_saved_${seq}`;
  await admin.unsafe(`create table ${copy} as select * from audit_log where seq = ${seq}`);
  await tamper((sql) => sql`delete from audit_log where seq = ${seq}`);
  return async () => {
    await tamper((sql) => sql.unsafe(`insert into audit_log select * from ${copy}`));
    await admin.unsafe(`drop table ${copy}`);
  };
}

async function seqOf(target: string): Promise<number> {
  const [row] = await admin<
    Array<{ seq: string }>
  >`select seq::text as seq from audit_log where target = ${target}`;
  if (!row) throw new Error(`no row for ${target}`);
  return Number(row.seq);
}

test('writers in two pools at once, duplicates and rolled-back rows keep one chain', async () => {
  const dbs = [h.db.db, second.db];
  await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      appendAudit(dbs[i % 2]!, [
        entry(i, { dedupeKey: `it-audit:dup:${i % 20}` }),
        entry(i, { target: `it-audit-batch:${i}` }),
      ]),
    ),
  );
  // a row written in a transaction that rolls back leaves the chain as it was
  await h.db.db
    .transaction(async (tx) => {
      await appendAudit(tx, entry(999, { target: 'it-audit-rolled-back' }));
      throw new Error('roll back');
    })
    .catch(() => undefined);
  const [dups] = await admin<
    Array<{ n: number }>
  >`select count(*)::int as n from audit_log where dedupe_key like 'it-audit:dup:%'`;
  expect(dups?.n).toBe(20);
  const [batch] = await admin<
    Array<{ n: number }>
  >`select count(*)::int as n from audit_log where target like 'it-audit-batch:%'`;
  expect(batch?.n).toBe(60);
  // each row links to the one before it in seq order: no fork, no gap in the chain
  const rows = await admin<Array<{ prev_hash: string; hash: string }>>`
    select prev_hash, hash from audit_log where hash is not null order by seq`;
  rows.slice(1).forEach((r, i) => expect(r.prev_hash).toBe(rows[i]?.hash));
  const verify = await idflow(['audit', 'verify']);
  expect(verify).toMatchObject({ code: 0 });
  expect(verify.stdout).toMatch(/^audit chain intact: \d+ rows verified; head row \d+/);
});

test('verify names the row after an edit, a delete and an insertion in SQL', async () => {
  for (let i = 0; i < 6; i++) await appendAudit(h.db.db, entry(i, { target: `it-audit-t:${i}` }));
  // numbers no row takes (as an append that lost its transaction leaves them)
  await admin`select nextval('audit_log_seq_seq') from generate_series(1, 3)`;
  for (let i = 6; i < 9; i++) await appendAudit(h.db.db, entry(i, { target: `it-audit-t:${i}` }));
  expect((await idflow(['audit', 'verify'])).code).toBe(0);

  // edited: the row itself no longer matches its hash
  const edited = await seqOf('it-audit-t:2');
  await tamper((sql) => sql`update audit_log set outcome = 'failed' where seq = ${edited}`);
  let verify = await idflow(['audit', 'verify']);
  expect(verify.code).toBe(1);
  expect(verify.stderr).toContain(
    `idflow: audit chain broken at row ${edited} (changed): row ${edited} was changed: its content does not match its hash`,
  );
  await tamper((sql) => sql`update audit_log set outcome = 'ok' where seq = ${edited}`);
  expect((await idflow(['audit', 'verify'])).code).toBe(0);

  // removed: the next row's prev_hash matches no row before it
  const removed = await seqOf('it-audit-t:3');
  const next = await seqOf('it-audit-t:4');
  const restore = await removeRow(removed);
  verify = await idflow(['audit', 'verify']);
  expect(verify.code).toBe(1);
  expect(verify.stderr).toContain(
    `audit chain broken at row ${next} (removed): rows were removed before row ${next}: its prev_hash`,
  );
  expect(verify.stderr).toContain(`is not the hash of row ${edited}`);
  await restore();
  expect((await idflow(['audit', 'verify'])).code).toBe(0);

  // inserted out of order: a row forged into the gap, hashed as if it followed the row before
  const before = await seqOf('it-audit-t:5');
  const after = await seqOf('it-audit-t:6');
  const forgedSeq = before + 1;
  expect(forgedSeq).toBeLessThan(after);
  const [prev] = await admin<
    Array<{ hash: string }>
  >`select hash from audit_log where seq = ${before}`;
  const forged = {
    seq: forgedSeq,
    at: new Date(),
    actor: 'cli:someone',
    action: 'token.created',
    target: 'token:forged',
    outcome: 'ok',
    detail: {},
    runId: null,
    dedupeKey: null,
  };
  const hash = chainHash(prev!.hash, forged);
  await tamper(
    (
      sql,
    ) => sql`insert into audit_log (seq, at, actor, action, target, outcome, detail, prev_hash, hash)
      values (${forged.seq}, ${forged.at}, ${forged.actor}, ${forged.action}, ${forged.target},
              ${forged.outcome}, '{}'::jsonb, ${prev!.hash}, ${hash})`,
  );
  verify = await idflow(['audit', 'verify']);
  expect(verify.code).toBe(1);
  expect(verify.stderr).toContain(
    `audit chain broken at row ${forgedSeq} (inserted): row ${forgedSeq} was inserted out of order: row ${after} follows the row before it`,
  );
  await tamper((sql) => sql`delete from audit_log where seq = ${forgedSeq}`);

  // inserted outside the chain: a plain INSERT, as the table took rows before the chain
  await tamper(
    (sql) =>
      sql`insert into audit_log (actor, action, target, outcome) values ('cli:someone', 'token.revoked', 'token:x', 'ok')`,
  );
  const [plain] = await admin<Array<{ seq: string }>>`select max(seq)::text as seq from audit_log`;
  verify = await idflow(['audit', 'verify']);
  expect(verify.code).toBe(1);
  expect(verify.stderr).toContain(
    `audit chain broken at row ${plain!.seq} (inserted): row ${plain!.seq} has no hash: it was written outside the chain`,
  );
  await tamper((sql) => sql`delete from audit_log where seq = ${Number(plain!.seq)}`);
  expect((await idflow(['audit', 'verify'])).code).toBe(0);

  // the append-only trigger itself still refuses both
  await expect(admin`update audit_log set outcome = 'x' where seq = ${edited}`).rejects.toThrow(
    /append-only/,
  );
  await expect(admin`delete from audit_log where seq = ${edited}`).rejects.toThrow(/append-only/);
});

test('GET /v1/audit filters, pages with a cursor, streams CSV and names bad fields', async () => {
  for (let i = 0; i < 23; i++)
    await appendAudit(h.db.db, {
      actor: i === 22 ? '=HYPERLINK("x")' : 'it-audit:api',
      action: i % 2 ? 'it-audit.odd' : 'it-audit.even',
      target: `it-audit-api:${i % 3}`,
      outcome: i % 5 === 0 ? 'failed' : 'ok',
      detail: { i },
      ...(i < 4 ? { runId: 'flow/it-audit/p-it-audit-1/e-1' } : {}),
    });
  type Page = { entries: Array<Record<string, unknown>>; nextCursor?: string };
  const all = await h.request<Page>('GET', '/v1/audit?actor=it-audit%3Aapi&limit=1000');
  expect(all.status).toBe(200);
  expect(all.body.entries).toHaveLength(22);
  const seqs = all.body.entries.map((e) => e.seq as number);
  expect(seqs).toEqual([...seqs].sort((a, b) => b - a));

  // pages of 5 give the same rows, newest first, once each
  const paged: number[] = [];
  let cursor: string | undefined;
  do {
    const res = await h.request<Page>(
      'GET',
      `/v1/audit?actor=it-audit%3Aapi&limit=5${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status).toBe(200);
    paged.push(...res.body.entries.map((e) => e.seq as number));
    cursor = res.body.nextCursor;
  } while (cursor);
  expect(paged).toEqual(seqs);

  const numbers = (page: { body: Page }) =>
    page.body.entries.map((e) => (e.detail as { i: number }).i);
  const filter = '/v1/audit?actor=it-audit%3Aapi&target=it-audit-api%3A0&outcome=failed';
  expect(numbers(await h.request<Page>('GET', filter))).toEqual([15, 0]);
  expect(numbers(await h.request<Page>('GET', `${filter}&action=it-audit.even`))).toEqual([0]);
  const byRun = await h.request<Page>(
    'GET',
    `/v1/audit?run=${encodeURIComponent('flow/it-audit/p-it-audit-1/e-1')}&order=asc`,
  );
  expect(numbers(byRun)).toEqual([0, 1, 2, 3]);
  const from = all.body.entries[15]!.at as string;
  const to = all.body.entries[5]!.at as string;
  const window = await h.request<Page>(
    'GET',
    `/v1/audit?actor=it-audit%3Aapi&from=${from}&to=${to}&limit=1000`,
  );
  expect(window.body.entries.map((e) => e.seq)).toEqual(
    all.body.entries
      .filter((e) => (e.at as string) >= from && (e.at as string) < to)
      .map((e) => e.seq),
  );

  // CSV: by Accept or format, every matching row, formulas defused
  const csv = await fetch(`${h.gatewayUrl}/v1/audit?target=it-audit-api%3A1&order=asc`, {
    headers: { authorization: `Bearer ${h.token}`, accept: 'text/csv' },
  });
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
  const lines = (await csv.text()).split('\r\n');
  expect(lines[0]).toBe(
    'seq,at,actor,action,target,outcome,run_id,dedupe_key,detail,prev_hash,hash',
  );
  expect(lines.slice(1, -1)).toHaveLength(8);
  expect(lines.at(-1)).toBe('');
  expect(lines.find((l) => l.includes('HYPERLINK'))).toContain(`"'=HYPERLINK(""x"")"`);
  const viaFormat = await fetch(`${h.gatewayUrl}/v1/audit?target=it-audit-api%3A1&format=csv`, {
    headers: { authorization: `Bearer ${h.token}` },
  });
  expect((await viaFormat.text()).split('\r\n')).toHaveLength(10);

  // every bad field named in one problem+json; never a 5xx
  const bad = await h.request<{ errors: Array<{ path: string }> }>(
    'GET',
    '/v1/audit?from=yesterday&limit=5000&outcome=NOT%20OK&cursor=%21&sort=seq&actor=a&actor=b',
  );
  expect(bad.status).toBe(400);
  expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(bad.body.errors.map((e) => e.path).sort()).toEqual([
    '/actor',
    '/cursor',
    '/from',
    '/limit',
    '/outcome',
    '/sort',
  ]);

  // the scope: a token without audit:read is refused
  const { token } = await new TokenService(h.db.db).create({
    name: 'it-audit-events-only',
    scopes: ['events:write'],
    actor: 'test',
  });
  expect((await h.request('GET', '/v1/audit', { token })).status).toBe(403);
  expect((await h.request('GET', '/v1/audit', { token: null })).status).toBe(401);
});

test('idflow audit list and export print the filtered rows', async () => {
  const list = await idflow(['audit', 'list', '--actor', 'it-audit:api', '--limit', '3']);
  expect(list.code).toBe(0);
  const lines = list.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^SEQ +AT +ACTOR +ACTION +TARGET +OUTCOME +RUN +DETAIL$/);
  expect(lines).toHaveLength(4);
  expect(list.stderr).toMatch(/^more: --cursor \S+/);
  const bad = await idflow(['audit', 'list', '--from', 'soon']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('idflow: --from must be an ISO 8601 date or date-time');

  const out = join(ROOT, '.idflow', 'test', `audit-${h.taskQueue}.csv`);
  const exported = await idflow(['audit', 'export', '--actor', 'it-audit:api', '--output', out]);
  expect(exported).toMatchObject({ code: 0, stderr: `wrote 22 audit rows to ${out}\n` });
});

test('prune: refused without a key, then a signed checkpoint that verification starts from', async () => {
  const refused = await idflow(['audit', 'prune', '--before', '2100-01-01']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(
    'idflow: the audit log is pruned only after a signed checkpoint: set IDFLOW_AUDIT_SIGNING_KEY',
  );
  const [refusal] = await admin<Array<{ outcome: string }>>`
    select outcome from audit_log where action = 'audit.pruned' order by seq desc limit 1`;
  expect(refusal?.outcome).toBe('refused');

  for (let i = 0; i < 3; i++) await appendAudit(h.db.db, entry(i, { target: `it-audit-old:${i}` }));
  const [cut] = await admin<Array<{ at: Date }>>`select clock_timestamp() as at`;
  await new Promise((resolve) => setTimeout(resolve, 20));
  for (let i = 0; i < 3; i++) await appendAudit(h.db.db, entry(i, { target: `it-audit-new:${i}` }));
  const [{ n: before } = { n: 0 }] = await admin<Array<{ n: number }>>`
    select count(*)::int as n from audit_log where at < ${cut!.at}`;
  const signing = { IDFLOW_AUDIT_SIGNING_KEY: keys.privateKey };
  const pruned = await idflow(['audit', 'prune', '--before', cut!.at.toISOString()], signing);
  expect(pruned.stderr).toBe('');
  expect(pruned.stdout).toMatch(
    new RegExp(
      `^pruned ${before} audit rows through row \\d+; checkpoint #\\d+ signed by key ${keys.id}`,
    ),
  );
  const [left] = await admin<Array<{ n: number }>>`
    select count(*)::int as n from audit_log where target like 'it-audit-old:%'`;
  expect(left?.n).toBe(0);

  // an auditor with the public key alone verifies from the checkpoint
  const auditor = { IDFLOW_AUDIT_PUBLIC_KEY: keys.publicKey };
  const verify = await idflow(['audit', 'verify'], auditor);
  expect(verify.code).toBe(0);
  expect(verify.stdout).toMatch(
    /from the checkpoint after row \d+; .*1 checkpoint signed correctly/,
  );
  // without a key the checkpoint cannot be trusted
  const keyless = await idflow(['audit', 'verify']);
  expect(keyless.code).toBe(1);
  expect(keyless.stderr).toContain('cannot be checked without its public key');

  // tampering after the checkpoint is still found
  const edited = await seqOf('it-audit-new:1');
  await tamper((sql) => sql`update audit_log set detail = '{"n": 7}' where seq = ${edited}`);
  const broken = await idflow(['audit', 'verify'], auditor);
  expect(broken.code).toBe(1);
  expect(broken.stderr).toContain(`row ${edited} was changed`);
  await tamper(
    (sql) =>
      sql`update audit_log set detail = '{"n": 1, "nested": {"a": null, "b": [1.5, "x"]}}' where seq = ${edited}`,
  );
  expect((await idflow(['audit', 'verify'], auditor)).code).toBe(0);

  // removing the first row after the checkpoint: it no longer follows the signed head
  const first = await seqOf('it-audit-new:0');
  const second = await seqOf('it-audit-new:1');
  const restore = await removeRow(first);
  const gone = await idflow(['audit', 'verify'], auditor);
  expect(gone.stderr).toContain(`(removed): rows were removed before row ${second}`);
  expect(gone.stderr).toMatch(/is not the hash of row \d+ \(/);
  await restore();

  // a checkpoint changed after signing (more rows claimed pruned) is named
  await admin`update audit_checkpoints set rows_pruned = rows_pruned + 1`;
  const forged = await idflow(['audit', 'verify'], auditor);
  expect(forged.code).toBe(1);
  expect(forged.stderr).toMatch(/\(checkpoint\): checkpoint #\d+'s signature does not verify/);
  await admin`update audit_checkpoints set rows_pruned = rows_pruned - 1`;
  expect((await idflow(['audit', 'verify'], auditor)).code).toBe(0);

  // the prune was audited, chained after the rows it kept
  const [audited] = await admin<Array<{ outcome: string; detail: Record<string, unknown> }>>`
    select outcome, detail from audit_log where action = 'audit.pruned' order by seq desc limit 1`;
  expect(audited).toMatchObject({ outcome: 'ok', detail: { rowsPruned: before, keyId: keys.id } });
});
