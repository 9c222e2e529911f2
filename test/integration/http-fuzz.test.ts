/**
 * Bad requests are 4xx, never 5xx (design invariant 12), against the real gateway, worker,
 * Temporal and PostgreSQL: a property-based test over every route of the app (generated bodies,
 * paths, query strings and headers; each answer is below 500 and every 4xx is problem+json, or
 * a SCIM error document under /scim/v2),
 * and the inputs an adversarial review found answered 500, each with its exact answer.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import type { Express } from 'express';
import * as fc from 'fast-check';
import { loadConfig } from '../../src/config';
import { createGatewayApp } from '../../src/gateway/server';
import { slackSignature } from '../../src/gateway/slack-signature';
import { SCOPES, TokenService } from '../../src/gateway/services/tokens';
import { createLogger } from '../../src/logging';
import { taskIdOf } from '../../src/model/approval';
import { FakeSlack } from '../support/fake-slack';
import { TEST_PAYLOAD_KEYS } from '../support/payload-keys';
import { signDelivery, testSecret } from '../support/webhooks';
import { Harness, makeEvent } from '../support/harness';

const SLACK_TOKEN = 'xoxb-fuzz-token';
const SIGNING_SECRET = 'a-signing-secret-for-the-fuzz-test';
/** The secret of the `fuzz` source's signed webhooks (test/fixtures/webhooks/fuzz.yaml). */
const WEBHOOK_SECRET = testSecret();
/** Generated requests per route: enough to meet each class of bad input, quick enough for CI. */
const RUNS_PER_ROUTE = 200;

const slack = new FakeSlack(SLACK_TOKEN, { 'fuzz@example.com': 'U0FUZZ' });
let h: Harness;
/** A token of a person with every scope: requests pass authentication and reach the handlers. */
let token: string;
/** A token bound to the fuzz SCIM source (test/fixtures/scim/fuzz.yaml), for /scim/v2. */
let scimToken: string;
const seededScimIds: string[] = [];
/** The ids of the SCIM users created before the routes are fuzzed (read when generating). */
const scimIds = () => (seededScimIds.length ? seededScimIds : ['x']);
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

interface Sent {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Raw HTTP, so paths, headers and bytes go out exactly as generated (fetch would normalise them). */
function send(req: Sent): Promise<Answer> {
  const url = new URL(h.gatewayUrl);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: {
          ...(req.body !== undefined ? { 'content-length': Buffer.byteLength(req.body) } : {}),
          ...req.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

/**
 * Below 500, and a 4xx is a problem+json document whose status is the answer's; under /scim/v2
 * a SCIM error document (RFC 7644 §3.12) whose status is the answer's, as text.
 */
function wellFormed(req: Sent, res: Answer): void {
  const where = `${req.method} ${req.path} ${JSON.stringify(req.headers)} → ${res.status} ${res.text.slice(0, 300)}`;
  if (res.status >= 500) throw new Error(`5xx: ${where}`);
  if (res.status >= 400 && /^\/scim\/v2(\/|\?|$)/i.test(req.path)) {
    if (!String(res.headers['content-type']).startsWith('application/scim+json'))
      throw new Error(`4xx without application/scim+json: ${where}`);
    const body = JSON.parse(res.text) as { schemas?: string[]; status?: string; detail?: string };
    if (
      body.schemas?.[0] !== 'urn:ietf:params:scim:api:messages:2.0:Error' ||
      body.status !== String(res.status) ||
      typeof body.detail !== 'string'
    )
      throw new Error(`4xx with a malformed SCIM error: ${where}`);
  } else if (res.status >= 400) {
    if (!String(res.headers['content-type']).startsWith('application/problem+json'))
      throw new Error(`4xx without problem+json: ${where}`);
    const body = JSON.parse(res.text) as { type?: string; status?: number; title?: string };
    if (!body.type?.startsWith('urn:idflow:problem:') || body.status !== res.status || !body.title)
      throw new Error(`4xx with a malformed problem: ${where}`);
  }
}

function problemType(res: Answer): string {
  return (JSON.parse(res.text) as { type: string }).type.replace('urn:idflow:problem:', '');
}

// ---------------------------------------------------------------------------------------------
// Generators

const hex = (b: number) => `%${b.toString(16).padStart(2, '0')}`;

/** One path segment: plain, arbitrary percent-encoded bytes, encoded Unicode, or known traps. */
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,24}$/),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => [...bytes].map(hex).join('')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }).map(encodeURIComponent),
  fc.constantFrom('%', '%f', '%zz', '%00', '%0a', '%7f', '%ff', '%e2%82', '%ed%a0%80', '%2F', '..'),
  fc
    .tuple(fc.constantFrom('flow/', 'event/', 'x/', ''), fc.string(), fc.string())
    .map(([prefix, w, s]) => taskIdOf(`${prefix}${w}`, s)),
  fc.uuid(),
);

