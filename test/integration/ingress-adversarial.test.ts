/**
 * The ingress surface attacked as an adversary and as a messy HR feed would, against the real
 * gateway, worker, Temporal and PostgreSQL: SCIM tokens of one source never reach another's
 * users; bad input under /scim/v2 is a 4xx SCIM error, never a 5xx; writes that change nothing
 * are no event; concurrent writes under one ETag are one change; personal data sent in a filter
 * stays out of the gateway's log; the codec endpoint refuses what it cannot decode with a 4xx,
 * never reflects a stranger's origin, and audits without contents; an unknown webhook source
 * looks like a forged signature.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { listAudit } from '../../src/db/repos/audit';
import { TokenService } from '../../src/gateway/services/tokens';
import { ROOT, Harness } from '../support/harness';
import { TEST_PAYLOAD_KEYS } from '../support/payload-keys';
import {
  ERROR,
  USER,
  eventTypes,
  filtered,
  patchOp,
  scim,
  type ScimAnswer,
} from '../support/scim-inbound';
import { signDelivery, testSecret, testWebhookId } from '../support/webhooks';

const SECRET = testSecret();
let h: Harness;
const tokens: Record<string, string> = {};
/** Personal data this test sends: none of it may reach the log or the audit trail. */
const PERSONAL = ['zelda.quux@adv.example', 'Zelda', 'Quuxington'];

beforeAll(async () => {
  h = new Harness({
    definitions: ['test/fixtures/runtime', 'test/fixtures/ingress-adversarial'],
    env: {
      ADV_WEBHOOK_SECRET: SECRET,
      IDFLOW_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      IDFLOW_CODEC_CORS_ORIGINS: 'http://localhost:8233',
      IDFLOW_REFUSAL_AUDIT_INTERVAL: '200ms',
      // every request line is logged: what it says about a request must hold no personal data
      IDFLOW_LOG_LEVEL: 'info',
    },
  });
  await h.start();
  const service = new TokenService(h.db.db);
  const make = async (name: string, scopes: string[], source?: string) => {
    tokens[name] = (
      await service.create({ name, scopes, ...(source ? { source } : {}), actor: 'test' })
    ).token;
  };
  await make('a', ['scim:write'], 'adv-a');
  await make('b', ['scim:write'], 'adv-b');
  await make('slow', ['scim:write'], 'adv-slow');
  await make('a-events', ['events:write'], 'adv-a');
  await make('decoder', ['payloads:decode']);
  await make('encoder', ['payloads:encode']);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

/** A SCIM error document with this status (a 4xx), in SCIM's media type. */
function scimError(res: ScimAnswer, status?: number) {
  if (status !== undefined) expect(res.status).toBe(status);
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(res.status) });
}

let counter = 0;
function person(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    schemas: [USER],
    externalId: `p-adv-${counter}`,
    userName: `user${counter}@adv.example`,
    active: true,
    ...overrides,
  };
}

async function created(token: string, body = person()): Promise<ScimAnswer> {
  const res = await scim(h, 'POST', '/Users', { token, body });
  expect(res.status).toBe(201);
  return res;
}

describe('SCIM: who may do what', () => {
  test('a token of source B neither reads nor changes nor lists source A’s users', async () => {
    const a = await created(tokens.a!);
    const id = a.body.id as string;
    const b = tokens.b!;
    scimError(await scim(h, 'GET', `/Users/${id}`, { token: b }), 404);
    scimError(
      await scim(h, 'PATCH', `/Users/${id}`, {
        token: b,
        body: patchOp({ op: 'replace', path: 'active', value: false }),
      }),
      404,
    );
    scimError(await scim(h, 'PUT', `/Users/${id}`, { token: b, body: person() }), 404);
    scimError(await scim(h, 'DELETE', `/Users/${id}`, { token: b }), 404);
    const list = await scim(h, 'GET', filtered(`id eq "${id}"`), { token: b });
    expect(list.body).toMatchObject({ totalResults: 0 });
    const all = await scim(h, 'GET', '/Users', { token: b });
    expect(JSON.stringify(all.body)).not.toContain(id);
    // and A's user is as it was
    const again = await scim(h, 'GET', `/Users/${id}`, { token: tokens.a });
    expect(again.body).toMatchObject({ active: true, meta: { version: 'W/"1"' } });
  });

  test('without scim:write, without a token, with a garbage token: SCIM errors, nothing written', async () => {
    for (const token of [
      tokens['a-events'],
      tokens.decoder,
      null,
      'idf_garbage',
      'x'.repeat(5000),
    ]) {
      const res = await scim(h, 'POST', '/Users', { token, body: person() });
      scimError(res);
      expect([401, 403]).toContain(res.status);
    }
  });
});

