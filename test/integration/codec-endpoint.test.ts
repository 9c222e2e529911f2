/**
 * The gateway's codec endpoint as the Temporal Web UI and CLI call it: Temporal's remote codec
 * protocol, a token with `payloads:decode` / `payloads:encode` (or the session cookie the Web UI
 * sends), CORS for the configured Web UI origin only, bad input a 4xx naming what is wrong,
 * every call audited without contents, 404 where nothing is encrypted.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config';
import { listAudit } from '../../src/db/repos/audit';
import { createGatewayApp } from '../../src/gateway/server';
import { TokenService } from '../../src/gateway/services/tokens';
import { createLogger } from '../../src/logging';
import { Harness } from '../support/harness';
import { TEST_PAYLOAD_KEYS } from '../support/payload-keys';

const UI = 'http://127.0.0.1:8233';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const text = (base64: string | undefined) => Buffer.from(base64 ?? '', 'base64').toString();

let h: Harness;
const tokens: Record<'decoder' | 'encoder' | 'reader', string> = {
  decoder: '',
  encoder: '',
  reader: '',
};

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
  [field: string]: unknown;
}

const plainPayload = (value: unknown): JsonPayload => ({
  metadata: { encoding: b64('json/plain') },
  data: b64(JSON.stringify(value)),
});

async function call(
  path: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${h.gatewayUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.raw ?? JSON.stringify(options.body ?? {}),
  });
  const body = (await res.json().catch(() => ({}))) as {
    payloads?: JsonPayload[];
    detail?: string;
    type?: string;
    keyId?: string;
  };
  return { status: res.status, headers: res.headers, body };
}

beforeAll(async () => {
  h = await new Harness({
    definitions: ['definitions/connectors/identity-store.yaml', 'test/fixtures/encryption'],
    env: { IDFLOW_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS, IDFLOW_CODEC_CORS_ORIGINS: UI },
  }).start();
  const service = new TokenService(h.db.db);
  for (const [name, scopes] of [
    ['decoder', ['payloads:decode']],
    ['encoder', ['payloads:encode']],
    ['reader', ['runs:read']],
  ] as const)
    tokens[name] = (await service.create({ name, scopes: [...scopes], actor: 'test' })).token;
});

afterAll(() => h?.close());

test('encode then decode gives the payloads back; others pass as sent; the audit counts, never shows', async () => {
  const originals = [plainPayload({ name: 'Ada Lovelace' }), plainPayload('ada@example.com')];
  const encoded = await call('/codec/encode', {
    token: tokens.encoder,
    body: { payloads: originals },
  });
  expect(encoded.status).toBe(200);
  for (const p of encoded.body.payloads ?? []) {
    expect(text(p.metadata?.encoding)).toBe('binary/encrypted');
    expect(text(p.metadata?.['encryption-key-id'])).toBe('test-k1');
    expect(text(p.data)).not.toContain('Ada');
  }
  const foreign = { ...plainPayload('as is'), externalPayloads: [] };
  const decoded = await call('/codec/decode', {
    token: tokens.decoder,
    body: { payloads: [...(encoded.body.payloads ?? []), foreign] },
    headers: { 'x-namespace': 'default' },
  });
  expect(decoded.status).toBe(200);
  expect(decoded.body.payloads).toEqual([...originals, foreign]);

  const rows = await listAudit(h.db.db, { action: 'payloads.decoded' });
  expect(rows.at(-1)).toMatchObject({
    actor: 'token:decoder',
    target: 'namespace:default',
    outcome: 'ok',
    detail: { payloads: 3, decrypted: { 'test-k1': 2 } },
  });
  const audit = JSON.stringify(await listAudit(h.db.db, {}));
  expect(audit).toContain('payloads.encoded');
  expect(audit).not.toContain('Ada');
  expect(audit).not.toContain(b64(JSON.stringify({ name: 'Ada Lovelace' })));
});

test('decode needs payloads:decode, encode payloads:encode; no token is 401', async () => {
  const body = { payloads: [plainPayload(1)] };
  expect((await call('/codec/decode', { body })).status).toBe(401);
  expect((await call('/codec/decode', { body, token: tokens.reader })).status).toBe(403);
  expect((await call('/codec/decode', { body, token: tokens.encoder })).status).toBe(403);
  expect((await call('/codec/encode', { body, token: tokens.decoder })).status).toBe(403);
  expect((await call('/codec/decode', { body, token: h.token })).status).toBe(200); // admin
});

test('bad input is a 4xx naming what is wrong', async () => {
  const decode = (options: Parameters<typeof call>[1]) =>
    call('/codec/decode', { token: tokens.decoder, ...options });
  expect(
    (await decode({ raw: 'payloads', headers: { 'content-type': 'text/plain' } })).status,
  ).toBe(415);
  const notList = await decode({ body: { payloads: 'x' } });
  expect([notList.status, notList.body.detail]).toEqual([
    400,
    expect.stringContaining('/payloads'),
  ]);
  const badBase64 = await decode({ body: { payloads: [{ data: 'not base64!' }] } });
  expect([badBase64.status, badBase64.body.detail]).toEqual([
    400,
    expect.stringContaining('/payloads/0/data: must be base64'),
  ]);
  const tooMany = await decode({ body: { payloads: Array.from({ length: 1001 }, () => ({})) } });
  expect(tooMany.status).toBe(400);
  const tooBig = await decode({
    raw: JSON.stringify({ payloads: [{ data: 'A'.repeat(9 << 20) }] }),
  });
  expect(tooBig.status).toBe(413);
  const elsewhere = await decode({
    body: { payloads: [] },
    headers: { 'x-namespace': 'payroll' },
  });
  expect([elsewhere.status, elsewhere.body.type]).toEqual([
    400,
    'urn:idflow:problem:wrong-namespace',
  ]);

  // an encrypted payload altered, or under a key this gateway does not hold
  const [sealed] =
    (await call('/codec/encode', { token: tokens.encoder, body: { payloads: [plainPayload(1)] } }))
      .body.payloads ?? [];
  const bytes = Buffer.from(sealed?.data ?? '', 'base64');
  bytes[20] = (bytes[20] as number) ^ 1;
  const altered = await decode({
    body: { payloads: [plainPayload(0), { ...sealed, data: bytes.toString('base64') }] },
  });
  expect([altered.status, altered.body.type, altered.body.detail]).toEqual([
    400,
    'urn:idflow:problem:undecodable-payload',
    expect.stringContaining(
      "payloads/1: a payload encrypted with key 'test-k1' does not authenticate",
    ),
  ]);
  const unknown = await decode({
    body: {
      payloads: [{ ...sealed, metadata: { ...sealed?.metadata, 'encryption-key-id': b64('k9') } }],
    },
  });
  expect([unknown.status, unknown.body.keyId]).toEqual([400, 'k9']);
  const refusals = await listAudit(h.db.db, { action: 'payloads.decode-refused' });
  expect(refusals.at(-1)).toMatchObject({ outcome: 'refused', detail: { index: 0, keyId: 'k9' } });
});

test('CORS: the Web UI’s origin may call with credentials, a preflight needs no token, other origins get nothing', async () => {
  const preflight = (origin: string) =>
    fetch(`${h.gatewayUrl}/codec/decode`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
  const allowed = await preflight(UI);
  expect(allowed.status).toBe(204);
  expect(allowed.headers.get('access-control-allow-origin')).toBe(UI);
  expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
  expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
  expect(allowed.headers.get('access-control-allow-headers')).toContain('x-namespace');
  const other = await preflight('http://evil.example');
  expect(other.status).toBe(204);
  expect(other.headers.get('access-control-allow-origin')).toBeNull();

  // the answer itself carries them too, a 401 included (the Web UI reads why)
  const refused = await call('/codec/decode', { body: { payloads: [] }, headers: { origin: UI } });
  expect(refused.status).toBe(401);
  expect(refused.headers.get('access-control-allow-origin')).toBe(UI);
});

test('the Web UI’s way in: the session form puts the token in an HttpOnly cookie the codec calls accept', async () => {
  const page = await fetch(`${h.gatewayUrl}/codec/session`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<form method="post" action="session">');

  const signIn = (token: string) =>
    fetch(`${h.gatewayUrl}/codec/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
  expect((await signIn('idf_nobody')).status).toBe(401);
  expect((await signIn(tokens.reader)).status).toBe(403);
  const signedIn = await signIn(tokens.decoder);
  expect(signedIn.status).toBe(200);
  const cookie = signedIn.headers.get('set-cookie') ?? '';
  expect(cookie.startsWith('idflow_codec=idf_')).toBe(true);
  for (const attribute of ['Max-Age=28800', 'Path=/codec', 'HttpOnly', 'SameSite=Strict'])
    expect(cookie.split('; ')).toContain(attribute);

  const viaCookie = await call('/codec/decode', {
    body: { payloads: [plainPayload('x')] },
    headers: { cookie: cookie.split(';')[0] as string, origin: UI },
  });
  expect(viaCookie.status).toBe(200);
  expect(viaCookie.headers.get('access-control-allow-credentials')).toBe('true');
  expect(await listAudit(h.db.db, { action: 'codec.session-started' })).toEqual([
    expect.objectContaining({ actor: 'token:decoder', outcome: 'ok' }),
  ]);
});

test('where payloads are not encrypted, the codec endpoint is 404', async () => {
  const config = loadConfig({ ...h.env(), IDFLOW_PAYLOAD_KEYS: '' });
  const app = createGatewayApp(config, h.db.db, h.client, createLogger('silent'));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/codec/decode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.decoder}`, 'content-type': 'application/json' },
      body: JSON.stringify({ payloads: [] }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toContain('IDFLOW_PAYLOAD_KEYS');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