const queryPart = fc.oneof(
  fc.constantFrom(
    'approver',
    'person',
    'cursor',
    'limit',
    'status',
    'flow',
    'since',
    'until',
    'format',
    'from',
    'to',
    'order',
  ),
  segment,
  fc.constant(''),
);
/** Query values: segments, and values near the edges of what the filters take. */
const queryValue = fc.oneof(
  segment,
  fc.constant(''),
  fc.constantFrom(
    '2026-01-01T00:00:00Z',
    '9999-12-31T23:59:59-14:00',
    '0000-01-01T00:00:00%2B01:00',
    '2026-01-01',
    '1e2',
    '0x10',
    'csv',
    'mermaid',
    'asc',
    'Parked',
  ),
);
const query = fc
  .array(fc.tuple(queryPart, queryValue), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    undefined,
    'application/json; charset=utf-8',
    'application/json; charset=UTF-16',
    'application/json; charset=latin1',
    'application/json; charset',
    'application/json; charset=""',
    'application/merge-patch+json',
    'application/x-www-form-urlencoded',
    'text/plain',
    'multipart/form-data; boundary=x',
    '*/*',
    'application/',
  ),
  printable,
);

const contentEncoding = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, identity', ''),
  printable,
);

const authorization = (valid: () => string) =>
  fc
    .oneof(
      { weight: 12, arbitrary: fc.constant('Bearer VALID') },
      fc.constantFrom(undefined, '', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer idf_x'),
      fc.constantFrom('bearer VALID', 'Bearer VALID extra', 'Bearer  VALID  '),
      printable.map((t) => `Bearer ${t}`),
    )
    .map((a) => a?.replace('VALID', valid()));

/** Strings that reach the services: ordinary text, and text the storage layers refuse. */
const trickyString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    'p-1',
    '2026-02-30T00:00:00Z',
    '2026-01-01T00:00:00Z',
    '\u0000',
    'a\u0000b',
  ),
  fc.constantFrom('\ud800', 'x\udc00', "'", '"', '\\', '__proto__', 'p/1', 'a'.repeat(600)),
);

const anyValue = fc.oneof(
  { weight: 3, arbitrary: trickyString },
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}),
);

/** Objects with the fields a route reads, holding anything. */
const shaped = (keys: string[]) =>
  fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })), anyValue, {
    maxKeys: keys.length + 2,
  });

const EVENT_KEYS = ['source', 'id', 'type', 'subject', 'occurredAt', 'effectiveAt', 'attributes'];

/** JSON text with what JSON.parse makes of it and what it cannot: escapes, huge numbers, BOM. */
const jsonText = fc.oneof(
  fc.json({ maxDepth: 4 }),
  shaped(EVENT_KEYS).map((o) => JSON.stringify(o)),
  fc
    .record({
      source: fc.constantFrom('fuzz', 'Fuzz', ''),
      id: trickyString,
      type: fc.constantFrom('fuzz.nothing', 'person', ''),
      occurredAt: trickyString,
      subject: shaped(['id', 'email', 'managerId', 'validUntil', 'attributes']),
    })
    .map((o) => JSON.stringify(o)),
  shaped(['from', 'to', 'startsAt', 'endsAt']).map((o) => JSON.stringify(o)),
  shaped(['decision', 'comment']).map((o) => JSON.stringify(o)),
  // the codec endpoint's protocol: payloads whose metadata and data are base64, or not
  fc
    .array(
      fc.record(
        {
          metadata: fc.dictionary(
            fc.constantFrom('encoding', 'encryption-key-id', 'x'),
            fc.oneof(
              fc.base64String({ maxLength: 24 }),
              // binary/encrypted, json/plain, test-k1
              fc.constantFrom('YmluYXJ5L2VuY3J5cHRlZA==', 'anNvbi9wbGFpbg==', 'dGVzdC1rMQ=='),
              trickyString,
            ),
          ),
          data: fc.oneof(fc.base64String({ maxLength: 80 }), trickyString),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    )
    .map((payloads) => JSON.stringify({ payloads })),
  fc.constantFrom(
    'null',
    '[]',
    '"text"',
    '1e400',
    '{"a":1e400}',
    '{"a":-1e999}',
    '{"__proto__":{"x":1}}',
    '{"attributes":{"__proto__":null}}',
    '{"a":"\\u0000"}',
    '{"\\u0000":1}',
    '{"a":"\\ud800"}',
    '{"decision":"approve","comment":"\\udc00"}',
    '{"from":["p-1"],"to":{"id":"p-2"}}',
    '{',
    '',
    '   ',
  ),
);

const deep = fc
  .tuple(fc.integer({ min: 20, max: 20_000 }), fc.constantFrom('[', '{"a":'))
  .map(([n, open]) => open.repeat(n) + '1' + (open === '[' ? ']' : '}').repeat(n));

const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 8, arbitrary: jsonText },
  jsonText.map((t) => `\ufeff${t}`),
  deep,
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
  fc
    .tuple(jsonText, fc.uint8Array({ minLength: 1, maxLength: 4 }))
    .map(([t, b]) => Buffer.concat([Buffer.from(t), Buffer.from(b)])),
);

