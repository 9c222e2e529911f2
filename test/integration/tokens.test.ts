/**
 * Tokens and rate limits against a real gateway: `idflow tokens list` warns about tokens
 * expired or ending soon; `idflow tokens rotate` with an overlap keeps the old token working
 * until the overlap ends, then 401; a token bound to a source sends only that source's events;
 * per-token and per-source limits answer 429 with the real Retry-After; every refusal is in
 * the audit trail as counted `request.refused` rows, and no credential is in the audit table
 * or the gateway's log.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db/repos/audit';
import { auditLog } from '../../src/db/schema';
import { hashToken, TokenService } from '../../src/gateway/services/tokens';
import { Harness, makeEvent, ROOT } from '../support/harness';

let h: Harness;
/** Every credential the test presented or was shown: none may be stored or logged. */
const presented: string[] = [];
/** A token that expired two days ago (the CLI cannot make one). */
let gone = { id: '', token: '' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  h = new Harness({
    definitions: ['test/fixtures/runtime'],
    env: {
      // request lines are logged at info, with their (redacted) headers
      IDFLOW_LOG_LEVEL: 'info',
      IDFLOW_RATE_LIMIT_PER_MINUTE: '25',
      IDFLOW_SOURCE_RATE_LIMIT_PER_MINUTE: '4',
      IDFLOW_REFUSAL_AUDIT_INTERVAL: '1s',
    },
  });
  await h.start();
  presented.push(h.token);
});

afterAll(async () => {
  await h?.close();
});

/** A token made through the service the CLI calls (a CLI process is slow to start). */
async function serviceToken(
  name: string,
  scopes: string[] = ['events:read', 'events:write'],
  extra: { source?: string; expiresAt?: Date } = {},
): Promise<{ id: string; token: string }> {
  const { token, row } = await new TokenService(h.db.db).create({
    name,
    scopes,
    ...extra,
    actor: 'test',
  });
  presented.push(token);
  return { id: row.id, token };
}

/** `idflow tokens create …`: the token it prints once. */
async function createToken(...args: string[]): Promise<string> {
  const result = await h.idflow('tokens', 'create', ...args);
  expect(result).toMatchObject({ code: 0 });
  const token = result.stdout.trim();
  expect(token).toMatch(/^idf_[A-Za-z0-9_-]{43}$/);
  presented.push(token);
  return token;
}

const lookup = (token: string) => h.request('GET', '/v1/events/any-src/none', { token });
const event = (source: string) =>
  makeEvent('test.unmatched', { id: `p-tok-${randomBytes(3).toString('hex')}` }, { source });

test('tokens list warns about tokens expired or ending within the warning window, and marks revoked ones', async () => {
  await createToken('--name', 'soon', '--expires', '3d');
  await createToken('--name', 'later', '--expires', '30d');
  const dropped = await serviceToken('dropped');
  expect(await new TokenService(h.db.db).revoke(dropped.id, 'test')).toBe(true);
  gone = await serviceToken('gone', ['events:read'], {
    expiresAt: new Date(Date.now() - 2 * 86_400_000),
  });

  const result = await h.idflow('tokens', 'list');
  expect(result.code).toBe(0);
  const lines = result.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+EXPIRES\s+WARNING\s+LAST USED\s+SCOPES/);
  const line = (name: string) => lines.find((l) => l.split(/\s+/)[1] === name) ?? '';
  expect(line('soon')).toMatch(/ expiring +\d{4}-\d\d-\d\dT\S+Z +! expires in 2d 23h /);
  expect(line('later')).toMatch(/ active +\S+Z +never /);
  expect(line('gone')).toMatch(/ expired +\S+Z +! expired 2d ago /);
  expect(line('dropped')).toMatch(/ revoked +never +! revoked /);
  expect(line('test-admin')).toMatch(/ active +never /);
  expect(result.stderr).toContain('2 token(s) expired or ending within 14 days');

  // a wider window warns about the 30-day token too
  const wide = await h.idflow('tokens', 'list', '--warn-days', '40');
  expect(wide.stdout.split('\n').find((l) => l.includes(' later '))).toMatch(
    / expiring .* ! expires in 29d 23h /,
  );
  expect((await h.idflow('tokens', 'list', '--warn-days', 'two')).stderr).toContain(
    "--warn-days must be a whole number of days from 0 to 3650, not 'two'",
  );

  const json = await h.idflow('tokens', 'list', '--json');
  const rows = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
  expect(rows.find((t) => t.name === 'soon')).toMatchObject({
    state: 'expiring',
    warning: 'expires in 2d 23h',
  });
  expect(rows.find((t) => t.name === 'dropped')).toMatchObject({ state: 'revoked' });
  for (const row of rows) expect(row).not.toHaveProperty('tokenHash');
}, 180_000);