describe('SCIM: bad input is a 4xx SCIM error', () => {
  test('bodies: malformed, wrong type, deep, huge, NUL, lone surrogates, not an object', async () => {
    const token = tokens.a!;
    const bodies: Array<{ raw: string; contentType?: string }> = [
      { raw: '{"schemas": [' },
      { raw: '' },
      { raw: 'null' },
      { raw: '[]' },
      { raw: '"user"' },
      { raw: JSON.stringify(person()), contentType: 'text/plain' },
      { raw: JSON.stringify(person()), contentType: 'application/scim+json; charset=latin1' },
      { raw: `${'['.repeat(5000)}${']'.repeat(5000)}` },
      { raw: JSON.stringify(person({ displayName: 'x'.repeat(300_000) })) },
      { raw: JSON.stringify(person({ userName: 'nul\u0000@adv.example' })) },
      { raw: JSON.stringify(person({ externalId: 'p-\u0000' })) },
      { raw: '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\\ud800"}' },
      { raw: JSON.stringify(person({ userName: 42 })) },
      { raw: JSON.stringify(person({ userName: '' })) },
      { raw: JSON.stringify(person({ externalId: 'has spaces and ☃' })) },
      { raw: JSON.stringify(person({ __proto__: { admin: true } })) },
      {
        raw: '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"p@x","__proto__":{"x":1}}',
      },
      { raw: JSON.stringify(person({ emails: 'not-a-list' })) },
      { raw: JSON.stringify(person({ active: 'maybe' })) },
      { raw: JSON.stringify(person({ schemas: [] })) },
    ];
    for (const b of bodies) {
      const res = await scim(h, 'POST', '/Users', {
        token,
        raw: b.raw,
        ...(b.contentType ? { contentType: b.contentType } : {}),
      });
      if (res.status === 201) continue;
      try {
        scimError(res);
      } catch (err) {
        throw new Error(`${b.raw.slice(0, 80)} → ${res.status} ${res.text.slice(0, 300)}`, {
          cause: err,
        });
      }
    }
  });

  test('filters: injection, storms, length, any text', async () => {
    const token = tokens.a!;
    const fixed = [
      'userName eq "a" or 1 eq 1',
      `userName eq "a\\" or userName pr or userName eq \\"b"`,
      'userName eq "\\\\"',
      "userName eq 'x' ; drop table scim_users",
      Array.from({ length: 300 }, (_, i) => `userName eq "u${i}"`).join(' or '),
      `${'('.repeat(200)}userName eq "x"${')'.repeat(200)}`,
      'userName eq "' + 'x'.repeat(10_000) + '"',
      'emails[type eq "work"].value eq "x"',
      'emails[type eq "work" or value co "%"].value eq "x"',
      'userName sw "%"',
      'userName eq "%"',
      'meta.lastModified gt "2011-05-13T04:42:34Z"',
      'name.givenName eq "x"',
      'externalId eq null',
      'id eq "00000000-0000-0000-0000-000000000000" or id eq "not-a-uuid"',
      '',
      ' ',
      'userName eq "\u2028\u00e9\ud83d\ude00"',
    ];
    for (const filter of fixed) {
      const res = await scim(h, 'GET', filtered(filter), { token });
      if (res.status !== 200) scimError(res);
      else expect({ filter, total: res.body.totalResults }).toEqual({ filter, total: 0 });
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 120, unit: 'binary' }), async (filter) => {
        const res = await scim(h, 'GET', filtered(filter), { token });
        if (res.status !== 200) scimError(res);
      }),
      { numRuns: 60 },
    );
  });

  test('paging and ids: negative, huge, NaN, garbage ETags', async () => {
    const token = tokens.a!;
    for (const q of [
      'startIndex=-5',
      'startIndex=0',
      'startIndex=999999999',
      'startIndex=1e9',
      'startIndex=NaN',
      'count=-1',
      'count=0',
      'count=99999999',
      'count=abc',
      'startIndex=1&startIndex=2',
      'count=1&count=2',
      'filter=a&filter=b',
      'attributes=__proto__',
      'excludedAttributes=constructor.prototype',
      'attributes=' + 'x,'.repeat(3000),
    ]) {
      const res = await scim(h, 'GET', `/Users?${q}`, { token });
      if (res.status !== 200) scimError(res);
    }
    for (const id of [
      'x',
      '..',
      '%2e%2e',
      'null',
      '00000000-0000-0000-0000-000000000000',
      'a'.repeat(5000),
      '%F0%9F%98%80',
      '%ZZ',
    ]) {
      const res = await scim(h, 'GET', `/Users/${id}`, { token });
      scimError(res);
    }
    const { body } = await created(token);
    const id = body.id as string;
    for (const etag of ['garbage', 'W/', '"', 'W/"1', '1', '"2" , W/"', ',,,', 'W/"999"', '\t']) {
      const res = await scim(h, 'PATCH', `/Users/${id}`, {
        token,
        headers: { 'if-match': etag },
        body: patchOp({ op: 'replace', path: 'displayName', value: 'x' }),
      });
      expect({ etag, status: res.status }).toEqual({ etag, status: 412 });
      scimError(res, 412);
    }
  });

  test('PATCH paths that would reach an object’s prototype or rename the person', async () => {
    const token = tokens.a!;
    const { body } = await created(token);
    const id = body.id as string;
    const ops: unknown[] = [
      { op: 'add', path: '__proto__.polluted', value: 'yes' },
      { op: 'add', path: '__proto__', value: { polluted: 'yes' } },
      { op: 'replace', path: 'constructor.prototype.polluted', value: 'yes' },
      { op: 'add', path: 'name.__proto__', value: { polluted: 'yes' } },
      { op: 'add', value: { __proto__: { polluted: 'yes' } } },
      { op: 'add', value: JSON.parse('{"__proto__": {"polluted": "yes"}}') as unknown },
      { op: 'replace', path: 'emails[value eq "x"].__proto__', value: 'yes' },
      { op: 'remove', path: 'emails[' },
      { op: 'remove', path: 'emails[type eq "work"' },
      { op: 'remove', path: 'emails[type eq "work"]]' },
      { op: 'remove' },
      { op: 'Replace', path: 'id', value: '00000000-0000-0000-0000-000000000000' },
      { op: 'replace', path: 'meta.version', value: 'W/"99"' },
      { op: 'move', path: 'userName', value: 'x' },
      { op: 'replace', path: 'userName' },
      { op: 'replace', path: 'x'.repeat(5000), value: 1 },
      { op: 'add', path: 'urn:nope:Thing:attr', value: 1 },
    ];
    for (const op of ops) {
      const res = await scim(h, 'PATCH', `/Users/${id}`, { token, body: patchOp(op) });
      if (res.status === 200) {
        expect(res.body.id).toBe(id);
        expect(JSON.stringify(res.body)).not.toContain('polluted');
        continue;
      }
      try {
        scimError(res);
      } catch (err) {
        throw new Error(`${JSON.stringify(op)} → ${res.status} ${res.text.slice(0, 300)}`, {
          cause: err,
        });
      }
    }
    // many operations, and filters in paths that ask much: answered, and soon
    const storm = Array.from({ length: 40 }, (_, i) => `value eq "v${i}"`).join(' or ');
    for (const many of [
      Array.from({ length: 5000 }, (_, i) => ({
        op: 'replace',
        path: 'displayName',
        value: `${i}`,
      })),
      Array.from({ length: 3000 }, (_, i) => ({
        op: 'add',
        path: 'emails',
        value: [{ value: `e${i}@x.example` }],
      })),
      Array.from({ length: 500 }, () => ({ op: 'remove', path: `emails[${storm}]` })),
    ]) {
      const started = Date.now();
      const res = await scim(h, 'PATCH', `/Users/${id}`, { token, body: patchOp(...many) });
      expect(res.status).toBeLessThan(500);
      if (res.status !== 200) scimError(res);
      expect(Date.now() - started).toBeLessThan(5000);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // the person id comes from externalId: changing it over PUT or PATCH is refused, not a new person
    const ext = await scim(h, 'PATCH', `/Users/${id}`, {
      token,
      body: patchOp({ op: 'replace', path: 'externalId', value: 'p-someone-else' }),
    });
    scimError(ext);
    const put = await scim(h, 'PUT', `/Users/${id}`, { token, body: person() });
    scimError(put);
  });
});