/** A Slack interaction form, signed with the app's secret (or not), so fuzzing reaches the handler. */
const slackBody = fc
  .tuple(
    fc.oneof(
      jsonText,
      fc
        .record({
          type: fc.constantFrom('block_actions', 'view_submission'),
          user: fc.record({ id: fc.oneof(fc.constantFrom('U0FUZZ', 'U0NOBODY'), trickyString) }),
          actions: fc.array(
            fc.record({
              action_id: fc.constantFrom('idflow.approve', 'idflow.reject', 'other'),
              value: fc.oneof(
                trickyString,
                fc
                  .record({ workflowId: trickyString, step: trickyString })
                  .map((v) => JSON.stringify(v)),
              ),
            }),
            { maxLength: 2 },
          ),
        })
        .map((o) => JSON.stringify(o)),
    ),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([payload, form, signed]) => {
    const text = form ? new URLSearchParams({ payload }).toString() : payload;
    const timestamp = String(Math.floor(Date.now() / 1000));
    return {
      body: text,
      headers: signed
        ? {
            'x-slack-request-timestamp': timestamp,
            'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, text),
          }
        : { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': 'v0=00' },
    };
  });

/**
 * A webhook delivery: any body, signed with the `fuzz` source's secret (now, long ago), with
 * another secret, or with garbage headers, so fuzzing reaches the handler past the signature.
 */
const webhookBody = fc
  .tuple(
    fc.oneof(
      body,
      fc
        .record({
          source: fc.constantFrom('fuzz', 'other'),
          id: fc.oneof(fc.constantFrom('wh-1', 'wh-2'), trickyString),
          type: fc.constantFrom('fuzz.nothing', 'person'),
          occurredAt: fc.constantFrom('2026-01-01T00:00:00Z', 'yesterday'),
          subject: shaped(['id', 'email']),
        })
        .map((o) => JSON.stringify(o)),
    ),
    fc.constantFrom('signed', 'signed', 'signed', 'stale', 'stranger', 'garbage', 'none'),
    fc.oneof(fc.constantFrom('msg_1', 'msg_2', 'msg_3'), fc.string({ maxLength: 20 })),
    fc.record({
      'webhook-id': fc.string({ maxLength: 20 }),
      'webhook-timestamp': fc.oneof(fc.string({ maxLength: 12 }), fc.nat().map(String)),
      'webhook-signature': fc.oneof(fc.string({ maxLength: 60 }), fc.constant('v1,')),
    }),
  )
  .map(([b, how, id, garbage]) => {
    const bytes = b === undefined ? Buffer.alloc(0) : Buffer.from(b);
    const signedAt = how === 'stale' ? new Date(Date.now() - 3600_000) : new Date();
    const headers: Record<string, string> =
      how === 'none'
        ? {}
        : how === 'garbage'
          ? garbage
          : signDelivery(how === 'stranger' ? testSecret() : WEBHOOK_SECRET, id, bytes, signedAt);
    // a header value Node refuses to send is not a request anyone can make
    const sendable = Object.fromEntries(
      Object.entries(headers).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v)),
    );
    return { ...(b !== undefined ? { body: b } : {}), headers: sendable };
  });