test('a rotated token keeps working until the overlap ends, then 401; the new one keeps its scopes and source', async () => {
  const { token: old } = await serviceToken('rotor', ['events:read', 'events:write'], {
    source: 'rot-src',
    expiresAt: new Date(Date.now() + 30 * 86_400_000),
  });
  expect((await lookup(old)).status).toBe(404);

  // the rotation whose timing is measured goes through the service the CLI calls (a CLI
  // process can take seconds to start on a loaded machine); the CLI's rotate follows below
  const tokens = new TokenService(h.db.db);
  const rotation = await tokens.rotate({ token: 'rotor', overlapMs: 6_000, actor: 'test' });
  const fresh = rotation.token;
  presented.push(fresh);
  const endsAt = rotation.oldEndsAt.getTime();
  expect(rotation.row).toMatchObject({
    name: 'rotor',
    scopes: ['events:read', 'events:write'],
    source: 'rot-src',
    personId: null,
    revokedAt: null,
  });
  // the new token lives as long as the old one was meant to (30 days)
  expect(
    (rotation.row.expiresAt?.getTime() ?? 0) - rotation.row.createdAt.getTime() - 30 * 86_400_000,
  ).toBeLessThan(60_000);

  // both work during the overlap; the name is now ambiguous
  expect((await lookup(old)).status).toBe(404);
  expect((await lookup(fresh)).status).toBe(404);
  await expect(tokens.rotate({ token: 'rotor', actor: 'test' })).rejects.toThrow(
    /^2 live tokens are named 'rotor' \(\S+, \S+\): name one by its id$/,
  );

  // the old token works to the end of the overlap, and is refused from then on (at the latest
  // once the gateway's 5 s token cache has looked again; one lookup a second, as the token's
  // own rate limit is 25 a minute)
  const statuses: Array<[number, number]> = [];
  while (statuses.length < 20 && statuses.at(-1)?.[1] !== 401) {
    statuses.push([Date.now(), (await lookup(old)).status]);
    await sleep(1_000);
  }
  expect(statuses.at(-1)?.[1]).toBe(401);
  for (const [at, status] of statuses) if (at < endsAt) expect(status).toBe(404);
  expect(statuses.filter(([, status]) => status === 404).length).toBeGreaterThan(0);
  expect((await lookup(fresh)).status).toBe(404);
  // the new token is bound to the source as the old one was
  expect((await h.postEvent(event('rot-src'), fresh)).status).toBe(202);
  expect((await h.postEvent(event('other-src'), fresh)).status).toBe(403);

  const audit = await h.db.db.select().from(auditLog).where(eq(auditLog.action, 'token.rotated'));
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({
    target: `token:${rotation.old.id}`,
    outcome: 'ok',
    detail: {
      name: 'rotor',
      oldTokenId: rotation.old.id,
      newTokenId: rotation.row.id,
      oldTokenEnds: 'expires',
      oldTokenEndsAt: rotation.oldEndsAt.toISOString(),
    },
  });

  // the CLI: an expired token cannot be rotated; by name, the one live token is, revoked at once
  const expired = await h.idflow('tokens', 'rotate', rotation.old.id);
  expect(expired.code).toBe(1);
  expect(expired.stderr).toContain(`token ${rotation.old.id} ('rotor') is expired since`);
  const again = await h.idflow('tokens', 'rotate', 'rotor');
  expect(again.code).toBe(0);
  const newest = again.stdout.trim();
  presented.push(newest);
  expect(newest).toMatch(/^idf_[A-Za-z0-9_-]{43}$/);
  expect(again.stderr).toContain(`replaces ${rotation.row.id}, which is revoked`);
  expect(
    (await tokens.overview(new Date(), 0)).find((t) => t.id === rotation.row.id),
  ).toMatchObject({ state: 'revoked' });
  await h.eventually(async () => ((await lookup(fresh)).status === 401 ? true : undefined));
  expect((await lookup(newest)).status).toBe(404);

  // with an overlap, the CLI says until when the old token works; two live tokens of a name
  // are rotated by id
  await serviceToken('rotor-2', ['events:read']);
  const overlapped = await h.idflow(
    'tokens',
    'rotate',
    'rotor-2',
    '--overlap',
    '1h',
    '--expires-in',
    '30d',
  );
  expect(overlapped.code).toBe(0);
  presented.push(overlapped.stdout.trim());
  expect(overlapped.stderr).toMatch(
    /replaces \S+, which keeps working until \S+Z; the new token expires \S+Z\. It is shown only now:/,
  );
  const ambiguous = await h.idflow('tokens', 'rotate', 'rotor-2');
  expect(ambiguous.code).toBe(1);
  expect(ambiguous.stderr).toMatch(
    /2 live tokens are named 'rotor-2' \(\S+, \S+\): name one by its id/,
  );
  const pair = (await tokens.overview(new Date(), 14 * 86_400_000)).filter(
    (t) => t.name === 'rotor-2',
  );
  expect(pair.map((t) => t.state)).toEqual(['expiring', 'active']);

  const unknown = await h.idflow('tokens', 'rotate', 'nosuch');
  expect(unknown.stderr).toContain("no token with id or name 'nosuch'");
  expect((await h.idflow('tokens', 'rotate', 'rotor', '--overlap', '2 days')).stderr).toContain(
    "--overlap must be a duration like 90d or 1h30m, not '2 days'",
  );
}, 180_000);