describe('SCIM: semantics', () => {
  test('a write that changes nothing is no new version and no event', async () => {
    const token = tokens.a!;
    const body = person({ name: { givenName: 'Zelda', familyName: 'Quuxington' } });
    const { body: user } = await created(token, body);
    const id = user.id as string;
    const same = await scim(h, 'PATCH', `/Users/${id}`, {
      token,
      body: patchOp({ op: 'replace', path: 'name.givenName', value: 'Zelda' }),
    });
    expect(same.status).toBe(200);
    expect(same.headers.get('etag')).toBe('W/"1"');
    const entraActive = await scim(h, 'PATCH', `/Users/${id}`, {
      token,
      body: patchOp({ op: 'Replace', path: 'active', value: 'True' }),
    });
    expect(entraActive.headers.get('etag')).toBe('W/"1"');
    expect(await eventTypes(h, body.externalId as string, 1)).toHaveLength(1);
  });

  test('created inactive, then activated: one joiner; deleted and created again: a joiner again', async () => {
    const token = tokens.a!;
    const body = person({ active: false });
    const personId = body.externalId as string;
    const { body: user } = await created(token, body);
    const id = user.id as string;
    for (let i = 0; i < 2; i++) {
      const on = await scim(h, 'PATCH', `/Users/${id}`, {
        token,
        body: patchOp({ op: 'replace', value: { active: 'True' } }),
      });
      expect(on.status).toBe(200);
    }
    expect((await eventTypes(h, personId, 1)).map((e) => e.type)).toEqual(['person.joiner']);
    const gone = await scim(h, 'DELETE', `/Users/${id}`, { token });
    expect(gone.status).toBe(204);
    const again = await scim(h, 'POST', '/Users', { token, body });
    expect(again.status).toBeLessThan(500);
  });

  test('writes sent back to back reach the person’s timeline in their order', async () => {
    const token = tokens.a!;
    const body = person();
    const personId = body.externalId as string;
    const { body: user } = await created(token, body);
    const id = user.id as string;
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    for (const op of [
      { op: 'replace', path: `${ENT}:department`, value: 'Finance' },
      { op: 'replace', path: 'active', value: 'False' },
    ])
      expect((await scim(h, 'PATCH', `/Users/${id}`, { token, body: patchOp(op) })).status).toBe(
        200,
      );
    expect((await scim(h, 'DELETE', `/Users/${id}`, { token })).status).toBe(204);
    const again = await scim(h, 'POST', '/Users', { token, body });
    expect(again.status).toBe(201);
    const accepted = await h.eventually(async () => {
      const rows = await listAudit(h.db.db, { target: `person:${personId}` });
      const timeline = rows.filter((r) => r.action === 'timeline.accepted');
      return timeline.length >= 4 ? timeline : undefined;
    }, 60_000);
    expect(accepted.map((r) => (r.detail as { type: string }).type)).toEqual([
      'person.joiner',
      'person.mover',
      'person.leaver',
      'person.joiner',
    ]);
  });

  test('two PATCHes under the same ETag at once: one wins, the other is 412', async () => {
    const token = tokens.a!;
    const { body: user } = await created(token);
    const id = user.id as string;
    const answers = await Promise.all(
      ['Finance', 'Legal'].map((department) =>
        scim(h, 'PATCH', `/Users/${id}`, {
          token,
          headers: { 'if-match': 'W/"1"' },
          body: patchOp({
            op: 'replace',
            path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
            value: department,
          }),
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 412]);
  });

  test('a source over its limit gets a SCIM 429 with Retry-After', async () => {
    const answers: ScimAnswer[] = [];
    for (let i = 0; i < 4; i++)
      answers.push(await scim(h, 'POST', '/Users', { token: tokens.slow, body: person() }));
    const refused = answers.find((a) => a.status === 429);
    expect(refused).toBeDefined();
    scimError(refused!, 429);
    const after = Number(refused!.headers.get('retry-after'));
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after).toBeLessThanOrEqual(60);
  });
});

describe('personal data', () => {
  // (attribute names a client sent are named in errors: they are the schema's words)
  test('an error about a value never shows the value', async () => {
    const token = tokens.a!;
    const first = person({ userName: 'zelda.quux@adv.example' });
    await created(token, first);
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const bodies = [
      person({ userName: 'ZELDA.QUUX@adv.example' }),
      person({ externalId: first.externalId }),
      person({ externalId: 'Zelda Quuxington' }),
      person({ emails: [{ value: 'Zelda Quuxington', type: 'work' }] }),
      person({ emails: [{ value: 'zelda.quux@adv.example', type: 'Zelda' }] }),
      person({ name: { givenName: 'Zelda', familyName: 'Quuxington'.repeat(300) } }),
      person({ [ENT]: { manager: 'Zelda Quuxington' } }),
      person({ [ENT]: { manager: { value: 'Zelda' } } }),
      person({ active: 'Zelda' }),
    ];
    for (const body of bodies) {
      const res = await scim(h, 'POST', '/Users', { token, body });
      if (res.status === 201) continue;
      scimError(res);
      for (const value of PERSONAL)
        if (res.text.includes(value)) throw new Error(`${value} shown in ${res.text}`);
    }
  });

  test('a filter by userName or email leaves no personal data in the gateway log', async () => {
    const token = tokens.a!;
    await scim(h, 'GET', filtered(`userName eq "${PERSONAL[0]}"`), { token });
    await scim(h, 'GET', filtered(`emails.value eq "${PERSONAL[0]}"`), { token });
    await scim(
      h,
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "${PERSONAL[0]}"`)}&token=${tokens.a}`,
      { token },
    );
    // the log is written by the gateway process: give it a moment to flush
    await new Promise((r) => setTimeout(r, 500));
    const log = readFileSync(join(ROOT, '.idflow', 'test', `${h.taskQueue}.log`), 'utf8');
    expect(log).toContain('/scim/v2/Users?filter=');
    for (const value of [...PERSONAL, encodeURIComponent(PERSONAL[0]!), tokens.a!])
      expect({ value, inLog: log.includes(value) }).toEqual({ value, inLog: false });
    const audit = JSON.stringify(await listAudit(h.db.db, {}));
    for (const value of PERSONAL) expect(audit).not.toContain(value);
  });
});

describe('codec endpoint', () => {
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${h.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const plain = (data: string) => ({
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from(JSON.stringify(data)).toString('base64'),
  });

  test('encode then decode round trips; the scopes are their own', async () => {
    const enc = await post(
      '/codec/encode',
      { payloads: [plain('Zelda Quuxington')] },
      bearer(tokens.encoder!),
    );
    expect(enc.status).toBe(200);
    expect(enc.text).not.toContain(Buffer.from('"Zelda Quuxington"').toString('base64'));
    const encoded = JSON.parse(enc.text) as { payloads: unknown[] };
    expect((await post('/codec/decode', encoded, bearer(tokens.encoder!))).status).toBe(403);
    expect((await post('/codec/encode', encoded, bearer(tokens.decoder!))).status).toBe(403);
    expect((await post('/codec/decode', encoded)).status).toBe(401);
    const dec = await post('/codec/decode', encoded, bearer(tokens.decoder!));
    expect(dec.status).toBe(200);
    expect(JSON.parse(dec.text)).toEqual({ payloads: [plain('Zelda Quuxington')] });
    expect((await post('/codec/decode', { payloads: [] }, bearer(tokens.decoder!))).status).toBe(
      200,
    );
    const audit = JSON.stringify(await listAudit(h.db.db, {}));
    expect(audit).toContain('payloads.decoded');
    for (const value of PERSONAL) expect(audit).not.toContain(value);
  });

  test('what cannot be decoded is a 4xx problem, never a 5xx', async () => {
    const enc = await post('/codec/encode', { payloads: [plain('x')] }, bearer(tokens.encoder!));
    const [payload] = (
      JSON.parse(enc.text) as {
        payloads: Array<{ metadata: Record<string, string>; data: string }>;
      }
    ).payloads;
    const flipped = Buffer.from(payload!.data, 'base64');
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    const bad: unknown[] = [
      { ...payload, data: flipped.toString('base64') },
      {
        ...payload,
        metadata: {
          ...payload!.metadata,
          'encryption-key-id': Buffer.from('nope').toString('base64'),
        },
      },
      { ...payload, data: '!!!not base64!!!' },
      { ...payload, data: '' },
      { metadata: { encoding: Buffer.from('binary/encrypted').toString('base64') } },
      { metadata: { encoding: '' }, data: 'AA==' },
      { metadata: { __proto__: 'x' }, data: 'AA==' },
      'not a payload',
      null,
    ];
    for (const p of bad) {
      const res = await post('/codec/decode', { payloads: [p] }, bearer(tokens.decoder!));
      expect([200, 400]).toContain(res.status);
      if (res.status === 400) expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    for (const raw of [
      '{',
      '',
      '[]',
      '{"payloads": {}}',
      JSON.stringify({ payloads: Array(1001).fill(plain('x')) }),
    ]) {
      const res = await post('/codec/decode', raw, bearer(tokens.decoder!));
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });

  test('CORS never reflects a stranger’s origin, and the session cookie is HttpOnly and Strict', async () => {
    for (const origin of ['https://evil.example', 'http://localhost:8233.evil.example', 'null']) {
      const pre = await fetch(`${h.gatewayUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    }
    const ok = await fetch(`${h.gatewayUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    const session = await fetch(`${h.gatewayUrl}/codec/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(tokens.decoder!)}`,
    });
    expect(session.status).toBe(200);
    const cookie = session.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/codec/i);
    // a form a stranger's page could post (a simple request) is not a codec call
    const value = /idflow_codec=([^;]+)/.exec(cookie)?.[1] ?? '';
    const simple = await fetch(`${h.gatewayUrl}/codec/decode`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain',
        cookie: `idflow_codec=${value}`,
        origin: 'https://evil.example',
      },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(simple.status).toBe(415);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('codec sign-in', () => {
  test('a flood of bad sign-ins is counted in aggregated refusal rows, not one audit row each', async () => {
    const before = (await listAudit(h.db.db, {})).length;
    // all at once, so they fall in one or two of the test's 200 ms audit intervals however
    // loaded the machine is: one row each would be 25
    await Promise.all(
      Array.from({ length: 25 }, async (_, i) => {
        const res = await fetch(`${h.gatewayUrl}/codec/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `token=idf_${'x'.repeat(20)}${i}`,
        });
        expect(res.status).toBe(401);
        await res.text();
      }),
    );
    const tally = await h.eventually(async () => {
      const rows = (await listAudit(h.db.db, {}))
        .slice(before)
        .filter((r) => r.action === 'request.refused' && r.target === 'route:POST /codec/session');
      const counted = rows.reduce((n, r) => n + ((r.detail as { count: number }).count ?? 0), 0);
      return counted >= 25 ? rows : undefined;
    });
    expect(tally.length).toBeLessThan(10);
  });
});

describe('webhooks', () => {
  test('an unknown source and a forged signature get the same answer', async () => {
    const body = JSON.stringify({
      source: 'adv-hooks',
      id: 'e-1',
      type: 'person.joiner',
      subject: { id: 'p-1' },
      occurredAt: new Date().toISOString(),
    });
    const forged = signDelivery(testSecret(), testWebhookId(), body);
    const a = await fetch(`${h.gatewayUrl}/v1/webhooks/adv-hooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forged },
      body,
    });
    const b = await fetch(`${h.gatewayUrl}/v1/webhooks/adv-nobody`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forged },
      body,
    });
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    const [ta, tb] = [await a.text(), await b.text()];
    expect(ta.replace(/adv-hooks/g, 'S')).toBe(tb.replace(/adv-nobody/g, 'S'));
    // a huge or repeated signature header is a 4xx too
    for (const headers of [
      { ...forged, 'webhook-signature': `v1,${'A'.repeat(60_000)}` },
      { ...forged, 'webhook-signature': Array(2000).fill('v1,AAAA').join(' ') },
      { ...forged, 'webhook-timestamp': '99999999999999999999' },
      { ...forged, 'webhook-timestamp': '-1' },
      { ...forged, 'webhook-id': 'x'.repeat(10_000) },
    ]) {
      const res = await fetch(`${h.gatewayUrl}/v1/webhooks/adv-hooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe('signed webhooks', () => {
  const deliver = async (source: string, body: string, headers: Record<string, string>) => {
    const res = await fetch(`${h.gatewayUrl}/v1/webhooks/${source}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const event = (id: string, source = 'adv-hooks') =>
    JSON.stringify({
      source,
      id,
      type: 'person.joiner',
      subject: { id: 'p-hook-1' },
      occurredAt: new Date().toISOString(),
    });

  test('a replay, a re-signed replay, another source’s event, other schemes: never a 5xx', async () => {
    const id = testWebhookId();
    const body = event('hook-e1');
    expect((await deliver('adv-hooks', body, signDelivery(SECRET, id, body))).status).toBe(202);
    expect((await deliver('adv-hooks', body, signDelivery(SECRET, id, body))).status).toBe(200);
    const later = signDelivery(SECRET, id, body, new Date(Date.now() + 30_000));
    expect((await deliver('adv-hooks', body, later)).status).toBe(200);
    // the signature covers the body, and the body names its source: no replay across sources
    const other = event('hook-e2', 'adv-a');
    const wrong = await deliver('adv-hooks', other, signDelivery(SECRET, testWebhookId(), other));
    expect(wrong.status).toBe(400);
    const good = signDelivery(SECRET, testWebhookId(), body);
    const [, sig] = good['webhook-signature'].split(',');
    for (const signature of [`v1a,${sig}`, `v2,${sig}`, 'v1,', `v1,${sig}=`, `,${sig}`, ' ']) {
      const res = await deliver('adv-hooks', body, { ...good, 'webhook-signature': signature });
      expect({ signature, status: res.status }).toEqual({ signature, status: 401 });
      expect(res.type).toMatch(/problem\+json/);
    }
    for (const raw of ['{', '', 'null', '[]', '{"source":"adv-hooks"}', '\u0000']) {
      const res = await deliver('adv-hooks', raw, signDelivery(SECRET, testWebhookId(), raw));
      expect({ raw, status: res.status >= 400 && res.status < 500 }).toEqual({ raw, status: true });
    }
  });
});

describe('tokens', () => {
  test.each([0, 60_000])(
    'rotations of one token at once (overlap %d ms): one succeeds',
    async (overlapMs) => {
      const service = new TokenService(h.db.db);
      const { row } = await service.create({
        name: `rotate-race-${overlapMs}`,
        scopes: ['scim:write'],
        actor: 'test',
      });
      const results = await Promise.allSettled(
        [1, 2, 3].map(() => service.rotate({ token: row.id, actor: 'test', overlapMs })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const live = (await service.list()).filter(
        (t) => t.name === `rotate-race-${overlapMs}` && t.revokedAt === null && t.id !== row.id,
      );
      expect(live).toHaveLength(1);
    },
  );
});

describe('afterwards', () => {
  test('the run’s log (gateway and worker) and audit trail hold no personal data or credential sent', async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const log = readFileSync(join(ROOT, '.idflow', 'test', `${h.taskQueue}.log`), 'utf8');
    expect(log).toContain('idflow-worker');
    const audit = JSON.stringify(await listAudit(h.db.db, {}));
    for (const value of [...PERSONAL, ...Object.values(tokens), 'idf_garbage']) {
      if (log.includes(value))
        throw new Error(`the log holds a value sent (${value.slice(0, 8)}…)`);
      if (audit.includes(value))
        throw new Error(`the audit trail holds a value sent (${value.slice(0, 8)}…)`);
    }
  });
});