/** SCIM bodies: users and PatchOp messages with the attributes and paths clients send, holding anything. */
const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCIM_ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const scimValue = fc.oneof(
  anyValue,
  fc.constantFrom('True', 'False', [{ value: 'a@b.c', type: 'work', primary: true }], {
    value: 'm-1',
  }),
);
const scimBody = fc.oneof(
  fc
    .record({
      schemas: fc.oneof(
        fc.constant([SCIM_USER]),
        fc.constant([SCIM_USER, SCIM_ENTERPRISE]),
        fc.array(trickyString, { maxLength: 2 }),
      ),
      userName: fc.oneof(fc.constantFrom('u1@fuzz.example', 'U1@FUZZ.example'), trickyString),
      externalId: fc.oneof(fc.constantFrom('p-scim-1', 'p-scim-2'), trickyString),
      rest: shaped([
        'active',
        'emails',
        'name',
        'title',
        'id',
        'meta',
        'password',
        SCIM_ENTERPRISE,
      ]),
    })
    .map(({ rest, ...user }) => JSON.stringify({ ...rest, ...user })),
  fc
    .record({
      schemas: fc.oneof(
        fc.constant(['urn:ietf:params:scim:api:messages:2.0:PatchOp']),
        fc.array(trickyString, { maxLength: 1 }),
      ),
      Operations: fc.array(
        fc.record(
          {
            op: fc.oneof(fc.constantFrom('add', 'Replace', 'remove', 'move'), trickyString),
            path: fc.oneof(
              fc.constantFrom(
                'active',
                'title',
                'emails[type eq "work"].value',
                'emails[value co "x" or primary eq true]',
                `${SCIM_ENTERPRISE}:manager`,
                SCIM_ENTERPRISE,
                'name.givenName',
                'emails[',
                'id',
                'userName',
              ),
              trickyString,
            ),
            value: scimValue,
          },
          { requiredKeys: ['op'] },
        ),
        { maxLength: 4 },
      ),
    })
    .map((o) => JSON.stringify(o)),
  body,
);
const scimQuery = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'filter',
        'startIndex',
        'count',
        'attributes',
        'excludedAttributes',
        'sortBy',
      ),
      fc.oneof(
        queryValue,
        fc
          .constantFrom(
            'userName eq "u1@fuzz.example"',
            'emails[type eq "work"].value eq "a" and active eq true',
            'externalId eq "p-scim-1" or id eq "x"',
            'title co "x"',
            '((((',
            'userName eq "\\',
            '-1',
            '0',
            '999999999999',
            'userName,name.givenName',
          )
          .map(encodeURIComponent),
      ),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

/** Fills a route's parameters with generated segments. */
function pathOf(template: string, segments: string[]): string {
  let i = 0;
  return template.replace(/:[A-Za-z]+/g, () => segments[i++] ?? 'x');
}

function requests(method: string, template: string): fc.Arbitrary<Sent> {
  const slackRoute = template === '/slack/interactions';
  const webhookRoute = template === '/v1/webhooks/:source';
  const scimRoute = template.startsWith('/scim/v2/');
  return fc
    .record({
      // a webhook goes mostly to the source whose secret signs it
      segments: webhookRoute
        ? fc.tuple(
            fc.oneof({ weight: 4, arbitrary: fc.constant('fuzz') }, segment),
            segment,
            segment,
          )
        : scimRoute
          ? // a SCIM user id is mostly one of the users the fuzz source has
            fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...scimIds()) }, segment), {
              minLength: 3,
              maxLength: 3,
            })
          : fc.array(segment, { minLength: 3, maxLength: 3 }),
      query: scimRoute ? fc.oneof(scimQuery, query) : query,
      contentType: scimRoute
        ? fc.oneof({ weight: 3, arbitrary: fc.constant('application/scim+json') }, contentType)
        : contentType,
      contentEncoding,
      // SCIM users belong to a source: its token is bound to the fuzz SCIM source, and is
      // mostly sent well formed, so most requests reach the SCIM handlers
      authorization: scimRoute
        ? fc.oneof(
            { weight: 3, arbitrary: fc.constant(`Bearer ${scimToken}`) },
            authorization(() => scimToken),
          )
        : authorization(() => token),
      body: slackRoute
        ? slackBody.map((b): { body?: string | Buffer; headers?: Record<string, string> } => b)
        : webhookRoute
          ? webhookBody.map((b): { body?: string | Buffer; headers?: Record<string, string> } => b)
          : (scimRoute ? scimBody : body).map(
              (b): { body?: string | Buffer; headers?: Record<string, string> } => ({
                ...(b !== undefined ? { body: b } : {}),
              }),
            ),
    })
    .map((g) => {
      const headers: Record<string, string> = {};
      if (g.contentType !== undefined) headers['content-type'] = g.contentType;
      if (g.contentEncoding !== undefined) headers['content-encoding'] = g.contentEncoding;
      if (g.authorization !== undefined) headers.authorization = g.authorization;
      Object.assign(headers, g.body.headers ?? {});
      return {
        method,
        path: pathOf(template, g.segments) + g.query,
        headers,
        ...(g.body.body !== undefined ? { body: g.body.body } : {}),
      };
    });
}

// ---------------------------------------------------------------------------------------------
// Routes