test('a token bound to a source sends only its events: another source is 403 naming both', async () => {
  const bound = await createToken('--name', 'hr-a-sender', '--source', 'hr-a');
  expect((await h.postEvent(event('hr-a'), bound)).status).toBe(202);
  const refused = await h.postEvent(event('hr-b'), bound);
  expect(refused.status).toBe(403);
  expect(refused.body.detail).toBe(
    "token 'hr-a-sender' sends as source 'hr-a' and may not send events of source 'hr-b'",
  );
  expect(
    (await h.idflow('tokens', 'create', '--name', 'x', '--source', 'Not A Source')).stderr,
  ).toContain('--source must be lowercase letters, digits, ., _ or -, like workday');
}, 120_000);

test('per token: 429 with the seconds left in the window, not a constant', async () => {
  const { token } = await serviceToken('chatty', ['events:read']);
  expect((await lookup(token)).status).toBe(404);
  await sleep(2_100);
  for (let i = 2; i <= 25; i++) expect((await lookup(token)).status).toBe(404);
  const refused = await lookup(token);
  expect(refused.status).toBe(429);
  expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const wait = Number(refused.headers.get('retry-after'));
  expect(wait).toBeGreaterThanOrEqual(1);
  expect(wait).toBeLessThanOrEqual(58);
  expect(refused.headers.get('ratelimit-policy')).toMatch(/q=25; w=60/);
  expect(refused.body).toMatchObject({ status: 429, limit: 25, retryAfterSeconds: wait });
  // another token is not held back
  expect((await lookup(h.token)).status).toBe(404);
});

test('per source: 429 with Retry-After once a source sent its limit, other sources go on', async () => {
  const { token } = await serviceToken('multi-source');
  for (let i = 0; i < 4; i++) expect((await h.postEvent(event('lim-src'), token)).status).toBe(202);
  const refused = await h.postEvent(event('lim-src'), token);
  expect(refused.status).toBe(429);
  const wait = Number(refused.headers.get('retry-after'));
  expect(wait).toBeGreaterThanOrEqual(1);
  expect(wait).toBeLessThanOrEqual(60);
  expect(refused.body).toMatchObject({
    type: 'urn:idflow:problem:rate-limited',
    source: 'lim-src',
    limit: 4,
    retryAfterSeconds: wait,
    detail: "source 'lim-src' sends at most 4 requests a minute",
  });
  expect((await h.postEvent(event('other-src'), token)).status).toBe(202);
});