/** Every route of the app; a route added without a line here fails the coverage test. */
const ROUTES = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /openapi.json',
  'GET /docs',
  'POST /slack/interactions',
  'POST /v1/events',
  'GET /v1/events/:source/:id',
  'POST /v1/webhooks/:source',
  'GET /v1/approvals',
  'GET /v1/approvals/:taskId',
  'POST /v1/approvals/:taskId/decision',
  'POST /v1/delegations',
  'GET /v1/delegations',
  'DELETE /v1/delegations/:id',
  'GET /v1/persons/:id',
  'GET /v1/persons/:id/plan',
  'GET /v1/persons/:id/timeline',
  'GET /v1/persons/:id/history',
  'GET /v1/runs',
  'GET /v1/runs/:workflowId',
  'POST /v1/runs/:workflowId/retry',
  'POST /v1/runs/:workflowId/skip',
  'POST /v1/runs/:workflowId/abort',
  'POST /v1/runs/:workflowId/approve',
  'GET /v1/runs/:workflowId/graph',
  'POST /v1/plan',
  'GET /v1/audit',
  'GET /v1/review',
  'GET /v1/review/:id',
  'POST /v1/review/:id',
  'GET /v1/orphan-accounts',
  'GET /scim/v2/ServiceProviderConfig',
  'GET /scim/v2/ResourceTypes',
  'GET /scim/v2/ResourceTypes/:id',
  'GET /scim/v2/Schemas',
  'GET /scim/v2/Schemas/:id',
  'POST /scim/v2/Users',
  'GET /scim/v2/Users',
  'GET /scim/v2/Users/:id',
  'PUT /scim/v2/Users/:id',
  'PATCH /scim/v2/Users/:id',
  'DELETE /scim/v2/Users/:id',
  'POST /codec/decode',
  'POST /codec/encode',
  'GET /codec/session',
  'POST /codec/session',
];

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** The (method, path) pairs of the app's routes, routers mounted at the root included. */
function routesOf(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods))
          for (const path of paths) found.push(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

beforeAll(async () => {
  await slack.start();
  h = new Harness({
    definitions: [
      'test/fixtures/runtime',
      'test/fixtures/webhooks/fuzz.yaml',
      'test/fixtures/scim/fuzz.yaml',
    ],
    env: {
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      IDFLOW_RATE_LIMIT_PER_MINUTE: '1000000',
      // payload encryption on, so the codec endpoint decodes and encodes what it is sent
      IDFLOW_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      FUZZ_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  });
  await h.start();
  token = (
    await new TokenService(h.db.db).create({
      name: 'fuzz',
      scopes: [...SCOPES],
      personId: 'p-fuzz',
      actor: 'test',
    })
  ).token;
  scimToken = (
    await new TokenService(h.db.db).create({
      name: 'fuzz-scim',
      scopes: ['scim:write'],
      source: 'fuzz-scim',
      actor: 'test',
    })
  ).token;
  // users the generated SCIM requests read, replace, patch and delete
  for (const i of [1, 2, 3]) {
    const res = await send({
      method: 'POST',
      path: '/scim/v2/Users',
      headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: [SCIM_USER],
        userName: `seed${i}@fuzz.example`,
        externalId: `p-seed-${i}`,
      }),
    });
    expect(res.status).toBe(201);
    seededScimIds.push((JSON.parse(res.text) as { id: string }).id);
  }
});

afterAll(async () => {
  agent.destroy();
  await h?.close();
  await slack.stop();
});

test('the fuzzed routes are exactly the routes of the app', () => {
  const app = createGatewayApp(loadConfig(h.env()), h.db.db, h.client, createLogger('silent'));
  expect([...new Set(routesOf(app))].sort()).toEqual([...ROUTES].sort());
});

describe('every route answers generated requests below 500, with problem+json for 4xx', () => {
  test.each(ROUTES)('%s', async (route) => {
    const [method, template] = route.split(' ') as [string, string];
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requests(method, template), async (req) => {
        const res = await send(req);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        wellFormed(req, res);
      }),
      { numRuns: RUNS_PER_ROUTE },
    );
    // most generated requests got past authentication, not only 401s: four in five carry the
    // token well formed (Slack's and webhooks' are signed instead: about half of them are)
    const authenticated = [...statuses].filter(([s]) => s !== 401).reduce((n, [, c]) => n + c, 0);
    const signed = template === '/slack/interactions' || template === '/v1/webhooks/:source';
    expect(authenticated).toBeGreaterThan(RUNS_PER_ROUTE / (signed ? 4 : 2));
  });
});

// ---------------------------------------------------------------------------------------------
// Regressions: each input that was answered 500, with its exact answer now

function withToken(headers: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...headers };
}