test('every refusal is audited, counted, without the credential; the log holds none either', async () => {
  // no token, made-up tokens (a flood), a revoked and an expired one, a missing scope
  for (let i = 0; i < 3; i++)
    expect((await h.request('GET', '/v1/runs', { token: null })).status).toBe(401);
  // a string that is no idflow token is refused like an unknown one (without a lookup)
  presented.push('not-a-token');
  expect((await h.request('GET', '/v1/runs', { token: 'not-a-token' })).status).toBe(401);
  const madeUp = Array.from({ length: 40 }, () => `idf_${randomBytes(32).toString('base64url')}`);
  presented.push(...madeUp);
  const answers = await Promise.all(madeUp.map((token) => h.postEvent(event('any-src'), token)));
  expect(answers.map((a) => a.status)).toEqual(madeUp.map(() => 401));
  const { token: revoked, id: revokedId } = await serviceToken('revoked-one', ['events:read']);
  await new TokenService(h.db.db).revoke(revokedId, 'test');
  expect((await lookup(revoked)).status).toBe(401);
  expect((await lookup(gone.token)).status).toBe(401);
  const { token: reader } = await serviceToken('reader', ['events:read']);
  expect((await h.postEvent(event('any-src'), reader)).status).toBe(403);

  type Row = { target: string; actor: string; detail: Record<string, unknown> };
  const refusals = async () =>
    (await h.db.db
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.action, 'request.refused'), eq(auditLog.outcome, 'refused')),
      )) as Row[];
  const sum = (rows: Row[], match: Record<string, unknown>) =>
    rows
      .filter((r) => Object.entries(match).every(([k, v]) => r.detail[k] === v))
      .reduce((n, r) => n + (r.detail.count as number), 0);
  const rows = await h.eventually(async () => {
    const all = await refusals();
    return sum(all, { reason: 'unknown-token', route: '/v1/events' }) === 40 &&
      sum(all, { reason: 'missing-scope' }) === 1
      ? all
      : undefined;
  });
  // forty made-up tokens: a row or two, not forty
  const flood = rows.filter(
    (r) => r.detail.reason === 'unknown-token' && r.detail.route === '/v1/events',
  );
  expect(flood.length).toBeLessThanOrEqual(3);
  expect(flood[0]).toMatchObject({
    actor: 'anonymous',
    target: 'route:POST /v1/events',
    detail: { status: 401, method: 'POST', tokenId: 'unknown' },
  });
  expect(sum(rows, { reason: 'no-token', route: '/v1/runs', method: 'GET' })).toBe(3);
  expect(sum(rows, { reason: 'unknown-token', route: '/v1/runs', method: 'GET' })).toBe(1);
  expect(sum(rows, { reason: 'revoked-token', tokenId: revokedId })).toBeGreaterThanOrEqual(1);
  expect(sum(rows, { reason: 'missing-scope', route: '/v1/events', status: 403 })).toBe(1);
  expect(sum(rows, { reason: 'wrong-source', source: 'hr-b', tokenSource: 'hr-a' })).toBe(1);
  expect(sum(rows, { reason: 'token-rate-limited', status: 429 })).toBe(1);
  expect(sum(rows, { reason: 'source-rate-limited', source: 'lim-src' })).toBe(1);
  expect(sum(rows, { reason: 'expired-token', tokenId: gone.id })).toBe(1);
  expect(rows.find((r) => r.detail.tokenId === gone.id)?.actor).toBe('token:gone');

  // no credential, hash or Authorization header anywhere in the audit table
  const table = rowsOf<{ row: string }>(
    await h.db.db.execute(sql`select row_to_json(a)::text as row from audit_log a`),
  ).map((r) => r.row);
  const text = table.join('\n');
  expect(text).not.toMatch(/idf_[A-Za-z0-9_-]{20,}/);
  expect(text.toLowerCase()).not.toContain('bearer');
  for (const token of presented) {
    expect(text).not.toContain(token);
    expect(text).not.toContain(hashToken(token));
  }

  // nor in the gateway's log, which logged the requests with their headers redacted
  await sleep(500);
  const log = readFileSync(join(ROOT, '.idflow', 'test', `${h.taskQueue}.log`), 'utf8');
  expect(log).toContain('"authorization":"[redacted]"');
  expect(log).not.toMatch(/idf_[A-Za-z0-9_-]{20,}/);
  for (const token of presented) {
    expect(log).not.toContain(token);
    expect(log).not.toContain(hashToken(token));
  }
});