const json = (text: string | Buffer, extra: Record<string, string> = {}) => ({
  headers: withToken({ 'content-type': 'application/json', ...extra }),
  body: text,
});

describe('bodies', () => {
  test('an event with a UTF-8 byte order mark is accepted (the BOM is ignored)', async () => {
    const event = makeEvent('fuzz.nothing', { id: 'p-bom' });
    const res = await send({
      method: 'POST',
      path: '/v1/events',
      ...json(`\ufeff${JSON.stringify(event)}`),
    });
    expect(res.status).toBe(202);
  });

  test('invalid UTF-8 is 400 invalid-json', async () => {
    const res = await send({
      method: 'POST',
      path: '/v1/events',
      ...json(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    });
    expect([res.status, problemType(res)]).toEqual([400, 'invalid-json']);
    expect(res.text).toContain('not valid UTF-8');
  });

  test.each([
    ['objects', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)],
    ['arrays', '['.repeat(10_000) + ']'.repeat(10_000)],
  ])('%s nested 10,000 deep are 400 invalid-json', async (_kind, text) => {
    for (const path of [
      '/v1/events',
      '/v1/delegations',
      `/v1/approvals/${taskIdOf('flow/x/p/e', 's')}/decision`,
    ]) {
      const res = await send({ method: 'POST', path, ...json(text) });
      expect([res.status, problemType(res)]).toEqual([400, 'invalid-json']);
      expect(res.text).toContain('deeper than 32 levels');
    }
  });

  test.each(['deflate', 'gzip', 'br', 'x-unknown'])(
    'Content-Encoding: %s is 415 unsupported-content-encoding, also on /slack/interactions',
    async (encoding) => {
      for (const path of ['/v1/events', '/v1/delegations', '/slack/interactions']) {
        const res = await send({
          method: 'POST',
          path,
          ...json('{}', { 'content-encoding': encoding }),
        });
        expect([res.status, problemType(res)]).toEqual([415, 'unsupported-content-encoding']);
        expect(res.text).toContain(`Content-Encoding: ${encoding}`);
      }
    },
  );

  test('a charset other than UTF-8 is 415 unsupported-media-type', async () => {
    const res = await send({
      method: 'POST',
      path: '/v1/events',
      ...json('{}', { 'content-type': 'application/json; charset=latin1' }),
    });
    expect([res.status, problemType(res)]).toEqual([415, 'unsupported-media-type']);
  });

  test.each([
    ['a null body', 'null', '/: Invalid input: expected object, received null'],
    ['an array body', '[{"from":"p-1"}]', 'expected object, received array'],
    ['wrong types', '{"from":5,"to":true,"startsAt":[],"endsAt":{}}', '/from'],
    [
      'a huge number',
      '{"from":"p-1","to":"p-2","startsAt":1e400,"endsAt":"2026-03-01T00:00:00Z"}',
      '/startsAt: is a number too large to represent',
    ],
    [
      'February 30',
      '{"from":"p-fuzz","to":"p-2","startsAt":"2026-02-30T00:00:00Z","endsAt":"2026-03-01T00:00:00Z"}',
      '/startsAt',
    ],
    ['a __proto__ key', '{"__proto__":{"from":"p-1"}}', '/__proto__: key is a reserved name'],
    [
      'a NUL character',
      '{"from":"p-fuzz","to":"p\\u0000","startsAt":"2026-02-01T00:00:00Z","endsAt":"2026-03-01T00:00:00Z"}',
      '/to: must not contain the NUL character',
    ],
    [
      'an unpaired surrogate',
      '{"from":"p-fuzz","to":"\\ud800","startsAt":"2026-02-01T00:00:00Z","endsAt":"2026-03-01T00:00:00Z"}',
      '/to: must be valid Unicode',
    ],
  ])(
    'a delegation with %s is 400 invalid-request naming the field',
    async (_case, text, detail) => {
      const res = await send({ method: 'POST', path: '/v1/delegations', ...json(text) });
      expect([res.status, problemType(res)]).toEqual([400, 'invalid-request']);
      expect(res.text).toContain(detail);
    },
  );

  test.each([
    ['a null body', 'null', 'expected object, received null'],
    ['an array body', '[]', 'expected object, received array'],
    [
      'a subject that is an array',
      JSON.stringify({ ...makeEvent('fuzz.nothing', {}), subject: [] }),
      '/subject',
    ],
    [
      'a huge number in attributes',
      JSON.stringify(makeEvent('fuzz.nothing', { id: 'p-1' })).replace(
        /}$/,
        ',"attributes":{"n":1e400}}',
      ),
      '/attributes/n: is a number too large to represent',
    ],
    [
      'a __proto__ key in attributes',
      JSON.stringify(makeEvent('fuzz.nothing', { id: 'p-1' })).replace(
        /}$/,
        ',"attributes":{"__proto__":{"x":1}}}',
      ),
      '/attributes/__proto__: key is a reserved name',
    ],
    [
      'a NUL in a subject field',
      JSON.stringify(makeEvent('fuzz.nothing', { id: 'p-1', displayName: 'A\u0000B' })),
      '/subject/displayName: must not contain the NUL character',
    ],
    [
      'an effective date of February 30',
      JSON.stringify(
        makeEvent('fuzz.nothing', { id: 'p-1' }, { effectiveAt: '2026-02-30T00:00:00Z' }),
      ),
      '/effectiveAt',
    ],
  ])('an event with %s is 400 invalid-request naming the field', async (_case, text, detail) => {
    const res = await send({ method: 'POST', path: '/v1/events', ...json(text) });
    expect([res.status, problemType(res)]).toEqual([400, 'invalid-request']);
    expect(res.text).toContain(detail);
  });

  test('a decision without a body is 400 invalid-json', async () => {
    const res = await send({
      method: 'POST',
      path: `/v1/approvals/${taskIdOf('flow/x/p/e', 's')}/decision`,
      headers: withToken(),
    });
    expect([res.status, problemType(res)]).toEqual([400, 'invalid-json']);
  });
});

describe('paths and queries', () => {
  test.each([
    '/v1/approvals/%ff',
    '/v1/events/%ff/x',
    '/v1/delegations/%e2%82',
    '/v1/approvals/%ed%a0%80/decision',
    '/v1/events/x/%',
  ])('%s is 400 invalid-path', async (path) => {
    const res = await send({
      method: path.endsWith('decision') ? 'POST' : 'GET',
      path,
      headers: withToken(),
    });
    expect([res.status, problemType(res)]).toEqual([400, 'invalid-path']);
  });

  test('a control character in a path segment is 400 invalid-path', async () => {
    const res = await send({ method: 'GET', path: '/v1/events/fuzz/a%00b', headers: withToken() });
    expect([res.status, problemType(res)]).toEqual([400, 'invalid-path']);
  });

  test('an event source or id outside the grammar is 404 not-found', async () => {
    const res = await send({
      method: 'GET',
      path: '/v1/events/Not%20A%20Source/x',
      headers: withToken(),
    });
    expect([res.status, problemType(res)]).toEqual([404, 'not-found']);
  });

  test('a control character in a query parameter is 400 invalid-request naming it', async () => {
    const res = await send({
      method: 'GET',
      path: '/v1/delegations?person=p%00',
      headers: withToken(),
    });
    expect([res.status, problemType(res)]).toEqual([400, 'invalid-request']);
    expect(res.text).toContain('/person');
  });
});

describe('approval task ids of workflows that are no flow run', () => {
  test('a dispatch workflow is 404 not-found, for reading and deciding', async () => {
    const event = makeEvent('fuzz.nothing', { id: 'p-dispatch' });
    expect((await h.postEvent(event)).status).toBe(202);
    const taskId = taskIdOf(`event/test-hr/${event.id as string}`, 'ask');
    const read = await send({
      method: 'GET',
      path: `/v1/approvals/${taskId}`,
      headers: withToken(),
    });
    expect([read.status, problemType(read)]).toEqual([404, 'not-found']);
    const decide = await send({
      method: 'POST',
      path: `/v1/approvals/${taskId}/decision`,
      ...json('{"decision":"approve"}'),
    });
    expect([decide.status, problemType(decide)]).toEqual([404, 'not-found']);
  });

  test('a flow/ workflow that does not answer the state query is 404 not-found', async () => {
    // a workflow under a flow-run id that is no flow run: its worker knows no `state` query
    const workflowId = `flow/not-a-run/p-1/${Date.now()}`;
    await h.client.workflow.start('dispatchEvent', {
      taskQueue: h.taskQueue,
      workflowId,
      args: [makeEvent('fuzz.nothing', { id: 'p-1' })],
    });
    await h.client.workflow.getHandle(workflowId).result();
    const taskId = taskIdOf(workflowId, 'ask');
    const read = await send({
      method: 'GET',
      path: `/v1/approvals/${taskId}`,
      headers: withToken(),
    });
    expect([read.status, problemType(read)]).toEqual([404, 'not-found']);
  });
});

/** Posts a Slack interaction payload, signed now with the test's signing secret. */
function sendSigned(payload: string): Promise<Answer> {
  const text = new URLSearchParams({ payload }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  return send({
    method: 'POST',
    path: '/slack/interactions',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, text),
    },
    body: text,
  });
}

describe('Slack interactions', () => {
  test('a signed interaction of a user Slack does not know is 403, not 500', async () => {
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'U0NOBODY' },
      actions: [
        {
          action_id: 'idflow.approve',
          value: JSON.stringify({ workflowId: 'flow/x/p-1/e', step: 'ask' }),
        },
      ],
    });
    const res = await sendSigned(payload);
    expect([res.status, problemType(res)]).toEqual([403, 'forbidden']);
  });

  test('a signed interaction with a NUL in the user id is 400 invalid-request', async () => {
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'U0\u0000' },
      actions: [{ action_id: 'idflow.approve', value: '{"workflowId":"flow/x","step":"a"}' }],
    });
    const res = await sendSigned(payload);
    expect([res.status, problemType(res)]).toEqual([400, 'invalid-request']);
  });
});

describe('SCIM', () => {
  test.each([
    ['no token', 'GET', '/scim/v2/Users', {}, 401],
    ['an unknown path', 'GET', '/scim/v2/Groups', { authorization: 'SCIM' }, 404],
    [
      'a compressed body',
      'POST',
      '/scim/v2/Users',
      { authorization: 'SCIM', 'content-encoding': 'gzip' },
      415,
    ],
    ['a bad path segment', 'GET', '/scim/v2/Users/%ff', { authorization: 'SCIM' }, 400],
    [
      'a control character in the query',
      'GET',
      '/scim/v2/Users?filter=%00',
      { authorization: 'SCIM' },
      400,
    ],
    [
      'a token of every scope but no source',
      'GET',
      '/scim/v2/Users',
      { authorization: 'ALL' },
      403,
    ],
  ])('%s is a SCIM error, whatever refuses it', async (_case, method, path, headers, status) => {
    const auth = (headers as { authorization?: string }).authorization;
    const sent: Sent = {
      method,
      path,
      headers: {
        ...headers,
        ...(auth ? { authorization: `Bearer ${auth === 'SCIM' ? scimToken : token}` } : {}),
        ...(method === 'POST' ? { 'content-type': 'application/scim+json' } : {}),
      },
      ...(method === 'POST' ? { body: '{}' } : {}),
    };
    const res = await send(sent);
    expect(res.status).toBe(status);
    wellFormed(sent, res);
  });
});

describe('SCIM: a bad attributes or excludedAttributes list is 400 before anything is written', () => {
  const scimSend = (method: string, path: string, body?: unknown) =>
    send({
      method,
      path,
      headers: {
        authorization: `Bearer ${scimToken}`,
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const userNamed = async (userName: string) => {
    const res = await scimSend(
      'GET',
      `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`,
    );
    return (JSON.parse(res.text) as { totalResults: number }).totalResults;
  };
  const newUser = () => {
    const n = randomUUID();
    return { schemas: [SCIM_USER], userName: `projection-${n}@fuzz.example`, externalId: `p-${n}` };
  };
  const lists = [
    ['attributes given twice', 'attributes=userName&attributes=active'],
    ['excludedAttributes given twice', 'excludedAttributes=userName&excludedAttributes=active'],
    ['attributes with a path that is none', 'attributes=..'],
    ['excludedAttributes with a path that is none', 'excludedAttributes=a%20b'],
  ] as const;

  test.each(lists)('POST with %s creates no user', async (_case, query) => {
    const user = newUser();
    const res = await scimSend('POST', `/scim/v2/Users?${query}`, user);
    expect(res.status).toBe(400);
    wellFormed({ method: 'POST', path: '/scim/v2/Users' }, res);
    expect(await userNamed(user.userName)).toBe(0);
    // the same user without the bad list is created: only the list was refused
    expect((await scimSend('POST', '/scim/v2/Users', user)).status).toBe(201);
  });

  test.each(lists)('PUT and PATCH with %s change nothing', async (_case, query) => {
    const user = newUser();
    const created = await scimSend('POST', '/scim/v2/Users', user);
    expect(created.status).toBe(201);
    const id = (JSON.parse(created.text) as { id: string }).id;
    const put = await scimSend('PUT', `/scim/v2/Users/${id}?${query}`, {
      ...user,
      title: 'Changed',
    });
    const patch = await scimSend('PATCH', `/scim/v2/Users/${id}?${query}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Changed' }],
    });
    const get = await scimSend('GET', `/scim/v2/Users/${id}?${query}`);
    expect([put.status, patch.status, get.status]).toEqual([400, 400, 400]);
    const after = await scimSend('GET', `/scim/v2/Users/${id}`);
    expect(after.headers.etag).toBe(created.headers.etag);
    expect(JSON.parse(after.text)).not.toHaveProperty('title');
  });
});
